//! Entities found in a post's text (hashtags, mentions, URLs, cashtags) with their positions.

use serde::{Deserialize, Serialize};

/// Where an entity sits in [`crate::Post::text`], in Unicode code points (as Twitter counts)
/// and in UTF-8 bytes (as Bluesky counts, and as Rust slices).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    /// First code point, 0-based.
    pub start: usize,
    /// One past the last code point.
    pub end: usize,
    /// First byte, 0-based.
    pub byte_start: usize,
    /// One past the last byte.
    pub byte_end: usize,
}

impl Span {
    /// The span of `text[byte_start..byte_end]`, or `None` when the range is outside `text`
    /// or not on character boundaries.
    pub fn from_bytes(text: &str, byte_start: usize, byte_end: usize) -> Option<Span> {
        if byte_start > byte_end || text.get(byte_start..byte_end).is_none() {
            return None;
        }
        let start = text[..byte_start].chars().count();
        let end = start + text[byte_start..byte_end].chars().count();
        Some(Span {
            start,
            end,
            byte_start,
            byte_end,
        })
    }

    /// The span of code points `start..end` of `text`, or `None` when outside `text`.
    pub fn from_chars(text: &str, start: usize, end: usize) -> Option<Span> {
        if start > end {
            return None;
        }
        let mut boundaries = text
            .char_indices()
            .map(|(index, _)| index)
            .chain([text.len()]);
        let byte_start = boundaries.nth(start)?;
        let byte_end = if end == start {
            byte_start
        } else {
            boundaries.nth(end - start - 1)?
        };
        Some(Span {
            start,
            end,
            byte_start,
            byte_end,
        })
    }

    /// The text this span covers, when it is a valid span of `text`.
    pub fn slice<'text>(&self, text: &'text str) -> Option<&'text str> {
        text.get(self.byte_start..self.byte_end)
    }
}

/// A `#hashtag`; `tag` is without the `#`, as written (case preserved).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hashtag {
    /// The tag without its leading `#` (or `$` for a cashtag).
    pub tag: String,
    /// Where it is in the text, `#` included; absent when the platform listed it without a
    /// position (Mastodon tags, for example).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
}

/// An `@mention` of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mention {
    /// The handle without `@`: `jack`, `alice@example.social`, `bob.bsky.social`.
    pub handle: String,
    /// The mentioned account's stable id (user id, DID, account URI), when the platform gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Where it is in the text, `@` included, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
}

/// A link in the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlEntity {
    /// The URL as it appears in the text (a `t.co` link on Twitter).
    pub url: String,
    /// The full destination, when the platform expanded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expanded_url: Option<String>,
    /// Where it is in the text, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
}

impl UrlEntity {
    /// The best known destination: the expanded URL, else the URL as written.
    pub fn target(&self) -> &str {
        self.expanded_url.as_deref().unwrap_or(&self.url)
    }
}

/// All entities of one post.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entities {
    /// `#hashtags`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hashtags: Vec<Hashtag>,
    /// `@mentions`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<Mention>,
    /// Links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<UrlEntity>,
    /// `$CASHTAGS`, tag without `$`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cashtags: Vec<Hashtag>,
}

impl Entities {
    /// True when the post has no entity at all.
    pub fn is_empty(&self) -> bool {
        self.hashtags.is_empty()
            && self.mentions.is_empty()
            && self.urls.is_empty()
            && self.cashtags.is_empty()
    }
}
