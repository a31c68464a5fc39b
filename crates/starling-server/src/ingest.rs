//! The pipeline inside the server: one thread takes jobs (files to import, a scenario to play)
//! one after another and runs each through decoding into the archive, the index and the
//! watches, feeding the detectors and the live stream as posts become durable.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use serde::Serialize;
use starling_detect::{Detectors, InOrder, Settings};
use starling_formats::Format;
use starling_pipeline::sinks::{FormatSummary, StoreSink};
use starling_pipeline::sources::{FileSource, ScenarioSource};
use starling_pipeline::{Batch, Decode, Offset, PipelineError, Record, RunOptions, Source, run};
use starling_simulate::Generator;
use starling_store::views::PostView;
use starling_store::{Outcome, PostStatus};

use crate::App;
use crate::live::Live;

/// Work for the ingest thread.
pub enum Job {
    /// Files or folders to import.
    Files {
        /// What to read.
        paths: Vec<PathBuf>,
        /// The format, when detection should not decide.
        format: Option<Format>,
        /// Remove the files once imported (an upload kept only until archived).
        remove_after: bool,
        /// Told the outcome when the job is done.
        done: Option<tokio::sync::oneshot::Sender<Result<ImportSummary, String>>>,
    },
    /// Live sources (`[[sources]]`): runs until the connectors stop.
    Live {
        /// Where the connectors' records come out.
        source: Box<starling_sources::LiveSource>,
    },
    /// A generated scenario played in accelerated real time.
    Scenario {
        /// The scenario.
        generator: Box<Generator>,
        /// Scenario seconds per wall-clock second.
        speed: f64,
        /// Told when the playback has ended (played through, stopped or failed).
        done: Option<tokio::sync::oneshot::Sender<()>>,
    },
}

impl std::fmt::Debug for Job {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Job::Files { paths, .. } => write!(formatter, "Files({paths:?})"),
            Job::Scenario { speed, .. } => write!(formatter, "Scenario(speed {speed})"),
            Job::Live { .. } => write!(formatter, "Live"),
        }
    }
}

/// What an import did: the totals, and the same per format.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportSummary {
    /// Records read, posts archived for the first time, already archived, edited, records
    /// rejected (see `rejects.jsonl`), notices kept.
    #[serde(flatten)]
    pub total: FormatSummary,
    /// The same, per format.
    pub formats: BTreeMap<String, FormatSummary>,
}

impl ImportSummary {
    fn from_formats(formats: BTreeMap<String, FormatSummary>) -> ImportSummary {
        ImportSummary {
            total: FormatSummary::total(formats.values()),
            formats,
        }
    }
}

/// A watch match as the live stream sends it.
#[derive(Serialize)]
struct MatchEvent<'a> {
    watch: &'a str,
    matched_at: starling_model::Timestamp,
    post: PostView<'a>,
}

/// Starts each job on a thread of its own as it comes, until the channel closes or the app
/// stops; then waits for the running ones (a stopping app ends playbacks early).
pub(crate) fn run_jobs(app: Arc<App>, jobs: std::sync::mpsc::Receiver<Job>) {
    let detectors = Arc::new(Mutex::new(InOrder::new(
        Detectors::new(Settings::default()),
        app.reorder,
    )));
    let _ = app.detectors.set(Arc::clone(&detectors));
    let mut running: Vec<std::thread::JoinHandle<()>> = Vec::new();
    for job in jobs {
        if app.is_stopping() {
            break;
        }
        running.retain(|handle| !handle.is_finished());
        let (job_app, job_detectors) = (Arc::clone(&app), Arc::clone(&detectors));
        let spawned = std::thread::Builder::new()
            .name("ingest job".into())
            .spawn(move || run_one(&job_app, job, &job_detectors));
        match spawned {
            Ok(handle) => running.push(handle),
            // The job, and the channel its caller waits on, went with the failed spawn.
            Err(error) => app
                .live
                .failed(format!("cannot start an ingest job: {error}")),
        }
    }
    for handle in running {
        let _ = handle.join();
    }
}

fn run_one(app: &App, job: Job, detectors: &Mutex<InOrder>) {
    app.live.job_started();
    // A bug in a stage must not leave the job counted as running forever, nor take the
    // server down: it ends this job, reported.
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run_one_job(app, job, detectors)
    }));
    if let Err(panic) = ran {
        let message = panic
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        app.live
            .failed(format!("an ingest job panicked: {message}"));
    }
    // The end of the last job running: what the end of the stream makes clear (while others
    // run, their posts keep the detectors' clock going).
    if app.live.job_ended() == 0 {
        let found = detectors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .finish();
        for detection in found {
            noticed(app, detection);
        }
    }
}

fn run_one_job(app: &App, job: Job, detectors: &Mutex<InOrder>) {
    match job {
        Job::Files {
            paths,
            format,
            remove_after,
            done,
        } => {
            let mut source = FileSource::new(&paths, format, chrono::Utc::now());
            let result = run_job(app, &mut source, detectors).map(|mut formats| {
                for (format, records) in source.record_counts() {
                    formats.entry(format.clone()).or_default().records = *records;
                }
                ImportSummary::from_formats(formats)
            });
            if remove_after {
                for path in &paths {
                    // Archived (or failed and reported): the upload is not needed again.
                    let _ = std::fs::remove_file(path);
                }
            }
            let result = result.map_err(|error| {
                let message = format!("import of {paths:?} stopped: {error}");
                app.live.failed(message.clone());
                message
            });
            if let Some(done) = done {
                let _ = done.send(result);
            }
        }
        Job::Live { mut source } => {
            if let Err(error) = run_job(app, &mut *source, detectors) {
                app.live.failed(format!("live sources stopped: {error}"));
            }
        }
        Job::Scenario {
            generator,
            speed,
            done,
        } => {
            let mut source = ScenarioSource::new(*generator).paced(speed, app.stop_flag());
            if let Err(error) = run_job(app, &mut source, detectors) {
                app.live
                    .failed(format!("scenario playback stopped: {error}"));
            }
            if let Some(done) = done {
                let _ = done.send(());
            }
        }
    }
}

