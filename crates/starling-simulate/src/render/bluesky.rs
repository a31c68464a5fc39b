//! Bluesky Jetstream commit events: post creates (with facets) and reposts, one per line.

use std::sync::Arc;

use serde::Serialize;

use super::{Placed, Segment, ShareKind, layout, rfc3339_millis};
use crate::lexicon::LANGUAGES;
use crate::rng::Rng;
use crate::world::{World, cid, tid};
use crate::{Draft, Published};

#[derive(Serialize)]
struct Event<'a> {
    did: &'a str,
    time_us: i64,
    kind: &'static str,
    commit: Commit<'a>,
}

#[derive(Serialize)]
struct Commit<'a> {
    rev: String,
    operation: &'static str,
    collection: &'static str,
    rkey: String,
    record: Record<'a>,
    cid: String,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Record<'a> {
    Post(PostRecord<'a>),
    Repost(RepostRecord),
}

#[derive(Serialize)]
struct PostRecord<'a> {
    #[serde(rename = "$type")]
    kind: &'static str,
    #[serde(rename = "createdAt")]
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    langs: Option<[&'a str; 1]>,
    text: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    facets: Vec<Facet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply: Option<Reply>,
}

#[derive(Serialize)]
struct RepostRecord {
    #[serde(rename = "$type")]
    kind: &'static str,
    #[serde(rename = "createdAt")]
    created_at: String,
    subject: StrongRef,
}

#[derive(Serialize)]
struct Reply {
    root: StrongRef,
    parent: StrongRef,
}

#[derive(Serialize)]
struct StrongRef {
    uri: String,
    cid: String,
}

#[derive(Serialize)]
struct Facet {
    index: ByteSlice,
    features: [Feature; 1],
}

#[derive(Serialize)]
struct ByteSlice {
    #[serde(rename = "byteStart")]
    byte_start: usize,
    #[serde(rename = "byteEnd")]
    byte_end: usize,
}

#[derive(Serialize)]
#[serde(tag = "$type")]
enum Feature {
    #[serde(rename = "app.bsky.richtext.facet#tag")]
    Tag { tag: String },
    #[serde(rename = "app.bsky.richtext.facet#mention")]
    Mention { did: String },
    #[serde(rename = "app.bsky.richtext.facet#link")]
    Link { uri: String },
}

fn strong_ref(published: &Published) -> StrongRef {
    StrongRef {
        uri: published.key.clone(),
        cid: published.cid.clone(),
    }
}

/// The event line for `draft`, and what later posts need to reply to or repost it.
pub fn render(draft: &Draft, world: &World, rng: &mut Rng) -> (Vec<u8>, Arc<Published>) {
    let accounts = &world.bluesky.accounts;
    let account = &accounts[draft.author];
    let time_us = draft.time_ms * 1000 + (draft.sequence % 1000) as i64;
    // Clients set createdAt, and mint the record key, from their own clock, a little before
    // the relay sees the post.
    let created_ms = draft.time_ms - rng.below(4000) as i64;
    let rkey = tid(
        created_ms * 1000 + (draft.sequence % 1000) as i64,
        draft.sequence,
    );
    let record_cid = cid(rng);
    let created_at = rfc3339_millis(created_ms);
    let (collection, record, segments) = match &draft.share {
        Some((ShareKind::Share | ShareKind::Quote, original)) => (
            "app.bsky.feed.repost",
            Record::Repost(RepostRecord {
                kind: "app.bsky.feed.repost",
                created_at,
                subject: strong_ref(original),
            }),
            original.segments.clone(),
        ),
        None => {
            let (text, placed) = layout(&draft.segments, |segment| match segment {
                Segment::Hashtag(tag) => format!("#{tag}"),
                Segment::Mention(index) => format!("@{}", accounts[*index].handle),
                Segment::Url(url) => display_link(url),
                Segment::Text(words) => words.clone(),
            });
            let facets = placed
                .into_iter()
                .filter_map(
                    |Placed {
                         segment,
                         start,
                         end,
                         ..
                     }| {
                        let feature = match segment {
                            Segment::Hashtag(tag) => Feature::Tag { tag },
                            Segment::Mention(index) => Feature::Mention {
                                did: accounts[index].id.clone(),
                            },
                            Segment::Url(uri) => Feature::Link { uri },
                            Segment::Text(_) => return None,
                        };
                        Some(Facet {
                            index: ByteSlice {
                                byte_start: start,
                                byte_end: end,
                            },
                            features: [feature],
                        })
                    },
                )
                .collect();
            let reply = draft.reply_to.as_ref().map(|parent| Reply {
                root: strong_ref(parent.root.as_deref().unwrap_or(parent)),
                parent: strong_ref(parent),
            });
            // One post in ten declares no language.
            let langs = (!rng.chance(0.1)).then_some([LANGUAGES[draft.language].code]);
            (
                "app.bsky.feed.post",
                Record::Post(PostRecord {
                    kind: "app.bsky.feed.post",
                    created_at,
                    langs,
                    text,
                    facets,
                    reply,
                }),
                draft.segments.clone(),
            )
        }
    };
    let uri = format!("at://{}/{collection}/{rkey}", account.id);
    let event = Event {
        did: &account.id,
        time_us,
        kind: "commit",
        commit: Commit {
            rev: tid(time_us + 1, draft.sequence + 1),
            operation: "create",
            collection,
            rkey,
            record,
            cid: record_cid.clone(),
        },
    };
    let line = serde_json::to_vec(&event).unwrap_or_default();
    let published = Arc::new(Published {
        id: uri.rsplit('/').next().unwrap_or_default().to_owned(),
        key: uri,
        author: draft.author,
        time_ms: draft.time_ms,
        language: draft.language,
        segments,
        cid: record_cid,
        rendered: None,
        root: draft.reply_root(),
        sequence: draft.sequence,
    });
    (line, published)
}

/// How Bluesky clients show a link: without the scheme, cut after 25 characters.
fn display_link(url: &str) -> String {
    let bare = url.trim_start_matches("https://");
    if bare.chars().count() > 28 {
        format!("{}...", bare.chars().take(25).collect::<String>())
    } else {
        bare.to_owned()
    }
}
