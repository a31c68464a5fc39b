//! What Twitter's two APIs share: escaped text, snowflake ids, entity offsets.

use starling_model::{Entities, Hashtag, Mention, Span, UrlEntity, nfc};

/// Undoes Twitter's escaping of `&amp;`, `&lt;` and `&gt;` (and nothing else, as Twitter
/// escapes nothing else). Also returns, for each code point index of the escaped text (and
/// its end), the matching code point index in the plain text.
pub(crate) fn unescape(escaped: &str) -> (String, Vec<usize>) {
    let mut plain = String::with_capacity(escaped.len());
    let mut offsets = Vec::with_capacity(escaped.len() + 1);
    let mut plain_chars = 0;
    let mut rest = escaped;
    while let Some(character) = rest.chars().next() {
        let replaced = [("&amp;", '&'), ("&lt;", '<'), ("&gt;", '>')]
            .into_iter()
            .find(|(entity, _)| rest.starts_with(entity));
        let (consumed, output) = match replaced {
            Some((entity, output)) => (entity, output),
            None => (&rest[..character.len_utf8()], character),
        };
        offsets.extend(std::iter::repeat_n(plain_chars, consumed.chars().count()));
        plain.push(output);
        plain_chars += 1;
        rest = &rest[consumed.len()..];
    }
    offsets.push(plain_chars);
    (plain, offsets)
}

/// The creation time encoded in a snowflake id (ids from November 2010 on).
pub(crate) fn snowflake_time(id: &str) -> Option<starling_model::Timestamp> {
    let id: u64 = id.parse().ok()?;
    let millis = (id >> 22) as i64 + 1_288_834_974_657;
    (id > (1 << 32))
        .then(|| chrono::DateTime::from_timestamp_millis(millis))
        .flatten()
}

/// Plain NFC text from Twitter's escaped text, and a function from Twitter's code point
/// offsets (counted in the escaped text) to spans of the plain text; `None` when
/// normalization moved code points and offsets no longer fit.
pub(crate) struct PlainText {
    pub text: String,
    offsets: Offsets,
}

/// How Twitter's code point offsets map onto the plain text.
enum Offsets {
    /// Nothing was escaped or normalized: offsets apply as they are (the common case).
    Same,
    /// Escapes were undone: the plain offset of each escaped one.
    Mapped(Vec<usize>),
    /// Normalization moved code points: offsets no longer fit.
    Lost,
}

impl PlainText {
    pub(crate) fn new(escaped: &str) -> PlainText {
        if !escaped.contains('&') {
            let text = nfc(escaped);
            let offsets = if text == escaped {
                Offsets::Same
            } else {
                Offsets::Lost
            };
            return PlainText { text, offsets };
        }
        let (plain, offsets) = unescape(escaped);
        let text = nfc(&plain);
        let offsets = if text == plain {
            Offsets::Mapped(offsets)
        } else {
            Offsets::Lost
        };
        PlainText { text, offsets }
    }

    /// The span of escaped code points `start..end`, in the plain text.
    pub(crate) fn span(&self, start: usize, end: usize) -> Option<Span> {
        match &self.offsets {
            Offsets::Same => Span::from_chars(&self.text, start, end),
            Offsets::Mapped(offsets) => {
                Span::from_chars(&self.text, *offsets.get(start)?, *offsets.get(end)?)
            }
            Offsets::Lost => None,
        }
    }
}

/// One entity as both APIs list it: a value, and where it is in code points.
pub(crate) struct RawEntity<'a> {
    pub value: &'a str,
    pub id: Option<&'a str>,
    pub expanded: Option<&'a str>,
    pub start: usize,
    pub end: usize,
}

/// Builds the model's entities from the API's lists.
pub(crate) fn entities<'a>(
    text: &PlainText,
    hashtags: impl Iterator<Item = RawEntity<'a>>,
    cashtags: impl Iterator<Item = RawEntity<'a>>,
    mentions: impl Iterator<Item = RawEntity<'a>>,
    urls: impl Iterator<Item = RawEntity<'a>>,
) -> Entities {
    Entities {
        hashtags: hashtags
            .map(|tag| Hashtag {
                tag: nfc(tag.value),
                span: text.span(tag.start, tag.end),
            })
            .collect(),
        cashtags: cashtags
            .map(|tag| Hashtag {
                tag: tag.value.to_owned(),
                span: text.span(tag.start, tag.end),
            })
            .collect(),
        mentions: mentions
            .map(|mention| Mention {
                handle: mention.value.to_owned(),
                id: mention.id.map(str::to_owned),
                span: text.span(mention.start, mention.end),
            })
            .collect(),
        urls: urls
            .map(|url| UrlEntity {
                url: url.value.to_owned(),
                expanded_url: url.expanded.map(str::to_owned),
                span: text.span(url.start, url.end),
            })
            .collect(),
    }
}
