//! The shapes a post leaves Starling in: one JSON object per post (`search --json`, the API,
//! watch matches) and one row of text fields (CSV, Parquet), so that every way out agrees.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use starling_model::{Point, Post, ResolvedPlace, Timestamp};

use crate::PostStatus;

/// One post as a JSON object: `key`, `platform`, `id`, `created_at`, `author`, `text`, and
/// what enrichment and the archive know of it.
#[derive(Debug, Clone, Serialize)]
pub struct PostView<'a> {
    /// The canonical key.
    pub key: &'a str,
    /// `twitter`, `mastodon`, `bluesky`, …
    pub platform: &'a str,
    /// The platform's id, as text.
    pub id: &'a str,
    /// When it was posted.
    pub created_at: Timestamp,
    /// The author's handle.
    pub author: &'a str,
    /// The author's display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author_name: Option<&'a str>,
    /// A title (feeds, Reddit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<&'a str>,
    /// The plain text.
    pub text: &'a str,
    /// Where it can be seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<&'a str>,
    /// The language the post is counted under (Starling's detection, else the declared one).
    pub lang: String,
    /// How sure the detection is, 0 to 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang_confidence: Option<f32>,
    /// The language the platform declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_lang: Option<&'a str>,
    /// `negative`, `neutral` or `positive`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentiment: Option<&'a str>,
    /// -1 to 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sentiment_score: Option<f32>,
    /// The platform's country, else the one Starling resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// The place Starling resolved, with its evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<&'a ResolvedPlace>,
    /// The post's coordinates, else its resolved place's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub point: Option<Point>,
    /// Its hashtags, as written (without `#`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hashtags: Vec<&'a str>,
    /// Present when the platform said the post was deleted (it is kept as evidence).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<String>,
    /// Earlier versions the archive keeps, when the post was edited.
    #[serde(skip_serializing_if = "is_zero")]
    pub earlier_versions: usize,
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

/// The point to show `post` at: its own coordinates, else its resolved place's.
pub fn point_of(post: &Post) -> Option<Point> {
    post.geo.as_ref().and_then(|geo| geo.point).or_else(|| {
        post.enrichment
            .as_ref()
            .and_then(|enrichment| enrichment.place.as_ref())
            .and_then(|place| place.point)
    })
}

