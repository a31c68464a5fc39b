//! What each connector reports (connected or not, lag, rate, errors, reconnects) and the gaps:
//! every interval in which data may be missing, with its cause and what was done about it.
//! Gaps are appended to `sources/gaps.jsonl` (synced) as they close; the health of every
//! connector is written to `sources/health.json` every few seconds, so `starling sources` can
//! read both while another process runs the connectors.

use std::collections::{BTreeMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Why data may be missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The connection could not be opened or was lost.
    Disconnected,
    /// The server asked us to slow down (429, rate-limit headers).
    RateLimited,
    /// The server answered with an error (5xx, or an error the platform sends in-stream).
    ServerError,
    /// The platform said it held posts back (a limit notice, an operational disconnect).
    LimitNotice,
    /// Nothing arrived for longer than the idle timeout.
    Stalled,
    /// A frame or line that could not be read; the connection was reset.
    Malformed,
    /// The connector was not running (between a stop and the next start).
    NotRunning,
    /// The request was refused before it was sent (policy, bad configuration).
    Refused,
}

impl Cause {
    /// The name used in files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Disconnected => "disconnected",
            Cause::RateLimited => "rate_limited",
            Cause::ServerError => "server_error",
            Cause::LimitNotice => "limit_notice",
            Cause::Stalled => "stalled",
            Cause::Malformed => "malformed",
            Cause::NotRunning => "not_running",
            Cause::Refused => "refused",
        }
    }
}

/// How a gap was made good, if it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Recovery {
    /// Not recovered: posts of the interval may be missing for good.
    None,
    /// The stream was resumed from a cursor at or before the gap's start (Jetstream): the
    /// server replayed what was missed.
    Cursor {
        /// The cursor resumed from.
        cursor: String,
    },
    /// The interval was fetched again over a REST API (Mastodon timelines, X recent search).
    Backfill {
        /// Posts the backfill returned.
        posts: u64,
        /// Whether it reached back to the last post seen before the gap (`false`: it stopped
        /// at its page limit and older posts may be missing).
        complete: bool,
    },
    /// A polled document was fetched again (feeds): whether everything since the last
    /// successful fetch was still in it.
    Refetched {
        /// `true` when the document's oldest entry is older than the gap's start; `false`
        /// when entries may have scrolled off; `None` when the document carries no dates.
        complete: Option<bool>,
    },
}

/// An interval in which a connector's data may be missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    /// The connector's id.
    pub source: String,
    /// From (the last moment data is known to have been received).
    pub from: DateTime<Utc>,
    /// Until (when data flowed again); `None` while the gap is open.
    pub until: Option<DateTime<Utc>>,
    /// Why.
    pub cause: Cause,
    /// The error or notice, as received (secrets never appear here).
    pub detail: String,
    /// What was done about it.
    pub recovery: Recovery,
}

/// A connector's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Opening a connection (or polling).
    Connecting,
    /// Connected and receiving (or polling on schedule).
    Connected,
    /// Waiting before the next try, after a failure.
    Waiting,
    /// Stopped.
    Stopped,
}

/// What one connector reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// The connector's id (`kind:url`, or `name:url`).
    pub id: String,
    /// `rss`, `mastodon`, `jetstream` or `x`.
    pub kind: String,
    /// The URL it reads (never with a token in it).
    pub url: String,
    /// Its state.
    pub state: State,
    /// Connected (or polling successfully) now.
    pub connected: bool,
    /// Since when it has been in this state.
    pub since: DateTime<Utc>,
    /// When data last arrived.
    pub last_data_at: Option<DateTime<Utc>>,
    /// How far behind the platform's own clock the last record was, in milliseconds (the
    /// event's time for streams; absent where records carry no time of their own).
    pub lag_ms: Option<i64>,
    /// Records received since the start.
    pub received: u64,
    /// Records received in the last minute.
    pub per_minute: u64,
    /// Errors since the start.
    pub errors: u64,
    /// The last error (secrets never appear here).
    pub last_error: Option<String>,
    /// Reconnections (or failed polls retried) since the start.
    pub reconnects: u64,
    /// When the next try is due, while waiting.
    pub retry_at: Option<DateTime<Utc>>,
    /// The gap open now, if any.
    pub open_gap: Option<Gap>,
    /// Gaps closed since the start.
    pub gaps: u64,
    /// Notes about the configuration (a watch that could not become an X rule).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Records received per second over the last minute (for `per_minute`).
    #[serde(skip)]
    recent: VecDeque<(i64, u64)>,
}

