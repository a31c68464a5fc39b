//! `starling bench`: figures for the hot paths, measured in this process on one core.

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
    let What::Decode(args) = args.what;
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
            serde_json::to_writer(&mut *stdout, figure)?;
            writeln!(stdout)?;
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
