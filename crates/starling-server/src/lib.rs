//! `starling serve`: the archive, the watches and the detectors of a running pipeline, over
//! HTTP. A REST API (`/api/...`, described by `/api/openapi.json`), a live stream of
//! matches and detections (server-sent events at `/api/stream`, resumable with
//! `Last-Event-ID`), Prometheus metrics (`/metrics`) and the web dashboard (`/`), all served
//! by one binary with nothing fetched from elsewhere.
//!
//! The pipeline runs beside the server ([`ingest`]): each job (files to import, from the
//! command line or uploaded to `/api/import`; a scenario to play back) on a thread of its
//! own, all writing the same archive through one index writer, so that an upload is archived
//! while a live source plays. The HTTP side reads the same archive and index, and changes the watches the
//! pipeline matches with.
//!
//! Access ([`auth`]): bound to a loopback address, anyone who can connect may do anything;
//! bound elsewhere, every API call needs a token (`Authorization: Bearer ...`) whose role
//! allows it: reading needs `reader`, changing watches and importing `editor`, managing
//! tokens `admin`.

pub mod api;
mod assets;
pub mod auth;
pub mod events;
pub mod ingest;
pub mod live;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use starling_pipeline::sinks::{SharedIndexer, SharedMatcher};
use starling_store::{SearchIndex, Store, StoreError};
use starling_watch::Matcher;

pub use api::router;
pub use auth::{Access, Role, Tokens};
pub use ingest::{ImportSummary, Job};

/// Events the live stream keeps for clients that reconnect.
pub const EVENTS_KEPT: usize = 20_000;