impl Health {
    /// A connector about to start.
    pub fn new(id: &str, kind: &str, url: &str, now: DateTime<Utc>) -> Health {
        Health {
            id: id.to_owned(),
            kind: kind.to_owned(),
            url: url.to_owned(),
            state: State::Connecting,
            connected: false,
            since: now,
            last_data_at: None,
            lag_ms: None,
            received: 0,
            per_minute: 0,
            errors: 0,
            last_error: None,
            reconnects: 0,
            retry_at: None,
            open_gap: None,
            gaps: 0,
            notes: Vec::new(),
            recent: VecDeque::new(),
        }
    }

    fn set_state(&mut self, state: State, now: DateTime<Utc>) {
        if self.state != state {
            self.state = state;
            self.since = now;
        }
        self.connected = state == State::Connected;
        if state != State::Waiting {
            self.retry_at = None;
        }
    }

    fn refresh_rate(&mut self, now: DateTime<Utc>) {
        let second = now.timestamp();
        while self
            .recent
            .front()
            .is_some_and(|(at, _)| *at <= second - 60)
        {
            self.recent.pop_front();
        }
        self.per_minute = self.recent.iter().map(|(_, count)| count).sum();
    }
}

/// The health of every connector and the gaps they record.
pub struct Registry {
    connectors: Mutex<BTreeMap<String, Health>>,
    gaps: Mutex<GapLog>,
    folder: Option<PathBuf>,
    /// Held while the snapshot is written: writers share one temporary file.
    snapshot_write: Mutex<()>,
}

/// Gaps kept in memory for the API.
const RECENT_GAPS: usize = 1000;

struct GapLog {
    file: Option<File>,
    recent: VecDeque<Gap>,
    write_error: Option<String>,
}

impl Registry {
    /// A registry writing to `folder` (`DATA_DIR/sources`), or only in memory.
    pub fn new(folder: Option<&Path>) -> std::io::Result<Registry> {
        let mut recent = VecDeque::new();
        let file = match folder {
            Some(folder) => {
                std::fs::create_dir_all(folder)?;
                let path = folder.join(GAPS_FILE);
                recent = read_gaps(&path, RECENT_GAPS)?.into();
                let mut file = OpenOptions::new().create(true).append(true).open(&path)?;
                // A line torn by a crash is ended, so the next gap starts a line of its own.
                let bytes = std::fs::read(&path)?;
                if bytes.last().is_some_and(|last| *last != b'\n') {
                    file.write_all(b"\n")?;
                }
                Some(file)
            }
            None => None,
        };
        Ok(Registry {
            connectors: Mutex::new(BTreeMap::new()),
            gaps: Mutex::new(GapLog {
                file,
                recent,
                write_error: None,
            }),
            folder: folder.map(Path::to_path_buf),
            snapshot_write: Mutex::new(()),
        })
    }

