//! The X API v2 with a bearer token: the filtered stream (its rules kept in step with the
//! watches, where a watch can be said in X's rule language) and recent search (polled from
//! the newest id seen). Rate-limit headers are obeyed: when none remain, nothing is asked
//! until the reset; a 429 waits for `Retry-After` or the reset.

use std::time::Duration;

use chrono::{DateTime, Utc};
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;
use starling_query::{Has, Is, Query};

use crate::health::{Cause, Recovery};
use crate::http::{HttpError, Lines, Response};
use crate::{Backoff, Context, Stopped};

/// The fields asked for, so that the twitter-v2 decoder gets authors, places and references.
const FIELDS: &str = "tweet.fields=created_at,lang,entities,public_metrics,referenced_tweets,\
conversation_id,in_reply_to_user_id,geo,author_id,attachments,edit_history_tweet_ids\
&expansions=author_id,referenced_tweets.id,geo.place_id,attachments.media_keys\
&user.fields=username,name,location,public_metrics,verified,created_at\
&place.fields=full_name,country_code,geo,name,place_type\
&media.fields=type,url,preview_image_url";

/// The longest rule X accepts at Basic access (Pro takes 1,024); longer ones are not sent.
const MAX_RULE: usize = 512;
/// The tag prefix of the rules Starling owns (others are left alone).
const TAG_PREFIX: &str = "starling:";
/// Pages one poll of recent search reads at most (the next poll goes on from there).
const SEARCH_PAGES: usize = 50;
/// The longest line taken from the stream.
const MAX_LINE: usize = 8 << 20;

/// A watch as an X filtered-stream rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XRule {
    /// The rule, in X's syntax.
    pub value: String,
    /// `starling:` and the watch's name.
    pub tag: String,
    /// Whether the rule matches more than the watch (parts X cannot say were left out; the
    /// watch itself is still applied to what arrives).
    pub broader: bool,
}

enum Said {
    /// Every post.
    Always,
    /// No post on X.
    Never,
    /// A rule part: its text, whether it needs parentheses inside an AND, and whether it is
    /// exact.
    Rule {
        text: String,
        group: bool,
        exact: bool,
    },
}

fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('"', ""))
}

fn bare(word: &str) -> bool {
    !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '\'')
        && !["OR", "AND", "NOT"].contains(&word)
}

fn rule(text: String, exact: bool) -> Said {
    Said::Rule {
        text,
        group: false,
        exact,
    }
}

