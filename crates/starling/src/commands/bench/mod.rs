//! `starling bench`: figures for the hot paths, measured in this process on one core.

mod alerts;
mod detect;
mod enrich;
mod sources;
mod stream;
mod watches;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use starling_formats::{Context, Format, decode};
use starling_model::Source;
use starling_simulate::{Config, Generator};

use crate::terminal;

/// Flags of `starling bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// Decoding speed per format, one core: generated data, then the shared real fixtures.
    Decode(DecodeArgs),
    /// The whole path from generated records to a durable, searchable archive.
    Index(ArchiveArgs),
    /// The archive path, then query latency for a fixed set of queries.
    Search(ArchiveArgs),
    /// The watch matcher at 1,000 to 250,000 watches, against checking every watch.
    Watches(watches::WatchArgs),
    /// The detectors' speed on one core, and their memory after 1M and 10M posts.
    Detect(detect::DetectArgs),
    /// Each enrichment stage's speed on one core: language, sentiment, place, links.
    Enrich(enrich::EnrichArgs),
    /// The live stream's fan-out: clients on loopback, events at a steady rate, latency.
    Stream(stream::StreamArgs),
    /// From a post's arrival to the webhook's receipt of its alert, at a steady ingest rate.
    Alerts(alerts::AlertArgs),
    /// Posts/s through the Jetstream and Mastodon connectors from a loopback server.
    Sources(sources::SourcesArgs),
}

#[derive(Debug, clap::Args)]
struct ArchiveArgs {
    /// Posts in the generated scenario.
    #[arg(long, default_value_t = 200_000)]
    posts: u64,
    /// Times each query runs.
    #[arg(long, default_value_t = 20)]
    repeats: usize,
    /// Feed the generator's records straight into the pipeline instead of reading them from
    /// JSON lines files written first (for sizes whose files would not fit on disk; the
    /// generator's time is then counted in).
    #[arg(long)]
    no_files: bool,
    /// Where to put the scenario and the archive (removed afterwards) [default: the system's
    /// temporary folder]
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,
    /// One JSON object with the figures.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct DecodeArgs {
    /// Posts in the generated scenario.
    #[arg(long, default_value_t = 200_000)]
    posts: u64,
    /// Times each corpus is decoded; the fastest pass is reported.
    #[arg(long, default_value_t = 3)]
    passes: u32,
    /// The shared data folder (its `data/` holds the real fixtures) [default: $STARLING_SHARED or ../shared]
    #[arg(long, value_name = "DIR")]
    shared: Option<PathBuf>,
    /// One JSON object per corpus.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Figure {
    corpus: String,
    format: &'static str,
    records: usize,
    bytes: usize,
    posts: usize,
    seconds: f64,
    mb_per_second: f64,
    posts_per_second: f64,
}

