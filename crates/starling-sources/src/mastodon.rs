//! Mastodon's streaming API (server-sent events: `update`, `status.update`, `delete`) on any
//! number of servers, with REST backfill after every disconnect: the timeline is paged forward
//! from the last status seen (`min_id`) until it meets the live stream. A status reached
//! through several servers is kept once, by its URI.

use chrono::{DateTime, Utc};
use http::StatusCode;
use serde::Deserialize;
use serde_json::json;

use crate::health::{Cause, Recovery};
use crate::http::{HttpError, Lines};
use crate::{Backoff, Context, Stopped};

/// Which stream of a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stream {
    Public,
    Local,
    Hashtag(String),
    List(String),
}

impl Stream {
    pub(crate) fn parse(text: &str) -> Result<Stream, String> {
        let text = text.trim();
        let valid = |value: &str| {
            !value.is_empty()
                && value
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        };
        match text.split_once(':') {
            None if text == "public" => Ok(Stream::Public),
            None if text == "local" => Ok(Stream::Local),
            Some(("hashtag", tag)) if valid(tag.trim_start_matches('#')) => {
                Ok(Stream::Hashtag(tag.trim_start_matches('#').to_owned()))
            }
            Some(("list", id)) if valid(id) => Ok(Stream::List(id.to_owned())),
            _ => Err(format!(
                "unknown Mastodon stream {text:?}: expected public, local, hashtag:TAG or list:ID"
            )),
        }
    }

    fn streaming_path(&self) -> String {
        match self {
            Stream::Public => "/api/v1/streaming/public".into(),
            Stream::Local => "/api/v1/streaming/public/local".into(),
            Stream::Hashtag(tag) => format!("/api/v1/streaming/hashtag?tag={tag}"),
            Stream::List(id) => format!("/api/v1/streaming/list?list={id}"),
        }
    }

    fn timeline_path(&self) -> String {
        match self {
            Stream::Public => "/api/v1/timelines/public?limit=40".into(),
            Stream::Local => "/api/v1/timelines/public?local=true&limit=40".into(),
            Stream::Hashtag(tag) => format!("/api/v1/timelines/tag/{tag}?limit=40"),
            Stream::List(id) => format!("/api/v1/timelines/list/{id}?limit=40"),
        }
    }
}

/// Pages of 40 a backfill reads at most before it gives up (and says the gap may hold more).
const BACKFILL_PAGES: usize = 50;
/// The longest event taken.
const MAX_EVENT: usize = 4 << 20;

#[derive(Deserialize)]
struct StatusHead {
    id: String,
    uri: String,
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    edited_at: Option<String>,
}

/// Whether status id `a` is newer than `b` (ids are decimal numbers as strings).
fn newer(a: &str, b: &str) -> bool {
    (a.len(), a) > (b.len(), b)
}

struct Session<'a> {
    context: &'a Context,
    base: String,
    last_id: Option<String>,
}

enum Failure {
    Stopped,
    Fault {
        cause: Cause,
        error: String,
        retry_after: Option<std::time::Duration>,
    },
}

impl From<Stopped> for Failure {
    fn from(_: Stopped) -> Failure {
        Failure::Stopped
    }
}

fn fault(cause: Cause, error: impl Into<String>) -> Failure {
    Failure::Fault {
        cause,
        error: error.into(),
        retry_after: None,
    }
}

fn http_fault(error: HttpError) -> Failure {
    let cause = match &error {
        HttpError::Refused { .. } | HttpError::BadUrl { .. } => Cause::Refused,
        HttpError::Idle { .. } => Cause::Stalled,
        HttpError::TooLarge { .. } => Cause::Malformed,
        _ => Cause::Disconnected,
    };
    fault(cause, error.to_string())
}

fn status_fault(response: &crate::http::Response) -> Failure {
    let status = response.status;
    let cause = if status == StatusCode::TOO_MANY_REQUESTS {
        Cause::RateLimited
    } else if status.is_server_error() {
        Cause::ServerError
    } else {
        Cause::Refused
    };
    Failure::Fault {
        cause,
        error: format!("{}: HTTP {status}", response.url),
        retry_after: response.retry_after(Utc::now()),
    }
}