fn say(query: &Query) -> Result<Said, String> {
    Ok(match query {
        Query::Term(word) if bare(word) => rule(word.clone(), true),
        Query::Term(word) => rule(quote(word), true),
        Query::Phrase(words) => rule(quote(&words.join(" ")), true),
        Query::Hashtag(tag) => rule(format!("#{tag}"), true),
        Query::Mention(user) => rule(format!("@{user}"), true),
        Query::From(user) => rule(format!("from:{user}"), true),
        Query::Lang(lang) => rule(format!("lang:{lang}"), true),
        Query::Has(Has::Links) => rule("has:links".into(), true),
        Query::Has(Has::Media) => rule("has:media".into(), true),
        Query::Has(Has::Geo) => rule("has:geo".into(), true),
        Query::Is(Is::Reply) => rule("is:reply".into(), true),
        Query::Is(Is::Share) => rule("is:retweet".into(), true),
        Query::Is(Is::Quote) => rule("is:quote".into(), true),
        Query::Url(text) | Query::Domain(text) => rule(format!("url:{}", quote(text)), true),
        Query::Country(code) => rule(format!("place_country:{}", code.to_uppercase()), false),
        Query::Geo {
            lat,
            lon,
            radius_km,
        } if *radius_km <= 40.0 => rule(
            format!("point_radius:[{lon:.5} {lat:.5} {radius_km:.1}km]"),
            false,
        ),
        Query::Platform(platform) => {
            if platform.as_str() == "twitter" {
                Said::Always
            } else {
                Said::Never
            }
        }
        // What X cannot filter on is left to the watch, applied to every post that arrives.
        Query::Prefix(_)
        | Query::Near { .. }
        | Query::Sentiment(_)
        | Query::Since(_)
        | Query::Until(_)
        | Query::Geo { .. } => Said::Rule {
            text: String::new(),
            group: false,
            exact: false,
        },
        Query::Not(inner) => match say(inner)? {
            Said::Always => Said::Never,
            Said::Never => Said::Always,
            Said::Rule { text, exact, group } if exact && !text.is_empty() => Said::Rule {
                text: if group {
                    format!("-({text})")
                } else {
                    format!("-{text}")
                },
                group: false,
                exact: true,
            },
            // Leaving out a NOT only widens the rule.
            Said::Rule { .. } => Said::Rule {
                text: String::new(),
                group: false,
                exact: false,
            },
        },
        Query::And(parts) => {
            let mut texts = Vec::new();
            let mut exact = true;
            let mut positive = false;
            for part in parts {
                match say(part)? {
                    Said::Never => return Ok(Said::Never),
                    Said::Always => {}
                    Said::Rule {
                        text,
                        group,
                        exact: part_exact,
                    } => {
                        exact &= part_exact;
                        if text.is_empty() {
                            continue;
                        }
                        positive |= !text.starts_with('-');
                        texts.push(if group { format!("({text})") } else { text });
                    }
                }
            }
            if texts.is_empty() {
                return Ok(if exact {
                    Said::Always
                } else {
                    Said::Rule {
                        text: String::new(),
                        group: false,
                        exact: false,
                    }
                });
            }
            if !positive {
                return Err("X rules cannot be only negations".into());
            }
            Said::Rule {
                text: texts.join(" "),
                group: false,
                exact,
            }
        }
        Query::Or(parts) => {
            let mut texts = Vec::new();
            let mut exact = true;
            for part in parts {
                match say(part)? {
                    Said::Always => return Ok(Said::Always),
                    Said::Never => {}
                    Said::Rule { text, .. } if text.is_empty() => {
                        return Err(format!(
                            "a part of an OR has nothing X can filter on ({})",
                            describe(part)
                        ));
                    }
                    Said::Rule {
                        text,
                        exact: part_exact,
                        ..
                    } => {
                        exact &= part_exact;
                        texts.push(text);
                    }
                }
            }
            match texts.len() {
                0 => Said::Never,
                1 => Said::Rule {
                    text: texts.remove(0),
                    group: false,
                    exact,
                },
                _ => Said::Rule {
                    text: texts.join(" OR "),
                    group: true,
                    exact,
                },
            }
        }
    })
}

fn describe(query: &Query) -> &'static str {
    match query {
        Query::Prefix(_) => "a prefix",
        Query::Near { .. } => "NEAR",
        Query::Sentiment(_) => "sentiment:",
        Query::Since(_) | Query::Until(_) => "a time bound",
        Query::Geo { .. } => "a radius over 40 km",
        _ => "a part X cannot say",
    }
}

/// The X rule for a watch's query: what X can filter on, the rest left to the watch (applied
/// to every post that arrives). `Err` says why a watch cannot become a rule at all (it would
/// have to match every post, or none on X, or it is too long).
pub fn rule_for(name: &str, query: &str) -> Result<XRule, String> {
    let parsed = starling_query::parse(query).map_err(|error| error.to_string())?;
    match say(&parsed)? {
        Said::Always => Err("it would match every post on X".into()),
        Said::Never => Err("it matches no post on X (another platform)".into()),
        Said::Rule { text, .. } if text.is_empty() => {
            Err("nothing in it can be said in X's rule language".into())
        }
        Said::Rule { text, exact, .. } => {
            let positive = text
                .split_whitespace()
                .any(|token| token != "OR" && !token.starts_with('-') && !token.starts_with("(-"));
            if !positive {
                return Err("X rules cannot be only negations".into());
            }
            if text.len() > MAX_RULE {
                return Err(format!(
                    "its rule would be longer than {MAX_RULE} characters"
                ));
            }
            Ok(XRule {
                value: text,
                tag: format!("{TAG_PREFIX}{name}"),
                broader: !exact,
            })
        }
    }
}

