//! `starling bench enrich`: the throughput of each enrichment stage (language, sentiment,
//! place, links) on one core, over generated posts in the scenario's languages.

use std::io::Write;
use std::time::Instant;

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
    type Stage<'a> = (&'static str, Box<dyn Fn(&Post) -> usize + 'a>);
    let stages: Vec<Stage> = vec![
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
    let mut figures = Vec::new();
    for (stage, run) in &stages {
        let mut best = f64::INFINITY;
        for _ in 0..args.repeats.max(1) {
            let started = Instant::now();
            let mut sink = 0usize;
            for post in &posts {
                sink = sink.wrapping_add(run(post));
            }
            std::hint::black_box(sink);
            best = best.min(started.elapsed().as_secs_f64());
        }
        figures.push(StageFigure {
            stage,
            posts: posts.len(),
            bytes,
            seconds: best,
            posts_per_sec: posts.len() as f64 / best.max(1e-9),
            mb_per_sec: bytes as f64 / 1e6 / best.max(1e-9),
        });
    }
    if args.json {
        for figure in &figures {
            crate::terminal::json_line(stdout, figure)?;
        }
        return Ok(());
    }
    writeln!(
        stdout,
        "{} generated posts, {:.1} MB of text, one core, best of {}:",
        posts.len(),
        bytes as f64 / 1e6,
        args.repeats.max(1)
    )?;
    writeln!(stdout, "{:<10} {:>12} {:>10}", "stage", "posts/s", "MB/s")?;
    for figure in &figures {
        writeln!(
            stdout,
            "{:<10} {:>12.0} {:>10.1}",
            figure.stage, figure.posts_per_sec, figure.mb_per_sec
        )?;
    }
    Ok(())
}