impl Session<'_> {
    fn headers(&self, accept: &str) -> Vec<(String, String)> {
        let mut headers = vec![("accept".to_owned(), accept.to_owned())];
        if let Some(token) = &self.context.token {
            headers.push(("authorization".into(), format!("Bearer {}", token.expose())));
        }
        headers
    }

    /// Hands on one status (from the stream or a timeline page) unless its URI (and edit
    /// time) was seen already; moves the cursor.
    async fn status(&mut self, bytes: Vec<u8>, edit: bool) -> Result<bool, Stopped> {
        let context = self.context;
        let Ok(head) = serde_json::from_slice::<StatusHead>(&bytes) else {
            // The decoder rejects it with the reason, and `rejects.jsonl` keeps it.
            context.emit.record(bytes, None).await?;
            return Ok(false);
        };
        let identity = match (&head.edited_at, edit) {
            (Some(edited), _) => format!("{}#{edited}", head.uri),
            (None, true) => format!("{}#edit", head.uri),
            (None, false) => head.uri.clone(),
        };
        let moves = self
            .last_id
            .as_deref()
            .is_none_or(|last| newer(&head.id, last));
        if moves {
            self.last_id = Some(head.id.clone());
        }
        if !context.first_seen(&identity) {
            return Ok(false);
        }
        let cursor = self.last_id.as_ref().map(|id| json!({ "last_id": id }));
        context.emit.record(bytes, cursor).await?;
        context
            .registry
            .received(&context.id, 1, head.created_at, Utc::now());
        Ok(true)
    }

    /// Pages the timeline forward from the last status seen; how many statuses were new and
    /// whether it met the present.
    async fn backfill(&mut self, stream: &Stream) -> Result<(u64, bool), Failure> {
        let Some(mut since) = self.last_id.clone() else {
            return Ok((0, false));
        };
        let mut posts = 0;
        for _ in 0..BACKFILL_PAGES {
            let url = format!("{}{}&min_id={since}", self.base, stream.timeline_path());
            let mut response = self
                .context
                .http
                .get(&url, &self.headers("application/json"))
                .await
                .map_err(http_fault)?;
            if response.status != StatusCode::OK {
                return Err(status_fault(&response));
            }
            let body = response
                .bytes(MAX_EVENT * 4, self.context.idle_timeout())
                .await
                .map_err(http_fault)?;
            let page: Vec<Box<serde_json::value::RawValue>> = serde_json::from_slice(&body)
                .map_err(|error| fault(Cause::Malformed, format!("{url}: {error}")))?;
            if page.is_empty() {
                return Ok((posts, true));
            }
            let mut statuses: Vec<(String, Vec<u8>)> = page
                .iter()
                .filter_map(|raw| {
                    let head: StatusHead = serde_json::from_str(raw.get()).ok()?;
                    Some((head.id, raw.get().as_bytes().to_vec()))
                })
                .collect();
            statuses.sort_by(|a, b| (a.0.len(), &a.0).cmp(&(b.0.len(), &b.0)));
            let newest = statuses.last().map(|(id, _)| id.clone());
            for (_, bytes) in statuses {
                if self.status(bytes, false).await? {
                    posts += 1;
                }
            }
            match newest {
                Some(newest) if newer(&newest, &since) => since = newest,
                _ => return Ok((posts, true)),
            }
            // Servers cap `limit` differently: only an empty page says the present is reached.
        }
        Ok((posts, false))
    }

    /// One connection: open the stream, backfill what a gap may have missed, then read
    /// events until the connection ends.
    async fn run(&mut self, stream: &Stream, backoff: &mut Backoff) -> Result<(), Failure> {
        let context = self.context;
        let url = format!("{}{}", self.base, stream.streaming_path());
        let mut response = context
            .http
            .get(&url, &self.headers("text/event-stream"))
            .await
            .map_err(http_fault)?;
        if response.status != StatusCode::OK {
            return Err(status_fault(&response));
        }
        let now = Utc::now();
        context.registry.connected(&context.id, now);
        // The stream is open (its events wait in the connection) before the timeline is
        // read, so nothing falls between the two; what both return is kept once.
        if context.registry.open_gap_since(&context.id).is_some() {
            let recovery = if self.last_id.is_some() {
                let (posts, complete) = self.backfill(stream).await?;
                Recovery::Backfill { posts, complete }
            } else {
                Recovery::None
            };
            context.registry.close_gap(&context.id, now, recovery);
        }
        let mut lines = Lines::new(MAX_EVENT);
        let mut event = String::new();
        let mut data: Vec<u8> = Vec::new();
        loop {
            let chunk = response
                .chunk(context.idle_timeout())
                .await
                .map_err(http_fault)?;
            let Some(chunk) = chunk else {
                return Err(fault(
                    Cause::Disconnected,
                    format!("{url}: the server ended the stream"),
                ));
            };
            backoff.reset();
            let complete = lines.push(&chunk).map_err(|limit| {
                fault(
                    Cause::Malformed,
                    format!("{url}: an event longer than {limit} bytes"),
                )
            })?;
            for line in complete {
                if line.is_empty() {
                    let payload = std::mem::take(&mut data);
                    match std::mem::take(&mut event).as_str() {
                        "update" => {
                            self.status(payload, false).await?;
                        }
                        "status.update" => {
                            self.status(payload, true).await?;
                        }
                        "delete" => {
                            let mut record = b"event: delete\ndata: ".to_vec();
                            record.extend_from_slice(&payload);
                            // Status ids are local to a server: a delete is this server's.
                            let identity = format!(
                                "delete:{}:{}",
                                context.id,
                                String::from_utf8_lossy(&payload)
                            );
                            if context.first_seen(&identity) {
                                context.emit.record(record, None).await?;
                            }
                        }
                        // Notifications, filters changed, announcements: not posts.
                        _ => {}
                    }
                } else if line.starts_with(b":") {
                    // A heartbeat comment.
                } else if let Some(value) = line.strip_prefix(b"event:") {
                    event = String::from_utf8_lossy(value).trim().to_owned();
                } else if let Some(value) = line.strip_prefix(b"data:") {
                    if !data.is_empty() {
                        data.push(b'\n');
                    }
                    data.extend_from_slice(value.strip_prefix(b" ").unwrap_or(value));
                }
            }
        }
    }
}

