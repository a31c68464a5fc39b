//! `starling import`: files of any supported format into the archive, with nothing lost and
//! nothing counted twice.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde::Serialize;
use starling_formats::{CsvMapping, Format};
use starling_model::Platform;
use starling_pipeline::sinks::{FormatSummary, StoreSink};
use starling_pipeline::sources::FileSource;
use starling_pipeline::{Decode, RunOptions, run as run_pipeline};
use starling_store::{SearchIndex, Store};

use super::Context;
use crate::terminal::{self, safe};

/// Flags of `starling import`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or folders to import (folders are read recursively; .gz and .zst are undone).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// The format, when detection from the content should not decide: twitter-v1,
    /// twitter-v2, mastodon, jetstream, rss, reddit, telegram or csv.
    #[arg(long, value_parser = parse_format)]
    format: Option<Format>,
    /// CSV columns, as field=column pairs: id, body, timestamp, author, thread_id, author_id,
    /// platform, url, language, title [default: 4CAT's id, thread_id, author, body, timestamp]
    #[arg(long, value_name = "PAIRS", value_parser = CsvMapping::parse)]
    csv_map: Option<CsvMapping>,
    /// The platform of CSV rows that have no platform column.
    #[arg(long, value_name = "PLATFORM", value_parser = parse_platform, default_value = "other")]
    csv_platform: Platform,
    /// Print the summary as JSON, one object per line.
    #[arg(long)]
    json: bool,
}

pub fn parse_format(name: &str) -> Result<Format, String> {
    Format::parse(name).ok_or_else(|| {
        let known: Vec<&str> = Format::ALL.iter().map(|format| format.name()).collect();
        format!(
            "unknown format {name:?}; expected one of {}",
            known.join(", ")
        )
    })
}

fn parse_platform(name: &str) -> Result<Platform, String> {
    Platform::parse(name).ok_or_else(|| format!("unknown platform {name:?}"))
}

#[derive(Serialize)]
struct FormatLine<'a> {
    kind: &'static str,
    format: &'a str,
    #[serde(flatten)]
    summary: FormatSummary,
}

#[derive(Serialize)]
struct Totals {
    kind: &'static str,
    bytes: u64,
    seconds: f64,
    #[serde(flatten)]
    total: FormatSummary,
    posts_per_second: f64,
    archive_posts: u64,
    rejects_file: Option<String>,
}

pub fn run(context: &Context, args: Args, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let started = Instant::now();
    let now = chrono::Utc::now();
    let store = Store::open(&context.data_dir)?;
    let index = SearchIndex::open(&context.data_dir)?;
    let mut source = FileSource::new(&args.paths, args.format, now);
    let total = source.total_bytes();
    let matcher = super::watch::matcher(context, &store)?;
    let watches = matcher.len();
    let mut sink = StoreSink::new(&store, &context.data_dir, now)
        .with_index(index.indexer()?)
        .with_watches(matcher);
    let mut decode = Decode::with_csv(args.csv_map.unwrap_or_default(), args.csv_platform);

    let progress = indicatif::ProgressBar::new(total);
    progress.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {msg} ETA {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let bytes_read = source.bytes_read();
    let posts_seen = sink.posts_seen();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let ticker = {
        let (progress, done) = (progress.clone(), std::sync::Arc::clone(&done));
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                progress.set_position(bytes_read.load(Ordering::Relaxed));
                let posts = posts_seen.load(Ordering::Relaxed);
                let rate = posts as f64 / started.elapsed().as_secs_f64().max(1e-3);
                progress.set_message(format!(
                    "{} posts, {} posts/s",
                    terminal::count(posts),
                    terminal::count(rate as u64)
                ));
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };
    let result = run_pipeline(&mut source, &mut decode, &mut sink, RunOptions::default());
    done.store(true, Ordering::Relaxed);
    let _ = ticker.join();
    progress.finish_and_clear();
    result.context("import stopped; everything acknowledged before the error is archived")?;

    let seconds = started.elapsed().as_secs_f64();
    let mut summary = sink.summary.clone();
    for (format, records) in source.record_counts() {
        summary.entry(format.clone()).or_default().records = *records;
    }
    let total = FormatSummary::total(summary.values());
    let totals = Totals {
        kind: "summary",
        bytes: source.bytes_read().load(Ordering::Relaxed),
        seconds,
        total,
        posts_per_second: (total.imported + total.duplicates) as f64 / seconds.max(1e-9),
        archive_posts: store.post_count()?,
        rejects_file: (total.rejected > 0).then(|| sink.rejects_path().display().to_string()),
    };
    if args.json {
        for (format, line) in &summary {
            serde_json::to_writer(
                &mut *stdout,
                &FormatLine {
                    kind: "format",
                    format,
                    summary: *line,
                },
            )?;
            writeln!(stdout)?;
        }
        for (watch, matches) in &sink.matches {
            serde_json::to_writer(
                &mut *stdout,
                &serde_json::json!({"kind": "watch", "watch": watch, "matches": matches}),
            )?;
            writeln!(stdout)?;
        }
        crate::terminal::json_line(stdout, &totals)?;
        return Ok(());
    }
    writeln!(
        stdout,
        "Read {:.1} MB in {:.2} s: {} new posts, {} already archived, {} edited ({} posts/s)",
        totals.bytes as f64 / 1e6,
        seconds,
        terminal::count(totals.total.imported),
        terminal::count(totals.total.duplicates),
        terminal::count(totals.total.edited),
        terminal::count(totals.posts_per_second as u64),
    )?;
    writeln!(
        stdout,
        "  {:<12} {:>10} {:>10} {:>11} {:>8} {:>9} {:>9}",
        "format", "records", "imported", "duplicates", "edited", "rejected", "notices"
    )?;
    for (format, line) in &summary {
        writeln!(
            stdout,
            "  {:<12} {:>10} {:>10} {:>11} {:>8} {:>9} {:>9}",
            format,
            terminal::count(line.records),
            terminal::count(line.imported),
            terminal::count(line.duplicates),
            terminal::count(line.edited),
            terminal::count(line.rejected),
            terminal::count(line.notices),
        )?;
    }
    if watches > 0 {
        let matched: u64 = sink.matches.values().sum();
        writeln!(
            stdout,
            "Watches: {} matches in {} of {watches} watches",
            terminal::count(matched),
            sink.matches.len()
        )?;
        for (watch, matches) in &sink.matches {
            writeln!(
                stdout,
                "  {:<24} {:>10}",
                safe(watch),
                terminal::count(*matches)
            )?;
        }
    }
    for reject in &sink.sample_rejects {
        writeln!(stdout, "  rejected: {}", safe(&reject.to_string()))?;
    }
    if let Some(path) = &totals.rejects_file {
        writeln!(
            stdout,
            "Every rejected record is in {path}, with its source, line and reason."
        )?;
    }
    writeln!(
        stdout,
        "The archive in {} holds {} posts.",
        context.data_dir.display(),
        terminal::count(totals.archive_posts)
    )?;
    Ok(())
}
