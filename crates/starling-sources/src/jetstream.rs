//! Bluesky's Jetstream over WebSocket: collection and account filters, zstd-compressed frames
//! (with Jetstream's dictionary), and cursor resume: on reconnecting, and on starting again
//! after a stop, the stream is asked to replay from the last event stored (`time_us`) rewound
//! by a few seconds; events seen in the rewind are dropped.

use std::io::Read;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::health::{Cause, Recovery};
use crate::http::{HttpError, Target};
use crate::{Backoff, Context};

/// The largest event taken (a post is a few kilobytes).
const MAX_EVENT: usize = 4 << 20;

#[derive(Deserialize)]
struct Head {
    #[serde(default)]
    did: String,
    #[serde(default)]
    time_us: Option<i64>,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    commit: Option<CommitHead>,
}

#[derive(Deserialize)]
struct CommitHead {
    #[serde(default)]
    rev: String,
    #[serde(default)]
    operation: String,
    #[serde(default)]
    collection: String,
    #[serde(default)]
    rkey: String,
}

/// The subscription URL: filters, compression, and the cursor to resume from.
fn subscribe_url(context: &Context, cursor: Option<i64>) -> String {
    let mut url = context.url.clone();
    let mut separator = if url.contains('?') { '&' } else { '?' };
    let mut add = |name: &str, value: &str| {
        url.push(separator);
        url.push_str(name);
        url.push('=');
        url.push_str(&crate::http::percent(value));
        separator = '&';
    };
    let collections = if context.config.collections.is_empty() {
        vec!["app.bsky.feed.post".to_owned()]
    } else {
        context.config.collections.clone()
    };
    for collection in &collections {
        add("wantedCollections", collection);
    }
    for did in &context.config.dids {
        add("wantedDids", did);
    }
    if context.config.compress {
        add("compress", "true");
    }
    if let Some(cursor) = cursor {
        add("cursor", &cursor.to_string());
    }
    url
}

enum Failure {
    Stopped,
    Fault {
        cause: Cause,
        error: String,
        retry_after: Option<std::time::Duration>,
    },
}

fn fault(cause: Cause, error: impl Into<String>) -> Failure {
    Failure::Fault {
        cause,
        error: error.into(),
        retry_after: None,
    }
}

pub(crate) async fn run(context: Context) {
    let dictionary = match (&context.config.zstd_dictionary, context.config.compress) {
        (Some(path), true) => match std::fs::read(path) {
            Ok(bytes) => Some(bytes),
            Err(error) => {
                context.registry.update(&context.id, |health| {
                    health.last_error =
                        Some(format!("zstd dictionary {}: {error}", path.display()));
                });
                return;
            }
        },
        _ => None,
    };
    let mut backoff = Backoff::new(
        context.options.min_backoff,
        context.options.max_backoff,
        &context.id,
    );
    let mut cursor = context
        .cursor
        .as_ref()
        .and_then(|cursor| cursor.get("time_us"))
        .and_then(serde_json::Value::as_i64);
    // The cursor at which the connection last broke on an unreadable message, and how often.
    let mut stuck: (Option<i64>, u32) = (None, 0);
    // Whether events were stepped over since the last connection (the gap is then not
    // recovered by the replay).
    let mut skipped = false;
    let rewind = i64::try_from(context.options.rewind.as_micros()).unwrap_or(i64::MAX);
    loop {
        context.registry.connecting(&context.id, Utc::now());
        match session(
            &context,
            &mut cursor,
            &mut skipped,
            dictionary.as_deref(),
            &mut backoff,
        )
        .await
        {
            Ok(()) => {}
            Err(Failure::Stopped) => return,
            Err(Failure::Fault {
                cause,
                mut error,
                retry_after,
            }) => {
                if cause == Cause::Malformed && cursor.is_some() {
                    stuck = if stuck.0 == cursor {
                        (cursor, stuck.1 + 1)
                    } else {
                        (cursor, 1)
                    };
                    // The same message breaks every replay: step a second past the last event
                    // read, and say so (the gap is not recovered).
                    if stuck.1 >= 3
                        && let Some(at) = cursor.as_mut()
                    {
                        *at = at.saturating_add(rewind).saturating_add(1_000_000);
                        error.push_str("; it broke three replays: a second of events after the last one read was skipped");
                        stuck = (None, 0);
                        skipped = true;
                    }
                }
                context.fail(&mut backoff, cause, &error, retry_after).await;
            }
        }
    }
}

