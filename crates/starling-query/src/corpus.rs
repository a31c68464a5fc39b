//! The shared query corpus, `tests/corpus.toml`: posts, and the posts each query must match.
//! Every engine that answers Starling queries (this crate's reference evaluator, the archive's
//! search, the watch matcher) runs it; see [`Corpus::load`].

use serde::Deserialize;
use starling_model::{
    Author, Enrichment, Entities, Geo, Media, Platform, Point, Post, PostKey, PostRef, Provenance,
    RawRecord, ResolvedPlace, Source, Timestamp,
};
use starling_text::EntityExtractor;

/// The corpus, loaded.
#[derive(Debug)]
pub struct Corpus {
    /// The time relative bounds count back from.
    pub now: Timestamp,
    /// The posts, as the model holds them (entities found by Twitter's rules).
    pub posts: Vec<Post>,
    /// Each query, and the ids of the posts it must match, in corpus order.
    pub cases: Vec<(String, Vec<String>)>,
}

impl Corpus {
    /// Reads the corpus shipped with this crate.
    pub fn load() -> Result<Corpus, String> {
        let file: CorpusFile = toml::from_str(include_str!("../tests/corpus.toml"))
            .map_err(|error| format!("tests/corpus.toml: {error}"))?;
        let posts = posts(&file)?;
        Ok(Corpus {
            now: file.now,
            posts,
            cases: file
                .case
                .into_iter()
                .map(|case| (case.query, case.matches))
                .collect(),
        })
    }
}

#[derive(Deserialize)]
struct CorpusFile {
    now: Timestamp,
    post: Vec<CorpusPost>,
    case: Vec<CorpusCase>,
}

#[derive(Deserialize)]
struct CorpusPost {
    id: String,
    platform: String,
    author: String,
    lang: String,
    created_at: Timestamp,
    text: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    point: Option<[f64; 2]>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    media: bool,
    #[serde(default)]
    reply: bool,
    #[serde(default)]
    share: bool,
    #[serde(default)]
    quote: bool,
    /// Starling's enrichment, when the case needs one: the detected language, the
    /// sentiment, the resolved country.
    #[serde(default)]
    detected_lang: Option<String>,
    #[serde(default)]
    sentiment: Option<String>,
    #[serde(default)]
    place_country: Option<String>,
}

#[derive(Deserialize)]
struct CorpusCase {
    query: String,
    matches: Vec<String>,
}

/// Corpus posts as the model holds them; entities found by Twitter's rules (Mastodon-style
/// `user@domain` mentions kept whole).
fn posts(corpus: &CorpusFile) -> Result<Vec<Post>, String> {
    let extractor = EntityExtractor::new();
    corpus
        .post
        .iter()
        .map(|item| {
            let platform = Platform::parse(&item.platform)
                .ok_or_else(|| format!("post {}: unknown platform {}", item.id, item.platform))?;
            let reference = || {
                Some(PostRef {
                    id: "0".into(),
                    key: None,
                    author_id: None,
                    author_handle: None,
                })
            };
            let entities: Entities =
                extractor.entities_of(&item.text, platform == Platform::Mastodon);
            Ok(Post {
                platform,
                id: item.id.clone(),
                key: PostKey::for_platform_id(platform, &item.id),
                url: None,
                author: Author {
                    id: item.author.clone(),
                    handle: item.author.clone(),
                    display_name: None,
                    followers: None,
                    location: None,
                },
                created_at: item.created_at,
                collected_at: item.created_at,
                title: item.title.clone(),
                community: None,
                text: item.text.clone(),
                declared_lang: Some(item.lang.clone()),
                reply_to: if item.reply { reference() } else { None },
                quote_of: if item.quote { reference() } else { None },
                share_of: if item.share { reference() } else { None },
                entities,
                media: if item.media {
                    vec![Media {
                        kind: "photo".into(),
                        url: None,
                    }]
                } else {
                    Vec::new()
                },
                metrics: Default::default(),
                geo: (item.point.is_some() || item.country.is_some()).then(|| Geo {
                    point: item.point.map(|[lat, lon]| Point { lat, lon }),
                    place: None,
                    country: item.country.clone(),
                }),
                provenance: Provenance {
                    source: Source::Generated("corpus".into()),
                    format: "corpus".into(),
                    line: None,
                    offset: None,
                },
                enrichment: (item.detected_lang.is_some()
                    || item.sentiment.is_some()
                    || item.place_country.is_some())
                .then(|| Enrichment {
                    lang: item.detected_lang.clone().unwrap_or_else(|| "und".into()),
                    lang_confidence: 0.9,
                    sentiment: item.sentiment.clone().unwrap_or_else(|| "neutral".into()),
                    sentiment_score: 0.0,
                    place: item.place_country.clone().map(|country| ResolvedPlace {
                        name: country.clone(),
                        country,
                        point: None,
                        geonames_id: None,
                        source: "text".into(),
                        confidence: 0.5,
                        reason: "corpus".into(),
                    }),
                    links: Vec::new(),
                }),
                raw: RawRecord::default(),
            })
        })
        .collect()
}
