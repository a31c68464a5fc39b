//! What is happening now: status, detections, accounts, the live event stream and metrics.

use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;

use super::extract::Params;
use super::{ApiError, blocking, limit};
use crate::App;
use crate::live::{DetectionView, IngestStats};

#[derive(Serialize)]
pub(super) struct StatusBody {
    version: &'static str,
    posts: u64,
    uptime_secs: f64,
    ingest: IngestStats,
    watches: usize,
    detections: u64,
    stream_clients: usize,
    auth_required: bool,
    alerts: starling_alerts::OutboxCounts,
}

pub(super) async fn status(State(app): State<Arc<App>>) -> Result<Json<StatusBody>, ApiError> {
    blocking(move || {
        Ok(Json(StatusBody {
            version: env!("CARGO_PKG_VERSION"),
            posts: app.store.post_count()?,
            uptime_secs: app.started.elapsed().as_secs_f64(),
            ingest: app.live.stats(),
            watches: app
                .watches
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .len(),
            detections: app.live.detection_counts().values().sum(),
            stream_clients: app.hub.subscribers(),
            auth_required: !matches!(app.access, crate::Access::Open),
            alerts: app.alerts.counts().map_err(ApiError::internal)?,
        }))
    })
    .await
}

#[derive(Debug, Deserialize)]
pub(super) struct DetectionParams {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

const KINDS: [&str; 4] = ["burst", "story", "campaign", "silence"];

fn detections_of(
    app: &App,
    kind: Option<&str>,
    limit: Option<usize>,
) -> Result<Json<Vec<DetectionView>>, ApiError> {
    if let Some(kind) = kind
        && !KINDS.contains(&kind)
    {
        return Err(ApiError::bad_request(format!(
            "kind is burst, story, campaign or silence, not {kind:?}"
        )));
    }
    let limit = super::limit(limit, 100, crate::live::DETECTIONS_KEPT)?;
    Ok(Json(app.live.detections(kind, limit)))
}

pub(super) async fn detections(
    State(app): State<Arc<App>>,
    Params(params): Params<DetectionParams>,
) -> Result<Json<Vec<DetectionView>>, ApiError> {
    detections_of(&app, params.kind.as_deref(), params.limit)
}

#[derive(Debug, Deserialize)]
pub(super) struct LimitParams {
    #[serde(default)]
    limit: Option<usize>,
}

pub(super) async fn bursts(
    State(app): State<Arc<App>>,
    Params(params): Params<LimitParams>,
) -> Result<Json<Vec<DetectionView>>, ApiError> {
    detections_of(&app, Some("burst"), params.limit)
}

pub(super) async fn stories(
    State(app): State<Arc<App>>,
    Params(params): Params<LimitParams>,
) -> Result<Json<Vec<DetectionView>>, ApiError> {
    detections_of(&app, Some("story"), params.limit)
}

/// The reported stories' sizes hour by hour, newest first.
pub(super) async fn story_sizes(
    State(app): State<Arc<App>>,
    Params(params): Params<LimitParams>,
) -> Result<Json<Vec<starling_detect::StorySize>>, ApiError> {
    let limit = super::limit(params.limit, 100, 256)?;
    let mut sizes = app.detectors.get().map_or_else(Vec::new, |detectors| {
        detectors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .detectors()
            .stories()
    });
    sizes.reverse();
    sizes.truncate(limit);
    Ok(Json(sizes))
}

pub(super) async fn campaigns(
    State(app): State<Arc<App>>,
    Params(params): Params<LimitParams>,
) -> Result<Json<Vec<DetectionView>>, ApiError> {
    detections_of(&app, Some("campaign"), params.limit)
}

pub(super) async fn silences(
    State(app): State<Arc<App>>,
    Params(params): Params<LimitParams>,
) -> Result<Json<Vec<DetectionView>>, ApiError> {
    detections_of(&app, Some("silence"), params.limit)
}

#[derive(Debug, Deserialize)]
pub(super) struct AccountParams {
    #[serde(default)]
    watch: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
}

#[derive(Serialize)]
pub(super) struct AccountsBody {
    /// `stream` (everything this server archived since it started) or the watch's name.
    scope: String,
    /// Posts counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    posts: Option<usize>,
    /// The start of the latest hour of stream time, which `rising` compares with the one
    /// before.
    latest_hour: Option<starling_model::Timestamp>,
    key: Vec<starling_detect::Account>,
    rising: Vec<starling_detect::Account>,
}

/// The newest matches of a watch counted for its key accounts, at most.
const WATCH_ACCOUNT_POSTS: usize = 20_000;

pub(super) async fn accounts(
    State(app): State<Arc<App>>,
    Params(params): Params<AccountParams>,
) -> Result<Json<AccountsBody>, ApiError> {
    let limit = limit(params.limit, 20, 500)?;
    blocking(move || {
        let Some(watch) = params.watch else {
            let (key, rising, latest_hour) = app.live.accounts(limit);
            return Ok(Json(AccountsBody {
                scope: "stream".into(),
                posts: None,
                latest_hour,
                key,
                rising,
            }));
        };
        let known = app.store.watches()?.iter().any(|known| known.name == watch)
            || app.config_watches.iter().any(|known| known.name == watch);
        if !known {
            return Err(ApiError::not_found(format!("no watch called {watch:?}")));
        }
        let (found, _) = app.store.matches_of(&watch, WATCH_ACCOUNT_POSTS)?;
        let mut accounts = starling_detect::Accounts::new(crate::live::ACCOUNTS_TRACKED);
        for found in &found {
            if let Some(post) = app.store.get(&found.key)? {
                accounts.observe(&post);
            }
        }
        Ok(Json(AccountsBody {
            scope: watch,
            posts: Some(found.len()),
            latest_hour: accounts.latest_hour(),
            key: accounts.key(limit),
            rising: accounts.rising(limit),
        }))
    })
    .await
}

/// How often connected clients are sent the ingest's figures.
const STATS_EVERY: Duration = Duration::from_secs(1);

pub(super) enum Phase {
    Backlog(std::vec::IntoIter<Arc<crate::events::Event>>),
    Live,
}

pub(super) struct StreamState {
    app: Arc<App>,
    phase: Phase,
    missed: u64,
    live: tokio::sync::broadcast::Receiver<Arc<crate::events::Event>>,
    ticker: tokio::time::Interval,
    closing: tokio::sync::watch::Receiver<bool>,
}

fn sse(event: &crate::events::Event) -> Event {
    Event::default()
        .id(event.id.to_string())
        .event(event.kind)
        .data(&event.data)
}

pub(super) async fn events(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let last = match headers.get("last-event-id") {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|text| text.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::bad_request("Last-Event-ID is a number this server gave")
                })?,
        ),
    };
    let subscription = app.hub.subscribe(last);
    let mut ticker = tokio::time::interval(STATS_EVERY);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let closing = app.closing.subscribe();
    let state = StreamState {
        app,
        phase: Phase::Backlog(subscription.backlog.into_iter()),
        missed: subscription.missed,
        live: subscription.live,
        ticker,
        closing,
    };
    let stream = futures_util::stream::unfold(state, |mut state| async move {
        if *state.closing.borrow() {
            return None;
        }
        if state.missed > 0 {
            let missed = std::mem::take(&mut state.missed);
            let event = Event::default()
                .event("gap")
                .data(serde_json::json!({ "missed": missed }).to_string());
            return Some((Ok(event), state));
        }
        if let Phase::Backlog(backlog) = &mut state.phase {
            match backlog.next() {
                Some(event) => return Some((Ok(sse(&event)), state)),
                None => state.phase = Phase::Live,
            }
        }
        let event = tokio::select! {
            received = state.live.recv() => match received {
                Ok(event) => sse(&event),
                Err(RecvError::Lagged(missed)) => Event::default()
                    .event("gap")
                    .data(serde_json::json!({ "missed": missed }).to_string()),
                Err(RecvError::Closed) => return None,
            },
            _ = state.ticker.tick() => {
                let stats = state.app.live.stats();
                Event::default()
                    .event("stats")
                    .data(serde_json::to_string(&stats).unwrap_or_default())
            }
            _ = state.closing.changed() => return None,
        };
        Some((Ok(event), state))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

pub(super) async fn metrics(State(app): State<Arc<App>>) -> Result<Response, ApiError> {
    blocking(move || {
        let stats = app.live.stats();
        let mut text = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, lines: Vec<(String, f64)>| {
            let _ = writeln!(text, "# HELP {name} {help}");
            let _ = writeln!(text, "# TYPE {name} {kind}");
            for (labels, value) in lines {
                let _ = writeln!(text, "{name}{labels} {value}");
            }
        };
        let plain = |value: f64| vec![(String::new(), value)];
        metric(
            "starling_archive_posts",
            "gauge",
            "Posts in the archive.",
            plain(app.store.post_count()? as f64),
        );
        metric(
            "starling_ingest_posts_total",
            "counter",
            "Posts written by this process (new, repeated and edited).",
            plain(stats.posts_total as f64),
        );
        metric(
            "starling_ingest_posts_per_second",
            "gauge",
            "Posts written per second over the last 10 seconds.",
            plain(stats.posts_per_sec),
        );
        metric(
            "starling_ingest_lag_seconds",
            "gauge",
            "Seconds from reading the latest acknowledged batch to its being durable.",
            plain(stats.lag_secs),
        );
        metric(
            "starling_ingest_running",
            "gauge",
            "1 while a source is being read.",
            plain(if stats.running { 1.0 } else { 0.0 }),
        );
        metric(
            "starling_stream_time_seconds",
            "gauge",
            "The newest archived post's creation time, in seconds since 1970.",
            plain(
                stats
                    .stream_time
                    .map_or(0.0, |time| time.timestamp() as f64),
            ),
        );
        metric(
            "starling_watch_matches_total",
            "counter",
            "Watch matches recorded by this process.",
            plain(stats.matches_total as f64),
        );
        metric(
            "starling_rejects_total",
            "counter",
            "Records rejected by this process.",
            plain(stats.rejects_total as f64),
        );
        metric(
            "starling_ingest_errors_total",
            "counter",
            "Ingest jobs ended by an error.",
            plain(stats.errors_total as f64),
        );
        let counts = app.live.detection_counts();
        metric(
            "starling_detections_total",
            "counter",
            "Detections found by this process, by kind.",
            KINDS
                .iter()
                .map(|kind| {
                    (
                        format!("{{kind=\"{kind}\"}}"),
                        counts.get(kind).copied().unwrap_or(0) as f64,
                    )
                })
                .collect(),
        );
        let alerts = app.alerts.counts().map_err(ApiError::internal)?;
        metric(
            "starling_alerts",
            "gauge",
            "Alerts in the outbox, by state (pending: not yet taken by their receiver).",
            vec![
                ("{state=\"pending\"}".to_owned(), alerts.pending as f64),
                ("{state=\"delivered\"}".to_owned(), alerts.delivered as f64),
                ("{state=\"failed\"}".to_owned(), alerts.failed as f64),
            ],
        );
        if let Some(registry) = app.sources.get() {
            let health = registry.health(chrono::Utc::now());
            let label = |id: &str| {
                let id = id
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', " ");
                format!("{{source=\"{id}\"}}")
            };
            metric(
                "starling_source_connected",
                "gauge",
                "1 while a live source is connected (or polling successfully).",
                health
                    .iter()
                    .map(|health| (label(&health.id), if health.connected { 1.0 } else { 0.0 }))
                    .collect(),
            );
            metric(
                "starling_source_records_total",
                "counter",
                "Records received by a live source.",
                health
                    .iter()
                    .map(|health| (label(&health.id), health.received as f64))
                    .collect(),
            );
            metric(
                "starling_source_gaps_total",
                "counter",
                "Gaps (intervals where data may be missing) a live source has closed.",
                health
                    .iter()
                    .map(|health| (label(&health.id), health.gaps as f64))
                    .collect(),
            );
            metric(
                "starling_source_gap_open",
                "gauge",
                "1 while a live source has a gap open.",
                health
                    .iter()
                    .map(|health| {
                        (
                            label(&health.id),
                            if health.open_gap.is_some() { 1.0 } else { 0.0 },
                        )
                    })
                    .collect(),
            );
        }
        metric(
            "starling_stream_clients",
            "gauge",
            "Clients connected to the live stream.",
            plain(app.hub.subscribers() as f64),
        );
        Ok((
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            )],
            text,
        )
            .into_response())
    })
    .await
}
