//! Text analysis for posts: entities found by Twitter's own rules, tweet length, and the
//! word analysis search and matching share ([`analyze`]). Pure.
//!
//! Hashtags, mentions, lists, URLs and cashtags are found with the Rust port of Twitter's
//! `twitter-text` (the rules every Twitter client used, in every script: Persian hashtags with
//! zero-width non-joiners, astral-plane characters, full-width `＃` and `＠`, URLs checked
//! against the list of top-level domains). Positions come back as [`Span`]s, in code points
//! and in UTF-8 bytes; [`utf16_offset`] gives the UTF-16 positions twitter-text and its
//! conformance suite use.
//!
//! ```
//! use starling_text::EntityExtractor;
//! let extractor = EntityExtractor::new();
//! let entities = extractor.entities("مردم جمع شده‌اند #تهران @reporter https://example.org $TSLA");
//! assert_eq!(entities.hashtags[0].tag, "تهران");
//! assert_eq!(entities.mentions[0].handle, "reporter");
//! assert_eq!(entities.urls[0].url, "https://example.org");
//! assert_eq!(entities.cashtags[0].tag, "TSLA");
//! ```

mod analyze;
mod stop_words;

pub use analyze::{PART_BREAK, Token, analyze, analyze_parts, normalize_word};
pub use stop_words::is_stop_word;

use starling_model::{Entities, Hashtag, Mention, Span, UrlEntity};
use twitter_text::entity::{Entity, Type};
use twitter_text::extractor::{Extract, Extractor};

/// What kind of entity was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `#tag`.
    Hashtag,
    /// `$TAG`.
    Cashtag,
    /// `@user`.
    Mention,
    /// `@user/list`.
    List,
    /// `@user@domain`, as on Mastodon.
    FederatedMention,
    /// A link, with or without a scheme.
    Url,
}

/// One entity found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// What it is.
    pub kind: Kind,
    /// Its value without the sigil: `tag`, `user`, `user@domain`, or the URL as written.
    pub value: String,
    /// For a list, its slug with the leading `/`.
    pub list_slug: Option<String>,
    /// Where it is, sigil included.
    pub span: Span,
}

/// Finds entities by Twitter's rules. Build one and reuse it.
pub struct EntityExtractor {
    extractor: Extractor,
}

impl Default for EntityExtractor {
    fn default() -> EntityExtractor {
        EntityExtractor::new()
    }
}

impl std::fmt::Debug for EntityExtractor {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("EntityExtractor")
    }
}

impl EntityExtractor {
    /// An extractor that, like Twitter, also finds URLs written without a scheme
    /// (`example.com`).
    pub fn new() -> EntityExtractor {
        EntityExtractor {
            extractor: Extractor::new(),
        }
    }

    /// Every hashtag, cashtag, mention, list and URL (with or without a scheme), in text
    /// order: as twitter-text's `extractEntitiesWithIndices`, each kind extracted on its own,
    /// then overlaps removed in favour of the earlier entity.
    pub fn all(&self, text: &str) -> Vec<Found> {
        merge(vec![
            self.urls(text),
            self.hashtags(text),
            self.mentions_or_lists(text),
            self.cashtags(text),
        ])
    }

    /// As [`EntityExtractor::all`], with `@user@domain` mentions kept whole, as Mastodon and
    /// other federated platforms write them.
    pub fn all_federated(&self, text: &str) -> Vec<Found> {
        let mentions = convert(
            text,
            self.extractor.extract_federated_mentions_with_indices(text),
        );
        merge(vec![
            self.urls(text),
            self.hashtags(text),
            mentions,
            self.cashtags(text),
        ])
    }

    /// Only the hashtags.
    pub fn hashtags(&self, text: &str) -> Vec<Found> {
        convert(text, self.extractor.extract_hashtags_with_indices(text))
    }

    /// Only the cashtags.
    pub fn cashtags(&self, text: &str) -> Vec<Found> {
        convert(text, self.extractor.extract_cashtags_with_indices(text))
    }

    /// Only the mentions of accounts (not of lists).
    pub fn mentions(&self, text: &str) -> Vec<Found> {
        convert(
            text,
            self.extractor
                .extract_mentioned_screennames_with_indices(text),
        )
    }

    /// Mentions of accounts and of lists (`@user/list`).
    pub fn mentions_or_lists(&self, text: &str) -> Vec<Found> {
        convert(
            text,
            self.extractor.extract_mentions_or_lists_with_indices(text),
        )
    }

