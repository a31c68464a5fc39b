//! The Starling query language: one grammar for searching the archive and for standing
//! watches, and a reference evaluator that says whether one post matches.
//!
//! [`parse`] turns text into a [`Query`]; a mistake is a [`ParseError`] at a column saying
//! what was expected. [`Document`] is a post analyzed once (words normalized by
//! `starling_text::analyze`, the same analysis the index uses) and [`Query::matches`] tests it
//! directly: the definition every engine (the search index, the watch matcher) must agree
//! with, checked by the shared corpus in `tests/corpus.toml`. See `docs/query-language.md`.
//!
//! ```
//! use starling_query::{Document, parse};
//! # use starling_model::*;
//! # let mut post: Post = serde_json::from_str(r#"{"platform":"twitter","id":"1","key":"twitter:1","author":{"id":"9","handle":"reporter"},"created_at":"2026-06-12T18:00:00Z","collected_at":"2026-06-12T18:00:01Z","text":"Crowds in Azadi Square tonight","declared_lang":"en","provenance":{"source":{"kind":"generated","name":"doc"},"format":"test"},"raw":""}"#).unwrap();
//! let query = parse(r#""azadi square" AND (from:reporter OR lang:fa) -rumour"#).unwrap();
//! let now = "2026-06-13T00:00:00Z".parse().unwrap();
//! assert!(query.matches(&Document::new(&post), now));
//! assert_eq!(parse("tehran AND").unwrap_err().to_string(), "column 11: expected a term after AND, found the end of the query");
//! ```

pub mod corpus;
mod parse;

use starling_model::{Platform, Post, Timestamp};
use starling_text::{PART_BREAK, Token, analyze_parts, normalize_word};

pub use parse::{ParseError, parse};

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// A word, normalized.
    Term(String),
    /// Words beginning with this normalized stem (`tehr*`).
    Prefix(String),
    /// Consecutive words.
    Phrase(Vec<String>),
    /// Words or phrases within `distance` words of each other; in the order given when `ordered`.
    Near {
        /// Each operand: one word, or a phrase.
        operands: Vec<Vec<String>>,
        /// At most this many other words between neighbouring operands.
        distance: u32,
        /// Whether the operands must appear in the order written (`ONEAR`).
        ordered: bool,
    },
    /// `#tag`, normalized.
    Hashtag(String),
    /// `@user`, lowercase.
    Mention(String),
    /// `from:user`: the author's handle or id, lowercase.
    From(String),
    /// `lang:fa`: the declared or the detected language, or a regional form of it (`fa`
    /// matches `fa-IR`).
    Lang(String),
    /// `sentiment:negative`, `neutral` or `positive`: Starling's sentiment of the post.
    Sentiment(String),
    /// `platform:twitter`.
    Platform(Platform),
    /// `has:links`, `has:media`, `has:geo`.
    Has(Has),
    /// `is:reply`, `is:share`, `is:quote`.
    Is(Is),
    /// `url:text`: a link containing this text.
    Url(String),
    /// `domain:bbc.co.uk`: a link to this domain or one of its subdomains.
    Domain(String),
    /// `country:IR`, from the platform's place or the place Starling resolved.
    Country(String),
    /// `since:`: created at or after.
    Since(TimeBound),
    /// `until:`: created before.
    Until(TimeBound),
    /// `geo:lat,lon,radius`: a point within the radius (kilometres).
    Geo {
        /// Degrees north.
        lat: f64,
        /// Degrees east.
        lon: f64,
        /// Kilometres.
        radius_km: f64,
    },
    /// All of these.
    And(Vec<Query>),
    /// Any of these.
    Or(Vec<Query>),
    /// Not this.
    Not(Box<Query>),
}

/// What a post can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Has {
    /// At least one link.
    Links,
    /// At least one attachment.
    Media,
    /// A point or a place.
    Geo,
}

/// What a post can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Is {
    /// A reply.
    Reply,
    /// A share (retweet, boost, repost, forward).
    Share,
    /// A quote.
    Quote,
}

/// A time in `since:` or `until:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBound {
    /// An absolute time.
    At(Timestamp),
    /// This long before "now", which the caller gives (a replay has its own now).
    Ago(chrono::Duration),
}

