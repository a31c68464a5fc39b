//! The post: one model for every item Starling collects, whatever platform it came from.
//!
//! Every decoder turns its platform's records into [`Post`]s, and everything after decoding
//! (matching, enrichment, detection, storage, export) reads only this model. It is plain data:
//! no IO, no clock, no network, so it can cross a process or machine boundary as JSON.
//!
//! Invariants a decoder must keep, and that the rest of Starling relies on:
//! - ids are strings end to end ([`Post::id`]); numeric ids never pass through a float;
//! - [`Post::key`] is the canonical identity used for deduplication ([`PostKey`]);
//! - times are UTC ([`Timestamp`]);
//! - [`Post::text`] is plain text in Unicode NFC (see [`nfc`]), never HTML;
//! - entity spans ([`Span`]) index into [`Post::text`] both in code points and in UTF-8 bytes;
//! - [`Post::raw`] holds the record exactly as received, byte for byte.
//!
//! ```
//! use starling_model::{Platform, PostKey};
//! let key = PostKey::for_platform_id(Platform::Twitter, "1234567890123456789");
//! assert_eq!(key.as_str(), "twitter:1234567890123456789");
//! let key = PostKey::for_uri("at://did:plc:abc/app.bsky.feed.post/3k2a");
//! assert_eq!(key.as_str(), "at://did:plc:abc/app.bsky.feed.post/3k2a");
//! ```

mod entities;
mod raw;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use entities::{Entities, Hashtag, Mention, Span, UrlEntity};
pub use raw::RawRecord;

/// A point in time, always UTC, serialized as RFC 3339.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// Where a post was published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Twitter / X, from API v1.1 or v2 records.
    Twitter,
    /// Any Mastodon-compatible (ActivityPub) server.
    Mastodon,
    /// Bluesky (AT Protocol).
    Bluesky,
    /// Reddit submissions and comments.
    Reddit,
    /// Telegram channels and chats.
    Telegram,
    /// A news or blog item from an RSS, Atom or JSON Feed.
    Rss,
    /// Anything else, for example a spreadsheet row with no platform column.
    Other,
}

impl Platform {
    /// Every platform, in display order.
    pub const ALL: [Platform; 7] = [
        Platform::Twitter,
        Platform::Mastodon,
        Platform::Bluesky,
        Platform::Reddit,
        Platform::Telegram,
        Platform::Rss,
        Platform::Other,
    ];

    /// The lowercase name used in keys, queries and JSON (`twitter`, `mastodon`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Twitter => "twitter",
            Platform::Mastodon => "mastodon",
            Platform::Bluesky => "bluesky",
            Platform::Reddit => "reddit",
            Platform::Telegram => "telegram",
            Platform::Rss => "rss",
            Platform::Other => "other",
        }
    }

    /// Parses the lowercase name; `x` is accepted for Twitter.
    pub fn parse(name: &str) -> Option<Platform> {
        let lower = name.to_ascii_lowercase();
        if lower == "x" {
            return Some(Platform::Twitter);
        }
        Platform::ALL
            .into_iter()
            .find(|platform| platform.as_str() == lower)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The canonical identity of a post, used to deduplicate across files, connectors and servers.
///
/// For platforms whose ids are global (Twitter, Reddit, Telegram channel/message pairs, feed
/// items) it is `platform:id`. For federated platforms it is the post's URI, which is the same
/// on every server that saw it: the ActivityPub `uri` for Mastodon, the `at://` URI for Bluesky.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PostKey(String);

impl PostKey {
    /// `platform:id`, for platforms whose ids are global.
    pub fn for_platform_id(platform: Platform, id: &str) -> PostKey {
        PostKey(format!("{}:{id}", platform.as_str()))
    }

    /// The URI itself, for Mastodon (ActivityPub `uri`) and Bluesky (`at://` URI).
    pub fn for_uri(uri: &str) -> PostKey {
        PostKey(uri.to_owned())
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PostKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// The account that published a post, as known when the post was collected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    /// A stable id that survives renames: Twitter user id, Bluesky DID, Mastodon `user@domain`
    /// (the same on every server), Reddit or Telegram author id.
    pub id: String,
    /// The handle shown with an `@`, without it: `jack`, `alice@example.social`, `bob.bsky.social`.
    pub handle: String,
    /// The display name, when the platform has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Followers at collection time, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followers: Option<u64>,
    /// The free-text location on the author's profile ("Tehran, Iran", "تهران"), when the
    /// platform gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// A reference from one post to another (the post replied to, quoted or shared).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostRef {
    /// The referenced post's platform id.
    pub id: String,
    /// Its canonical key, when it can be derived (always for Twitter; for Mastodon only when
    /// the URI is known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<PostKey>,
    /// Its author's stable id, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_id: Option<String>,
    /// Its author's handle, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_handle: Option<String>,
}

/// Engagement counts as reported by the platform at collection time; absent when not reported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metrics {
    /// Likes, favourites, upvotes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub likes: Option<u64>,
    /// Retweets, boosts, reposts, forwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shares: Option<u64>,
    /// Replies or comments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replies: Option<u64>,
    /// Quotes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quotes: Option<u64>,
    /// Views or impressions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub views: Option<u64>,
}

/// A latitude/longitude pair in WGS 84 degrees.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Degrees north, -90 to 90.
    pub lat: f64,
    /// Degrees east, -180 to 180.
    pub lon: f64,
}