    /// Adds a connector.
    pub fn add(&self, health: Health) {
        self.lock().insert(health.id.clone(), health);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Health>> {
        self.connectors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes a connector's health.
    pub fn update(&self, id: &str, change: impl FnOnce(&mut Health)) {
        if let Some(health) = self.lock().get_mut(id) {
            change(health);
        }
    }

    /// The connector is connected (or its poll succeeded).
    pub fn connected(&self, id: &str, now: DateTime<Utc>) {
        self.update(id, |health| health.set_state(State::Connected, now));
    }

    /// The connector is opening a connection.
    pub fn connecting(&self, id: &str, now: DateTime<Utc>) {
        self.update(id, |health| health.set_state(State::Connecting, now));
    }

    /// The connector stopped.
    pub fn stopped(&self, id: &str, now: DateTime<Utc>) {
        self.update(id, |health| health.set_state(State::Stopped, now));
    }

    /// Records received; `event_time` is the newest one's own time, for the lag.
    pub fn received(
        &self,
        id: &str,
        records: u64,
        event_time: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) {
        self.update(id, |health| {
            health.received += records;
            health.last_data_at = Some(now);
            if let Some(at) = event_time {
                health.lag_ms = Some((now - at).num_milliseconds());
            }
            let second = now.timestamp();
            match health.recent.back_mut() {
                Some((at, count)) if *at == second => *count += records,
                _ => health.recent.push_back((second, records)),
            }
            health.refresh_rate(now);
        });
    }

    /// A failure: counted, and the connector waits until `retry_at`.
    pub fn failed(&self, id: &str, error: &str, retry_at: DateTime<Utc>, now: DateTime<Utc>) {
        self.update(id, |health| {
            health.errors += 1;
            health.reconnects += 1;
            health.last_error = Some(error.to_owned());
            health.set_state(State::Waiting, now);
            health.retry_at = Some(retry_at);
        });
    }

    /// Opens a gap for a connector (kept open until [`Registry::close_gap`]); an already open
    /// gap stays (its start is the earlier moment), its cause updated when it was only a
    /// disconnect and is now known better.
    pub fn open_gap(&self, id: &str, from: DateTime<Utc>, cause: Cause, detail: &str) {
        self.update(id, |health| match &mut health.open_gap {
            Some(gap) => {
                if gap.cause == Cause::Disconnected && cause != Cause::Disconnected {
                    gap.cause = cause;
                    gap.detail = detail.to_owned();
                }
            }
            None => {
                health.open_gap = Some(Gap {
                    source: id.to_owned(),
                    from,
                    until: None,
                    cause,
                    detail: detail.to_owned(),
                    recovery: Recovery::None,
                });
            }
        });
    }

    /// Whether a gap is open for the connector, and from when.
    pub fn open_gap_since(&self, id: &str) -> Option<DateTime<Utc>> {
        self.lock()
            .get(id)
            .and_then(|health| health.open_gap.as_ref().map(|gap| gap.from))
    }

    /// Closes the connector's open gap, if any, with how it was recovered; it is written to
    /// the gap log.
    pub fn close_gap(&self, id: &str, until: DateTime<Utc>, recovery: Recovery) -> Option<Gap> {
        let gap = {
            let mut connectors = self.lock();
            let health = connectors.get_mut(id)?;
            let mut gap = health.open_gap.take()?;
            health.gaps += 1;
            gap.until = Some(until.max(gap.from));
            gap.recovery = recovery;
            gap
        };
        self.record_gap(gap.clone());
        Some(gap)
    }

    /// Records a closed gap (one known after the fact, such as the time the connectors were
    /// not running).
    pub fn record_gap(&self, gap: Gap) {
        let mut log = self.gaps.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(file) = log.file.as_mut() {
            let written = serde_json::to_vec(&gap)
                .map_err(std::io::Error::other)
                .and_then(|mut line| {
                    line.push(b'\n');
                    file.write_all(&line)?;
                    file.sync_data()
                });
            if let Err(error) = written {
                log.write_error = Some(format!("writing {GAPS_FILE}: {error}"));
            }
        }
        if log.recent.len() == RECENT_GAPS {
            log.recent.pop_front();
        }
        log.recent.push_back(gap);
    }

    /// Every connector's health now.
    pub fn health(&self, now: DateTime<Utc>) -> Vec<Health> {
        let mut connectors = self.lock();
        connectors
            .values_mut()
            .map(|health| {
                health.refresh_rate(now);
                health.clone()
            })
            .collect()
    }

    /// The last `limit` gaps closed, oldest first.
    pub fn gaps(&self, limit: usize) -> Vec<Gap> {
        let log = self.gaps.lock().unwrap_or_else(PoisonError::into_inner);
        let skip = log.recent.len().saturating_sub(limit);
        log.recent.iter().skip(skip).cloned().collect()
    }

    /// Writes the health snapshot for `starling sources` (atomically: a reader never sees
    /// half a file).
    pub fn write_snapshot(&self, now: DateTime<Utc>, running: bool) -> std::io::Result<()> {
        let Some(folder) = &self.folder else {
            return Ok(());
        };
        let _writing = self
            .snapshot_write
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let write_error = self
            .gaps
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .write_error
            .clone();
        let snapshot = Snapshot {
            written_at: now,
            running,
            process: std::process::id(),
            sources: self.health(now),
            write_error,
        };
        let bytes = serde_json::to_vec_pretty(&snapshot).map_err(std::io::Error::other)?;
        let temporary = folder.join(format!("{HEALTH_FILE}.new"));
        std::fs::write(&temporary, bytes)?;
        std::fs::rename(temporary, folder.join(HEALTH_FILE))
    }
}

/// The gap log's file name under `DATA_DIR/sources`.
pub const GAPS_FILE: &str = "gaps.jsonl";
/// The health snapshot's file name under `DATA_DIR/sources`.
pub const HEALTH_FILE: &str = "health.json";

/// The health file: every connector as last written by the process running them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    /// When written.
    pub written_at: DateTime<Utc>,
    /// `false` in the last snapshot a stopping process writes.
    pub running: bool,
    /// The process that wrote it.
    pub process: u32,
    /// Every connector.
    pub sources: Vec<Health>,
    /// A failure to write the gap log, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_error: Option<String>,
}

/// The health snapshot in `folder`, if any.
pub fn read_snapshot(folder: &Path) -> std::io::Result<Option<Snapshot>> {
    match std::fs::read(folder.join(HEALTH_FILE)) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|error| std::io::Error::other(format!("{HEALTH_FILE}: {error}"))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

/// The last `limit` gaps in the log at `path` (a torn last line, from a crash while it was
/// written, is skipped).
pub fn read_gaps(path: &Path, limit: usize) -> std::io::Result<Vec<Gap>> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let mut gaps = VecDeque::new();
    // Lines as bytes: a line torn inside a multibyte character is skipped, not an error.
    for line in BufReader::new(file).split(b'\n') {
        let line = line?;
        if let Ok(gap) = serde_json::from_slice::<Gap>(&line) {
            if gaps.len() == limit {
                gaps.pop_front();
            }
            gaps.push_back(gap);
        }
    }
    Ok(gaps.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_gaps_and_the_log() {
        let folder = tempfile::tempdir().unwrap();
        let registry = Registry::new(Some(folder.path())).unwrap();
        let start = DateTime::from_timestamp(1_750_000_000, 0).unwrap();
        registry.add(Health::new("j:ws://x", "jetstream", "ws://x", start));
        // A firehose's worth in one second is counted, not capped.
        registry.received("j:ws://x", 150_000, Some(start), start);
        registry.received("j:ws://x", 10, None, start + chrono::Duration::seconds(30));
        assert_eq!(
            registry.health(start + chrono::Duration::seconds(30))[0].per_minute,
            150_010
        );
        assert_eq!(
            registry.health(start + chrono::Duration::seconds(61))[0].per_minute,
            10
        );
        // A gap opened twice keeps its start; a better cause replaces "disconnected".
        let from = start + chrono::Duration::seconds(40);
        registry.open_gap("j:ws://x", from, Cause::Disconnected, "reset");
        registry.open_gap(
            "j:ws://x",
            from + chrono::Duration::seconds(5),
            Cause::RateLimited,
            "429",
        );
        let gap = registry
            .close_gap(
                "j:ws://x",
                from + chrono::Duration::seconds(9),
                Recovery::Cursor { cursor: "1".into() },
            )
            .unwrap();
        assert_eq!((gap.from, gap.cause), (from, Cause::RateLimited));
        assert!(
            registry
                .close_gap("j:ws://x", from, Recovery::None)
                .is_none()
        );
        // The log survives a torn last line.
        let path = folder.path().join(GAPS_FILE);
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all("{\"source\":\"جت".as_bytes().split_last().unwrap().1)
            .unwrap();
        assert_eq!(read_gaps(&path, 10).unwrap(), vec![gap.clone()]);
        let reopened = Registry::new(Some(folder.path())).unwrap();
        assert_eq!(reopened.gaps(10), vec![gap.clone()]);
        let mut next = gap.clone();
        next.detail = "after the tear".into();
        reopened.record_gap(next.clone());
        assert_eq!(read_gaps(&path, 10).unwrap(), vec![gap, next]);
    }
}