pub fn run(args: Args, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let args = match args.what {
        What::Decode(args) => args,
        What::Index(args) => return archive(args, false, stdout),
        What::Search(args) => return archive(args, true, stdout),
        What::Watches(args) => return watches::run(args, stdout),
        What::Detect(args) => return detect::run(args, stdout),
        What::Enrich(args) => return enrich::run(args, stdout),
        What::Stream(args) => return stream::run(args, stdout),
        What::Alerts(args) => return alerts::run(args, stdout),
        What::Sources(args) => return sources::run_bench(args, stdout),
    };
    let mut corpora: Vec<(String, Format, Vec<Vec<u8>>)> = Vec::new();
    let mut generated: BTreeMap<&'static str, (Format, Vec<Vec<u8>>)> = BTreeMap::new();
    let generator = Generator::new(Config {
        posts: args.posts,
        ..Config::default()
    })
    .map_err(|error| anyhow::anyhow!("cannot generate: {error}"))?;
    for output in generator {
        generated
            .entry(output.format.name())
            .or_insert_with(|| (output.format, Vec::new()))
            .1
            .push(output.bytes);
    }
    for (name, (format, records)) in generated {
        corpora.push((format!("generated {name}"), format, records));
    }
    let shared = args
        .shared
        .clone()
        .or_else(|| std::env::var_os("STARLING_SHARED").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("../shared"));
    let data = shared.join("data");
    if data.is_dir() {
        corpora.extend(shared_corpora(&data));
    } else {
        writeln!(
            stdout,
            "(no shared data at {}: real fixtures skipped)",
            data.display()
        )?;
    }
    let mut figures = Vec::new();
    for (corpus, format, records) in &corpora {
        figures.push(measure(corpus, *format, records, args.passes.max(1)));
    }
    if args.json {
        for figure in &figures {
            crate::terminal::json_line(stdout, figure)?;
        }
        return Ok(());
    }
    writeln!(
        stdout,
        "Decoding to finished posts (entities included), one core, best of {} passes",
        args.passes.max(1)
    )?;
    writeln!(
        stdout,
        "  {:<34} {:>9} {:>10} {:>10} {:>12}",
        "corpus", "MB", "posts", "MB/s", "posts/s"
    )?;
    for figure in &figures {
        writeln!(
            stdout,
            "  {:<34} {:>9.1} {:>10} {:>10.0} {:>12}",
            figure.corpus,
            figure.bytes as f64 / 1e6,
            terminal::count(figure.posts as u64),
            figure.mb_per_second,
            terminal::count(figure.posts_per_second as u64),
        )?;
    }
    Ok(())
}

fn measure(corpus: &str, format: Format, records: &[Vec<u8>], passes: u32) -> Figure {
    let source = Source::Generated("bench".into());
    let context = Context::new(&source, chrono::DateTime::UNIX_EPOCH);
    let bytes: usize = records.iter().map(Vec::len).sum();
    let mut best = f64::INFINITY;
    let mut posts = 0;
    for _ in 0..passes {
        let started = Instant::now();
        posts = 0;
        for record in records {
            posts += decode(format, record, &context).posts.len();
        }
        best = best.min(started.elapsed().as_secs_f64());
    }
    let seconds = best.max(1e-9);
    Figure {
        corpus: corpus.to_owned(),
        format: format.name(),
        records: records.len(),
        bytes,
        posts,
        seconds,
        mb_per_second: bytes as f64 / 1e6 / seconds,
        posts_per_second: posts as f64 / seconds,
    }
}

/// Real fixtures: Twitter v2 pages (one per line) and feed documents.
fn shared_corpora(data: &Path) -> Vec<(String, Format, Vec<Vec<u8>>)> {
    let mut corpora = Vec::new();
    let pages: Vec<Vec<u8>> = files(
        &data.join("platforms/twitter-v2-twarc-csv/test-data"),
        "jsonl",
    )
    .iter()
    .filter_map(|path| std::fs::read(path).ok())
    .flat_map(|bytes| {
        bytes
            .split(|byte| *byte == b'\n')
            .filter(|line| line.starts_with(b"{\"data\""))
            .map(<[u8]>::to_vec)
            .collect::<Vec<_>>()
    })
    .collect();
    if !pages.is_empty() {
        corpora.push((
            "shared twitter-v2 (twarc-csv)".to_owned(),
            Format::TwitterV2,
            pages,
        ));
    }
    let feeds: Vec<Vec<u8>> = ["rss2", "atom", "rss1", "rss0"]
        .iter()
        .flat_map(|folder| files(&data.join("feeds/feed-rs/fixture").join(folder), "xml"))
        .filter_map(|path| std::fs::read(path).ok())
        .collect();
    if !feeds.is_empty() {
        corpora.push(("shared feeds (feed-rs)".to_owned(), Format::Rss, feeds));
    }
    corpora
}

fn files(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|found| found == extension))
        .collect();
    found.sort();
    found
}

