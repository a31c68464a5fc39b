//! Live sources: connectors that follow feeds and streams as they happen, feeding the same
//! pipeline as an import.
//!
//! Each configured URL becomes one connector (`rss.rs`, `mastodon.rs`, `jetstream.rs`,
//! `x.rs`), a task on a runtime of its own. Connectors hand the bytes they receive, exactly
//! as received, to a bounded channel; [`LiveSource`] is the pipeline [`Source`] on its other
//! end. When the archive is slow the channel fills, the connector stops reading, and the
//! platform's TCP connection pushes back: nothing is dropped silently. A record's cursor
//! (a Jetstream `time_us`, a Mastodon status id, a feed's ETag, an X `since_id`) is saved in
//! `sources/state.json` only once the archive has acknowledged it, so a restart resumes from
//! what was stored, never from what was merely received.
//!
//! Every interval in which data may be missing (a disconnect, a rate limit, a server error,
//! a limit notice, the time the connectors were not running) is recorded as a [`Gap`] with
//! its cause and how it was recovered (cursor replay, REST backfill, refetch, or not at all):
//! see [`health`].

pub mod health;
pub mod http;
mod jetstream;
mod mastodon;
mod rss;
mod x;

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use starling_model::{RawRecord, Source as Origin};
use starling_pipeline::{Batch, Offset, PipelineError, Record, Source};
use tokio::sync::mpsc;

pub use health::{Cause, Gap, Health, Recovery, Registry, Snapshot, State};
pub use x::{XRule, rule_for};

/// The kinds of connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// RSS 0.9x/1.0/2.0, Atom and JSON Feed documents, polled.
    Rss,
    /// A Mastodon server's streaming API, with REST backfill.
    Mastodon,
    /// Bluesky's Jetstream over WebSocket.
    Jetstream,
    /// The X API v2: filtered stream or recent search.
    X,
}

impl Kind {
    /// The name used in the configuration and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Rss => "rss",
            Kind::Mastodon => "mastodon",
            Kind::Jetstream => "jetstream",
            Kind::X => "x",
        }
    }

    /// The decoder its records go to.
    pub fn format(self) -> &'static str {
        match self {
            Kind::Rss => "rss",
            Kind::Mastodon => "mastodon",
            Kind::Jetstream => "jetstream",
            Kind::X => "twitter-v2",
        }
    }
}

impl std::str::FromStr for Kind {
    type Err = String;

    fn from_str(text: &str) -> Result<Kind, String> {
        match text {
            "rss" | "atom" | "feed" => Ok(Kind::Rss),
            "mastodon" => Ok(Kind::Mastodon),
            "jetstream" | "bluesky" => Ok(Kind::Jetstream),
            "x" | "twitter" => Ok(Kind::X),
            other => Err(format!(
                "unknown source kind {other:?}: expected rss, mastodon, jetstream or x"
            )),
        }
    }
}

