//! Reddit comments and submissions from Pushshift or Arctic Shift dumps (NDJSON, one per line).

use serde::Deserialize;
use starling_model::{Author, Entities, Metrics, Platform, Post, PostKey, PostRef, UrlEntity, nfc};

use crate::{Context, Decoded, Format, Notice, json_reject, raw};

#[derive(Deserialize)]
struct Thing {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    author: Option<String>,
    #[serde(default)]
    author_fullname: Option<String>,
    #[serde(default)]
    created_utc: Option<serde_json::Value>,
    #[serde(default)]
    subreddit: Option<String>,
    #[serde(default)]
    permalink: Option<String>,
    /// Comments.
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    parent_id: Option<String>,
    /// Submissions.
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    selftext: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    is_self: Option<bool>,
    #[serde(default)]
    num_comments: Option<u64>,
    #[serde(default)]
    score: Option<i64>,
}

/// What Reddit writes in place of text or an author that is gone.
const GONE: [&str; 2] = ["[deleted]", "[removed]"];

pub(crate) fn decode(bytes: &[u8], context: &Context<'_>, decoded: &mut Decoded) {
    let thing: Thing = match serde_json::from_slice(bytes) {
        Ok(thing) => thing,
        Err(error) => {
            decoded
                .rejects
                .push(json_reject(&error, context, "Reddit comment or submission"));
            return;
        }
    };
    // A comment has a body, a submission a title; the fullname's prefix says it too.
    let is_comment = thing.body.is_some()
        || thing
            .name
            .as_deref()
            .is_some_and(|name| name.starts_with("t1_"));
    if !is_comment && thing.title.is_none() {
        decoded.rejects.push(context.reject(
            "record",
            "neither a comment (no `body`) nor a submission (no `title`)",
        ));
        return;
    }
    let Some(created_at) = thing.created_utc.as_ref().and_then(epoch_seconds) else {
        let found = thing
            .created_utc
            .as_ref()
            .map_or("nothing".to_owned(), ToString::to_string);
        decoded.rejects.push(context.reject(
            "created_utc",
            format!("expected seconds since 1970 (a number or a string of one), got {found}"),
        ));
        return;
    };
    let fullname = thing
        .name
        .clone()
        .unwrap_or_else(|| format!("{}_{}", if is_comment { "t1" } else { "t3" }, thing.id));
    let key = PostKey::for_platform_id(Platform::Reddit, &fullname);
    let text = if is_comment {
        thing.body.clone().unwrap_or_default()
    } else {
        thing.selftext.clone().unwrap_or_default()
    };
    if GONE.contains(&text.trim()) {
        decoded.notices.push(Notice {
            kind: "deleted".into(),
            key: Some(key.as_str().to_owned()),
            detail: format!("text {} on Reddit", text.trim().trim_matches(['[', ']'])),
        });
    }
    let author_name = thing.author.clone().unwrap_or_default();
    let author = Author {
        id: thing
            .author_fullname
            .clone()
            .unwrap_or_else(|| author_name.clone()),
        handle: author_name,
        display_name: None,
        followers: None,
        location: None,
    };
    let parent = |fullname: &str| PostRef {
        id: fullname
            .split_once('_')
            .map_or(fullname, |(_, id)| id)
            .to_owned(),
        key: Some(PostKey::for_platform_id(Platform::Reddit, fullname)),
        author_id: None,
        author_handle: None,
    };
    let mut entities = Entities::default();
    if let Some(url) = thing
        .url
        .as_ref()
        .filter(|_| !is_comment && thing.is_self != Some(true))
    {
        entities.urls.push(UrlEntity {
            url: url.clone(),
            expanded_url: None,
            span: None,
        });
    }
    decoded.posts.push(Post {
        platform: Platform::Reddit,
        id: thing.id.clone(),
        key,
        url: thing
            .permalink
            .as_ref()
            .map(|link| format!("https://www.reddit.com{link}")),
        author,
        created_at,
        collected_at: context.collected_at,
        title: thing.title.as_deref().map(nfc),
        community: thing.subreddit.as_ref().map(|name| format!("r/{name}")),
        // Reddit text is Markdown; it is kept as written.
        text: nfc(&text),
        declared_lang: None,
        reply_to: if is_comment {
            thing.parent_id.as_deref().map(parent)
        } else {
            None
        },
        quote_of: None,
        share_of: None,
        entities,
        media: Vec::new(),
        metrics: Metrics {
            // Reddit's score is upvotes minus downvotes; negative scores count as no likes.
            likes: thing.score.map(|score| score.max(0) as u64),
            replies: thing.num_comments,
            ..Metrics::default()
        },
        geo: None,
        provenance: context.provenance(Format::Reddit),
        enrichment: None,
        raw: raw(bytes),
    });
}

/// `created_utc` as a number (integer or float) or a string of one.
fn epoch_seconds(value: &serde_json::Value) -> Option<starling_model::Timestamp> {
    let seconds = match value {
        serde_json::Value::Number(number) => number.as_f64()?,
        serde_json::Value::String(text) => text.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    if !seconds.is_finite() {
        return None;
    }
    chrono::DateTime::from_timestamp_millis((seconds * 1000.0) as i64)
}
