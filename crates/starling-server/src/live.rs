//! What the running pipeline knows that the archive does not keep: rates, lag, the latest
//! detections, account attention, errors.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use starling_detect::{Accounts, Detection};
use starling_model::Timestamp;

/// Detections kept for the API, at most (the newest).
pub const DETECTIONS_KEPT: usize = 10_000;
/// Accounts tracked for key and rising accounts, about.
pub const ACCOUNTS_TRACKED: usize = 200_000;
/// The window the ingest rate is averaged over.
const RATE_WINDOW: Duration = Duration::from_secs(10);

/// A detection as the API shows it: with an id to refer to it by.
#[derive(Debug, Clone, Serialize)]
pub struct DetectionView {
    /// Its number, in the order found.
    pub id: u64,
    /// The detection.
    #[serde(flatten)]
    pub detection: Detection,
}

/// The ingest's state, as `/api/status` and `/metrics` show it.
#[derive(Debug, Clone, Serialize)]
pub struct IngestStats {
    /// Posts written per second, over the last 10 seconds.
    pub posts_per_sec: f64,
    /// Posts written by this process (new, repeated and edited).
    pub posts_total: u64,
    /// Seconds from reading the latest acknowledged batch to its being durable.
    pub lag_secs: f64,
    /// The newest post's creation time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_time: Option<Timestamp>,
    /// Whether a source is being read now.
    pub running: bool,
    /// Watch matches recorded by this process.
    pub matches_total: u64,
    /// Records rejected by this process.
    pub rejects_total: u64,
    /// Ingest failures (a source or sink error that ended a job).
    pub errors_total: u64,
    /// The latest failure, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Live state shared by the ingest thread and the API.
#[derive(Debug)]
pub struct Live {
    posts_total: AtomicU64,
    matches_total: AtomicU64,
    rejects_total: AtomicU64,
    errors_total: AtomicU64,
    running: AtomicUsize,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    detections: VecDeque<DetectionView>,
    detections_by_kind: BTreeMap<&'static str, u64>,
    next_detection: u64,
    written: VecDeque<(Instant, u64)>,
    lag_secs: f64,
    stream_time: Option<Timestamp>,
    last_error: Option<String>,
    accounts: Accounts,
}

impl Default for Live {
    fn default() -> Live {
        Live {
            posts_total: AtomicU64::new(0),
            matches_total: AtomicU64::new(0),
            rejects_total: AtomicU64::new(0),
            errors_total: AtomicU64::new(0),
            running: AtomicUsize::new(0),
            inner: Mutex::new(Inner {
                detections: VecDeque::new(),
                detections_by_kind: BTreeMap::new(),
                next_detection: 1,
                written: VecDeque::new(),
                lag_secs: 0.0,
                stream_time: None,
                last_error: None,
                accounts: Accounts::new(ACCOUNTS_TRACKED),
            }),
        }
    }
}

impl Live {
    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts one written post.
    pub fn post_written(&self, post: &starling_model::Post, new: bool) {
        self.posts_total.fetch_add(1, Ordering::Relaxed);
        let mut inner = self.inner();
        let now = Instant::now();
        match inner.written.back_mut() {
            // One entry per 100 ms keeps the window small at any rate.
            Some((at, count)) if now.duration_since(*at) < Duration::from_millis(100) => {
                *count += 1
            }
            _ => inner.written.push_back((now, 1)),
        }
        while inner
            .written
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) > RATE_WINDOW)
        {
            inner.written.pop_front();
        }
        inner.stream_time = Some(
            inner
                .stream_time
                .map_or(post.created_at, |time| time.max(post.created_at)),
        );
        if new {
            inner.accounts.observe(post);
        }
    }

    /// Counts a recorded watch match.
    pub fn matched(&self) {
        self.matches_total.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts rejected records.
    pub fn rejected(&self, count: u64) {
        self.rejects_total.fetch_add(count, Ordering::Relaxed);
    }

    /// Records a failure that ended an ingest job.
    pub fn failed(&self, message: String) {
        self.errors_total.fetch_add(1, Ordering::Relaxed);
        self.inner().last_error = Some(message);
    }

    /// Counts a job starting.
    pub fn job_started(&self) {
        self.running.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a job ending; how many are still running.
    pub fn job_ended(&self) -> usize {
        self.running
            .fetch_sub(1, Ordering::AcqRel)
            .saturating_sub(1)
    }

    /// Jobs running now.
    pub fn jobs_running(&self) -> usize {
        self.running.load(Ordering::Relaxed)
    }

    /// Records the time from reading a batch to its being durable.
    pub fn set_lag(&self, lag: Duration) {
        self.inner().lag_secs = lag.as_secs_f64();
    }

    /// Keeps a detection; the view kept, with its id.
    pub fn detected(&self, detection: Detection) -> DetectionView {
        let mut inner = self.inner();
        let view = DetectionView {
            id: inner.next_detection,
            detection,
        };
        inner.next_detection += 1;
        *inner
            .detections_by_kind
            .entry(view.detection.kind.as_str())
            .or_default() += 1;
        if inner.detections.len() == DETECTIONS_KEPT {
            inner.detections.pop_front();
        }
        inner.detections.push_back(view.clone());
        view
    }

    /// The newest detections first, of `kind` when given, at most `limit`.
    pub fn detections(&self, kind: Option<&str>, limit: usize) -> Vec<DetectionView> {
        self.inner()
            .detections
            .iter()
            .rev()
            .filter(|view| kind.is_none_or(|kind| view.detection.kind.as_str() == kind))
            .take(limit)
            .cloned()
            .collect()
    }

    /// Detections found by this process, per kind.
    pub fn detection_counts(&self) -> BTreeMap<&'static str, u64> {
        self.inner().detections_by_kind.clone()
    }

    /// Key accounts and rising accounts of the whole stream, `limit` of each.
    pub fn accounts(
        &self,
        limit: usize,
    ) -> (
        Vec<starling_detect::Account>,
        Vec<starling_detect::Account>,
        Option<Timestamp>,
    ) {
        let inner = self.inner();
        (
            inner.accounts.key(limit),
            inner.accounts.rising(limit),
            inner.accounts.latest_hour(),
        )
    }

    /// The ingest's figures now.
    pub fn stats(&self) -> IngestStats {
        let inner = self.inner();
        let now = Instant::now();
        let recent: u64 = inner
            .written
            .iter()
            .filter(|(at, _)| now.duration_since(*at) <= RATE_WINDOW)
            .map(|(_, count)| count)
            .sum();
        IngestStats {
            posts_per_sec: recent as f64 / RATE_WINDOW.as_secs_f64(),
            posts_total: self.posts_total.load(Ordering::Relaxed),
            lag_secs: inner.lag_secs,
            stream_time: inner.stream_time,
            running: self.jobs_running() > 0,
            matches_total: self.matches_total.load(Ordering::Relaxed),
            rejects_total: self.rejects_total.load(Ordering::Relaxed),
            errors_total: self.errors_total.load(Ordering::Relaxed),
            last_error: inner.last_error.clone(),
        }
    }
}