    /// Only the URLs.
    pub fn urls(&self, text: &str) -> Vec<Found> {
        convert(text, self.extractor.extract_urls_with_indices(text))
    }

    /// The account a text replies to, when it starts with a mention (after optional spaces).
    pub fn reply_to(&self, text: &str) -> Option<String> {
        self.extractor
            .extract_reply_username(text)
            .map(|entity| entity.value.to_owned())
    }

    /// The text's entities in the post model; federated mentions are kept whole when
    /// `federated` is true (Mastodon), split as Twitter would otherwise.
    pub fn entities_of(&self, text: &str, federated: bool) -> Entities {
        let found = if federated {
            self.all_federated(text)
        } else {
            self.all(text)
        };
        let mut entities = Entities::default();
        for item in found {
            let span = Some(item.span);
            match item.kind {
                Kind::Hashtag => entities.hashtags.push(Hashtag {
                    tag: item.value,
                    span,
                }),
                Kind::Cashtag => entities.cashtags.push(Hashtag {
                    tag: item.value,
                    span,
                }),
                Kind::Mention | Kind::FederatedMention => entities.mentions.push(Mention {
                    handle: item.value,
                    id: None,
                    span,
                }),
                Kind::List => {
                    let handle = format!("{}{}", item.value, item.list_slug.unwrap_or_default());
                    entities.mentions.push(Mention {
                        handle,
                        id: None,
                        span,
                    });
                }
                Kind::Url => entities.urls.push(UrlEntity {
                    url: item.value,
                    expanded_url: None,
                    span,
                }),
            }
        }
        entities
    }

    /// The text's entities in the post model, by Twitter's rules.
    pub fn entities(&self, text: &str) -> Entities {
        self.entities_of(text, false)
    }
}

/// All entities in text order, dropping any that overlaps one before it.
fn merge(groups: Vec<Vec<Found>>) -> Vec<Found> {
    let mut all: Vec<Found> = groups.into_iter().flatten().collect();
    all.sort_by_key(|item| (item.span.byte_start, item.span.byte_end));
    let mut kept: Vec<Found> = Vec::with_capacity(all.len());
    for item in all {
        if kept
            .last()
            .is_none_or(|previous| previous.span.byte_end <= item.span.byte_start)
        {
            kept.push(item);
        }
    }
    kept
}

/// Converts twitter-text's entities (UTF-16 offsets) into [`Found`]s with spans.
fn convert(text: &str, entities: Vec<Entity<'_>>) -> Vec<Found> {
    let mut cursor = Utf16Cursor::new(text);
    let mut found = Vec::with_capacity(entities.len());
    for entity in entities {
        let (Some(start), Some(end)) = (cursor.byte_at(entity.start), cursor.byte_at(entity.end))
        else {
            continue;
        };
        let Some(span) = Span::from_bytes(text, start, end) else {
            continue;
        };
        let kind = match entity.t {
            Type::HASHTAG => Kind::Hashtag,
            Type::CASHTAG => Kind::Cashtag,
            Type::URL => Kind::Url,
            Type::FEDERATEDMENTION => Kind::FederatedMention,
            Type::MENTION if !entity.list_slug.is_empty() => Kind::List,
            Type::MENTION => Kind::Mention,
        };
        let value = match kind {
            // The federated form comes with its `@`; keep `user@domain`.
            Kind::FederatedMention => entity.value.trim_start_matches(['@', '＠']).to_owned(),
            _ => entity.value.to_owned(),
        };
        let list_slug = (!entity.list_slug.is_empty()).then(|| entity.list_slug.to_owned());
        found.push(Found {
            kind,
            value,
            list_slug,
            span,
        });
    }
    found
}

/// Walks a text once, turning increasing UTF-16 offsets into byte offsets.
struct Utf16Cursor<'a> {
    text: &'a str,
    byte: usize,
    utf16: usize,
}

