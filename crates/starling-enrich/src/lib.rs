//! Enrichment of posts: language, sentiment, place and links.
//!
//! Everything here is pure and deterministic: the same post gives the same answer on every
//! machine, live or on a replay. The models are compiled into the binary (see `models/`,
//! each with the command that regenerates it and its upstream credit), so nothing is loaded
//! from the network; each loads on first use.

pub mod langid;
pub mod links;
pub mod place;
pub mod sentiment;

use starling_model::{Enrichment, Post};

/// The text that language and sentiment are read from: the title and the text.
pub(crate) fn text_of(post: &Post) -> std::borrow::Cow<'_, str> {
    match &post.title {
        Some(title) if !title.is_empty() => format!("{title}\n{}", post.text).into(),
        _ => post.text.as_str().into(),
    }
}

/// Loads every model now (they load on first use otherwise, which the first posts pay for:
/// about a second): a server calls it before taking work.
pub fn warm_up() {
    langid::warm_up();
    let _ = sentiment::model();
    place::warm_up();
}

/// Everything Starling derives from one post.
pub fn enrichment(post: &Post) -> Enrichment {
    let text = text_of(post);
    let language = langid::detect(&text);
    let sentiment = sentiment::analyze(&text);
    let mut links: Vec<String> = post
        .entities
        .urls
        .iter()
        .filter_map(|url| links::canonical_url(url.expanded_url.as_deref().unwrap_or(&url.url)))
        .collect();
    let mut seen = std::collections::HashSet::new();
    links.retain(|link| seen.insert(link.clone()));
    Enrichment {
        lang: language.code.to_owned(),
        lang_confidence: round(language.confidence),
        sentiment: sentiment.label.as_str().to_owned(),
        sentiment_score: round(sentiment.score),
        place: place::resolve_reading(post, &text),
        links,
    }
}

/// Enriches a post in place.
pub fn enrich(post: &mut Post) {
    post.enrichment = Some(enrichment(post));
}

/// `char::is_alphanumeric`, with ASCII and the Arabic block (Arabic, Persian, Urdu) answered
/// from small tables instead of the Unicode ones.
pub(crate) fn is_word_char(c: char) -> bool {
    static ARABIC: std::sync::OnceLock<[bool; 256]> = std::sync::OnceLock::new();
    match c as u32 {
        0..=0x7F => c.is_ascii_alphanumeric(),
        code @ 0x600..=0x6FF => ARABIC.get_or_init(|| {
            std::array::from_fn(|i| {
                char::from_u32(0x600 + i as u32).is_some_and(char::is_alphanumeric)
            })
        })[(code - 0x600) as usize],
        _ => c.is_alphanumeric(),
    }
}

/// Combining marks the tokenizers keep inside words: Latin diacritics, Arabic harakat and
/// superscript alef, Devanagari signs.
pub(crate) fn is_mark(c: char) -> bool {
    matches!(c as u32, 0x300..=0x36F | 0x610..=0x61A | 0x64B..=0x65F | 0x670 | 0x900..=0x97F)
}

/// FNV-1a, the hash of the models' keys (the table generators compute the same).
pub(crate) mod fnv {
    /// The offset basis: the hash of nothing.
    pub(crate) const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0100_0000_01b3;

    /// `hash` extended by `bytes`.
    pub(crate) fn extend(mut hash: u64, bytes: &[u8]) -> u64 {
        for byte in bytes {
            hash = (hash ^ u64::from(*byte)).wrapping_mul(PRIME);
        }
        hash
    }

    /// `hash` extended by the UTF-8 bytes of `c`.
    pub(crate) fn extend_char(hash: u64, c: char) -> u64 {
        extend(hash, c.encode_utf8(&mut [0; 4]).as_bytes())
    }
}

/// Reads a model's little-endian fields, failing on truncation instead of panicking.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, at: 0 }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).ok_or("truncated")?;
        let slice = self.bytes.get(self.at..end).ok_or("truncated")?;
        self.at = end;
        Ok(slice)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, String> {
        let mut word = [0; 2];
        word.copy_from_slice(self.take(2)?);
        Ok(u16::from_le_bytes(word))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, String> {
        let mut word = [0; 4];
        word.copy_from_slice(self.take(4)?);
        Ok(u32::from_le_bytes(word))
    }
}

/// Three decimals: what a reader needs, and stable JSON.
fn round(value: f32) -> f32 {
    (value * 1000.0).round() / 1000.0
}

#[cfg(test)]
pub(crate) mod tests {
    use starling_model::Post;

    /// A post with `text` and nothing else of note.
    pub(crate) fn post(text: &str) -> Post {
        let mut post: Post = serde_json::from_str(
            r#"{"platform":"twitter","id":"1","key":"twitter:1","author":{"id":"9","handle":"someone"},"created_at":"2026-06-12T18:00:00Z","collected_at":"2026-06-12T18:00:01Z","text":"","provenance":{"source":{"kind":"generated","name":"test"},"format":"test"},"raw":""}"#,
        )
        .expect("a valid post");
        post.text = text.to_owned();
        post
    }

    #[test]
    fn a_post_is_enriched_with_everything() {
        let mut post = post(
            "Wonderful news from Tehran tonight, we are so happy! https://x.example/a?utm_source=tw",
        );
        post.entities.urls.push(serde_json::from_str(
            r#"{"url":"https://x.example/a?utm_source=tw","span":{"start":0,"end":1,"byte_start":0,"byte_end":1}}"#,
        ).expect("a valid url entity"));
        super::enrich(&mut post);
        let enrichment = post.enrichment.expect("enriched");
        assert_eq!(enrichment.lang, "en");
        assert_eq!(enrichment.sentiment, "positive");
        assert!(enrichment.sentiment_score > 0.0);
        assert_eq!(enrichment.place.expect("a place").country, "IR");
        assert_eq!(enrichment.links, ["https://x.example/a"]);
    }
}