/// One `[[sources]]` entry of the configuration: a kind and the URLs it follows, one connector
/// per URL.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// `rss`, `mastodon`, `jetstream` or `x`.
    pub kind: Option<Kind>,
    /// A name for its connectors' ids (default: the kind).
    #[serde(default)]
    pub name: Option<String>,
    /// Feed URLs; Mastodon servers (`https://mastodon.social`); Jetstream endpoints
    /// (`wss://jetstream2.us-east.bsky.network/subscribe`); the X API base
    /// (`https://api.x.com`, the default).
    #[serde(default)]
    pub urls: Vec<String>,
    /// Seconds between polls: feeds (default 300) and X recent search (default 60).
    #[serde(default)]
    pub interval_secs: Option<u64>,
    /// Non-public addresses connectors may reach (`IP`, `IP:port`, `host`, `host:port`, `*`).
    #[serde(default)]
    pub allow_private: Vec<String>,
    /// Mastodon: `public` (default), `local`, `hashtag:TAG` or `list:ID`.
    #[serde(default)]
    pub stream: Option<String>,
    /// Jetstream: collections wanted (default `app.bsky.feed.post`).
    #[serde(default)]
    pub collections: Vec<String>,
    /// Jetstream: accounts wanted (DIDs; all when empty).
    #[serde(default)]
    pub dids: Vec<String>,
    /// Jetstream: ask for zstd-compressed frames (needs `zstd_dictionary`, Jetstream's
    /// published dictionary).
    #[serde(default)]
    pub compress: bool,
    /// Jetstream: the zstd dictionary file for compressed frames.
    #[serde(default)]
    pub zstd_dictionary: Option<PathBuf>,
    /// X: `stream` (filtered stream, rules from the watches; default) or `search` (recent
    /// search polled with `query`).
    #[serde(default)]
    pub mode: Option<String>,
    /// X recent search: the query, in X's own syntax.
    #[serde(default)]
    pub query: Option<String>,
    /// X filtered stream: keep the stream's rules in step with the watches (default true).
    #[serde(default)]
    pub rules_from_watches: Option<bool>,
    /// The environment variable holding the token (default `STARLING_X_BEARER_TOKEN` for X,
    /// `STARLING_MASTODON_TOKEN` for Mastodon).
    #[serde(default)]
    pub token_env: Option<String>,
    /// A file holding the token, readable by its owner only.
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// Seconds without a byte before a stream is declared stalled (default 90).
    #[serde(default)]
    pub idle_timeout_secs: Option<u64>,
}

/// A token: never printed, never logged.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// The token, to put in a header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Secret(…)")
    }
}

/// Why the connectors could not start.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A configuration that cannot work.
    #[error("source {source_name}: {message}")]
    Config {
        /// The `[[sources]]` entry (its name, or its kind).
        source_name: String,
        /// What is wrong.
        message: String,
    },
    /// The state or gap files could not be used.
    #[error("{0}")]
    Io(String),
}

impl SourceConfig {
    /// The entry's kind (an entry without one is refused).
    pub fn kind(&self) -> Result<Kind, SourceError> {
        self.kind
            .ok_or_else(|| self.error("no kind: expected rss, mastodon, jetstream or x"))
    }

    fn label(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.kind.map(|kind| kind.as_str().to_owned()))
            .unwrap_or_else(|| "?".into())
    }

    fn error(&self, message: impl Into<String>) -> SourceError {
        SourceError::Config {
            source_name: self.label(),
            message: message.into(),
        }
    }

    /// The token for this entry: from `token_file` (which must not be readable by group or
    /// others), else from the environment variable `token_env` or the kind's default.
    pub fn token(&self) -> Result<Option<Secret>, SourceError> {
        if let Some(path) = &self.token_file {
            return read_token_file(path)
                .map(Some)
                .map_err(|message| self.error(message));
        }
        let variable = match (&self.token_env, self.kind) {
            (Some(variable), _) => variable.clone(),
            (None, Some(Kind::X)) => "STARLING_X_BEARER_TOKEN".into(),
            (None, Some(Kind::Mastodon)) => "STARLING_MASTODON_TOKEN".into(),
            (None, _) => return Ok(None),
        };
        match std::env::var(&variable) {
            Ok(token) if !token.trim().is_empty() => Ok(Some(Secret(token.trim().to_owned()))),
            _ => Ok(None),
        }
    }

    /// The URLs, with the kind's default where none is given (the X API).
    pub fn urls(&self) -> Vec<String> {
        if self.urls.is_empty() && self.kind == Some(Kind::X) {
            return vec!["https://api.x.com".into()];
        }
        self.urls.clone()
    }

    /// Checks what can be checked before connecting.
    pub fn validate(&self) -> Result<(), SourceError> {
        let kind = self.kind()?;
        let urls = self.urls();
        if urls.is_empty() {
            return Err(self.error("no urls"));
        }
        for url in &urls {
            let target = http::Target::parse(url).map_err(|error| self.error(error.to_string()))?;
            let websocket = target.scheme.starts_with("ws");
            if websocket != (kind == Kind::Jetstream) {
                return Err(self.error(format!(
                    "{url}: {} takes {} URLs",
                    kind.as_str(),
                    if kind == Kind::Jetstream {
                        "ws:// or wss://"
                    } else {
                        "http:// or https://"
                    }
                )));
            }
        }
        if kind == Kind::Mastodon {
            mastodon::Stream::parse(self.stream.as_deref().unwrap_or("public"))
                .map_err(|message| self.error(message))?;
        }
        if let Some(path) = &self.zstd_dictionary
            && let Err(error) = std::fs::metadata(path)
        {
            return Err(self.error(format!("zstd_dictionary {}: {error}", path.display())));
        }
        if kind == Kind::Jetstream && self.compress && self.zstd_dictionary.is_none() {
            return Err(self.error(
                "compress = true needs zstd_dictionary: Jetstream compresses with a dictionary \
                 of its own (zstd_dictionary in its repository)",
            ));
        }
        if kind == Kind::X {
            match self.mode.as_deref().unwrap_or("stream") {
                "stream" => {}
                "search"
                    if self
                        .query
                        .as_deref()
                        .is_some_and(|query| !query.trim().is_empty()) => {}
                "search" => return Err(self.error("mode = \"search\" needs a query")),
                other => {
                    return Err(
                        self.error(format!("unknown mode {other:?}: expected stream or search"))
                    );
                }
            }
        }
        Ok(())
    }
}

