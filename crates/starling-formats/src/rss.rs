//! RSS 0.9x/1.0/2.0, Atom and JSON Feed documents, through feed-rs.

use starling_model::{Author, Platform, Post, PostKey, nfc};

use crate::{Context, Decoded, Format, html_to_text, raw};

pub(crate) fn decode(bytes: &[u8], context: &Context<'_>, decoded: &mut Decoded) {
    let feed = match feed_rs::parser::parse(bytes) {
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
        .and_then(host)
        .unwrap_or(&feed_id)
        .to_owned();
    let author = Author {
        id: feed_id,
        handle,
        display_name: feed.title.as_ref().map(|title| nfc(title.content.trim())),
        followers: None,
    };
    let items = item_slices(bytes);
    let items = (items.len() == feed.entries.len()).then_some(items);
    for (index, entry) in feed.entries.iter().enumerate() {
        let url = entry.links.first().map(|link| link.href.clone());
        // feed-rs takes the guid (or Atom id) when there is one and otherwise makes an id.
        let id = if entry.id.is_empty() {
            url.clone().unwrap_or_default()
        } else {
            entry.id.clone()
        };
        if id.is_empty() {
            decoded.rejects.push(context.reject(
                format!("item[{index}]"),
                "no guid, id or link to identify it",
            ));
            continue;
        }
        // Many real feeds date nothing; the time it was collected is then the best we know.
        let created_at = entry
            .published
            .or(entry.updated)
            .or(feed.updated)
            .unwrap_or(context.collected_at);
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
        let raw_bytes = items.as_ref().map_or(bytes, |items| items[index]);
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
            raw: raw(raw_bytes),
        });
    }
}

fn host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    rest.split(['/', ':', '?', '#'])
        .next()
        .filter(|host| !host.is_empty())
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
