//! Mastodon status objects (REST or streaming `update` payloads), one per record.

use serde::Deserialize;
use starling_model::{
    Author, Entities, Hashtag, Media, Mention, Metrics, Platform, Post, PostKey, PostRef, Span,
    UrlEntity, nfc,
};

use crate::{
    Context, Decoded, Format, Notice, each_in_array, html_to_text_with_links, json_reject,
    parse_time, raw,
};

#[derive(Deserialize)]
struct Status {
    id: String,
    uri: String,
    created_at: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    content: String,
    #[serde(default)]
    spoiler_text: String,
    #[serde(default)]
    language: Option<String>,
    #[serde(default)]
    in_reply_to_id: Option<String>,
    account: Account,
    #[serde(default)]
    reblog: Option<Box<Status>>,
    #[serde(default)]
    mentions: Vec<MentionJson>,
    #[serde(default)]
    tags: Vec<Tag>,
    #[serde(default)]
    media_attachments: Vec<Attachment>,
    #[serde(default)]
    replies_count: Option<u64>,
    #[serde(default)]
    reblogs_count: Option<u64>,
    #[serde(default)]
    favourites_count: Option<u64>,
}

#[derive(Deserialize)]
struct Account {
    #[serde(default)]
    username: String,
    acct: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    followers_count: Option<u64>,
}