/// One source through the pipeline into the archive; what happened per format.
fn run_job<S: Source>(
    app: &App,
    source: &mut S,
    detectors: &Mutex<InOrder>,
) -> Result<BTreeMap<String, FormatSummary>, PipelineError> {
    let (hub, live) = (&app.hub, &app.live);
    let mut sink = StoreSink::new(&app.store, &app.data_dir, chrono::Utc::now())
        .with_shared_index(Arc::clone(&app.indexer))
        .with_shared_watches(Arc::clone(&app.watches))
        .commit_every(app.commit_every)
        .on_match(move |found, post| {
            live.matched();
            let sample = starling_alerts::Sample {
                key: post.key.as_str().to_owned(),
                platform: post.platform.as_str().to_owned(),
                author: post.author.handle.clone(),
                text: starling_alerts::Sample::cut(&post.text),
                url: post.url.clone(),
                created_at: post.created_at,
            };
            match app.alerts.on_match(&found.watch, &sample) {
                Ok(alerts) => {
                    for alert in alerts {
                        hub.publish("alert", &alert);
                    }
                }
                Err(error) => live.failed(format!("alerts: {error}")),
            }
            hub.publish(
                "match",
                &MatchEvent {
                    watch: &found.watch,
                    matched_at: found.matched_at,
                    post: PostView::new(post, PostStatus::default()),
                },
            );
        })
        .on_post(|post, outcome| {
            live.post_written(post, outcome == Outcome::New);
            if outcome == Outcome::New {
                let mut post = post.clone();
                // The detectors do not read the raw record (they read the language).
                post.raw = Default::default();
                let found = detectors
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .observe(post);
                for detection in found {
                    noticed(app, detection);
                }
            }
        });
    let mut timed = Timed {
        inner: source,
        live,
        stop: &app.stop,
        pending: VecDeque::new(),
    };
    let options = RunOptions {
        // Small batches: a live source's posts reach the archive and the stream sooner.
        batch_size: 512,
        ..RunOptions::default()
    };
    let result = run(&mut timed, &mut Decode::default(), &mut sink, options);
    let summary = std::mem::take(&mut sink.summary);
    drop(sink);
    live.rejected(summary.values().map(|format| format.rejected).sum());
    result.map(|_| summary)
}

/// The watches that some of `keys`' archived posts match (a detection's samples: a handful).
fn watches_of(app: &App, keys: &[String]) -> Vec<String> {
    let matcher = app.watches.read().unwrap_or_else(PoisonError::into_inner);
    let mut names = Vec::new();
    for key in keys.iter().take(10) {
        if let Ok(Some(post)) = app.store.get(key) {
            for id in matcher.match_post(&post, chrono::Utc::now()).watches {
                if let Some(name) = matcher.name(id)
                    && !names.iter().any(|known| known == name)
                {
                    names.push(name.to_owned());
                }
            }
        }
    }
    names
}

/// A detection: kept, streamed, and handed to the alert rules.
fn noticed(app: &App, detection: starling_detect::Detection) {
    let noticed = starling_alerts::Noticed {
        kind: detection.kind.as_str().to_owned(),
        key: detection.key.clone(),
        score: detection.score,
        reason: detection.reason.clone(),
        samples: detection.samples.clone(),
        watches: watches_of(app, &detection.samples),
    };
    let view = app.live.detected(detection);
    app.hub.publish("detection", &view);
    match app.alerts.on_detection(&noticed) {
        Ok(alerts) => {
            for alert in alerts {
                app.hub.publish("alert", &alert);
            }
        }
        Err(error) => app.live.failed(format!("alerts: {error}")),
    }
}

/// A source that notes when each batch was read, to tell how long it took to be durable.
/// It also ends the source early when the server stops: what was read is written and
/// acknowledged, the rest is left for another run.
struct Timed<'a, S> {
    inner: &'a mut S,
    live: &'a Live,
    stop: &'a std::sync::atomic::AtomicBool,
    pending: VecDeque<(u64, Instant)>,
}

impl<S: Source> Source for Timed<'_, S> {
    fn next_batch(&mut self, max: usize) -> Result<Option<Batch<Record>>, PipelineError> {
        if self.stop.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(None);
        }
        let batch = self.inner.next_batch(max)?;
        if let Some(batch) = &batch {
            self.pending.push_back((batch.offsets.end, Instant::now()));
        }
        Ok(batch)
    }

    fn acknowledge(&mut self, through: Offset) -> Result<(), PipelineError> {
        let mut read_at = None;
        while let Some((end, at)) = self.pending.front() {
            if *end > through.0 {
                break;
            }
            read_at = Some(*at);
            self.pending.pop_front();
        }
        if let Some(at) = read_at {
            self.live.set_lag(at.elapsed());
        }
        self.inner.acknowledge(through)
    }
}