#[derive(Deserialize)]
struct Rules {
    #[serde(default)]
    data: Vec<ExistingRule>,
}

#[derive(Deserialize)]
struct ExistingRule {
    id: String,
    value: String,
    #[serde(default)]
    tag: Option<String>,
}

enum Failure {
    Stopped,
    Fault {
        cause: Cause,
        error: String,
        retry_after: Option<Duration>,
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

fn status_fault(response: &Response) -> Failure {
    let status = response.status;
    Failure::Fault {
        cause: if status == StatusCode::TOO_MANY_REQUESTS {
            Cause::RateLimited
        } else if status.is_server_error() {
            Cause::ServerError
        } else {
            Cause::Refused
        },
        // The URL carries no token (it travels in a header).
        error: format!("{}: HTTP {status}", response.url),
        retry_after: response.retry_after(Utc::now()),
    }
}

struct Api<'a> {
    context: &'a Context,
    base: String,
}

impl Api<'_> {
    fn headers(&self) -> Vec<(String, String)> {
        let token = self
            .context
            .token
            .as_ref()
            .map(|token| token.expose().to_owned())
            .unwrap_or_default();
        vec![
            ("authorization".into(), format!("Bearer {token}")),
            ("accept".into(), "application/json".into()),
        ]
    }

    /// Waits for the rate-limit window's reset when a response says none remain (for the
    /// filtered stream, not connected meanwhile, that is a gap).
    async fn obey(&self, response: &Response) {
        if let Some(wait) = response.retry_after(Utc::now())
            && response.status.is_success()
        {
            if self.context.config.mode.as_deref() != Some("search") && !wait.is_zero() {
                let from = self
                    .context
                    .registry
                    .open_gap_since(&self.context.id)
                    .unwrap_or_else(Utc::now);
                self.context.registry.open_gap(
                    &self.context.id,
                    from,
                    Cause::RateLimited,
                    "no requests left in the rate-limit window: waiting for its reset",
                );
            }
            self.context.registry.update(&self.context.id, |health| {
                health.retry_at =
                    Some(Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default());
            });
            tokio::time::sleep(wait).await;
        }
    }