#[derive(Debug, Serialize)]
struct ArchiveFigures {
    posts: u64,
    index_posts_per_sec: f64,
    bytes_per_post: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    query_p50_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query_p99_ms: Option<f64>,
    rss_bytes: u64,
    /// From handing one new post to the archive to finding it with a search: archived
    /// (synced), indexed, committed, reader reloaded, searched; median and 99th percentile.
    searchable_p50_ms: f64,
    searchable_p99_ms: f64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    queries: Vec<QueryFigure>,
}

/// Times [`ArchiveFigures::searchable_p50_ms`]: `repeats` new posts, one at a time, each
/// a copy of an archived post with its own id and a word of its own.
fn time_to_searchable(
    store: &starling_store::Store,
    index: &starling_store::SearchIndex,
    now: chrono::DateTime<chrono::Utc>,
    repeats: usize,
) -> anyhow::Result<(f64, f64)> {
    use starling_model::PostKey;
    use starling_store::{SortBy, search};
    let everything =
        starling_query::parse("since:2000-01-01").map_err(|error| anyhow::anyhow!("{error}"))?;
    let Some(model) = search(store, index, &everything, now, SortBy::Time, 1)?
        .posts
        .pop()
    else {
        anyhow::bail!("the archive is empty");
    };
    let mut indexer = index.indexer()?;
    let mut times = Vec::with_capacity(repeats);
    for round in 0..repeats.max(1) {
        let word = format!("freshness{round}check");
        let mut post = model.clone();
        post.id = format!("freshness-{round}");
        post.key = PostKey::for_platform_id(post.platform, &post.id);
        post.text = format!("{word} {}", post.text);
        let query = starling_query::parse(&word).map_err(|error| anyhow::anyhow!("{error}"))?;
        let started = Instant::now();
        store.write(&mut [&mut post], &[])?;
        indexer.add_new(&post)?;
        indexer.commit()?;
        let found = search(store, index, &query, now, SortBy::Time, 1)?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(found.total == 1, "the new post {} was not found", post.key);
    }
    // The queries timed next must not share the machine with these commits' merges.
    indexer.finish()?;
    times.sort_by(f64::total_cmp);
    Ok((percentile(&times, 0.5), percentile(&times, 0.99)))
}

#[derive(Debug, Serialize)]
struct QueryFigure {
    query: &'static str,
    matches: usize,
    p50_ms: f64,
    p99_ms: f64,
}

/// The queries `bench search` times: a term, a phrase, a five-clause boolean, and a facet
/// count with a 24-hour histogram.
const QUERIES: [(&str, bool); 4] = [
    ("تهران", false),
    ("\"security forces\"", false),
    (
        "(#iranelection OR #ایران) lang:fa -is:share has:links",
        false,
    ),
    ("platform:twitter since:-24h", true),
];