impl TimeBound {
    /// The absolute time, given what "now" is.
    pub fn resolve(self, now: Timestamp) -> Timestamp {
        match self {
            TimeBound::At(time) => time,
            // Before the earliest time there is: every post is after it.
            TimeBound::Ago(span) => now
                .checked_sub_signed(span)
                .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC),
        }
    }
}

/// The words of a post that queries search, title and text as parts (see
/// `starling_text::analyze_parts`): what an index must tokenize to agree with [`Query::matches`].
pub fn searchable_text(post: &Post) -> String {
    match &post.title {
        Some(title) => format!("{title}{PART_BREAK}{}", post.text),
        None => post.text.clone(),
    }
}

/// A post analyzed once, for matching many queries against it.
#[derive(Debug, Clone)]
pub struct Document<'a> {
    /// The post.
    pub post: &'a Post,
    /// Its words (title, then text), normalized, with positions.
    pub tokens: Vec<Token>,
    /// Its hashtags, normalized.
    pub hashtags: Vec<String>,
    /// Its mentions' handles, lowercase (`user` and `user@domain` both kept).
    pub mentions: Vec<String>,
    /// Its links, lowercase, best known destination first.
    pub urls: Vec<String>,
}

impl<'a> Document<'a> {
    /// Analyzes `post`.
    pub fn new(post: &'a Post) -> Document<'a> {
        let tokens = analyze_parts(&searchable_text(post));
        let mut mentions = Vec::new();
        for mention in &post.entities.mentions {
            let handle = mention.handle.to_lowercase();
            if let Some((local, _)) = handle.split_once('@') {
                mentions.push(local.to_owned());
            }
            mentions.push(handle);
        }
        let urls = post
            .entities
            .urls
            .iter()
            .flat_map(|url| [url.expanded_url.clone(), Some(url.url.clone())])
            .flatten()
            .map(|url| url.to_lowercase())
            .collect();
        Document {
            post,
            tokens,
            hashtags: post
                .entities
                .hashtags
                .iter()
                .map(|tag| normalize_word(&tag.tag))
                .collect(),
            mentions,
            urls,
        }
    }

    fn positions_of<'t>(&'t self, word: &'t str) -> impl Iterator<Item = usize> + 't {
        self.tokens
            .iter()
            .filter(move |token| token.text == word)
            .map(|token| token.position)
    }

    /// Start positions where `phrase` occurs.
    fn phrase_starts(&self, phrase: &[String]) -> Vec<usize> {
        let Some(first) = phrase.first() else {
            return Vec::new();
        };
        self.positions_of(first)
            .filter(|start| {
                phrase.iter().enumerate().skip(1).all(|(offset, word)| {
                    self.tokens
                        .iter()
                        .any(|token| token.position == start + offset && &token.text == word)
                })
            })
            .collect()
    }
}

impl Query {
    /// Whether `document` matches, with relative times counted back from `now`.
    pub fn matches(&self, document: &Document<'_>, now: Timestamp) -> bool {
        let post = document.post;
        match self {
            Query::Term(word) => document.positions_of(word).next().is_some(),
            Query::Prefix(stem) => document
                .tokens
                .iter()
                .any(|token| token.text.starts_with(stem.as_str())),
            Query::Phrase(words) => !document.phrase_starts(words).is_empty(),
            Query::Near {
                operands,
                distance,
                ordered,
            } => near(document, operands, *distance, *ordered),
            Query::Hashtag(tag) => document.hashtags.iter().any(|found| found == tag),
            Query::Mention(handle) => document.mentions.iter().any(|found| found == handle),
            Query::From(user) => {
                post.author.handle.to_lowercase() == *user
                    || post.author.id.to_lowercase() == *user
                    || post.author.handle.to_lowercase().split('@').next() == Some(user.as_str())
            }
            Query::Lang(code) => post.languages().any(|lang| {
                lang == *code
                    || lang
                        .strip_prefix(code.as_str())
                        .is_some_and(|rest| rest.starts_with('-'))
            }),
            Query::Sentiment(label) => post.sentiment() == Some(label.as_str()),
            Query::Platform(platform) => post.platform == *platform,
            Query::Has(Has::Links) => !post.entities.urls.is_empty(),
            Query::Has(Has::Media) => !post.media.is_empty(),
            Query::Has(Has::Geo) => post
                .geo
                .as_ref()
                .is_some_and(|geo| geo.point.is_some() || geo.place.is_some()),
            Query::Is(Is::Reply) => post.reply_to.is_some(),
            Query::Is(Is::Share) => post.share_of.is_some(),
            Query::Is(Is::Quote) => post.quote_of.is_some(),
            Query::Url(part) => document.urls.iter().any(|url| url.contains(part.as_str())),
            Query::Domain(domain) => document
                .urls
                .iter()
                .filter_map(|url| starling_text::url_host(url))
                .any(|host| {
                    let host = host.trim_start_matches("www.");
                    host == domain || host.ends_with(&format!(".{domain}"))
                }),
            Query::Country(code) => post
                .countries()
                .any(|country| country.eq_ignore_ascii_case(code)),
            Query::Since(bound) => post.created_at >= bound.resolve(now),
            Query::Until(bound) => post.created_at < bound.resolve(now),
            Query::Geo {
                lat,
                lon,
                radius_km,
            } => post
                .geo
                .as_ref()
                .and_then(|geo| geo.point)
                .is_some_and(|point| haversine_km(*lat, *lon, point.lat, point.lon) <= *radius_km),
            Query::And(parts) => parts.iter().all(|part| part.matches(document, now)),
            Query::Or(parts) => parts.iter().any(|part| part.matches(document, now)),
            Query::Not(inner) => !inner.matches(document, now),
        }
    }
}

/// Word positions an operand occupies: start, and one past its end.
type Occurrence = (usize, usize);

/// A test of one choice of occurrences.
type Accept<'a> = dyn Fn(&[Occurrence]) -> bool + 'a;

/// Whether the operands occur with at most `distance` other words between neighbours (in
/// the order given when `ordered`).
fn near(document: &Document<'_>, operands: &[Vec<String>], distance: u32, ordered: bool) -> bool {
    // Each operand's occurrences as (start, end) word positions, end exclusive.
    let spans: Vec<Vec<Occurrence>> = operands
        .iter()
        .map(|words| {
            document
                .phrase_starts(words)
                .into_iter()
                .map(|start| (start, start + words.len()))
                .collect()
        })
        .collect();
    if spans.iter().any(Vec::is_empty) {
        return false;
    }
    let gap = |a: Occurrence, b: Occurrence| -> Option<usize> {
        // Words strictly between two non-overlapping spans.
        if a.1 <= b.0 {
            Some(b.0 - a.1)
        } else if b.1 <= a.0 {
            Some(a.0 - b.1)
        } else {
            None
        }
    };
    // Try every choice of occurrence (posts are short; operands are few).
    fn search(
        spans: &[Vec<Occurrence>],
        chosen: &mut Vec<Occurrence>,
        accept: &Accept<'_>,
    ) -> bool {
        if chosen.len() == spans.len() {
            return accept(chosen);
        }
        for span in &spans[chosen.len()] {
            chosen.push(*span);
            if search(spans, chosen, accept) {
                return true;
            }
            chosen.pop();
        }
        false
    }
    let limit = distance as usize;
    let accept = |chosen: &[Occurrence]| {
        if ordered {
            chosen
                .windows(2)
                .all(|pair| pair[0].1 <= pair[1].0 && pair[1].0 - pair[0].1 <= limit)
        } else {
            let mut sorted = chosen.to_vec();
            sorted.sort_unstable();
            sorted
                .windows(2)
                .all(|pair| gap(pair[0], pair[1]).is_some_and(|words| words <= limit))
        }
    };
    search(&spans, &mut Vec::with_capacity(spans.len()), &accept)
}

/// Great-circle distance in kilometres.
fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let d_phi = (lat2 - lat1).to_radians();
    let d_lambda = (lon2 - lon1).to_radians();
    let a = (d_phi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (d_lambda / 2.0).sin().powi(2);
    2.0 * 6_371.0 * a.sqrt().atan2((1.0 - a).sqrt())
}