    async fn json(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<Vec<u8>, Failure> {
        let url = format!("{}{path}", self.base);
        let mut headers = self.headers();
        if body.is_some() {
            headers.push(("content-type".into(), "application/json".into()));
        }
        let mut response = self
            .context
            .http
            .send(
                method,
                &url,
                &headers,
                body.map(|body| body.to_string().into_bytes()),
            )
            .await
            .map_err(http_fault)?;
        if !response.status.is_success() {
            return Err(status_fault(&response));
        }
        let bytes = response
            .bytes(MAX_LINE, self.context.idle_timeout())
            .await
            .map_err(http_fault)?;
        self.obey(&response).await;
        Ok(bytes)
    }

    /// Makes the stream's `starling:` rules those of the watches; notes the watches that
    /// cannot be rules.
    async fn sync_rules(&self) -> Result<(), Failure> {
        let watches = match (self.context.options.watches)() {
            Ok(watches) => watches,
            Err(error) => {
                // Without the watches, the rules stay as they are (never all deleted).
                self.context.registry.update(&self.context.id, |health| {
                    health.notes = vec![format!(
                        "rules not synced: the watches could not be read: {error}"
                    )];
                });
                return Ok(());
            }
        };
        let mut wanted = Vec::new();
        let mut notes = Vec::new();
        for (name, query) in &watches {
            match rule_for(name, query) {
                Ok(rule) => {
                    if rule.broader {
                        notes.push(format!(
                            "watch {name}: the X rule is broader than the watch (X cannot say \
                             all of it); the watch is applied to what arrives"
                        ));
                    }
                    wanted.push(rule);
                }
                Err(reason) => notes.push(format!("watch {name}: not an X rule: {reason}")),
            }
        }
        let body = self
            .json(Method::GET, "/2/tweets/search/stream/rules", None)
            .await?;
        let existing: Rules = serde_json::from_slice(&body)
            .map_err(|error| fault(Cause::Malformed, format!("stream rules: {error}")))?;
        let stale: Vec<&str> = existing
            .data
            .iter()
            .filter(|rule| {
                rule.tag
                    .as_deref()
                    .is_some_and(|tag| tag.starts_with(TAG_PREFIX))
                    && !wanted.iter().any(|want| {
                        Some(want.tag.as_str()) == rule.tag.as_deref() && want.value == rule.value
                    })
            })
            .map(|rule| rule.id.as_str())
            .collect();
        if !stale.is_empty() {
            self.json(
                Method::POST,
                "/2/tweets/search/stream/rules",
                Some(json!({ "delete": { "ids": stale } })),
            )
            .await?;
        }
        let missing: Vec<serde_json::Value> = wanted
            .iter()
            .filter(|want| {
                !existing.data.iter().any(|rule| {
                    rule.tag.as_deref() == Some(want.tag.as_str()) && rule.value == want.value
                })
            })
            .map(|want| json!({ "value": want.value, "tag": want.tag }))
            .collect();
        if !missing.is_empty() {
            let answer = self
                .json(
                    Method::POST,
                    "/2/tweets/search/stream/rules",
                    Some(json!({ "add": missing })),
                )
                .await?;
            // X answers 200 and lists the rules it refused (invalid, too long, duplicate).
            #[derive(Deserialize)]
            struct Added {
                #[serde(default)]
                errors: Vec<serde_json::Value>,
            }
            if let Ok(added) = serde_json::from_slice::<Added>(&answer) {
                for error in added.errors {
                    let text = |field: &str| match error.get(field) {
                        Some(serde_json::Value::String(text)) => text.clone(),
                        Some(serde_json::Value::Array(items)) => items
                            .iter()
                            .filter_map(|item| item.as_str())
                            .collect::<Vec<_>>()
                            .join("; "),
                        _ => String::new(),
                    };
                    notes.push(format!(
                        "X refused the rule {:?}: {} {}",
                        text("value"),
                        text("title"),
                        text("details")
                    ));
                }
            }
        }
        self.context
            .registry
            .update(&self.context.id, |health| health.notes = notes);
        Ok(())
    }

    async fn tweet(
        &self,
        bytes: Vec<u8>,
        cursor: Option<serde_json::Value>,
    ) -> Result<(), Stopped> {
        #[derive(Deserialize)]
        struct Line {
            data: Option<Data>,
        }
        #[derive(Deserialize)]
        struct Data {
            id: String,
            #[serde(default)]
            created_at: Option<DateTime<Utc>>,
        }
        let head = serde_json::from_slice::<Line>(&bytes)
            .ok()
            .and_then(|line| line.data);
        if let Some(data) = &head
            && !self.context.first_seen(&data.id)
        {
            return Ok(());
        }
        self.context.emit.record(bytes, cursor).await?;
        self.context.registry.received(
            &self.context.id,
            1,
            head.and_then(|data| data.created_at),
            Utc::now(),
        );
        Ok(())
    }

    async fn stream(&self, backoff: &mut Backoff) -> Result<(), Failure> {
        let syncing = self.context.config.rules_from_watches.unwrap_or(true);
        let mut synced = None;
        if syncing {
            synced = (self.context.options.watches)().ok();
            self.sync_rules().await?;
        }
        // Rules change on an open stream: watches edited meanwhile reach X within a minute.
        let mut resync = tokio::time::interval(self.context.options.rules_every);
        resync.tick().await;
        let url = format!("{}/2/tweets/search/stream?{FIELDS}", self.base);
        let mut response = self
            .context
            .http
            .get(&url, &self.headers())
            .await
            .map_err(http_fault)?;
        if response.status != StatusCode::OK {
            return Err(status_fault(&response));
        }
        let now = Utc::now();
        self.context.registry.connected(&self.context.id, now);
        // The filtered stream cannot replay (backfill is for Enterprise access): a gap stays
        // a gap.
        self.context
            .registry
            .close_gap(&self.context.id, now, Recovery::None);
        let mut lines = Lines::new(MAX_LINE);
        loop {
            let chunk = tokio::select! {
                chunk = response.chunk(self.context.idle_timeout()) => chunk,
                _ = resync.tick(), if syncing => {
                    let now = (self.context.options.watches)().ok();
                    if now.is_some() && now != synced {
                        match self.sync_rules().await {
                            Ok(()) => synced = now,
                            Err(Failure::Stopped) => return Err(Failure::Stopped),
                            Err(Failure::Fault { error, .. }) => {
                                self.context.registry.update(&self.context.id, |health| {
                                    health.notes.push(format!("rules not synced: {error}"));
                                });
                            }
                        }
                    }
                    continue;
                }
            };
            let Some(chunk) = chunk.map_err(http_fault)? else {
                return Err(fault(
                    Cause::Disconnected,
                    format!("{url}: the server ended the stream"),
                ));
            };
            backoff.reset();
            let complete = lines.push(&chunk).map_err(|limit| {
                fault(
                    Cause::Malformed,
                    format!("a line longer than {limit} bytes"),
                )
            })?;
            for line in complete {
                if line.iter().all(u8::is_ascii_whitespace) {
                    // Keep-alive.
                    continue;
                }
                let value: Option<serde_json::Value> = serde_json::from_slice(&line).ok();
                let errors_only = value.as_ref().is_some_and(|value| {
                    value.get("data").is_none() && value.get("errors").is_some()
                });
                if errors_only {
                    // An operational disconnect or another in-stream error: posts may be held
                    // back from here; the server usually closes next.
                    let detail = String::from_utf8_lossy(&line)
                        .chars()
                        .take(500)
                        .collect::<String>();
                    let cause = if detail.contains("operational-disconnect")
                        || detail.contains("ConnectionException")
                    {
                        Cause::LimitNotice
                    } else {
                        Cause::ServerError
                    };
                    self.context
                        .registry
                        .open_gap(&self.context.id, Utc::now(), cause, &detail);
                    continue;
                }
                self.tweet(line.to_vec(), None).await?;
            }
        }
    }

    /// One poll of recent search: the pages since `since_id`, newest first, following
    /// `next_token`. A poll that stops early (its page limit, an error) leaves the token in
    /// `state`, and the next poll goes on from it before `since_id` moves: nothing between is
    /// skipped. The newest id is saved with the last page of a completed sequence.
    async fn search(&self, state: &mut SearchState) -> Result<(), Failure> {
        #[derive(Deserialize)]
        struct Page {
            #[serde(default)]
            meta: Option<Meta>,
        }
        #[derive(Deserialize)]
        struct Meta {
            #[serde(default)]
            newest_id: Option<String>,
            #[serde(default)]
            next_token: Option<String>,
            #[serde(default)]
            result_count: Option<u64>,
        }
        let query = self.context.config.query.clone().unwrap_or_default();
        let mut pages: Vec<Vec<u8>> = Vec::new();
        let mut last_page: Option<Vec<u8>> = None;
        let mut result = Ok(());
        let mut complete = false;
        for _ in 0..SEARCH_PAGES {
            let mut path = format!(
                "/2/tweets/search/recent?query={}&max_results=100&{FIELDS}",
                crate::http::percent(&query)
            );
            if let Some(since) = state.since_id.as_deref() {
                path.push_str(&format!("&since_id={since}"));
            }
            if let Some(token) = &state.next_token {
                path.push_str(&format!("&next_token={}", crate::http::percent(token)));
            }
            let body = match self.json(Method::GET, &path, None).await {
                Ok(body) => body,
                Err(failure) => {
                    result = Err(failure);
                    break;
                }
            };
            let page: Page = match serde_json::from_slice(&body) {
                Ok(page) => page,
                Err(error) => {
                    result = Err(fault(Cause::Malformed, format!("recent search: {error}")));
                    break;
                }
            };
            let meta = page.meta;
            if state.newest.is_none() {
                state.newest = meta.as_ref().and_then(|meta| meta.newest_id.clone());
            }
            let count = meta
                .as_ref()
                .and_then(|meta| meta.result_count)
                .unwrap_or(0);
            state.posts += count;
            state.next_token = meta.and_then(|meta| meta.next_token);
            if count > 0 {
                pages.push(body);
            } else {
                last_page = Some(body);
            }
            if state.next_token.is_none() {
                complete = true;
                break;
            }
        }
        let now = Utc::now();
        let cursor = if complete {
            state.newest.take().map(|id| {
                state.since_id = Some(id.clone());
                json!({ "since_id": id })
            })
        } else {
            None
        };
        // The cursor rides on the last page with posts, or on the (empty) last page.
        if cursor.is_some()
            && pages.is_empty()
            && let Some(page) = last_page
        {
            pages.push(page);
        }
        let count = pages.len();
        for (index, page) in pages.into_iter().enumerate() {
            let cursor = (index + 1 == count).then(|| cursor.clone()).flatten();
            self.context.emit.record(page, cursor).await?;
        }
        result?;
        self.context.registry.connected(&self.context.id, now);
        if complete {
            let posts = std::mem::take(&mut state.posts);
            self.context
                .registry
                .received(&self.context.id, posts, None, now);
            // The sequence reached back to the last poll's newest post: a gap before it is
            // covered.
            self.context.registry.close_gap(
                &self.context.id,
                now,
                Recovery::Backfill {
                    posts,
                    complete: true,
                },
            );
        }
        Ok(())
    }
}

/// Where recent search stands: the newest id stored, and a pagination under way.
#[derive(Default)]
struct SearchState {
    since_id: Option<String>,
    next_token: Option<String>,
    /// The newest id of the sequence under way (its first page's).
    newest: Option<String>,
    /// Posts the sequence under way has returned.
    posts: u64,
}

pub(crate) async fn run(context: Context) {
    let api = Api {
        context: &context,
        base: context.url.trim_end_matches('/').to_owned(),
    };
    let mut backoff = Backoff::new(
        context.options.min_backoff,
        context.options.max_backoff,
        &context.id,
    );
    let search = context.config.mode.as_deref() == Some("search");
    let interval = Duration::from_secs(context.config.interval_secs.unwrap_or(60).max(1));
    let mut search_state = SearchState {
        since_id: context
            .cursor
            .as_ref()
            .and_then(|cursor| cursor.get("since_id"))
            .and_then(|id| id.as_str())
            .map(str::to_owned),
        ..SearchState::default()
    };
    loop {
        context.registry.connecting(&context.id, Utc::now());
        let result = if search {
            api.search(&mut search_state).await
        } else {
            api.stream(&mut backoff).await
        };
        match result {
            Ok(()) => {
                backoff.reset();
                // A pagination under way goes on at once (within the rate limit, which the
                // responses' headers enforce).
                if search_state.next_token.is_none() {
                    tokio::time::sleep(interval).await;
                }
            }
            Err(Failure::Stopped) => return,
            Err(Failure::Fault {
                cause,
                error,
                retry_after,
            }) => context.fail(&mut backoff, cause, &error, retry_after).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(query: &str) -> Result<(String, bool), String> {
        rule_for("w", query).map(|rule| (rule.value, rule.broader))
    }

    #[test]
    fn watches_become_rules() {
        assert_eq!(
            rule("tehran AND (#iranelection OR @bbcpersian) NOT from:spam"),
            Ok((
                "tehran (#iranelection OR @bbcpersian) -from:spam".into(),
                false
            ))
        );
        assert_eq!(
            rule("\"green wave\" lang:fa has:media is:share"),
            Ok(("\"green wave\" lang:fa has:media is:retweet".into(), false))
        );
        assert_eq!(
            rule("protest NEAR/3 police"),
            Err("nothing in it can be said in X's rule language".into())
        );
        assert_eq!(rule("tehran AND tehr*"), Ok(("tehran".into(), true)));
        assert_eq!(
            rule("tehran platform:twitter"),
            Ok(("tehran".into(), false))
        );
        assert!(rule("tehran platform:mastodon").is_err());
        assert!(rule("NOT tehran").is_err());
        assert!(rule("tehran OR sentiment:negative").is_err());
        assert_eq!(
            rule("domain:bbc.co.uk OR country:ir"),
            Ok(("url:\"bbc.co.uk\" OR place_country:IR".into(), true))
        );
    }
}