fn read_token_file(path: &Path) -> Result<Secret, String> {
    let metadata = std::fs::metadata(path)
        .map_err(|error| format!("token file {}: {error}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "token file {} can be read by others (mode {:o}): chmod 600 it",
                path.display(),
                mode & 0o777
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = metadata;
    let token = std::fs::read_to_string(path)
        .map_err(|error| format!("token file {}: {error}", path.display()))?;
    let token = token.trim();
    if token.is_empty() {
        return Err(format!("token file {} is empty", path.display()));
    }
    Ok(Secret(token.to_owned()))
}

/// The watches' names and queries, asked for when X rules are synced (an error leaves the
/// rules as they are).
pub type WatchList = Arc<dyn Fn() -> Result<Vec<(String, String)>, String> + Send + Sync>;

/// How the connectors run.
#[derive(Clone)]
pub struct Options {
    /// Where `sources/` (state, health, gaps) lives; `None` keeps everything in memory.
    pub data_dir: Option<PathBuf>,
    /// Records that may wait for the archive before connectors stop reading.
    pub channel: usize,
    /// The first wait after a failure; doubled each time, with jitter.
    pub min_backoff: Duration,
    /// The longest wait between tries.
    pub max_backoff: Duration,
    /// How far a Jetstream cursor is rewound on resuming.
    pub rewind: Duration,
    /// The watches, for X rules.
    pub watches: WatchList,
    /// How often an open X stream checks whether the watches changed (and syncs its rules).
    pub rules_every: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            data_dir: None,
            channel: 4096,
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
            rewind: Duration::from_secs(5),
            watches: Arc::new(|| Ok(Vec::new())),
            rules_every: Duration::from_secs(60),
        }
    }
}

/// What connectors send down the channel.
enum Event {
    Record {
        connector: usize,
        record: Record,
        cursor: Option<serde_json::Value>,
    },
    Tick,
}

/// How a connector hands on what it received.
#[derive(Clone)]
pub(crate) struct Emitter {
    sender: mpsc::Sender<Event>,
    connector: usize,
    id: String,
    format: &'static str,
}

/// The connectors are stopping: the record was not taken.
#[derive(Debug)]
pub(crate) struct Stopped;

impl Emitter {
    /// Hands a record on, waiting while the archive is behind (backpressure).
    pub(crate) async fn record(
        &self,
        bytes: Vec<u8>,
        cursor: Option<serde_json::Value>,
    ) -> Result<(), Stopped> {
        let record = Record {
            origin: Origin::Connector(self.id.clone()),
            format: self.format.to_owned(),
            line: None,
            offset: None,
            collected_at: Utc::now(),
            bytes: RawRecord(bytes),
        };
        self.sender
            .send(Event::Record {
                connector: self.connector,
                record,
                cursor,
            })
            .await
            .map_err(|_| Stopped)
    }
}

