//! RSS, Atom and JSON Feed polling: conditional GET (ETag, Last-Modified), a per-feed
//! interval, redirects followed under the address policy, Retry-After obeyed. Each fetched
//! document is one record; the archive keeps each entry once (by its id or link), so a feed
//! fetched again adds only what is new or changed.

use std::time::Duration;

use chrono::{DateTime, Utc};
use http::StatusCode;
use serde_json::json;

use crate::health::{Cause, Recovery};
use crate::http::HttpError;
use crate::{Backoff, Context};

/// The largest feed document taken.
const MAX_FEED: usize = 16 << 20;
/// The longest a feed document may take to arrive.
const FEED_DEADLINE: Duration = Duration::from_secs(60);

pub(crate) async fn run(context: Context) {
    let interval = Duration::from_secs(context.config.interval_secs.unwrap_or(300).max(1));
    let mut backoff = Backoff::new(
        context.options.min_backoff,
        context.options.max_backoff,
        &context.id,
    );
    let mut etag = text(&context.cursor, "etag");
    let mut last_modified = text(&context.cursor, "last_modified");
    loop {
        context.registry.connecting(&context.id, Utc::now());
        let mut headers = vec![(
            "accept".to_owned(),
            "application/rss+xml, application/atom+xml, application/feed+json, \
             application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
                .to_owned(),
        )];
        if let Some(etag) = &etag {
            headers.push(("if-none-match".into(), etag.clone()));
        }
        if let Some(modified) = &last_modified {
            headers.push(("if-modified-since".into(), modified.clone()));
        }
        let fetched = async {
            let mut response = context.http.get(&context.url, &headers).await?;
            let body = if response.status == StatusCode::OK {
                // A feed must arrive within a minute in all, however slowly it trickles.
                let read = response.bytes(MAX_FEED, context.idle_timeout());
                Some(
                    tokio::time::timeout(FEED_DEADLINE, read)
                        .await
                        .map_err(|_| HttpError::Idle {
                            url: context.url.clone(),
                            seconds: FEED_DEADLINE.as_secs(),
                        })??,
                )
            } else {
                None
            };
            Ok::<_, HttpError>((response, body))
        }
        .await;
        let now = Utc::now();
        match fetched {
            Err(error) => {
                let cause = match &error {
                    HttpError::Refused { .. } | HttpError::BadUrl { .. } => Cause::Refused,
                    HttpError::Idle { .. } => Cause::Stalled,
                    HttpError::TooLarge { .. } => Cause::Malformed,
                    _ => Cause::Disconnected,
                };
                context
                    .fail(&mut backoff, cause, &error.to_string(), None)
                    .await;
                continue;
            }
            Ok((response, None)) if response.status == StatusCode::NOT_MODIFIED => {
                context.registry.connected(&context.id, now);
                // Nothing new, but the feed answered: what it holds is known up to now.
                context.registry.received(&context.id, 0, None, now);
                // Nothing changed since the last document, which was complete.
                context.registry.close_gap(
                    &context.id,
                    now,
                    Recovery::Refetched {
                        complete: Some(true),
                    },
                );
            }
            Ok((response, None)) => {
                let status = response.status;
                let cause = if status == StatusCode::TOO_MANY_REQUESTS {
                    Cause::RateLimited
                } else if status.is_server_error() {
                    Cause::ServerError
                } else {
                    Cause::Refused
                };
                let retry_after = response.retry_after(now);
                context
                    .fail(
                        &mut backoff,
                        cause,
                        &format!("{}: HTTP {status}", response.url),
                        retry_after,
                    )
                    .await;
                continue;
            }
            Ok((response, Some(body))) => {
                context.registry.connected(&context.id, now);
                let gap_from = context.registry.open_gap_since(&context.id);
                let complete = match gap_from {
                    // Parsing a large feed is work: off the connectors' thread.
                    Some(from) => {
                        let document = body.clone();
                        let oldest = tokio::task::spawn_blocking(move || oldest_entry(&document))
                            .await
                            .ok()
                            .flatten();
                        Some(oldest.map(|oldest| oldest <= from))
                    }
                    None => None,
                };
                etag = response.header("etag");
                last_modified = response.header("last-modified");
                let cursor = json!({ "etag": etag, "last_modified": last_modified });
                if context.emit.record(body, Some(cursor)).await.is_err() {
                    return;
                }
                context.registry.received(&context.id, 1, None, Utc::now());
                if let Some(complete) = complete {
                    context
                        .registry
                        .close_gap(&context.id, now, Recovery::Refetched { complete });
                }
            }
        }
        backoff.reset();
        tokio::time::sleep(interval).await;
    }
}

fn text(cursor: &Option<serde_json::Value>, field: &str) -> Option<String> {
    cursor
        .as_ref()
        .and_then(|cursor| cursor.get(field))
        .and_then(|value| value.as_str())
        .map(str::to_owned)
}

/// The oldest entry's date in a feed document, if its entries carry dates.
fn oldest_entry(body: &[u8]) -> Option<DateTime<Utc>> {
    let feed = feed_rs::parser::parse(body).ok()?;
    feed.entries
        .iter()
        .filter_map(|entry| entry.published.or(entry.updated))
        .min()
}