async fn session(
    context: &Context,
    cursor: &mut Option<i64>,
    skipped: &mut bool,
    dictionary: Option<&[u8]>,
    backoff: &mut Backoff,
) -> Result<(), Failure> {
    let rewind = i64::try_from(context.options.rewind.as_micros()).unwrap_or(i64::MAX);
    let resume_from = cursor.map(|cursor| cursor.saturating_sub(rewind).max(0));
    let url = subscribe_url(context, resume_from);
    let target = Target::parse(&url).map_err(|error| fault(Cause::Refused, error.to_string()))?;
    let io = context.http.connect(&url, &target).await.map_err(|error| {
        let cause = match error {
            HttpError::Refused { .. } | HttpError::BadUrl { .. } => Cause::Refused,
            _ => Cause::Disconnected,
        };
        fault(cause, error.to_string())
    })?;
    let config = tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(MAX_EVENT))
        .max_frame_size(Some(MAX_EVENT));
    let handshake = tokio::time::timeout(
        context.http.connect_timeout,
        tokio_tungstenite::client_async_with_config(url.as_str(), io, Some(config)),
    )
    .await
    .map_err(|_| {
        fault(
            Cause::Disconnected,
            format!("{url}: no WebSocket handshake in time"),
        )
    })?;
    let (mut socket, _) = handshake.map_err(|error| match error {
        tungstenite::Error::Http(response) => {
            let status = response.status();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| crate::http::parse_retry_after(value, Utc::now()));
            Failure::Fault {
                cause: if status.as_u16() == 429 {
                    Cause::RateLimited
                } else if status.is_server_error() {
                    Cause::ServerError
                } else {
                    Cause::Refused
                },
                error: format!("{url}: HTTP {status}"),
                retry_after,
            }
        }
        other => fault(Cause::Disconnected, format!("{url}: {other}")),
    })?;
    let now = Utc::now();
    context.registry.connected(&context.id, now);
    if context.registry.open_gap_since(&context.id).is_some() {
        // Jetstream replays from the cursor, which is at or before the last event read
        // (stored, after a restart): the gap is covered, unless events were stepped over.
        let recovery = match resume_from {
            Some(resumed) if !*skipped => Recovery::Cursor {
                cursor: resumed.to_string(),
            },
            _ => Recovery::None,
        };
        context.registry.close_gap(&context.id, now, recovery);
    }
    *skipped = false;
    let decompressor = dictionary.map(zstd::dict::DecoderDictionary::copy);
    loop {
        let message = tokio::time::timeout(context.idle_timeout(), socket.next())
            .await
            .map_err(|_| {
                fault(
                    Cause::Stalled,
                    format!(
                        "{url}: nothing received for {} s",
                        context.idle_timeout().as_secs()
                    ),
                )
            })?;
        let message = match message {
            None => {
                return Err(fault(
                    Cause::Disconnected,
                    format!("{url}: the connection closed"),
                ));
            }
            Some(Err(tungstenite::Error::Capacity(error))) => {
                return Err(fault(Cause::Malformed, format!("{url}: {error}")));
            }
            Some(Err(tungstenite::Error::Protocol(
                tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
            ))) => {
                return Err(fault(
                    Cause::Disconnected,
                    format!("{url}: the connection dropped without a close frame"),
                ));
            }
            Some(Err(tungstenite::Error::Protocol(error))) => {
                return Err(fault(Cause::Malformed, format!("{url}: {error}")));
            }
            Some(Err(error)) => return Err(fault(Cause::Disconnected, format!("{url}: {error}"))),
            Some(Ok(message)) => message,
        };
        let bytes: Vec<u8> = match message {
            Message::Text(text) => text.as_bytes().to_vec(),
            // A frame that cannot be read is handed on as it came: the decoder rejects it
            // with its reason (kept in rejects.jsonl), and the stream goes on. Resetting the
            // connection would only replay it.
            Message::Binary(bytes) => match decompressor.as_ref() {
                Some(dictionary) => match inflate(&bytes, dictionary) {
                    Ok(bytes) => bytes,
                    Err(_) => bytes.to_vec(),
                },
                None => bytes.to_vec(),
            },
            Message::Close(frame) => {
                let reason = frame
                    .map(|frame| format!("{} {}", u16::from(frame.code), frame.reason))
                    .unwrap_or_default();
                return Err(fault(
                    Cause::Disconnected,
                    format!("{url}: the server closed the connection {reason}"),
                ));
            }
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
        };
        backoff.reset();
        let head = serde_json::from_slice::<Head>(&bytes).ok();
        let Some(head) = head else {
            // Not JSON: the decoder rejects it with the reason (kept in rejects.jsonl).
            context
                .emit
                .record(bytes, None)
                .await
                .map_err(|_| Failure::Stopped)?;
            continue;
        };
        let identity = match &head.commit {
            Some(commit) => format!(
                "{}/{}/{}/{}/{}",
                head.did, commit.collection, commit.rkey, commit.operation, commit.rev
            ),
            None => format!("{}/{}/{}", head.did, head.kind, head.time_us.unwrap_or(0)),
        };
        if let Some(time) = head.time_us {
            *cursor = Some(cursor.map_or(time, |cursor| cursor.max(time)));
        }
        if !context.first_seen(&identity) {
            continue;
        }
        let event_time = head.time_us.and_then(DateTime::from_timestamp_micros);
        let record_cursor = head.time_us.map(|time| json!({ "time_us": time }));
        context
            .emit
            .record(bytes, record_cursor)
            .await
            .map_err(|_| Failure::Stopped)?;
        context
            .registry
            .received(&context.id, 1, event_time, Utc::now());
    }
}

fn inflate(
    bytes: &[u8],
    dictionary: &zstd::dict::DecoderDictionary<'_>,
) -> std::io::Result<Vec<u8>> {
    let decoder = zstd::stream::read::Decoder::with_prepared_dictionary(bytes, dictionary)?;
    let mut output = Vec::new();
    decoder
        .take(MAX_EVENT as u64 + 1)
        .read_to_end(&mut output)?;
    if output.len() > MAX_EVENT {
        return Err(std::io::Error::other("more than 4 MiB once inflated"));
    }
    Ok(output)
}