/// How a server is set up.
#[derive(Debug)]
pub struct Options {
    /// Who may call the API.
    pub access: Access,
    /// How far behind the newest post a post may arrive and still be counted in order by the
    /// detectors.
    pub reorder: chrono::TimeDelta,
    /// How often the index is committed while posts arrive (how soon they are searchable).
    pub commit_every: Duration,
    /// Serve the dashboard's files from this folder instead of those built in (for working
    /// on the dashboard without rebuilding).
    pub assets_dir: Option<PathBuf>,
    /// Watches from the configuration file: listed with the archive's (winning on a shared
    /// name), matched, and not changeable through the API.
    pub config_watches: Vec<starling_watch::WatchDef>,
    /// Alert rules from the configuration file, the same way.
    pub config_alerts: Vec<starling_alerts::Rule>,
    /// Live sources to follow (`[[sources]]`), archived like an import as they arrive.
    pub sources: Vec<starling_sources::SourceConfig>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            access: Access::Open,
            reorder: chrono::TimeDelta::minutes(10),
            commit_every: Duration::from_millis(500),
            assets_dir: None,
            config_watches: Vec::new(),
            config_alerts: Vec::new(),
            sources: Vec::new(),
        }
    }
}

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The archive or its index could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The alerts' outbox could not be opened, or a configured rule is not valid.
    #[error(transparent)]
    Alerts(#[from] starling_alerts::AlertError),
    /// A live source is misconfigured or could not start.
    #[error(transparent)]
    Sources(#[from] starling_sources::SourceError),
    /// The address could not be bound or served.
    #[error("{address}: {source}")]
    Io {
        /// The address.
        address: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Everything the server shares between the HTTP handlers and the pipeline thread.
pub struct App {
    /// The data folder.
    pub data_dir: PathBuf,
    /// The archive.
    pub store: Store,
    /// Its search index.
    pub index: SearchIndex,
    /// The index's one writer, shared by the jobs running at once.
    indexer: SharedIndexer,
    /// The watches the pipeline matches with; the API changes them.
    pub watches: SharedMatcher,
    /// The live stream.
    pub hub: events::Hub,
    /// Rates, detections, accounts.
    pub live: live::Live,
    /// Alert rules, the outbox and its delivery.
    pub alerts: starling_alerts::Alerts,
    /// Who may call the API.
    pub access: Access,
    /// When the server started.
    pub started: Instant,
    reorder: chrono::TimeDelta,
    commit_every: Duration,
    assets_dir: Option<PathBuf>,
    config_watches: Vec<starling_watch::WatchDef>,
    stop: Arc<AtomicBool>,
    /// Set when the server begins to shut down: live streams end.
    closing: tokio::sync::watch::Sender<bool>,
    /// The live sources' health and gaps, when any are followed.
    pub sources: std::sync::OnceLock<Arc<starling_sources::Registry>>,
    /// The pipeline's detectors, once it runs (for the stories' sizes).
    pub(crate) detectors: std::sync::OnceLock<Arc<Mutex<starling_detect::InOrder>>>,
    connectors: Mutex<Option<starling_sources::Sources>>,
    jobs: Mutex<Option<std::sync::mpsc::Sender<Job>>>,
    ingest: Mutex<Option<std::thread::JoinHandle<()>>>,
    delivery: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "App({})", self.data_dir.display())
    }
}

impl App {
    /// Opens the archive and index in `data_dir`, matching with `matcher`'s watches, and
    /// starts the pipeline thread (idle until given a [`Job`]).
    pub fn open(
        data_dir: &Path,
        matcher: Matcher,
        options: Options,
    ) -> Result<Arc<App>, ServeError> {
        // The first posts should not wait for the enrichment models to load (about a second).
        starling_enrich::warm_up();
        let store = Store::open(data_dir)?;
        let index = SearchIndex::open(data_dir)?;
        let indexer = Arc::new(Mutex::new(index.indexer()?));
        let alerts = starling_alerts::Alerts::open(data_dir, options.config_alerts)?;
        let (sender, receiver) = std::sync::mpsc::channel();
        let app = Arc::new(App {
            data_dir: data_dir.to_owned(),
            store,
            index,
            indexer,
            watches: Arc::new(std::sync::RwLock::new(matcher)),
            hub: events::Hub::new(EVENTS_KEPT),
            live: live::Live::default(),
            alerts,
            access: options.access,
            started: Instant::now(),
            reorder: options.reorder,
            commit_every: options.commit_every,
            assets_dir: options.assets_dir,
            config_watches: options.config_watches,
            stop: Arc::new(AtomicBool::new(false)),
            closing: tokio::sync::watch::Sender::new(false),
            sources: std::sync::OnceLock::new(),
            detectors: std::sync::OnceLock::new(),
            connectors: Mutex::new(None),
            jobs: Mutex::new(Some(sender)),
            ingest: Mutex::new(None),
            delivery: Mutex::new(None),
        });
        let deliverer = Arc::clone(&app);
        let delivery = std::thread::Builder::new()
            .name("alerts".into())
            .spawn(move || deliverer.alerts.run())
            .map_err(|source| ServeError::Io {
                address: "the alerts thread".into(),
                source,
            })?;
        *app.delivery.lock().unwrap_or_else(PoisonError::into_inner) = Some(delivery);
        let worker = Arc::clone(&app);
        let handle = std::thread::Builder::new()
            .name("ingest".into())
            .spawn(move || ingest::run_jobs(worker, receiver))
            .map_err(|source| ServeError::Io {
                address: "the ingest thread".into(),
                source,
            })?;
        *app.ingest.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
        if !options.sources.is_empty() {
            // X rules follow the watches as they are when a connector (re)connects.
            let weak = Arc::downgrade(&app);
            let watches: starling_sources::WatchList = Arc::new(move || {
                weak.upgrade().map_or_else(
                    || Err("the server is stopping".into()),
                    |app| app.watch_queries(),
                )
            });
            let started = starling_sources::start(
                &options.sources,
                starling_sources::Options {
                    data_dir: Some(data_dir.to_owned()),
                    watches,
                    ..starling_sources::Options::default()
                },
            );
            let (connectors, live) = match started {
                Ok(started) => started,
                Err(error) => {
                    app.shutdown();
                    return Err(error.into());
                }
            };
            let _ = app.sources.set(Arc::clone(connectors.registry()));
            *app.connectors
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(connectors);
            app.submit(Job::Live {
                source: Box::new(live),
            });
        }
        Ok(app)
    }

    /// The active watches' names and queries (the archive's and the configuration's).
    fn watch_queries(&self) -> Result<Vec<(String, String)>, String> {
        let mut watches: std::collections::BTreeMap<String, String> = self
            .store
            .watches()
            .map_err(|error| error.to_string())?
            .into_iter()
            .filter(|watch| watch.active)
            .map(|watch| (watch.name, watch.query))
            .collect();
        for watch in self.config_watches.iter().filter(|watch| watch.active) {
            watches.insert(watch.name.clone(), watch.query.clone());
        }
        Ok(watches.into_iter().collect())
    }

    /// Queues a job for the pipeline; false when the server is stopping.
    pub fn submit(&self, job: Job) -> bool {
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_some_and(|jobs| jobs.send(job).is_ok())
    }

    /// Whether [`App::shutdown`] was called.
    pub fn is_stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    /// Stops the pipeline: a playing scenario ends, queued jobs are dropped, the job running
    /// finishes its batch and commits; returns once the thread has ended.
    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::Relaxed);
        // Connectors stop first: what they received and the archive acknowledged is saved
        // as read; the rest is asked for again on the next start.
        let connectors = self
            .connectors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(mut connectors) = connectors {
            connectors.stop();
        }
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let handle = self
            .ingest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = handle {
            let _ = handle.join();
        }
        // Alerts still pending stay in the outbox for the next start.
        self.alerts.stop();
        let delivery = self
            .delivery
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(delivery) = delivery {
            let _ = delivery.join();
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops the pipeline.
pub async fn serve(
    app: Arc<App>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let address = listener
        .local_addr()
        .map_or_else(|_| "the listener".to_owned(), |address| address.to_string());
    let router = router(Arc::clone(&app));
    let closing = Arc::clone(&app);
    let shutdown = async move {
        shutdown.await;
        // Live streams never end by themselves: tell them to, or shutdown waits forever.
        closing.closing.send_replace(true);
    };
    use axum::serve::ListenerExt;
    // Small writes (an event, an answer) go out at once instead of waiting for the peer's
    // acknowledgement of the last one (Nagle's algorithm, against delayed ACKs: 40 ms).
    let listener = listener.tap_io(|connection| {
        let _ = connection.set_nodelay(true);
    });
    let result = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| ServeError::Io { address, source });
    let stopping = Arc::clone(&app);
    let _ = tokio::task::spawn_blocking(move || stopping.shutdown()).await;
    result
}
