//! Bluesky Jetstream events: `{did, time_us, kind, commit: {operation, collection, rkey, record}}`.

use serde::Deserialize;
use starling_model::{
    Author, Entities, Hashtag, Mention, Platform, Post, PostKey, PostRef, Span, UrlEntity, nfc,
};

use crate::{Context, Decoded, Format, Notice, json_reject, parse_time, raw};

#[derive(Deserialize)]
struct Event {
    did: String,
    time_us: i64,
    kind: String,
    #[serde(default)]
    commit: Option<Commit>,
}

#[derive(Deserialize)]
struct Commit {
    operation: String,
    collection: String,
    rkey: String,
    #[serde(default)]
    record: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct PostRecord {
    #[serde(default)]
    text: String,
    #[serde(rename = "createdAt", default)]
    created_at: Option<String>,
    #[serde(default)]
    langs: Vec<String>,
    #[serde(default)]
    facets: Vec<Facet>,
    #[serde(default)]
    reply: Option<Reply>,
    /// Kept loose: `app.bsky.embed.record` holds `record.uri`, `recordWithMedia` nests it one
    /// level deeper, and other embeds (images, links) are not references.
    #[serde(default)]
    embed: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RepostRecord {
    subject: StrongRef,
    #[serde(rename = "createdAt", default)]
    created_at: Option<String>,
}

#[derive(Deserialize)]
struct Reply {
    parent: StrongRef,
}

#[derive(Deserialize)]
struct StrongRef {
    uri: String,
}

#[derive(Deserialize)]
struct Facet {
    index: ByteSlice,
    #[serde(default)]
    features: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct ByteSlice {
    #[serde(rename = "byteStart")]
    byte_start: usize,
    #[serde(rename = "byteEnd")]
    byte_end: usize,
}

const POST: &str = "app.bsky.feed.post";
const REPOST: &str = "app.bsky.feed.repost";
/// How far a client's `createdAt` may stray from the relay's time before we distrust it.
const CLOCK_SKEW_MS: i64 = 24 * 3_600_000;

pub(crate) fn decode(bytes: &[u8], context: &Context<'_>, decoded: &mut Decoded) {
    let event: Event = match serde_json::from_slice(bytes) {
        Ok(event) => event,
        Err(error) => {
            decoded
                .rejects
                .push(json_reject(&error, context, "Jetstream event"));
            return;
        }
    };
    let Some(commit) = event.commit.as_ref().filter(|_| event.kind == "commit") else {
        // Identity and account events carry no posts.
        return;
    };
    if commit.collection != POST && commit.collection != REPOST {
        return;
    }
    let uri = format!("at://{}/{}/{}", event.did, commit.collection, commit.rkey);
    if commit.operation == "delete" {
        decoded.notices.push(Notice {
            kind: "delete".into(),
            key: Some(uri),
            detail: "deleted by its author".into(),
        });
        return;
    }
    if commit.operation == "update" {
        // The new version is decoded below; the notice says it replaces an earlier one.
        decoded.notices.push(Notice {
            kind: "edit".into(),
            key: Some(uri.clone()),
            detail: "edited by its author".into(),
        });
    }
    let Some(seen_at) = chrono::DateTime::from_timestamp_micros(event.time_us) else {
        decoded.rejects.push(context.reject(
            "time_us",
            format!("{} is not a time in microseconds", event.time_us),
        ));
        return;
    };
    let Some(record) = commit.record.clone() else {
        decoded
            .rejects
            .push(context.reject("commit.record", "missing on a create or update"));
        return;
    };
    let author = Author {
        id: event.did.clone(),
        handle: event.did.clone(),
        display_name: None,
        followers: None,
        location: None,
    };
    let mut post = Post {
        platform: Platform::Bluesky,
        id: commit.rkey.clone(),
        key: PostKey::for_uri(&uri),
        url: None,
        author,
        created_at: seen_at,
        collected_at: seen_at,
        title: None,
        community: None,
        text: String::new(),
        declared_lang: None,
        reply_to: None,
        quote_of: None,
        share_of: None,
        entities: Entities::default(),
        media: Vec::new(),
        metrics: Default::default(),
        geo: None,
        provenance: context.provenance(Format::Jetstream),
        enrichment: None,
        raw: raw(bytes),
    };
    let created_at = if commit.collection == REPOST {
        let repost: RepostRecord = match serde_json::from_value(record) {
            Ok(repost) => repost,
            Err(error) => {
                decoded
                    .rejects
                    .push(context.reject("commit.record", format!("not a repost record: {error}")));
                return;
            }
        };
        post.share_of = Some(at_ref(&repost.subject.uri));
        repost.created_at
    } else {
        let record: PostRecord = match serde_json::from_value(record) {
            Ok(record) => record,
            Err(error) => {
                decoded
                    .rejects
                    .push(context.reject("commit.record", format!("not a post record: {error}")));
                return;
            }
        };
        post.url = Some(format!(
            "https://bsky.app/profile/{}/post/{}",
            event.did, commit.rkey
        ));
        post.text = record.text.clone();
        post.entities = facets_to_entities(&record.facets, &record.text);
        // Facets index the text as written; normalize only after reading them, and when that
        // moves characters keep the entities but not their positions.
        post.text = nfc(&record.text);
        if post.text != record.text {
            drop_spans(&mut post.entities);
        }
        post.declared_lang = record.langs.first().cloned();
        post.reply_to = record.reply.as_ref().map(|reply| at_ref(&reply.parent.uri));
        post.quote_of = record.embed.as_ref().and_then(quoted_uri).map(at_ref);
        record.created_at
    };
    // The client's clock is trusted only when it agrees with the relay within a day.
    if let Some(text) = created_at {
        match parse_time(&text, "commit.record.createdAt", context) {
            Ok(time) if (time - seen_at).num_milliseconds().abs() <= CLOCK_SKEW_MS => {
                post.created_at = time
            }
            Ok(_) => {}
            Err(reject) => decoded.rejects.push(reject),
        }
    }
    decoded.posts.push(post);
}

/// The URI a record embed quotes, plain or with media.
fn quoted_uri(embed: &serde_json::Value) -> Option<&str> {
    let kind = embed.get("$type")?.as_str()?;
    let pointer = match kind {
        "app.bsky.embed.record" => "/record/uri",
        "app.bsky.embed.recordWithMedia" => "/record/record/uri",
        _ => return None,
    };
    embed.pointer(pointer)?.as_str()
}

/// A reference to another record by its `at://did/collection/rkey` URI.
fn at_ref(uri: &str) -> PostRef {
    let mut parts = uri.trim_start_matches("at://").split('/');
    let did = parts.next().map(str::to_owned);
    PostRef {
        id: parts.nth(1).unwrap_or_default().to_owned(),
        key: Some(PostKey::for_uri(uri)),
        author_id: did,
        author_handle: None,
    }
}

fn drop_spans(entities: &mut Entities) {
    entities.hashtags.iter_mut().for_each(|tag| tag.span = None);
    entities
        .mentions
        .iter_mut()
        .for_each(|mention| mention.span = None);
    entities.urls.iter_mut().for_each(|url| url.span = None);
}

/// Facets (UTF-8 byte ranges) to entities; a facet outside the text or off a character
/// boundary keeps its value but loses its span.
fn facets_to_entities(facets: &[Facet], text: &str) -> Entities {
    let mut entities = Entities::default();
    for facet in facets {
        let span = Span::from_bytes(text, facet.index.byte_start, facet.index.byte_end);
        for feature in &facet.features {
            let kind = feature
                .get("$type")
                .and_then(|kind| kind.as_str())
                .unwrap_or_default();
            let field = |name: &str| {
                feature
                    .get(name)
                    .and_then(|value| value.as_str())
                    .map(str::to_owned)
            };
            match kind {
                "app.bsky.richtext.facet#tag" => {
                    if let Some(tag) = field("tag") {
                        entities.hashtags.push(Hashtag {
                            tag: nfc(&tag),
                            span,
                        });
                    }
                }
                "app.bsky.richtext.facet#mention" => {
                    let handle = span
                        .and_then(|span| span.slice(text))
                        .map(|shown| shown.trim_start_matches('@').to_owned());
                    if let Some(did) = field("did") {
                        entities.mentions.push(Mention {
                            handle: handle.unwrap_or_else(|| did.clone()),
                            id: Some(did),
                            span,
                        });
                    }
                }
                "app.bsky.richtext.facet#link" => {
                    if let Some(uri) = field("uri") {
                        let shown = span
                            .and_then(|span| span.slice(text))
                            .unwrap_or(&uri)
                            .to_owned();
                        entities.urls.push(UrlEntity {
                            url: shown,
                            expanded_url: Some(uri),
                            span,
                        });
                    }
                }
                _ => {}
            }
        }
    }
    entities
}
