//! RSS 0.9x/1.0/2.0, Atom and JSON Feed documents, through feed-rs.

use starling_model::{Author, Platform, Post, PostKey, nfc};

use crate::{Context, Decoded, Format, Notice, html_to_text, raw};

/// The largest document copied whole into each of its items' raw records.
const MAX_SHARED_RAW: usize = 64 * 1024;

pub(crate) fn decode(bytes: &[u8], context: &Context<'_>, decoded: &mut Decoded) {
    let parser = feed_rs::parser::Builder::new()
        .id_generator(stable_id)
        .build();
    let feed = match parser.parse(bytes) {
        Ok(feed) => feed,
        Err(error) => {
            decoded.rejects.push(context.reject(
                "document",
                format!("not an RSS, Atom or JSON feed: {error}"),
            ));
            return;
        }
    };
    let link = feed.links.first().map(|link| link.href.clone());
    let feed_id = link.clone().unwrap_or_else(|| feed.id.clone());
    let handle = link
        .as_deref()
        .and_then(starling_text::url_host)
        .unwrap_or(&feed_id)
        .to_owned();
    let author = Author {
        id: feed_id,
        handle,
        display_name: feed.title.as_ref().map(|title| nfc(title.content.trim())),
        followers: None,
        location: None,
    };
    let items = item_slices(bytes);
    let items = (items.len() == feed.entries.len()).then_some(items);
    // When the items cannot be told apart in the bytes (namespaced elements, items inside
    // comments), each post keeps the whole document only if that stays small.
    let fallback: &[u8] = if items.is_none() && bytes.len() > MAX_SHARED_RAW {
        decoded.notices.push(Notice {
            kind: "raw_unavailable".into(),
            key: None,
            detail: format!(
                "could not find the bytes of each of {} items in a {}-byte document; their raw records are empty",
                feed.entries.len(),
                bytes.len()
            ),
        });
        &[]
    } else {
        bytes
    };
    for (index, entry) in feed.entries.iter().enumerate() {
        let url = entry.links.first().map(|link| link.href.clone());
        let body = entry
            .summary
            .as_ref()
            .map(|summary| summary.content.clone())
            .or_else(|| {
                entry
                    .content
                    .as_ref()
                    .and_then(|content| content.body.clone())
            })
            .unwrap_or_default();
        // The guid (or Atom id) when there is one, else `stable_id`'s link or title hash, else a
        // hash of the description (RSS 0.92 items may have nothing else).
        let id = if !entry.id.is_empty() {
            entry.id.clone()
        } else if !body.trim().is_empty() {
            format!("text-{:016x}", fnv1a(body.trim()))
        } else {
            decoded.rejects.push(context.reject(
                format!("item[{index}]"),
                "no guid, id, link, title or description to identify it",
            ));
            continue;
        };
        // Many real feeds date nothing; the time it was collected is then the best we know.
        let created_at = entry
            .published
            .or(entry.updated)
            .or(feed.updated)
            .unwrap_or(context.collected_at);
        let raw_bytes = items.as_ref().map_or(fallback, |items| items[index]);
        decoded.posts.push(Post {
            platform: Platform::Rss,
            key: PostKey::for_platform_id(Platform::Rss, &id),
            id,
            url,
            author: author.clone(),
            created_at,
            collected_at: context.collected_at,
            title: entry
                .title
                .as_ref()
                .map(|title| html_to_text(&title.content)),
            community: None,
            text: html_to_text(&body),
            declared_lang: entry.language.clone().or_else(|| feed.language.clone()),
            reply_to: None,
            quote_of: None,
            share_of: None,
            entities: Default::default(),
            media: Vec::new(),
            metrics: Default::default(),
            geo: None,
            provenance: context.provenance(Format::Rss),
            enrichment: None,
            raw: raw(raw_bytes),
        });
    }
}

/// The identity of an item without a guid or id: its link, else a hash of its title; never
/// random, so that decoding the same feed twice gives the same keys.
fn stable_id(
    links: &[feed_rs::model::Link],
    title: &Option<feed_rs::model::Text>,
    _uri: Option<&str>,
) -> String {
    if let Some(link) = links.first().filter(|link| !link.href.is_empty()) {
        return link.href.clone();
    }
    match title
        .as_ref()
        .map(|title| title.content.trim())
        .filter(|title| !title.is_empty())
    {
        Some(title) => {
            format!("title-{:016x}", fnv1a(title))
        }
        None => String::new(),
    }
}

/// FNV-1a: stable across releases and platforms, unlike the standard library's hasher.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The bytes of each `<item>` (RSS) or `<entry>` (Atom) element, in document order, so each
/// post keeps its own raw record; empty when the document is not XML.
fn item_slices(bytes: &[u8]) -> Vec<&[u8]> {
    let mut slices = Vec::new();
    for (open, close) in [(&b"<item"[..], &b"</item>"[..]), (b"<entry", b"</entry>")] {
        let mut position = 0;
        while let Some(start) = find(&bytes[position..], open).map(|found| found + position) {
            let after = bytes.get(start + open.len()).copied();
            if !matches!(after, Some(b'>' | b' ' | b'\n' | b'\r' | b'\t')) {
                position = start + open.len();
                continue;
            }
            let Some(end) = find(&bytes[start..], close).map(|found| found + start + close.len())
            else {
                break;
            };
            slices.push(&bytes[start..end]);
            position = end;
        }
        if !slices.is_empty() {
            break;
        }
    }
    slices
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