/// The saved cursors: per connector id, the last acknowledged cursor and when.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct SavedState {
    cursors: BTreeMap<String, SavedCursor>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct SavedCursor {
    cursor: serde_json::Value,
    at: DateTime<Utc>,
}

const STATE_FILE: &str = "state.json";

/// Recently seen identities (bounded), to drop what a rewind or a second server repeats.
pub(crate) struct Recent {
    seen: HashSet<String>,
    order: VecDeque<String>,
    capacity: usize,
}

impl Recent {
    fn new(capacity: usize) -> Recent {
        Recent {
            seen: HashSet::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    /// `true` the first time `key` is seen (within the last `capacity` keys).
    pub(crate) fn first(&mut self, key: &str) -> bool {
        if self.seen.contains(key) {
            return false;
        }
        if self.order.len() == self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        self.seen.insert(key.to_owned());
        self.order.push_back(key.to_owned());
        true
    }
}

/// Everything a connector task needs.
pub(crate) struct Context {
    pub(crate) id: String,
    pub(crate) url: String,
    pub(crate) config: Arc<SourceConfig>,
    pub(crate) token: Option<Secret>,
    pub(crate) http: http::Connector,
    pub(crate) registry: Arc<Registry>,
    pub(crate) emit: Emitter,
    /// The cursor saved by the last run, if any.
    pub(crate) cursor: Option<serde_json::Value>,
    pub(crate) options: Options,
    /// Identities seen, shared by connectors of one kind (Mastodon statuses by URI).
    pub(crate) recent: Arc<Mutex<Recent>>,
}

impl Context {
    pub(crate) fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.config.idle_timeout_secs.unwrap_or(90).max(1))
    }

    pub(crate) fn first_seen(&self, key: &str) -> bool {
        self.recent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .first(key)
    }

    /// Waits after a failure (the server's Retry-After when it gave one, else the backoff),
    /// with the gap opened and the health showing when the next try is.
    pub(crate) async fn fail(
        &self,
        backoff: &mut Backoff,
        cause: Cause,
        error: &str,
        retry_after: Option<Duration>,
    ) {
        let now = Utc::now();
        let wait = match retry_after {
            Some(asked) => asked.max(backoff.min),
            None => backoff.next(),
        };
        let from = self
            .registry
            .open_gap_since(&self.id)
            .or_else(|| {
                self.registry
                    .health(now)
                    .into_iter()
                    .find(|health| health.id == self.id)
                    .and_then(|health| health.last_data_at)
            })
            .unwrap_or(now);
        self.registry.open_gap(&self.id, from, cause, error);
        let retry_at = now + chrono::Duration::from_std(wait).unwrap_or_default();
        self.registry.failed(&self.id, error, retry_at, now);
        tokio::time::sleep(wait).await;
    }
}

/// Exponential backoff with jitter: each wait is drawn between half and all of `min`·2ⁿ,
/// capped at `max`, so that many connectors failing together do not retry together.
pub(crate) struct Backoff {
    pub(crate) min: Duration,
    max: Duration,
    attempt: u32,
    state: u64,
}