impl<'a> Utf16Cursor<'a> {
    fn new(text: &'a str) -> Utf16Cursor<'a> {
        Utf16Cursor {
            text,
            byte: 0,
            utf16: 0,
        }
    }

    /// The byte offset of UTF-16 offset `target`; offsets may repeat or grow, and a smaller
    /// one than the last restarts the walk.
    fn byte_at(&mut self, target: i32) -> Option<usize> {
        let target = usize::try_from(target).ok()?;
        if target < self.utf16 {
            (self.byte, self.utf16) = (0, 0);
        }
        while self.utf16 < target {
            let character = self.text[self.byte..].chars().next()?;
            self.byte += character.len_utf8();
            self.utf16 += character.len_utf16();
        }
        (self.utf16 == target).then_some(self.byte)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_finds_every_kind_including_urls_without_a_scheme() {
        let extractor = EntityExtractor::new();
        let found = extractor.all("$TSLA example.com #a @b/list @c http://x.org/#frag");
        let summary: Vec<(Kind, &str)> = found
            .iter()
            .map(|item| (item.kind, item.value.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                (Kind::Cashtag, "TSLA"),
                (Kind::Url, "example.com"),
                (Kind::Hashtag, "a"),
                (Kind::List, "b"),
                (Kind::Mention, "c"),
                (Kind::Url, "http://x.org/#frag"),
            ]
        );
        assert_eq!(found[3].list_slug.as_deref(), Some("/list"));
    }

    #[test]
    fn federated_mentions_stay_whole_only_when_asked() {
        let extractor = EntityExtractor::new();
        let text = "hi @alice@social.example.org!";
        let federated = extractor.entities_of(text, true);
        assert_eq!(federated.mentions[0].handle, "alice@social.example.org");
        let span = federated.mentions[0].span.unwrap();
        assert_eq!(span.slice(text), Some("@alice@social.example.org"));
        // Twitter's rules take no mention that is followed by another `@`.
        assert!(extractor.entities(text).mentions.is_empty());
    }

    #[test]
    fn spans_are_right_in_persian_and_astral_text() {
        let extractor = EntityExtractor::new();
        let text = "😀😀 می‌روم #آزادی‌خواهی و #تهران";
        let entities = extractor.entities(text);
        let tags: Vec<&str> = entities
            .hashtags
            .iter()
            .map(|tag| tag.tag.as_str())
            .collect();
        assert_eq!(tags, ["آزادی‌خواهی", "تهران"]);
        for tag in &entities.hashtags {
            assert_eq!(
                tag.span.unwrap().slice(text),
                Some(format!("#{}", tag.tag).as_str())
            );
        }
    }
}

/// The host of a URL, with or without its scheme: `news.bbc.co.uk` for
/// `https://news.bbc.co.uk/persian?x` and for `news.bbc.co.uk/persian`.
///
/// ```
/// assert_eq!(starling_text::url_host("https://news.bbc.co.uk:443/a?b#c"), Some("news.bbc.co.uk"));
/// assert_eq!(starling_text::url_host("t.co/abc"), Some("t.co"));
/// assert_eq!(starling_text::url_host("https:///x"), None);
/// ```
pub fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', ':', '?', '#'])
        .next()
        .filter(|host| !host.is_empty())
}

/// The UTF-16 offset of byte offset `byte` in `text` (what twitter-text and Java count).
pub fn utf16_offset(text: &str, byte: usize) -> usize {
    text.get(..byte)
        .map_or(0, |prefix| prefix.encode_utf16().count())
}

/// A tweet's length as Twitter weighs it (most scripts count double, URLs count 23), and
/// whether it fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TweetLength {
    /// The weighted length.
    pub weighted_length: i32,
    /// Whether it is a valid tweet (not empty, within the limit, no invalid characters).
    pub valid: bool,
    /// The weighted length per thousand of the limit.
    pub permillage: i32,
    /// The part of the text shown (code points, UTF-16), start and end inclusive.
    pub display_range: (i32, i32),
    /// The part that fits within the limit.
    pub valid_range: (i32, i32),
}

/// Which of Twitter's length rules to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthRules {
    /// 140 characters, every code point weighing one (v1).
    V1,
    /// 280 units, CJK and most scripts weighing two (v2).
    V2,
    /// As v2, and every emoji weighing two whatever its length (v3, the current rules).
    V3,
}

/// The weighted length of `text` under `rules`.
pub fn tweet_length(text: &str, rules: LengthRules) -> TweetLength {
    let config = match rules {
        LengthRules::V1 => twitter_text_config::config_v1(),
        LengthRules::V2 => twitter_text_config::config_v2(),
        LengthRules::V3 => twitter_text_config::config_v3(),
    };
    let parsed = twitter_text::parse(text, config, true);
    TweetLength {
        weighted_length: parsed.weighted_length,
        valid: parsed.is_valid,
        permillage: parsed.permillage,
        display_range: (
            parsed.display_text_range.start(),
            parsed.display_text_range.end(),
        ),
        valid_range: (
            parsed.valid_text_range.start(),
            parsed.valid_text_range.end(),
        ),
    }
}
