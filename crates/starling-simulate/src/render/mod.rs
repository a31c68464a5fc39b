//! Renderers: one draft post into each platform's own record shape.

pub mod bluesky;
pub mod mastodon;
pub mod rss;
pub mod twitter;

use crate::world::Account;

/// A piece of a post's text; renderers turn each into their platform's markup and entities.
#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// Plain words.
    Text(String),
    /// A hashtag, without `#`.
    Hashtag(String),
    /// A mention of an account, by index in the same platform's pool.
    Mention(usize),
    /// A link, full URL.
    Url(String),
}

/// How a post refers to the one it shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareKind {
    /// Retweet, boost, repost: the post is the other one again.
    Share,
    /// A quote: own words about the other post.
    Quote,
}

/// A deterministic number in `[0, 1)` from a post's sequence number, for counts that must not
/// consume the generator's random stream.
pub fn noise(sequence: u64, salt: u64) -> f64 {
    let mut value =
        sequence.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xD1B5_4A32_D192_ED03);
    value = (value ^ (value >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    value ^= value >> 29;
    (value >> 11) as f64 / (1u64 << 53) as f64
}

/// Engagement counts for a post by `account`: a small share of its followers, heavy-tailed.
pub fn engagement(account: &Account, sequence: u64) -> [u64; 4] {
    let reach = account.followers as f64;
    let scale = |salt: u64, fraction: f64| {
        let draw = noise(sequence, salt);
        (reach * fraction * draw * draw * 4.0) as u64
    };
    [
        scale(1, 0.02),
        scale(2, 0.005),
        scale(3, 0.003),
        scale(4, 0.001),
    ]
}

/// An entity found while laying out text, with its byte range in the text.
#[derive(Debug, Clone)]
pub struct Placed {
    /// What it is.
    pub segment: Segment,
    /// First byte in the text.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
    /// Code points before it.
    pub char_start: usize,
    /// Code points up to its end.
    pub char_end: usize,
}

/// Lays out segments as plain text; `show` gives each entity's visible text.
pub fn layout(
    segments: &[Segment],
    mut show: impl FnMut(&Segment) -> String,
) -> (String, Vec<Placed>) {
    let mut text = String::new();
    let mut chars = 0;
    let mut placed = Vec::new();
    for segment in segments {
        let shown = match segment {
            Segment::Text(words) => {
                text.push_str(words);
                chars += words.chars().count();
                continue;
            }
            other => show(other),
        };
        let start = text.len();
        let char_start = chars;
        text.push_str(&shown);
        chars += shown.chars().count();
        placed.push(Placed {
            segment: segment.clone(),
            start,
            end: text.len(),
            char_start,
            char_end: chars,
        });
    }
    (text, placed)
}

/// Escapes text for HTML and XML content and attributes.
pub fn escape_markup(text: &str, out: &mut String) {
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
}

/// RFC 3339 with milliseconds and `Z`, as Twitter v2 and Mastodon write times.
pub fn rfc3339_millis(time_ms: i64) -> String {
    crate::time_of(time_ms)
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}
