//! `starling bench detect`: the detectors' speed on one core, and their memory as the stream
//! grows.

use std::io::Write;
use std::time::{Duration, Instant};

use serde::Serialize;
use starling_detect::{Detectors, Settings};
use starling_formats::{Context, decode};
use starling_model::Source;
use starling_simulate::{Config, Generator};

use crate::terminal;

/// Flags of `starling bench detect`.
#[derive(Debug, clap::Args)]
pub struct DetectArgs {
    /// Stream lengths at which to report, comma-separated; one stream as long as the largest.
    #[arg(long, value_delimiter = ',', default_value = "1000000,10000000")]
    posts: Vec<u64>,
    /// One JSON object per stream length.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct DetectFigure {
    posts: u64,
    posts_per_sec_per_core: f64,
    detections: usize,
    rss_bytes: u64,
}

pub fn run(args: DetectArgs, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let mut checkpoints = args.posts.clone();
    checkpoints.sort_unstable();
    let total = checkpoints.last().copied().unwrap_or(1_000_000);
    let generator = Generator::new(Config {
        posts: total,
        ..Config::default()
    })
    .map_err(|error| anyhow::anyhow!("cannot generate: {error}"))?;
    let source = Source::Generated("bench".into());
    let context = Context::new(&source, chrono::DateTime::UNIX_EPOCH);
    let mut detectors = Detectors::new(Settings::default());
    let mut spent = Duration::ZERO;
    let mut posts = 0u64;
    let mut detections = 0;
    let mut next = checkpoints.iter().peekable();
    for output in generator {
        // Only the detectors are timed; generating and decoding are not.
        let decoded = decode(output.format, &output.bytes, &context).posts;
        let started = Instant::now();
        for post in &decoded {
            detections += detectors.observe(post).len();
        }
        spent += started.elapsed();
        posts += decoded.len() as u64;
        while let Some(&&checkpoint) = next.peek() {
            if posts < checkpoint {
                break;
            }
            next.next();
            let figure = DetectFigure {
                posts,
                posts_per_sec_per_core: posts as f64 / spent.as_secs_f64().max(1e-9),
                detections,
                rss_bytes: super::watches::current_rss(),
            };
            if args.json {
                crate::terminal::json_line(stdout, &figure)?;
            } else {
                writeln!(
                    stdout,
                    "{:>12} posts: {:>9} posts/s per core through the detectors; {} detections; {:.0} MiB resident",
                    terminal::count(figure.posts),
                    terminal::count(figure.posts_per_sec_per_core as u64),
                    figure.detections,
                    figure.rss_bytes as f64 / f64::from(1 << 20)
                )?;
            }
        }
    }
    Ok(())
}