impl Backoff {
    pub(crate) fn new(min: Duration, max: Duration, seed: &str) -> Backoff {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ u64::from(std::process::id());
        for byte in seed.bytes() {
            state = (state ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        state ^= Utc::now().timestamp_subsec_nanos() as u64;
        Backoff {
            min,
            max: max.max(min),
            attempt: 0,
            state: state | 1,
        }
    }

    pub(crate) fn next(&mut self) -> Duration {
        let factor = 1u32 << self.attempt.min(20);
        let base = self.min.saturating_mul(factor).min(self.max);
        self.attempt += 1;
        // xorshift64*
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let draw = self.state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
        let fraction = 0.5 + 0.5 * (draw as f64 / (1u64 << 53) as f64);
        base.mul_f64(fraction)
    }

    pub(crate) fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// The running connectors: their health and gaps, and how to stop them.
pub struct Sources {
    registry: Arc<Registry>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sources {
    /// Every connector's health and the gaps recorded.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Stops every connector; the [`LiveSource`] then ends once it has handed on what it
    /// holds. Records received but not yet acknowledged are not saved as read: the next start
    /// resumes before them.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Sources {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The connectors' ids for one entry: `NAME:URL`.
pub fn connector_ids(config: &SourceConfig) -> Vec<(String, String)> {
    let label = config.label();
    config
        .urls()
        .into_iter()
        .map(|url| (format!("{label}:{url}"), url))
        .collect()
}

/// Starts a connector for every URL of every entry, on a thread of their own; returns the
/// handle and the pipeline source their records come out of.
pub fn start(
    configs: &[SourceConfig],
    options: Options,
) -> Result<(Sources, LiveSource), SourceError> {
    let folder = options.data_dir.as_ref().map(|dir| dir.join("sources"));
    let registry = Arc::new(
        Registry::new(folder.as_deref())
            .map_err(|error| SourceError::Io(format!("sources folder: {error}")))?,
    );
    let saved: SavedState = match &folder {
        Some(folder) => match std::fs::read(folder.join(STATE_FILE)) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| {
                SourceError::Io(format!("{}: {error}", folder.join(STATE_FILE).display()))
            })?,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => SavedState::default(),
            Err(error) => return Err(SourceError::Io(format!("{STATE_FILE}: {error}"))),
        },
        None => SavedState::default(),
    };
    // The last moment the previous run is known to have been running: its connectors' data
    // from then until they reconnect now may be missing.
    let previous = folder
        .as_deref()
        .and_then(|folder| health::read_snapshot(folder).ok().flatten());
    let (sender, receiver) = mpsc::channel(options.channel.max(1));
    let now = Utc::now();
    let mut contexts = Vec::new();
    let mut ids = Vec::new();
    let mastodon_seen = Arc::new(Mutex::new(Recent::new(200_000)));
    let mut seen_ids = HashSet::new();
    for config in configs {
        config.validate()?;
        let kind = config.kind()?;
        let token = config.token()?;
        if token.is_some() && config.urls().len() > 1 {
            // A token belongs to one server: sent to the others it would be handed to their
            // operators.
            return Err(config.error(
                "a token belongs to one server: give each server that needs one its own \
                 [[sources]] entry (token_env or token_file), and leave the others without",
            ));
        }
        if kind == Kind::X && token.is_none() {
            return Err(config.error(format!(
                "the X API needs a bearer token: set {} or token_file",
                config
                    .token_env
                    .as_deref()
                    .unwrap_or("STARLING_X_BEARER_TOKEN")
            )));
        }
        let http = http::Connector::new(http::Policy {
            allow: config.allow_private.clone(),
        })
        .map_err(|error| config.error(error.to_string()))?;
        let shared = Arc::new(config.clone());
        for (id, url) in connector_ids(config) {
            if !seen_ids.insert(id.clone()) {
                return Err(config.error(format!("{id} is configured twice")));
            }
            let index = ids.len();
            ids.push(id.clone());
            registry.add(Health::new(&id, kind.as_str(), &url, now));
            if let Some(snapshot) = &previous
                && snapshot.sources.iter().any(|health| health.id == id)
            {
                let from = snapshot
                    .sources
                    .iter()
                    .find(|health| health.id == id)
                    .and_then(|health| health.open_gap.as_ref().map(|gap| gap.from))
                    .unwrap_or(snapshot.written_at);
                registry.open_gap(
                    &id,
                    from,
                    Cause::NotRunning,
                    "the connectors were not running",
                );
            }
            contexts.push((
                kind,
                Context {
                    cursor: saved.cursors.get(&id).map(|saved| saved.cursor.clone()),
                    id: id.clone(),
                    url,
                    config: Arc::clone(&shared),
                    token: token.clone(),
                    http: http.clone(),
                    registry: Arc::clone(&registry),
                    emit: Emitter {
                        sender: sender.clone(),
                        connector: index,
                        id,
                        format: kind.format(),
                    },
                    options: options.clone(),
                    recent: if kind == Kind::Mastodon {
                        Arc::clone(&mastodon_seen)
                    } else {
                        Arc::new(Mutex::new(Recent::new(100_000)))
                    },
                },
            ));
        }
    }
    let (stop_sender, stop_receiver) = tokio::sync::oneshot::channel();
    let thread_registry = Arc::clone(&registry);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| SourceError::Io(format!("cannot start the connectors: {error}")))?;
    let thread = std::thread::Builder::new()
        .name("connectors".into())
        .spawn(move || {
            runtime.block_on(run_connectors(
                contexts,
                sender,
                thread_registry,
                stop_receiver,
            ));
        })
        .map_err(|error| SourceError::Io(format!("cannot start the connectors: {error}")))?;
    let live = LiveSource {
        receiver,
        next: 0,
        pending: VecDeque::new(),
        ids,
        saved,
        folder,
        last_saved: Instant::now(),
        dirty: false,
        quiet_ticks: QUIET_TICKS,
    };
    Ok((
        Sources {
            registry,
            stop: Some(stop_sender),
            thread: Some(thread),
        },
        live,
    ))
}

/// Ticks sent while records flow, so the archive commits its search index soon after they
/// stop: this many empty batches follow the last record.
const QUIET_TICKS: u32 = 12;
const TICK: Duration = Duration::from_millis(250);
/// How long a batch waits for more records after its first.
const GATHER: Duration = Duration::from_millis(5);

async fn run_connectors(
    contexts: Vec<(Kind, Context)>,
    sender: mpsc::Sender<Event>,
    registry: Arc<Registry>,
    stop: tokio::sync::oneshot::Receiver<()>,
) {
    let mut tasks = Vec::new();
    for (kind, context) in contexts {
        let (id, registry) = (context.id.clone(), Arc::clone(&context.registry));
        let mut connector = AbortOnDrop(tokio::spawn(async move {
            match kind {
                Kind::Rss => rss::run(context).await,
                Kind::Mastodon => mastodon::run(context).await,
                Kind::Jetstream => jetstream::run(context).await,
                Kind::X => x::run(context).await,
            }
        }));
        // A connector that ends (a bug, or a configuration it cannot use) says so in its
        // health instead of falling silent.
        tasks.push(tokio::spawn(async move {
            let ended = (&mut connector.0).await;
            let now = Utc::now();
            registry.update(&id, |health| {
                if let Err(error) = &ended
                    && error.is_panic()
                {
                    health.errors += 1;
                    health.last_error = Some(format!("the connector failed: {error}"));
                }
            });
            registry.stopped(&id, now);
            registry.open_gap(&id, now, Cause::NotRunning, "the connector stopped");
        }));
    }
    let ticker = tokio::spawn(async move {
        let mut interval = tokio::time::interval(TICK);
        loop {
            interval.tick().await;
            // A full channel already wakes the source; no tick needed.
            if let Err(mpsc::error::TrySendError::Closed(_)) = sender.try_send(Event::Tick) {
                break;
            }
        }
    });
    // The snapshot writer is told to stop, not aborted: an abort would leave a write already
    // handed to a blocking thread running, and that write (saying "running") could land after
    // the final one below.
    let (quit_snapshots, mut snapshots_quit) = tokio::sync::watch::channel(false);
    let snapshots = {
        let registry = Arc::clone(&registry);
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_secs(2));
            loop {
                tokio::select! {
                    _ = interval.tick() => {}
                    _ = snapshots_quit.changed() => break,
                }
                let registry = Arc::clone(&registry);
                // File writes stay off the thread that reads every stream.
                let _ =
                    tokio::task::spawn_blocking(move || registry.write_snapshot(Utc::now(), true))
                        .await;
            }
        })
    };
    let _ = stop.await;
    for task in tasks.iter().chain([&ticker]) {
        task.abort();
    }
    let _ = quit_snapshots.send(true);
    for task in tasks {
        let _ = task.await;
    }
    let _ = ticker.await;
    let _ = snapshots.await;
    let now = Utc::now();
    for health in registry.health(now) {
        registry.stopped(&health.id, now);
    }
    let _ = registry.write_snapshot(now, false);
}

