//! `starling bench enrich`: the throughput of each enrichment stage (language, sentiment,
//! place, links) on one core, over generated posts in the scenario's languages, or over real
//! text (`--text`: lines of `.txt` files, the `tweet` or `text` column of `.csv` files).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;

use serde::Serialize;
use starling_formats::{Context, decode};
use starling_model::{Post, Source};
use starling_simulate::{Config, Generator};

/// Flags of `starling bench enrich`.
#[derive(Debug, clap::Args)]
pub struct EnrichArgs {
    /// Generated posts to enrich.
    #[arg(long, default_value_t = 200_000)]
    posts: u64,
    /// Times each stage runs over the posts; the best run is reported.
    #[arg(long, default_value_t = 3)]
    repeats: u32,
    /// Real text instead of generated posts: `.txt` files (a post per line), `.csv` files (the
    /// column named `tweet` or `text`), or folders of them. Only the text stages run (language,
    /// sentiment); place and links need whole posts.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    text: Vec<PathBuf>,
    /// One JSON object per stage.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct StageFigure {
    stage: &'static str,
    posts: usize,
    bytes: usize,
    seconds: f64,
    posts_per_sec: f64,
    mb_per_sec: f64,
}

pub fn run(args: EnrichArgs, stdout: &mut dyn Write) -> anyhow::Result<()> {
    if !args.text.is_empty() {
        return run_on_text(&args, stdout);
    }
    let generator = Generator::new(Config {
        posts: args.posts,
        ..Config::default()
    })
    .map_err(|error| anyhow::anyhow!("cannot generate: {error}"))?;
    let source = Source::Generated("bench".into());
    let context = Context::new(&source, chrono::DateTime::UNIX_EPOCH);
    let mut posts: Vec<Post> = Vec::new();
    for output in generator {
        posts.extend(decode(output.format, &output.bytes, &context).posts);
    }
    let bytes: usize = posts.iter().map(|post| post.text.len()).sum();
    // Load every model before timing.
    if let Some(post) = posts.first() {
        starling_enrich::enrichment(post);
    }
    let stages: Vec<Stage<Post>> = vec![
        (
            "language",
            Box::new(|post| starling_enrich::langid::detect(&post.text).code.len()),
        ),
        (
            "sentiment",
            Box::new(|post| starling_enrich::sentiment::analyze(&post.text).label as usize),
        ),
        (
            "place",
            Box::new(|post| starling_enrich::place::resolve(post).map_or(0, |p| p.name.len())),
        ),
        (
            "links",
            Box::new(|post| {
                post.entities
                    .urls
                    .iter()
                    .filter_map(|url| {
                        starling_enrich::links::canonical_url(
                            url.expanded_url.as_deref().unwrap_or(&url.url),
                        )
                    })
                    .count()
            }),
        ),
        (
            "all",
            Box::new(|post| starling_enrich::enrichment(post).links.len()),
        ),
    ];
    let figures = time_stages(&posts, bytes, args.repeats, &stages);
    let what = format!("{} generated posts", posts.len());
    report(&figures, &what, &args, stdout)
}

/// A stage's name and what it does to one item.
type Stage<'a, T> = (&'static str, Box<dyn Fn(&T) -> usize + Sync + 'a>);

/// Times each stage over every item, best of `repeats`.
fn time_stages<T: Sync>(
    items: &[T],
    bytes: usize,
    repeats: u32,
    stages: &[Stage<'_, T>],
) -> Vec<StageFigure> {
    let mut figures = Vec::new();
    for (stage, run) in stages {
        let mut best = f64::INFINITY;
        for _ in 0..repeats.max(1) {
            // Each run on a thread of its own, so that what a stage memoizes per thread (the
            // language detector's words) starts empty: every text is seen once, as in a stream.
            let seconds = std::thread::scope(|scope| {
                scope
                    .spawn(|| {
                        let started = Instant::now();
                        let mut sink = 0usize;
                        for item in items {
                            sink = sink.wrapping_add(run(item));
                        }
                        std::hint::black_box(sink);
                        started.elapsed().as_secs_f64()
                    })
                    .join()
            });
            best = best.min(seconds.unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        }
        figures.push(StageFigure {
            stage,
            posts: items.len(),
            bytes,
            seconds: best,
            posts_per_sec: items.len() as f64 / best.max(1e-9),
            mb_per_sec: bytes as f64 / 1e6 / best.max(1e-9),
        });
    }
    figures
}

fn report(
    figures: &[StageFigure],
    what: &str,
    args: &EnrichArgs,
    stdout: &mut dyn Write,
) -> anyhow::Result<()> {
    if args.json {
        for figure in figures {
            crate::terminal::json_line(stdout, figure)?;
        }
        return Ok(());
    }
    let bytes = figures.first().map_or(0, |figure| figure.bytes);
    writeln!(
        stdout,
        "{what}, {:.1} MB of text, one core, best of {}:",
        bytes as f64 / 1e6,
        args.repeats.max(1)
    )?;
    writeln!(stdout, "{:<10} {:>12} {:>10}", "stage", "posts/s", "MB/s")?;
    for figure in figures {
        writeln!(
            stdout,
            "{:<10} {:>12.0} {:>10.1}",
            figure.stage, figure.posts_per_sec, figure.mb_per_sec
        )?;
    }
    Ok(())
}

/// The language and sentiment stages over real text.
fn run_on_text(args: &EnrichArgs, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let mut texts = Vec::new();
    for path in &args.text {
        read_texts(path, &mut texts)?;
    }
    anyhow::ensure!(!texts.is_empty(), "no text found in the paths given");
    let bytes: usize = texts.iter().map(String::len).sum();
    starling_enrich::warm_up();
    let stages: Vec<Stage<String>> = vec![
        (
            "language",
            Box::new(|text| starling_enrich::langid::detect(text).code.len()),
        ),
        (
            "sentiment",
            Box::new(|text| starling_enrich::sentiment::analyze(text).label as usize),
        ),
    ];
    let figures = time_stages(&texts, bytes, args.repeats, &stages);
    let what = format!("{} texts", texts.len());
    report(&figures, &what, args, stdout)
}

/// Appends the texts of a `.txt` or `.csv` file, or of every such file under a folder.
fn read_texts(path: &Path, texts: &mut Vec<String>) -> anyhow::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("reading the folder {}", path.display()))?
            .map(|entry| entry.map(|entry| entry.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for entry in entries {
            let extension = entry.extension().and_then(|e| e.to_str());
            // Folders are followed unless they are links (a link may lead back up).
            let folder = std::fs::symlink_metadata(&entry).is_ok_and(|meta| meta.is_dir());
            if folder || (!entry.is_dir() && matches!(extension, Some("txt" | "csv"))) {
                read_texts(&entry, texts)?;
            }
        }
        return Ok(());
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if path.extension().and_then(|e| e.to_str()) == Some("csv") {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(&bytes[..]);
        let column = reader
            .headers()
            .with_context(|| format!("{}: reading the header", path.display()))?
            .iter()
            .position(|name| matches!(name.trim(), "tweet" | "text"))
            .with_context(|| format!("{}: no column named tweet or text", path.display()))?;
        for (line, record) in reader.records().enumerate() {
            let record =
                record.with_context(|| format!("{}: record {}", path.display(), line + 1))?;
            if let Some(text) = record.get(column) {
                texts.push(text.to_owned());
            }
        }
    } else {
        let text = String::from_utf8_lossy(&bytes);
        texts.extend(
            text.lines()
                .filter(|line| !line.is_empty())
                .map(str::to_owned),
        );
    }
    Ok(())
}