/// A named place attached to a post by its platform (Twitter places, for example).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    /// The platform's place id, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Full name, e.g. `Tehran, Iran`.
    pub name: String,
}

/// Where a post was made or is about, as the platform said.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Geo {
    /// An exact point, when the author shared one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point: Option<Point>,
    /// A named place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<Place>,
    /// ISO 3166-1 alpha-2 country code, uppercase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// A media attachment (photo, video, document).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    /// `photo`, `video`, `gif`, `audio` or `document`, as near as the platform says.
    pub kind: String,
    /// Where the media can be fetched, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Where a post came from: which file or connector, and where in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// A file path or a connector name.
    pub source: Source,
    /// The decoder's format name (`twitter-v2`, `mastodon`, `jetstream`, `rss`, ...).
    pub format: String,
    /// 1-based line of the record in the source, when the source is line-oriented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Byte offset of the record's first byte in the (decompressed) source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

/// The origin of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "lowercase")]
pub enum Source {
    /// An imported file, by its path as given.
    File(String),
    /// A live connector, by its configured name.
    Connector(String),
    /// Generated in memory (the scenario generator, tests).
    Generated(String),
}

impl Source {
    /// The file path, connector name or generator label.
    pub fn name(&self) -> &str {
        match self {
            Source::File(name) | Source::Connector(name) | Source::Generated(name) => name,
        }
    }
}

/// One post, reply, share or news item, from any platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    /// The platform it was published on.
    pub platform: Platform,
    /// The platform's own id, as a string (never a number: Twitter ids exceed 2^53).
    pub id: String,
    /// The canonical identity used for deduplication.
    pub key: PostKey,
    /// A link to the post on the web, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The account that posted it.
    pub author: Author,
    /// When the platform says it was published (UTC).
    pub created_at: Timestamp,
    /// When Starling (or the tool that exported it) received it (UTC).
    pub collected_at: Timestamp,
    /// A title, for items that have one (feed items, Reddit submissions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The forum, channel or group it was published in, when the platform has such a thing:
    /// `r/worldnews`, a Telegram channel's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub community: Option<String>,
    /// The text as plain Unicode in NFC; HTML already stripped. For a share, the shared text.
    pub text: String,
    /// The language the platform or author declared (BCP 47), if any; Starling's own
    /// detection is an enrichment kept elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declared_lang: Option<String>,
    /// The post this one replies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<PostRef>,
    /// The post this one quotes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_of: Option<PostRef>,
    /// The post this one shares (retweet, boost, repost, forward).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_of: Option<PostRef>,
    /// Hashtags, mentions, URLs and cashtags found in [`Post::text`].
    #[serde(default, skip_serializing_if = "Entities::is_empty")]
    pub entities: Entities,
    /// Media attachments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<Media>,
    /// Engagement counts.
    #[serde(default, skip_serializing_if = "Metrics::is_empty")]
    pub metrics: Metrics,
    /// Location, when the platform gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo: Option<Geo>,
    /// Where the record came from.
    pub provenance: Provenance,
    /// What Starling derived from the post (language, sentiment, place, links); absent until
    /// the enrich stage has seen it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrichment: Option<Enrichment>,
    /// The record exactly as received. Where one record holds several posts (a v2 response
    /// page, a v1.1 array, a feed document), this is the post's own object or item, byte for
    /// byte as it stands in the record.
    pub raw: RawRecord,
}

/// What Starling derives from a post: deterministic, from the post alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enrichment {
    /// Detected language, ISO 639-1, or `und` when the text has no letters to judge by.
    pub lang: String,
    /// How sure the detection is, 0 to 1.
    pub lang_confidence: f32,
    /// `negative`, `neutral` or `positive`.
    pub sentiment: String,
    /// P(positive) - P(negative), -1 to 1.
    pub sentiment_score: f32,
    /// Where the post was made or what place it is about, when it can be told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<ResolvedPlace>,
    /// The post's links in canonical form: scheme and host lowercased, default ports,
    /// fragments and tracking parameters (`utm_*`, `fbclid`, ...) removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
}

