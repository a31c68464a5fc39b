//! `starling search`: the archive, through the query language.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use serde::Serialize;
use starling_model::{Post, Timestamp};
use starling_store::{SortBy, search};

use super::{Context, open_for_query};
use crate::terminal::{self, safe};

/// Flags of `starling search`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The query (see docs/query-language.md), e.g. '"azadi square" lang:fa -is:share'.
    query: String,
    /// Order: newest first (time) or best match first (relevance).
    #[arg(long, default_value = "time", value_parser = ["time", "relevance"])]
    sort: String,
    /// How many posts to show.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    /// Also count the top hashtags, authors, languages, domains and platforms of the matches.
    #[arg(long)]
    facets: bool,
    /// Also count the matches over time, in buckets chosen to fit.
    #[arg(long)]
    histogram: bool,
    /// What "now" is for relative times like since:-24h (RFC 3339) [default: the clock]
    #[arg(long, value_name = "TIME")]
    now: Option<Timestamp>,
    /// One JSON object per matching post (then facets and histogram buckets).
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
pub struct PostLine<'a> {
    key: &'a str,
    platform: &'a str,
    id: &'a str,
    created_at: Timestamp,
    author: &'a str,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    /// The language the post is counted under (Starling's detection, else the declared one).
    lang: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    lang_confidence: Option<f32>,
    /// The language the platform declared.
    #[serde(skip_serializing_if = "Option::is_none")]
    declared_lang: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sentiment: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sentiment_score: Option<f32>,
    /// The platform's country, else the one Starling resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    country: Option<String>,
    /// The place Starling resolved, with its evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    place: Option<&'a starling_model::ResolvedPlace>,
    /// Present when the platform said the post was deleted (it is kept as evidence).
    #[serde(skip_serializing_if = "Option::is_none")]
    deleted: Option<String>,
    /// Earlier versions the archive keeps, when the post was edited.
    #[serde(skip_serializing_if = "is_zero")]
    earlier_versions: usize,
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

/// How many matches facets and histograms are counted over at most.
const SUMMARY_LIMIT: usize = 100_000;
const TOP: usize = 10;

pub fn run(context: &Context, args: Args, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let (query, store, index) = open_for_query(context, &args.query)?;
    let now = args.now.unwrap_or_else(chrono::Utc::now);
    let sort = if args.sort == "relevance" {
        SortBy::Relevance
    } else {
        SortBy::Time
    };
    let started = std::time::Instant::now();
    let summarise = args.facets || args.histogram;
    // Facets and histograms come from the index's columns; only a query whose matches must
    // each be checked (NEAR, geo:) counts them from the checked posts.
    let summary = if summarise {
        index.summarise(&query, now, TOP)?
    } else {
        None
    };
    let wanted = if summarise && summary.is_none() {
        SUMMARY_LIMIT.max(args.limit)
    } else {
        args.limit
    };
    let found = search(&store, &index, &query, now, sort, wanted)?;
    let seconds = started.elapsed().as_secs_f64();
    let shown = &found.posts[..found.posts.len().min(args.limit)];
    let (facets, histogram) = match summary {
        Some(summary) => (
            if args.facets {
                summary.facets
            } else {
                Vec::new()
            },
            if args.histogram {
                summary.histogram
            } else {
                None
            },
        ),
        None => {
            let times: Vec<i64> = found
                .posts
                .iter()
                .map(|post| post.created_at.timestamp_millis())
                .collect();
            (
                if args.facets {
                    facets(&found.posts)
                } else {
                    Vec::new()
                },
                if args.histogram {
                    starling_store::histogram(&times)
                } else {
                    None
                },
            )
        }
    };

    if args.json {
        for post in shown {
            let status = store.status(post.key.as_str())?;
            crate::terminal::json_line(stdout, &post_line(post, status))?;
        }
        for (facet, counts) in &facets {
            for (value, count) in counts {
                serde_json::to_writer(
                    &mut *stdout,
                    &serde_json::json!({"facet": facet, "value": value, "posts": count}),
                )?;
                writeln!(stdout)?;
            }
        }
        if let Some((bucket, counts)) = &histogram {
            for (start, count) in counts {
                serde_json::to_writer(
                    &mut *stdout,
                    &serde_json::json!({"histogram": bucket, "start": start, "posts": count}),
                )?;
                writeln!(stdout)?;
            }
        }
        return Ok(());
    }
    let total = if found.total_is_exact {
        terminal::count(found.total as u64)
    } else {
        format!("at least {}", terminal::count(found.total as u64))
    };
    writeln!(
        stdout,
        "{total} posts match, in {:.0} ms; {} shown, {}",
        seconds * 1000.0,
        shown.len(),
        if sort == SortBy::Time {
            "newest first"
        } else {
            "best first"
        }
    )?;
    for post in shown {
        let status = store.status(post.key.as_str())?;
        write_row(stdout, post, &status)?;
    }
    for (facet, counts) in &facets {
        writeln!(stdout, "\nTop {facet}")?;
        for (value, count) in counts {
            writeln!(
                stdout,
                "  {:<32} {:>10}",
                safe(value),
                terminal::count(*count)
            )?;
        }
    }
    if let Some((bucket, counts)) = &histogram {
        writeln!(stdout, "\nPosts per {bucket}")?;
        let most = counts.values().copied().max().unwrap_or(1).max(1);
        for (start, count) in counts {
            let bar = "#".repeat((count * 40).div_ceil(most) as usize);
            writeln!(
                stdout,
                "  {}  {:>8} {bar}",
                start.format("%Y-%m-%d %H:%M"),
                terminal::count(*count)
            )?;
        }
    }
    Ok(())
}

/// One post as a line of the readable table: time, platform, author, text (sanitized).
pub fn write_row(
    stdout: &mut dyn Write,
    post: &Post,
    status: &starling_store::PostStatus,
) -> std::io::Result<()> {
    let mark = match (status.deleted.is_some(), status.history.len()) {
        (true, _) => "[deleted] ",
        (false, 0) => "",
        (false, _) => "[edited] ",
    };
    let text: String = post
        .text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(110)
        .collect();
    writeln!(
        stdout,
        "{}  {:<8} {:<24} {mark}{}",
        post.created_at.format("%Y-%m-%d %H:%M"),
        post.platform.as_str(),
        safe(&post.author.handle.chars().take(24).collect::<String>()),
        safe(&text)
    )
}

/// One post as a JSON object: `key`, `platform`, `id`, `created_at`, `author`, `text`, …
pub fn post_line(post: &Post, status: starling_store::PostStatus) -> PostLine<'_> {
    PostLine {
        key: post.key.as_str(),
        platform: post.platform.as_str(),
        id: &post.id,
        created_at: post.created_at,
        author: &post.author.handle,
        text: &post.text,
        url: post.url.as_deref(),
        lang: post.language(),
        lang_confidence: post.enrichment.as_ref().map(|e| e.lang_confidence),
        declared_lang: post.declared_lang.as_deref(),
        sentiment: post.sentiment(),
        sentiment_score: post.enrichment.as_ref().map(|e| e.sentiment_score),
        country: post.country(),
        place: post.enrichment.as_ref().and_then(|e| e.place.as_ref()),
        deleted: status.deleted,
        earlier_versions: status.history.len(),
    }
}

/// Top values of each facet among `posts`.
fn facets(posts: &[Post]) -> Vec<(&'static str, Vec<(String, u64)>)> {
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
            sorted.truncate(TOP);
            (facet, sorted)
        })
        .collect()
}