impl<'a> PostView<'a> {
    /// `post` with what the archive knows of it (`status`).
    pub fn new(post: &'a Post, status: PostStatus) -> PostView<'a> {
        PostView {
            key: post.key.as_str(),
            platform: post.platform.as_str(),
            id: &post.id,
            created_at: post.created_at,
            author: &post.author.handle,
            author_name: post.author.display_name.as_deref(),
            title: post.title.as_deref(),
            text: &post.text,
            url: post.url.as_deref(),
            lang: post.language(),
            lang_confidence: post.enrichment.as_ref().map(|e| e.lang_confidence),
            declared_lang: post.declared_lang.as_deref(),
            sentiment: post.sentiment(),
            sentiment_score: post.enrichment.as_ref().map(|e| e.sentiment_score),
            country: post.country(),
            place: post.enrichment.as_ref().and_then(|e| e.place.as_ref()),
            point: point_of(post),
            hashtags: post
                .entities
                .hashtags
                .iter()
                .map(|tag| tag.tag.as_str())
                .collect(),
            deleted: status.deleted,
            earlier_versions: status.history.len(),
        }
    }
}

/// The columns of [`csv_row`], in order.
pub const CSV_COLUMNS: [&str; 23] = [
    "key",
    "platform",
    "id",
    "created_at",
    "author_id",
    "author",
    "text",
    "title",
    "lang",
    "declared_lang",
    "sentiment",
    "sentiment_score",
    "url",
    "reply_to",
    "share_of",
    "quote_of",
    "hashtags",
    "mentions",
    "urls",
    "country",
    "place",
    "place_source",
    "point",
];

/// One post as [`CSV_COLUMNS`]: every field as text, ids included (never numbers, which
/// spreadsheets round).
pub fn csv_row(post: &Post) -> [String; 23] {
    let join = |values: Vec<&str>| values.join(" ");
    let place = post
        .enrichment
        .as_ref()
        .and_then(|enrichment| enrichment.place.as_ref());
    let reference = |reference: &Option<starling_model::PostRef>| {
        reference
            .as_ref()
            .map(|reference| reference.id.clone())
            .unwrap_or_default()
    };
    [
        post.key.as_str().to_owned(),
        post.platform.as_str().to_owned(),
        post.id.clone(),
        post.created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        post.author.id.clone(),
        post.author.handle.clone(),
        post.text.clone(),
        post.title.clone().unwrap_or_default(),
        post.language(),
        post.declared_lang.clone().unwrap_or_default(),
        post.sentiment().unwrap_or_default().to_owned(),
        post.enrichment
            .as_ref()
            .map(|enrichment| enrichment.sentiment_score.to_string())
            .unwrap_or_default(),
        post.url.clone().unwrap_or_default(),
        reference(&post.reply_to),
        reference(&post.share_of),
        reference(&post.quote_of),
        join(
            post.entities
                .hashtags
                .iter()
                .map(|tag| tag.tag.as_str())
                .collect(),
        ),
        join(
            post.entities
                .mentions
                .iter()
                .map(|mention| mention.handle.as_str())
                .collect(),
        ),
        join(post.entities.urls.iter().map(|url| url.target()).collect()),
        post.country().unwrap_or_default(),
        place.map(|place| place.name.clone()).unwrap_or_default(),
        place.map(|place| place.source.clone()).unwrap_or_default(),
        post.geo
            .as_ref()
            .and_then(|geo| geo.point)
            .map(|point| format!("{},{}", point.lat, point.lon))
            .unwrap_or_default(),
    ]
}

/// A search with its counts: the posts shown, the top values of each facet, and the posts
/// per time bucket, over every match.
#[derive(Debug, Clone)]
pub struct Report {
    /// The posts, at most the limit asked for, and how many match.
    pub found: crate::Found,
    /// Each facet's top values (empty unless asked for).
    pub facets: Vec<(&'static str, Vec<(String, u64)>)>,
    /// The bucket's name and the posts starting in each bucket (unless not asked for, or
    /// nothing matched).
    pub histogram: Option<(&'static str, BTreeMap<Timestamp, u64>)>,
}

/// How many matches facets and histograms are counted over at most, when each match must be
/// checked (`NEAR`, `geo:`).
pub const SUMMARY_LIMIT: usize = 100_000;

/// Searches, and counts facets (the top `top` values of each) and a histogram when asked:
/// from the index's columns, or, for a query whose matches must each be checked, from the
/// checked posts (up to [`SUMMARY_LIMIT`]).
#[allow(clippy::too_many_arguments)]
pub fn search_report(
    archive: &crate::Store,
    index: &crate::SearchIndex,
    query: &starling_query::Query,
    now: Timestamp,
    sort: crate::SortBy,
    limit: usize,
    (facets, histogram): (bool, bool),
    top: usize,
) -> Result<Report, crate::StoreError> {
    let summarise = facets || histogram;
    let summary = if summarise {
        index.summarise(query, now, top)?
    } else {
        None
    };
    let wanted = if summarise && summary.is_none() {
        SUMMARY_LIMIT.max(limit)
    } else {
        limit
    };
    let mut found = crate::search(archive, index, query, now, sort, wanted)?;
    let (counted, buckets) = match summary {
        Some(summary) => (summary.facets, summary.histogram),
        None => {
            let times: Vec<i64> = found
                .posts
                .iter()
                .map(|post| post.created_at.timestamp_millis())
                .collect();
            (
                if facets {
                    count_facets(&found.posts, top)
                } else {
                    Vec::new()
                },
                crate::histogram(&times),
            )
        }
    };
    found.posts.truncate(limit);
    Ok(Report {
        found,
        facets: if facets { counted } else { Vec::new() },
        histogram: if histogram { buckets } else { None },
    })
}

/// The top `top` values of each facet among `posts`, counted as the index counts them.
fn count_facets(posts: &[Post], top: usize) -> Vec<(&'static str, Vec<(String, u64)>)> {
    let mut counts: BTreeMap<&'static str, HashMap<String, u64>> = BTreeMap::new();
    for post in posts {
        let mut add = |facet: &'static str, value: String| {
            *counts.entry(facet).or_default().entry(value).or_default() += 1
        };
        for tag in &post.entities.hashtags {
            add("hashtags", format!("#{}", tag.tag.to_lowercase()));
        }
        add(
            "authors",
            format!("{}:{}", post.platform, post.author.handle),
        );
        add("languages", post.language());
        for country in post.countries().collect::<std::collections::BTreeSet<_>>() {
            add("countries", country);
        }
        if let Some(sentiment) = post.sentiment() {
            add("sentiments", sentiment.to_owned());
        }
        add("platforms", post.platform.as_str().to_owned());
        for url in &post.entities.urls {
            let target = url.target();
            let rest = target.split_once("://").map_or(target, |(_, rest)| rest);
            if let Some(host) = rest
                .split(['/', ':', '?', '#'])
                .next()
                .filter(|host| !host.is_empty())
            {
                add("domains", host.trim_start_matches("www.").to_lowercase());
            }
        }
    }
    counts
        .into_iter()
        .map(|(facet, values)| {
            let mut sorted: Vec<(String, u64)> = values.into_iter().collect();
            sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            sorted.truncate(top);
            (facet, sorted)
        })
        .collect()
}
