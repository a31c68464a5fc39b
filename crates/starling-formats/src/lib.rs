//! Decoders: one per import format, each a pure function from a record's bytes to posts.
//!
//! A decoder never panics and never fails as a whole: it returns a [`Decoded`] holding the
//! posts it could read, the stream notices it saw (deletes, and later limit and disconnect
//! notices: what was missed is data), and a [`Reject`] for each record or field it could not
//! take, naming the source, line and field. One bad record costs only itself.
//!
//! Formats decoded: Twitter API v1.1 tweets and stream messages, Twitter API v2 response pages
//! and twarc2 flattened lines, Mastodon statuses (objects, arrays, streaming events), Bluesky
//! Jetstream events, RSS/Atom/JSON Feed documents, Reddit dump lines, Telegram Desktop
//! exports, and CSV rows through a column mapping ([`CsvDecoder`]).
//!
//! ```
//! use starling_formats::{Context, Format, decode};
//! use starling_model::Source;
//! let line = br#"{"did":"did:plc:abc","time_us":1781222400000000,"kind":"commit","commit":{"rev":"x","operation":"create","collection":"app.bsky.feed.post","rkey":"3kabc","cid":"bafy","record":{"$type":"app.bsky.feed.post","text":"hello #tehran","createdAt":"2026-06-12T00:00:00Z","facets":[{"index":{"byteStart":6,"byteEnd":13},"features":[{"$type":"app.bsky.richtext.facet#tag","tag":"tehran"}]}]}}}"#;
//! let source = Source::File("capture.jsonl".into());
//! let decoded = decode(Format::Jetstream, line, &Context::new(&source, "2026-06-12T00:00:01Z".parse().unwrap()));
//! assert_eq!(decoded.posts[0].key.as_str(), "at://did:plc:abc/app.bsky.feed.post/3kabc");
//! assert_eq!(decoded.posts[0].entities.hashtags[0].tag, "tehran");
//! ```

mod csv;
mod detect;
mod entities;
mod html;
mod jetstream;
mod mastodon;
mod reddit;
mod rss;
mod telegram;
mod twitter;
mod twitter_v1;
mod twitter_v2;

use std::fmt;

use serde::{Deserialize, Serialize};
use starling_model::{Provenance, RawRecord, Source, Timestamp};

pub use csv::{CsvDecoder, CsvMapping, parse_any_time, record_complete};
pub use detect::{Detected, Framing, detect};
pub use html::{HtmlLink, html_to_text, html_to_text_with_links};

/// The import formats Starling can decode today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// Twitter API v1.1 tweets: objects, arrays, stream captures (twarc 1 JSONL).
    TwitterV1,
    /// Twitter API v2 response pages (`{data, includes, meta, errors}`), one per line.
    TwitterV2,
    /// Mastodon status objects, one per line.
    Mastodon,
    /// Bluesky Jetstream events, one per line.
    Jetstream,
    /// An RSS 0.9x/1.0/2.0, Atom or JSON Feed document.
    Rss,
    /// Reddit comments and submissions (Pushshift, Arctic Shift), one per line.
    Reddit,
    /// A Telegram Desktop export (`result.json`): one chat or a whole account.
    Telegram,
    /// CSV rows under a header, read through a column mapping ([`CsvDecoder`]).
    Csv,
}

impl Format {
    /// Every format, in the order detection tries them.
    pub const ALL: [Format; 8] = [
        Format::TwitterV1,
        Format::TwitterV2,
        Format::Mastodon,
        Format::Jetstream,
        Format::Rss,
        Format::Reddit,
        Format::Telegram,
        Format::Csv,
    ];

    /// The format's name (`twitter-v1`, `twitter-v2`, `mastodon`, `jetstream`, `rss`, `reddit`,
    /// `telegram`, `csv`).
    pub fn name(self) -> &'static str {
        match self {
            Format::TwitterV1 => "twitter-v1",
            Format::TwitterV2 => "twitter-v2",
            Format::Mastodon => "mastodon",
            Format::Jetstream => "jetstream",
            Format::Rss => "rss",
            Format::Reddit => "reddit",
            Format::Telegram => "telegram",
            Format::Csv => "csv",
        }
    }

    /// Parses a format name.
    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|format| format.name() == name)
    }

    /// True when each line of a file is one record; false when the whole file is one document.
    pub fn is_line_oriented(self) -> bool {
        !matches!(self, Format::Rss | Format::Telegram)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// Where the bytes being decoded come from, and when they were collected.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// The file or connector.
    pub source: &'a Source,
    /// 1-based line of the record, for line-oriented sources.
    pub line: Option<u64>,
    /// Byte offset of the record in the source.
    pub offset: Option<u64>,
    /// When the record was received, used where the record does not say.
    pub collected_at: Timestamp,
}

