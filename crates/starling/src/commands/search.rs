//! `starling search`: the archive, through the query language.

use std::io::Write;

use starling_model::{Post, Timestamp};
use starling_store::SortBy;
use starling_store::views::{PostView, Report, search_report};

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
    let Report {
        found,
        facets,
        histogram,
    } = search_report(
        &store,
        &index,
        &query,
        now,
        sort,
        args.limit,
        (args.facets, args.histogram),
        TOP,
    )?;
    let seconds = started.elapsed().as_secs_f64();
    let shown = &found.posts;
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
pub fn post_line(post: &Post, status: starling_store::PostStatus) -> PostView<'_> {
    PostView::new(post, status)
}
