//! The archive through the API: search, counts, a post with its raw record, geotagged
//! points, export downloads and uploads to import.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use starling_model::{Post, Timestamp};
use starling_store::views::{CSV_COLUMNS, PostView, csv_row, point_of, search_report};
use starling_store::{SortBy, for_each_match};

use super::extract::{Params, Segment};
use super::{ApiError, blocking, limit};
use crate::App;
use crate::ingest::{ImportSummary, Job};

/// The most posts one search returns.
const MAX_LIMIT: usize = 1000;
/// Facet values returned per facet.
const TOP: usize = 10;

/// Parses `q` (empty or absent: every post).
fn parse(q: Option<&str>) -> Result<starling_query::Query, ApiError> {
    match q.map(str::trim) {
        None | Some("") => Ok(starling_query::Query::And(Vec::new())),
        Some(text) => starling_query::parse(text).map_err(ApiError::query),
    }
}

fn parse_required(q: &str) -> Result<starling_query::Query, ApiError> {
    if q.trim().is_empty() {
        return Err(ApiError::bad_request(
            "the query is empty: say what to look for (see docs/query-language.md)",
        ));
    }
    parse(Some(q))
}

#[derive(Debug, Deserialize)]
pub(super) struct SearchParams {
    q: String,
    #[serde(default)]
    sort: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    facets: Option<bool>,
    #[serde(default)]
    histogram: Option<bool>,
    #[serde(default)]
    now: Option<Timestamp>,
}

#[derive(Serialize)]
pub(super) struct FacetValue {
    value: String,
    posts: u64,
}

#[derive(Serialize)]
pub(super) struct Bucket {
    start: Timestamp,
    posts: u64,
}

#[derive(Serialize)]
pub(super) struct Histogram {
    bucket: &'static str,
    counts: Vec<Bucket>,
}

#[derive(Serialize)]
pub(super) struct SearchBody<'a> {
    total: usize,
    total_is_exact: bool,
    took_ms: f64,
    posts: Vec<PostView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    facets: Option<BTreeMap<&'static str, Vec<FacetValue>>>,
    histogram: Option<Histogram>,
}

fn facet_map(
    facets: Vec<(&'static str, Vec<(String, u64)>)>,
) -> BTreeMap<&'static str, Vec<FacetValue>> {
    facets
        .into_iter()
        .map(|(name, values)| {
            (
                name,
                values
                    .into_iter()
                    .map(|(value, posts)| FacetValue { value, posts })
                    .collect(),
            )
        })
        .collect()
}

fn histogram_of(histogram: Option<(&'static str, BTreeMap<Timestamp, u64>)>) -> Option<Histogram> {
    histogram.map(|(bucket, counts)| Histogram {
        bucket,
        counts: counts
            .into_iter()
            .map(|(start, posts)| Bucket { start, posts })
            .collect(),
    })
}

fn json_response(value: &impl Serialize) -> Result<Response, ApiError> {
    let bytes = serde_json::to_vec(value).map_err(ApiError::internal)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        bytes,
    )
        .into_response())
}

pub(super) async fn search(
    State(app): State<Arc<App>>,
    Params(params): Params<SearchParams>,
) -> Result<Response, ApiError> {
    let query = parse_required(&params.q)?;
    let sort = match params.sort.as_deref() {
        None | Some("time") => SortBy::Time,
        Some("relevance") => SortBy::Relevance,
        Some("oldest") => SortBy::Oldest,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "sort is time, oldest or relevance, not {other:?}"
            )));
        }
    };
    let limit = limit(params.limit, 20, MAX_LIMIT)?;
    let now = params.now.unwrap_or_else(chrono::Utc::now);
    let wants = (
        params.facets.unwrap_or(false),
        params.histogram.unwrap_or(false),
    );
    blocking(move || {
        let started = std::time::Instant::now();
        let report = search_report(&app.store, &app.index, &query, now, sort, limit, wants, TOP)?;
        let took_ms = started.elapsed().as_secs_f64() * 1000.0;
        let mut posts = Vec::with_capacity(report.found.posts.len());
        for post in &report.found.posts {
            posts.push(PostView::new(post, app.store.status(post.key.as_str())?));
        }
        json_response(&SearchBody {
            total: report.found.total,
            total_is_exact: report.found.total_is_exact,
            took_ms,
            posts,
            facets: wants.0.then(|| facet_map(report.facets)),
            histogram: histogram_of(report.histogram),
        })
    })
    .await
}

#[derive(Debug, Deserialize)]
pub(super) struct CountParams {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    now: Option<Timestamp>,
}

#[derive(Serialize)]
pub(super) struct CountsBody {
    total: usize,
    total_is_exact: bool,
    facets: BTreeMap<&'static str, Vec<FacetValue>>,
    histogram: Option<Histogram>,
}