#[derive(Deserialize)]
struct MentionJson {
    acct: String,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
struct Tag {
    name: String,
}

#[derive(Deserialize)]
struct Attachment {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

/// Decodes one record: a status object, a REST array of statuses, or one server-sent event of
/// the streaming API (`event: update` / `status.update` with a status, `event: delete` with an
/// id).
pub(crate) fn decode(bytes: &[u8], context: &Context<'_>, decoded: &mut Decoded) {
    let trimmed = bytes.trim_ascii_start();
    if trimmed.starts_with(b"[") {
        each_in_array(
            bytes,
            "JSON array of Mastodon statuses",
            context,
            decoded,
            |item, field, decoded| {
                decode_status(item, field, context, decoded);
            },
        );
    } else if trimmed.starts_with(b"{") {
        decode_status(bytes, "", context, decoded);
    } else {
        decode_event(bytes, context, decoded);
    }
}

fn decode_status(bytes: &[u8], field: &str, context: &Context<'_>, decoded: &mut Decoded) {
    let status: Status = match serde_json::from_slice(bytes) {
        Ok(status) => status,
        Err(error) if field.is_empty() => {
            decoded
                .rejects
                .push(json_reject(&error, context, "Mastodon status"));
            return;
        }
        Err(error) => {
            decoded
                .rejects
                .push(context.reject(field, format!("not a Mastodon status: {error}")));
            return;
        }
    };
    match status_to_post(&status, bytes, context) {
        Ok(post) => decoded.posts.push(post),
        Err(reject) => decoded.rejects.push(reject),
    }
}

/// One event of a streaming capture: `event:` and `data:` lines (data lines joined by
/// newlines, as the server-sent events format says); comments (`:`) ignored.
fn decode_event(bytes: &[u8], context: &Context<'_>, decoded: &mut Decoded) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        decoded
            .rejects
            .push(context.reject("record", "not UTF-8: neither JSON nor a server-sent event"));
        return;
    };
    if text.trim().is_empty() {
        decoded
            .rejects
            .push(context.reject("record", "empty: neither JSON nor a server-sent event"));
        return;
    }
    let mut event = None;
    let mut data = Vec::new();
    for line in text.lines() {
        if let Some(value) = line.strip_prefix("event:") {
            event = Some(value.trim());
        } else if let Some(value) = line.strip_prefix("data:") {
            data.push(value.strip_prefix(' ').unwrap_or(value));
        } else if !line.is_empty() && !line.starts_with(':') {
            decoded.rejects.push(context.reject(
                "record",
                format!(
                    "not JSON and not a server-sent event line: {:?}",
                    truncate(line)
                ),
            ));
            return;
        }
    }
    let data = data.join("\n");
    match event {
        Some("update") => decode_status(data.as_bytes(), "data", context, decoded),
        Some("status.update") => {
            let before = decoded.posts.len();
            decode_status(data.as_bytes(), "data", context, decoded);
            // An edit replaces a status already seen: say so beside the new version.
            let keys: Vec<String> = decoded.posts[before..]
                .iter()
                .map(|post| post.key.as_str().to_owned())
                .collect();
            decoded.notices.extend(keys.into_iter().map(|key| Notice {
                kind: "edit".into(),
                key: Some(key),
                detail: "edited by its author".into(),
            }));
        }
        Some("delete") => decoded.notices.push(Notice {
            kind: "delete".into(),
            key: None,
            detail: format!(
                "status {} deleted (an id local to the streaming server)",
                data.trim()
            ),
        }),
        // Notifications, filter changes, announcements and heartbeats carry no public posts.
        Some(_) | None => {}
    }
}

fn truncate(line: &str) -> &str {
    line.char_indices()
        .nth(80)
        .map_or(line, |(index, _)| &line[..index])
}

/// `user@domain`: remote accounts already carry the domain in `acct`; local ones live on the
/// server of their profile URL (or of the status).
fn full_handle(account: &Account, fallback_uri: &str) -> String {
    if account.acct.contains('@') {
        return account.acct.clone();
    }
    let domain = account
        .url
        .as_deref()
        .and_then(starling_text::url_host)
        .or_else(|| starling_text::url_host(fallback_uri))
        .unwrap_or("unknown");
    let name = if account.username.is_empty() {
        &account.acct
    } else {
        &account.username
    };
    format!("{name}@{domain}")
}

fn status_to_post(
    status: &Status,
    bytes: &[u8],
    context: &Context<'_>,
) -> Result<Post, crate::Reject> {
    let created_at = parse_time(&status.created_at, "created_at", context)?;
    let handle = full_handle(&status.account, &status.uri);
    let author = Author {
        id: handle.clone(),
        handle,
        display_name: status
            .account
            .display_name
            .clone()
            .filter(|name| !name.is_empty()),
        followers: status.account.followers_count,
        location: None,
    };
    // A boost carries the boosted status whole: its text, tags and mentions are the post's.
    let shown = status.reblog.as_deref().unwrap_or(status);
    let (mut text, links) = html_to_text_with_links(&shown.content);
    // A content warning comes first, as readers see it; link positions move with it.
    let mut shift = 0;
    if !shown.spoiler_text.is_empty() {
        let warning = format!("{}\n\n", nfc(&shown.spoiler_text));
        shift = warning.len();
        text = format!("{warning}{text}");
    }
    let urls = links
        .into_iter()
        .map(|link| {
            let span = link
                .range
                .and_then(|(start, end)| Span::from_bytes(&text, start + shift, end + shift));
            let shown_text = span
                .and_then(|span| span.slice(&text))
                .unwrap_or(&link.href)
                .to_owned();
            UrlEntity {
                url: shown_text,
                expanded_url: Some(link.href),
                span,
            }
        })
        .collect();
    let entities = Entities {
        hashtags: shown
            .tags
            .iter()
            .map(|tag| Hashtag {
                tag: nfc(&tag.name),
                span: None,
            })
            .collect(),
        mentions: shown
            .mentions
            .iter()
            .map(|mention| Mention {
                handle: mention.acct.clone(),
                id: mention.url.clone(),
                span: None,
            })
            .collect(),
        urls,
        ..Entities::default()
    };
    let share_of = status.reblog.as_deref().map(|original| {
        let handle = full_handle(&original.account, &original.uri);
        PostRef {
            id: original.id.clone(),
            key: Some(PostKey::for_uri(&original.uri)),
            author_id: Some(handle.clone()),
            author_handle: Some(handle),
        }
    });
    Ok(Post {
        platform: Platform::Mastodon,
        id: status.id.clone(),
        key: PostKey::for_uri(&status.uri),
        url: status.url.clone(),
        author,
        created_at,
        collected_at: context.collected_at,
        title: None,
        community: None,
        text,
        declared_lang: shown.language.clone(),
        reply_to: status.in_reply_to_id.as_ref().map(|id| PostRef {
            id: id.clone(),
            key: None,
            // `in_reply_to_account_id` is local to the capturing server, not a stable id.
            author_id: None,
            author_handle: None,
        }),
        quote_of: None,
        share_of,
        entities,
        media: shown
            .media_attachments
            .iter()
            .map(|media| Media {
                kind: media.kind.clone().unwrap_or_else(|| "unknown".into()),
                url: media.url.clone(),
            })
            .collect(),
        metrics: Metrics {
            likes: status.favourites_count,
            shares: status.reblogs_count,
            replies: status.replies_count,
            ..Metrics::default()
        },
        geo: None,
        provenance: context.provenance(Format::Mastodon),
        enrichment: None,
        raw: raw(bytes),
    })
}