/// A place resolved against the gazetteer, with how it was found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResolvedPlace {
    /// The place's name in the gazetteer (a city), or the country's name.
    pub name: String,
    /// ISO 3166-1 alpha-2 country code, uppercase.
    pub country: String,
    /// The place's coordinates, when it is a city (or the post's own point).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point: Option<Point>,
    /// GeoNames id of the city, when it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geonames_id: Option<u32>,
    /// `coordinates`, `platform`, `author` or `text`: which evidence decided.
    pub source: String,
    /// How sure the resolution is, 0 to 1.
    pub confidence: f32,
    /// Why, in words: "3 km from Tehran", "author location \"Tehran, Iran\"".
    pub reason: String,
}

impl Post {
    /// The post's languages, lowercase: the one its platform declared (BCP 47, may carry a
    /// region) and the one Starling detected (ISO 639-1), when known; `und` when neither is
    /// (so that `lang:und` finds the posts counted under `und`).
    pub fn languages(&self) -> impl Iterator<Item = String> + '_ {
        let declared = self.declared_lang.as_deref().map(str::to_lowercase);
        let detected = self
            .enrichment
            .as_ref()
            .map(|enrichment| enrichment.lang.to_lowercase())
            .filter(|lang| lang != "und");
        let unknown = (declared.is_none() && detected.is_none()).then(|| "und".to_owned());
        declared.into_iter().chain(detected).chain(unknown)
    }

    /// The post's countries, uppercase ISO 3166-1 alpha-2: the platform's and the one Starling
    /// resolved, when known.
    pub fn countries(&self) -> impl Iterator<Item = String> + '_ {
        let platform = self.geo.as_ref().and_then(|geo| geo.country.as_deref());
        let resolved = self
            .enrichment
            .as_ref()
            .and_then(|enrichment| enrichment.place.as_ref())
            .map(|place| place.country.as_str());
        normalized_countries(platform.into_iter().chain(resolved))
    }

    /// The one language a post is counted under: Starling's detection (the same measure on
    /// every platform), else the declared language without its region, else `und`.
    pub fn language(&self) -> String {
        let detected = self
            .enrichment
            .as_ref()
            .map(|enrichment| enrichment.lang.as_str())
            .filter(|lang| *lang != "und");
        let declared = self
            .declared_lang
            .as_deref()
            .map(|lang| lang.split('-').next().unwrap_or(lang));
        detected.or(declared).unwrap_or("und").to_lowercase()
    }

    /// The one country a post is counted under: the platform's, else the resolved one.
    pub fn country(&self) -> Option<String> {
        self.countries().next()
    }

    /// The country a post was sent from: the platform's, else the one Starling resolved from
    /// its point or its author's location; never a place its text only names (the world keeps
    /// writing about a country whose people are cut off).
    pub fn sent_from(&self) -> Option<String> {
        let platform = self.geo.as_ref().and_then(|geo| geo.country.as_deref());
        let resolved = self
            .enrichment
            .as_ref()
            .and_then(|enrichment| enrichment.place.as_ref())
            .filter(|place| place.source != "text")
            .map(|place| place.country.as_str());
        normalized_countries(platform.into_iter().chain(resolved)).next()
    }

    /// Starling's sentiment of the post (`negative`, `neutral`, `positive`), once enriched.
    pub fn sentiment(&self) -> Option<&str> {
        self.enrichment
            .as_ref()
            .map(|enrichment| enrichment.sentiment.as_str())
    }
}

impl Metrics {
    /// True when no count is known.
    pub fn is_empty(&self) -> bool {
        *self == Metrics::default()
    }
}

/// Returns `text` in Unicode Normalization Form C, the form [`Post::text`] is stored in.
///
/// Persian and Arabic text arrives in both composed and decomposed forms; without one form
/// the same word would count as two hashtags.
pub fn nfc(text: &str) -> String {
    use unicode_normalization::{UnicodeNormalization, is_nfc_quick};
    if is_nfc_quick(text.chars()) == unicode_normalization::IsNormalized::Yes {
        return text.to_owned();
    }
    text.nfc().collect()
}

/// Country codes as counted: trimmed, uppercase, blanks dropped.
fn normalized_countries<'a>(
    countries: impl Iterator<Item = &'a str> + 'a,
) -> impl Iterator<Item = String> + 'a {
    countries
        .map(str::trim)
        .filter(|country| !country.is_empty())
        .map(str::to_ascii_uppercase)
}
#[cfg(test)]
mod tests;