/// A task stopped with the task that holds it (a supervisor aborted at shutdown stops its
/// connector).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The pipeline source the connectors' records come out of. It ends when the connectors are
/// stopped. While records flow it also yields empty batches a few times a second, so that a
/// sink committing on a timer (the search index) commits soon after the last record.
pub struct LiveSource {
    receiver: mpsc::Receiver<Event>,
    next: u64,
    pending: VecDeque<(u64, usize, serde_json::Value)>,
    ids: Vec<String>,
    saved: SavedState,
    folder: Option<PathBuf>,
    last_saved: Instant,
    dirty: bool,
    quiet_ticks: u32,
}

impl LiveSource {
    fn save(&mut self) -> Result<(), PipelineError> {
        if !self.dirty {
            return Ok(());
        }
        let Some(folder) = &self.folder else {
            self.dirty = false;
            return Ok(());
        };
        let fail = |error: std::io::Error| PipelineError::Source {
            origin: "live sources".into(),
            message: format!("saving {STATE_FILE}: {error}"),
        };
        let bytes = serde_json::to_vec_pretty(&self.saved).map_err(std::io::Error::other);
        let temporary = folder.join(format!("{STATE_FILE}.new"));
        let written = bytes.and_then(|bytes| {
            let mut file = std::fs::File::create(&temporary)?;
            std::io::Write::write_all(&mut file, &bytes)?;
            file.sync_all()
        });
        written
            .and_then(|()| std::fs::rename(&temporary, folder.join(STATE_FILE)))
            .map_err(fail)?;
        self.dirty = false;
        self.last_saved = Instant::now();
        Ok(())
    }
}