pub(super) async fn counts(
    State(app): State<Arc<App>>,
    Params(params): Params<CountParams>,
) -> Result<Response, ApiError> {
    let query = parse(params.q.as_deref())?;
    let now = params.now.unwrap_or_else(chrono::Utc::now);
    blocking(move || {
        let report = search_report(
            &app.store,
            &app.index,
            &query,
            now,
            SortBy::Time,
            1,
            (true, true),
            TOP,
        )?;
        json_response(&CountsBody {
            total: report.found.total,
            total_is_exact: report.found.total_is_exact,
            facets: facet_map(report.facets),
            histogram: histogram_of(report.histogram),
        })
    })
    .await
}

#[derive(Serialize)]
pub(super) struct PostBody<'a> {
    #[serde(flatten)]
    view: PostView<'a>,
    /// The record exactly as received (UTF-8), or base64 when it was not text.
    raw: String,
    raw_encoding: &'static str,
    raw_format: &'a str,
    source: &'a str,
    line: Option<u64>,
    history: Vec<PostView<'a>>,
}

pub(super) async fn post(
    State(app): State<Arc<App>>,
    Segment(key): Segment,
) -> Result<Response, ApiError> {
    blocking(move || {
        let post = app
            .store
            .get(&key)?
            .ok_or_else(|| ApiError::not_found(format!("no post with the key {key:?}")))?;
        let status = app.store.status(&key)?;
        let history_posts = status.history.clone();
        let history = history_posts
            .iter()
            .map(|earlier| PostView::new(earlier, Default::default()))
            .collect();
        let (raw, raw_encoding) = match std::str::from_utf8(post.raw.as_bytes()) {
            Ok(text) => (text.to_owned(), "utf-8"),
            Err(_) => (
                serde_json::to_value(&post.raw)
                    .ok()
                    .and_then(|value| value.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                "base64",
            ),
        };
        json_response(&PostBody {
            view: PostView::new(&post, status),
            raw,
            raw_encoding,
            raw_format: &post.provenance.format,
            source: post.provenance.source.name(),
            line: post.provenance.line,
            history,
        })
    })
    .await
}

#[derive(Debug, Deserialize)]
pub(super) struct GeoParams {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    now: Option<Timestamp>,
}

#[derive(Serialize)]
pub(super) struct GeoPoint {
    key: String,
    lat: f64,
    lon: f64,
    label: String,
    /// `geotag` (the platform's coordinates) or `place` (a place Starling resolved).
    source: &'static str,
}

#[derive(Serialize)]
pub(super) struct GeoBody {
    points: Vec<GeoPoint>,
    countries: Vec<FacetValue>,
}

pub(super) async fn geo(
    State(app): State<Arc<App>>,
    Params(params): Params<GeoParams>,
) -> Result<Response, ApiError> {
    let query = parse(params.q.as_deref())?;
    let limit = limit(params.limit, 500, 5000)?;
    let now = params.now.unwrap_or_else(chrono::Utc::now);
    blocking(move || {
        // Countries over every match; points from the newest matches that have one.
        let counts = app.index.summarise(&query, now, 250)?;
        // Points of the newest matches that have one (coordinates, or a resolved place).
        let found = starling_store::search(
            &app.store,
            &app.index,
            &query,
            now,
            SortBy::Time,
            (limit * 10).min(20_000),
        )?;
        let mut points = Vec::new();
        for post in &found.posts {
            if points.len() == limit {
                break;
            }
            let Some(point) = point_of(post) else {
                continue;
            };
            let geotag = post.geo.as_ref().and_then(|geo| geo.point).is_some();
            let place = post
                .enrichment
                .as_ref()
                .and_then(|enrichment| enrichment.place.as_ref())
                .map(|place| place.name.clone());
            points.push(GeoPoint {
                key: post.key.as_str().to_owned(),
                lat: point.lat,
                lon: point.lon,
                label: place.unwrap_or_else(|| post.author.handle.clone()),
                source: if geotag { "geotag" } else { "place" },
            });
        }
        let countries = match counts {
            Some(summary) => summary
                .facets
                .into_iter()
                .find(|(name, _)| *name == "countries")
                .map(|(_, values)| values)
                .unwrap_or_default(),
            None => {
                let mut tally: BTreeMap<String, u64> = BTreeMap::new();
                for post in &found.posts {
                    for country in post.countries() {
                        *tally.entry(country).or_default() += 1;
                    }
                }
                tally.into_iter().collect()
            }
        };
        json_response(&GeoBody {
            points,
            countries: countries
                .into_iter()
                .map(|(value, posts)| FacetValue { value, posts })
                .collect(),
        })
    })
    .await
}

#[derive(Debug, Deserialize)]
pub(super) struct ExportParams {
    q: String,
    format: String,
    #[serde(default)]
    now: Option<Timestamp>,
}

/// Bytes gathered before they are sent as one chunk of the download.
const CHUNK: usize = 64 << 10;

pub(super) async fn export(
    State(app): State<Arc<App>>,
    Params(params): Params<ExportParams>,
) -> Result<Response, ApiError> {
    let query = parse_required(&params.q)?;
    let (content_type, extension) = match params.format.as_str() {
        "csv" => ("text/csv; charset=utf-8", "csv"),
        "jsonl" => ("application/x-ndjson", "jsonl"),
        "ids" => ("text/plain; charset=utf-8", "txt"),
        "raw" => ("application/octet-stream", "raw"),
        other => {
            return Err(ApiError::bad_request(format!(
                "format is csv, jsonl, ids or raw, not {other:?} (Parquet: starling export)"
            )));
        }
    };
    let now = params.now.unwrap_or_else(chrono::Utc::now);
    let format = params.format.clone();
    let (sender, receiver) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    tokio::task::spawn_blocking(move || {
        let mut buffer: Vec<u8> = Vec::with_capacity(CHUNK);
        let send = |buffer: &mut Vec<u8>| -> Result<(), starling_store::StoreError> {
            let chunk = Bytes::from(std::mem::replace(buffer, Vec::with_capacity(CHUNK)));
            sender.blocking_send(Ok(chunk)).map_err(|_| {
                starling_store::StoreError::Output(std::io::Error::other("the client left"))
            })
        };
        let written = Shared::default();
        let mut csv = (format == "csv").then(|| {
            csv::WriterBuilder::new()
                .quote_style(csv::QuoteStyle::Always)
                .from_writer(written.clone())
        });
        if let Some(writer) = csv.as_mut() {
            let _ = writer.write_record(CSV_COLUMNS);
            let _ = writer.flush();
            buffer.append(&mut written.0.borrow_mut());
        }
        let mut write_post = |post: Post, buffer: &mut Vec<u8>| match format.as_str() {
            "csv" => {
                if let Some(writer) = csv.as_mut() {
                    let _ = writer.write_record(csv_row(&post));
                    let _ = writer.flush();
                    buffer.append(&mut written.0.borrow_mut());
                }
            }
            "jsonl" => {
                if serde_json::to_writer(&mut *buffer, &post).is_ok() {
                    buffer.push(b'\n');
                }
            }
            "raw" => {
                buffer.extend_from_slice(post.raw.as_bytes());
                buffer.push(b'\n');
            }
            _ => {
                buffer.extend_from_slice(post.id.as_bytes());
                buffer.push(b'\n');
            }
        };
        let result = for_each_match(&app.store, &app.index, &query, now, SortBy::Time, |post| {
            write_post(post, &mut buffer);
            if buffer.len() >= CHUNK {
                send(&mut buffer)?;
            }
            Ok(())
        });
        match result {
            Ok(_) => {
                let _ = send(&mut buffer);
            }
            Err(error) => {
                // Headers are gone already: the broken stream tells the client it failed.
                let _ = sender.blocking_send(Err(std::io::Error::other(error.to_string())));
            }
        }
    });
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    let disposition = format!("attachment; filename=\"starling-export.{extension}\"");
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).map_err(ApiError::internal)?,
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// Bytes the CSV writer writes and the export takes away, row by row.
#[derive(Clone, Default)]
pub(super) struct Shared(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct ImportParams {
    #[serde(default)]
    format: Option<String>,
}

/// The largest upload `/api/import` takes.
pub(super) const MAX_UPLOAD: usize = 256 << 20;

pub(super) async fn import(
    State(app): State<Arc<App>>,
    Params(params): Params<ImportParams>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let body =
        body.map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))?;
    let format = match params.format.as_deref() {
        None | Some("") => None,
        Some(name) => Some(
            starling_formats::Format::parse(name)
                .ok_or_else(|| ApiError::bad_request(format!("unknown format {name:?}")))?,
        ),
    };
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "the body is empty: send the file to import",
        ));
    }
    // The upload is written down first, then imported like any file, then removed.
    let folder = app.data_dir.join("incoming");
    static UPLOADS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let number = UPLOADS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = folder.join(format!(
        "{}-{}-{number}.upload",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f"),
        std::process::id()
    ));
    let written = path.clone();
    blocking(move || {
        std::fs::create_dir_all(&folder).map_err(ApiError::internal)?;
        std::fs::write(&written, &body).map_err(ApiError::internal)
    })
    .await?;
    let (done, outcome) = tokio::sync::oneshot::channel();
    let job = Job::Files {
        paths: vec![path],
        format,
        remove_after: true,
        done: Some(done),
    };
    if !app.submit(job) {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down",
        ));
    }
    let summary: ImportSummary = outcome
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the import ended without an answer (the server is shutting down, or the job failed: see /api/status)",
            )
        })?
        .map_err(ApiError::internal)?;
    Ok((StatusCode::OK, Json(summary)).into_response())
}