impl<'a> Context<'a> {
    /// A context with no position.
    pub fn new(source: &'a Source, collected_at: Timestamp) -> Context<'a> {
        Context {
            source,
            line: None,
            offset: None,
            collected_at,
        }
    }

    /// The provenance of a post decoded in this context.
    pub(crate) fn provenance(&self, format: Format) -> Provenance {
        Provenance {
            source: self.source.clone(),
            format: format.name().to_owned(),
            line: self.line,
            offset: self.offset,
        }
    }

    /// A reject at this context's source and line.
    pub fn reject(&self, field: impl Into<String>, reason: impl Into<String>) -> Reject {
        Reject {
            source: self.source.name().to_owned(),
            line: self.line,
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// A record, or part of one, that could not be taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reject {
    /// The file or connector.
    pub source: String,
    /// 1-based line, for line-oriented sources.
    pub line: Option<u64>,
    /// The field at fault (`data[3].created_at`), or `record` for the whole record.
    pub field: String,
    /// What was wrong and what was expected.
    pub reason: String,
}

impl fmt::Display for Reject {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(
                formatter,
                "{}:{line}: {}: {}",
                self.source, self.field, self.reason
            ),
            None => write!(
                formatter,
                "{}: {}: {}",
                self.source, self.field, self.reason
            ),
        }
    }
}

/// A signal in a stream that is not a post but says something about what is missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// `delete`, `unavailable` (a v2 `errors` entry), ...
    pub kind: String,
    /// The post concerned, by canonical key when known.
    pub key: Option<String>,
    /// What the platform said.
    pub detail: String,
}

/// What decoding one record produced.
#[derive(Debug, Default)]
pub struct Decoded {
    /// Posts read.
    pub posts: Vec<starling_model::Post>,
    /// Stream notices seen.
    pub notices: Vec<Notice>,
    /// What could not be taken.
    pub rejects: Vec<Reject>,
}

/// Decodes one record (a line, or for RSS a whole document) of `format`. Entities the
/// platform lists are kept; where it lists none, they are found by Twitter's rules.
pub fn decode(format: Format, bytes: &[u8], context: &Context<'_>) -> Decoded {
    let mut decoded = Decoded::default();
    match format {
        Format::TwitterV1 => twitter_v1::decode(bytes, context, &mut decoded),
        Format::TwitterV2 => twitter_v2::decode(bytes, context, &mut decoded),
        Format::Mastodon => mastodon::decode(bytes, context, &mut decoded),
        Format::Jetstream => jetstream::decode(bytes, context, &mut decoded),
        Format::Rss => rss::decode(bytes, context, &mut decoded),
        Format::Reddit => reddit::decode(bytes, context, &mut decoded),
        Format::Telegram => telegram::decode(bytes, context, &mut decoded),
        Format::Csv => decoded.rejects.push(context.reject(
            "row",
            "a CSV row cannot be read without its header: use CsvDecoder",
        )),
    }
    complete_entities(&mut decoded, format);
    decoded
}

/// Fills in entities after decoding `format` (see `entities::complete`).
pub(crate) fn complete_entities(decoded: &mut Decoded, format: Format) {
    let extractor = starling_text::EntityExtractor::new();
    for post in &mut decoded.posts {
        entities::complete(post, format, &extractor);
    }
}

/// Parses an RFC 3339 time, naming `field` when it cannot.
pub(crate) fn parse_time(
    text: &str,
    field: &str,
    context: &Context<'_>,
) -> Result<Timestamp, Reject> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&chrono::Utc))
        .map_err(|error| {
            context.reject(
                field,
                format!("expected an RFC 3339 time, got {text:?} ({error})"),
            )
        })
}

/// A JSON syntax or shape error as a reject naming line and column within the record.
pub(crate) fn json_reject(error: &serde_json::Error, context: &Context<'_>, what: &str) -> Reject {
    context.reject(
        "record",
        format!(
            "not a {what}: {error} (column {} of the record)",
            error.column()
        ),
    )
}

/// Decodes each element of a record that is a JSON array with `each(element, field)`, where
/// `field` names the element (`[3]`); a record that is not an array of values is rejected
/// whole, as `what`.
pub(crate) fn each_in_array(
    bytes: &[u8],
    what: &str,
    context: &Context<'_>,
    decoded: &mut Decoded,
    mut each: impl FnMut(&[u8], &str, &mut Decoded),
) {
    match serde_json::from_slice::<Vec<&serde_json::value::RawValue>>(bytes) {
        Ok(items) => {
            for (index, item) in items.into_iter().enumerate() {
                each(item.get().as_bytes(), &format!("[{index}]"), decoded);
            }
        }
        Err(error) => decoded.rejects.push(json_reject(&error, context, what)),
    }
}

pub(crate) fn raw(bytes: &[u8]) -> RawRecord {
    RawRecord(bytes.to_vec())
}

#[cfg(test)]
mod tests;