impl Source for LiveSource {
    fn next_batch(&mut self, max: usize) -> Result<Option<Batch<Record>>, PipelineError> {
        let mut records = Vec::new();
        let mut first_at = Instant::now();
        loop {
            let event = if records.is_empty() {
                match self.receiver.blocking_recv() {
                    Some(event) => {
                        first_at = Instant::now();
                        event
                    }
                    None => return Ok(None),
                }
            } else if records.len() >= max {
                break;
            } else {
                match self.receiver.try_recv() {
                    Ok(event) => event,
                    // While records flow, a batch waits a moment for more: the decode stage
                    // spreads a batch over every core, and many small batches waste that.
                    Err(mpsc::error::TryRecvError::Empty) if first_at.elapsed() < GATHER => {
                        std::thread::sleep(Duration::from_micros(200));
                        continue;
                    }
                    Err(_) => break,
                }
            };
            match event {
                Event::Tick if records.is_empty() => {
                    if self.quiet_ticks < QUIET_TICKS {
                        self.quiet_ticks += 1;
                        return Ok(Some(Batch {
                            offsets: self.next..self.next,
                            items: Vec::new(),
                        }));
                    }
                    if self.dirty && self.last_saved.elapsed() >= Duration::from_secs(1) {
                        self.save()?;
                    }
                }
                Event::Tick => break,
                Event::Record {
                    connector,
                    record,
                    cursor,
                } => {
                    records.push(record);
                    if let Some(cursor) = cursor {
                        self.pending.push_back((
                            self.next + records.len() as u64,
                            connector,
                            cursor,
                        ));
                    }
                }
            }
        }
        self.quiet_ticks = 0;
        Ok(Batch::following(&mut self.next, records))
    }