fn archive(args: ArchiveArgs, queries: bool, stdout: &mut dyn Write) -> anyhow::Result<()> {
    use starling_pipeline::sinks::StoreSink;
    use starling_pipeline::sources::{FileSource, ScenarioSource};
    use starling_pipeline::{Decode, RunOptions, run as run_pipeline};
    use starling_store::{SearchIndex, SortBy, Store, search};

    let work = args
        .work_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("starling-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let dir = work.join("data");
    let result = (|| -> anyhow::Result<ArchiveFigures> {
        let mut generator = Generator::new(Config {
            posts: args.posts,
            ..Config::default()
        })
        .map_err(|error| anyhow::anyhow!("cannot generate: {error}"))?;
        let end = generator.ground_truth().end;
        let input = work.join("scenario");
        if !args.no_files {
            std::fs::create_dir_all(&input)?;
            super::simulate::write_files(&mut generator, &input)?;
        }
        let store = Store::open(&dir)?;
        let index = SearchIndex::open(&dir)?;
        let now = chrono::Utc::now();
        let mut sink = StoreSink::new(&store, &dir, now).with_index(index.indexer()?);
        // From here on the clock runs: records read, decoded, archived, indexed, committed.
        let started = Instant::now();
        if args.no_files {
            run_pipeline(
                &mut ScenarioSource::new(generator),
                &mut Decode::default(),
                &mut sink,
                RunOptions::default(),
            )?;
        } else {
            run_pipeline(
                &mut FileSource::new(&[input], None, now),
                &mut Decode::default(),
                &mut sink,
                RunOptions::default(),
            )?;
        }
        let seconds = started.elapsed().as_secs_f64();
        drop(sink);
        let posts = store.post_count()?;
        let (searchable_p50_ms, searchable_p99_ms) =
            time_to_searchable(&store, &index, end, args.repeats)?;
        let mut figures = ArchiveFigures {
            posts,
            index_posts_per_sec: posts as f64 / seconds.max(1e-9),
            bytes_per_post: folder_bytes(&dir) as f64 / posts.max(1) as f64,
            query_p50_ms: None,
            query_p99_ms: None,
            rss_bytes: 0,
            searchable_p50_ms,
            searchable_p99_ms,
            queries: Vec::new(),
        };
        if queries {
            let mut all = Vec::new();
            for (text, summarise) in QUERIES {
                let query = starling_query::parse(text)
                    .map_err(|error| anyhow::anyhow!("{text}: {error}"))?;
                let mut times = Vec::with_capacity(args.repeats);
                let mut matches = 0;
                for _ in 0..args.repeats.max(1) {
                    let started = Instant::now();
                    // A facet query counts every match by hashtag, author, language, domain,
                    // platform and 15-minute bucket, as `starling search --facets --histogram` does.
                    let found = search(&store, &index, &query, end, SortBy::Time, 20)?;
                    if summarise {
                        index.summarise(&query, end, 10)?;
                    }
                    matches = found.total;
                    times.push(started.elapsed().as_secs_f64() * 1000.0);
                }
                all.extend(times.iter().copied());
                times.sort_by(f64::total_cmp);
                figures.queries.push(QueryFigure {
                    query: text,
                    matches,
                    p50_ms: percentile(&times, 0.5),
                    p99_ms: percentile(&times, 0.99),
                });
            }
            all.sort_by(f64::total_cmp);
            figures.query_p50_ms = Some(percentile(&all, 0.5));
            figures.query_p99_ms = Some(percentile(&all, 0.99));
        }
        figures.rss_bytes = peak_rss();
        Ok(figures)
    })();
    let _ = std::fs::remove_dir_all(&work);
    let figures = result?;
    if args.json {
        crate::terminal::json_line(stdout, &figures)?;
        return Ok(());
    }
    writeln!(
        stdout,
        "{} posts archived and indexed at {} posts/s; {:.0} bytes per post on disk; peak memory {:.0} MiB",
        terminal::count(figures.posts),
        terminal::count(figures.index_posts_per_sec as u64),
        figures.bytes_per_post,
        figures.rss_bytes as f64 / (1 << 20) as f64
    )?;
    writeln!(
        stdout,
        "a new post is searchable {:.1} ms after it is handed to the archive (p50; p99 {:.1} ms)",
        figures.searchable_p50_ms, figures.searchable_p99_ms
    )?;
    for query in &figures.queries {
        writeln!(
            stdout,
            "  {:<56} {:>9} matches  p50 {:>8.2} ms  p99 {:>8.2} ms",
            query.query,
            terminal::count(query.matches as u64),
            query.p50_ms,
            query.p99_ms
        )?;
    }
    Ok(())
}

fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() - 1) as f64 * fraction).round() as usize]
}

fn folder_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                folder_bytes(&path)
            } else {
                entry.metadata().map_or(0, |meta| meta.len())
            }
        })
        .sum()
}

/// The process's peak resident memory (Linux `VmHWM`), 0 where unknown.
fn peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix("VmHWM:").map(|value| {
                    value
                        .trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
            })
        })
        .flatten()
        .map_or(0, |kib| kib * 1024)
}