pub(crate) async fn run(context: Context) {
    let stream = match Stream::parse(context.config.stream.as_deref().unwrap_or("public")) {
        Ok(stream) => stream,
        Err(error) => {
            context.registry.update(&context.id, |health| {
                health.last_error = Some(error);
            });
            return;
        }
    };
    let mut backoff = Backoff::new(
        context.options.min_backoff,
        context.options.max_backoff,
        &context.id,
    );
    let mut session = Session {
        context: &context,
        base: context.url.trim_end_matches('/').to_owned(),
        last_id: context
            .cursor
            .as_ref()
            .and_then(|cursor| cursor.get("last_id"))
            .and_then(|id| id.as_str())
            .map(str::to_owned),
    };
    loop {
        context.registry.connecting(&context.id, Utc::now());
        match session.run(&stream, &mut backoff).await {
            Ok(()) => {}
            Err(Failure::Stopped) => return,
            Err(Failure::Fault {
                cause,
                error,
                retry_after,
            }) => {
                context.fail(&mut backoff, cause, &error, retry_after).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_and_ids() {
        assert_eq!(Stream::parse("public"), Ok(Stream::Public));
        assert_eq!(
            Stream::parse("hashtag:#iranelection"),
            Ok(Stream::Hashtag("iranelection".into()))
        );
        assert_eq!(Stream::parse("list:42"), Ok(Stream::List("42".into())));
        assert!(Stream::parse("hashtag:a&b").is_err());
        assert!(Stream::parse("user").is_err());
        assert!(newer("110000000000000010", "99999999999999999"));
        assert!(!newer("5", "5"));
    }
}