    fn acknowledge(&mut self, through: Offset) -> Result<(), PipelineError> {
        let now = Utc::now();
        while let Some((end, _, _)) = self.pending.front() {
            if *end > through.0 {
                break;
            }
            if let Some((_, connector, cursor)) = self.pending.pop_front()
                && let Some(id) = self.ids.get(connector)
            {
                self.saved
                    .cursors
                    .insert(id.clone(), SavedCursor { cursor, at: now });
                self.dirty = true;
            }
        }
        // Saved at most once a second while records flow (a restart resumes a little
        // earlier, and the archive drops what it already holds), and at the end.
        if self.dirty
            && (self.last_saved.elapsed() >= Duration::from_secs(1) || through.0 >= self.next)
        {
            self.save()?;
        }
        Ok(())
    }
}

impl Drop for LiveSource {
    fn drop(&mut self) {
        let _ = self.save();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_its_cap() {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60), "a");
        let mut previous_base = Duration::ZERO;
        for attempt in 0..12 {
            let base = Duration::from_secs(1u64 << attempt).min(Duration::from_secs(60));
            let wait = backoff.next();
            assert!(
                wait >= base / 2 && wait <= base,
                "{attempt}: {wait:?} for {base:?}"
            );
            assert!(base >= previous_base);
            previous_base = base;
        }
        backoff.reset();
        assert!(backoff.next() <= Duration::from_secs(1));
        // Two connectors failing together do not wait alike.
        let mut other = Backoff::new(Duration::from_secs(1), Duration::from_secs(60), "b");
        let waits: Vec<Duration> = (0..5).map(|_| other.next()).collect();
        let mut again = Backoff::new(Duration::from_secs(1), Duration::from_secs(60), "c");
        assert_ne!(waits, (0..5).map(|_| again.next()).collect::<Vec<_>>());
    }

    #[test]
    fn configurations_are_checked_before_connecting() {
        let config = |kind: Kind, url: &str| SourceConfig {
            kind: Some(kind),
            urls: vec![url.into()],
            ..SourceConfig::default()
        };
        assert!(
            config(Kind::Rss, "https://example.org/feed")
                .validate()
                .is_ok()
        );
        assert!(
            config(Kind::Rss, "wss://example.org/feed")
                .validate()
                .is_err()
        );
        assert!(
            config(Kind::Jetstream, "https://example.org/")
                .validate()
                .is_err()
        );
        let mut mastodon = config(Kind::Mastodon, "https://mastodon.social");
        mastodon.stream = Some("hashtag:".into());
        assert!(mastodon.validate().is_err());
        let mut jetstream = config(Kind::Jetstream, "wss://example.org/subscribe");
        jetstream.compress = true;
        assert!(
            jetstream
                .validate()
                .unwrap_err()
                .to_string()
                .contains("zstd_dictionary")
        );
        let mut x = SourceConfig {
            kind: Some(Kind::X),
            mode: Some("search".into()),
            ..SourceConfig::default()
        };
        assert!(x.validate().is_err());
        x.query = Some("tehran".into());
        assert!(x.validate().is_ok());
        assert_eq!(x.urls(), ["https://api.x.com"]);
        // A secret never shows in a debug print.
        assert_eq!(format!("{:?}", Secret("abc".into())), "Secret(…)");
    }

    #[test]
    fn a_token_is_for_one_server() {
        let folder = std::env::temp_dir().join(format!("starling-token-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let token = folder.join("token");
        std::fs::write(&token, "t").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let config = SourceConfig {
            kind: Some(Kind::Mastodon),
            urls: vec!["https://a.example".into(), "https://b.example".into()],
            token_file: Some(token.clone()),
            ..SourceConfig::default()
        };
        let refused = start(&[config], Options::default()).err().unwrap();
        assert!(
            refused.to_string().contains("belongs to one server"),
            "{refused}"
        );
        let _ = std::fs::remove_dir_all(folder);
    }

    #[test]
    fn recent_identities_are_bounded() {
        let mut recent = Recent::new(2);
        assert!(recent.first("a"));
        assert!(!recent.first("a"));
        assert!(recent.first("b"));
        assert!(recent.first("c"));
        // "a" fell out of the window.
        assert!(recent.first("a"));
    }
}
