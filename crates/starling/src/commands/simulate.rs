//! `starling simulate`: write a generated scenario to files, each platform in its own shape.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, bail};
use serde::Serialize;
use starling_simulate::Generator;

use super::{Context, ScenarioArgs};
use crate::terminal;

/// Flags of `starling simulate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// How many posts to generate [default: 100000]
    #[arg(long)]
    posts: Option<u64>,
    /// The folder to write; a previous scenario there is replaced [default: DATA_DIR/scenario]
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    json: bool,
}

/// The files a scenario consists of; only these are removed when a scenario is replaced.
const SCENARIO_FILES: &[&str] = &[
    "twitter-v2.jsonl",
    "mastodon.jsonl",
    "bluesky-jetstream.jsonl",
    "ground-truth.json",
];
const SCENARIO_FOLDERS: &[&str] = &["rss"];
const GROUND_TRUTH: &str = "ground-truth.json";

#[derive(Debug, Default, Serialize)]
pub struct FileSummary {
    path: String,
    records: u64,
    bytes: u64,
}

#[derive(Debug, Serialize)]
struct Summary {
    out: String,
    seed: u64,
    posts: u64,
    hours: u32,
    start: String,
    seconds: f64,
    posts_per_second: f64,
    bytes: u64,
    files: Vec<FileSummary>,
    events: usize,
}

pub fn run(context: &Context, args: Args, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let config = args
        .scenario
        .resolve(args.posts, &context.config.simulate, 100_000);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| context.data_dir.join("scenario"));
    let mut generator = Generator::new(config.clone())
        .map_err(|error| anyhow::anyhow!("cannot generate this scenario: {error}"))?;
    prepare(&out)?;

    let started = Instant::now();
    let mut files = write_files(&mut generator, &out)?;
    let truth = generator.ground_truth();
    let truth_json = serde_json::to_vec_pretty(truth)?;
    let truth_path = out.join(GROUND_TRUTH);
    fs::write(&truth_path, &truth_json)
        .with_context(|| format!("writing {}", truth_path.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    files.insert(
        GROUND_TRUTH.into(),
        FileSummary {
            path: GROUND_TRUTH.into(),
            records: truth.events.len() as u64,
            bytes: truth_json.len() as u64,
        },
    );

    let summary = Summary {
        out: out.display().to_string(),
        seed: config.seed,
        posts: truth.posts,
        hours: config.hours,
        start: truth.start.to_rfc3339(),
        seconds,
        posts_per_second: truth.posts as f64 / seconds.max(1e-9),
        bytes: files.values().map(|file| file.bytes).sum(),
        files: files.into_values().collect(),
        events: truth.events.len(),
    };
    if args.json {
        writeln!(stdout, "{}", serde_json::to_string(&summary)?)?;
    } else {
        print_summary(stdout, &summary)?;
    }
    Ok(())
}

/// Writes every record `generator` yields into `out` (JSON lines files, and one file per RSS
/// poll), and says what each file (RSS: the folder) got.
pub fn write_files(
    generator: &mut Generator,
    out: &Path,
) -> anyhow::Result<BTreeMap<String, FileSummary>> {
    let mut lines: BTreeMap<String, BufWriter<File>> = BTreeMap::new();
    let mut files: BTreeMap<String, FileSummary> = BTreeMap::new();
    for output in generator {
        // RSS documents are one file per poll; they are summarised by their folder.
        let group = if output.is_line {
            output.path.clone()
        } else {
            "rss/".to_owned()
        };
        let summary = files.entry(group.clone()).or_insert_with(|| FileSummary {
            path: group,
            ..FileSummary::default()
        });
        summary.records += 1;
        summary.bytes += output.bytes.len() as u64 + u64::from(output.is_line);
        let path = out.join(&output.path);
        if output.is_line {
            let writer = match lines.entry(output.path.clone()) {
                std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
                std::collections::btree_map::Entry::Vacant(entry) => {
                    let file = File::create(&path)
                        .with_context(|| format!("creating {}", path.display()))?;
                    entry.insert(BufWriter::with_capacity(1 << 20, file))
                }
            };
            writer
                .write_all(&output.bytes)
                .and_then(|()| writer.write_all(b"\n"))
                .with_context(|| format!("writing {}", path.display()))?;
        } else {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            fs::write(&path, &output.bytes)
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    for (name, mut writer) in lines {
        writer
            .flush()
            .with_context(|| format!("writing {}", out.join(&name).display()))?;
    }
    Ok(files)
}

/// Makes `out` ready: created when missing, cleared of a previous scenario, and refused when it
/// holds anything else (we never delete files we did not write).
fn prepare(out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        let mut entries = fs::read_dir(out)
            .with_context(|| format!("reading {}", out.display()))?
            .peekable();
        if entries.peek().is_some() {
            if !out.join(GROUND_TRUTH).is_file() {
                bail!(
                    "{} is not empty and holds no scenario ({GROUND_TRUTH} is missing); choose another --out",
                    out.display()
                );
            }
            for name in SCENARIO_FILES {
                let path = out.join(name);
                if path.exists() {
                    fs::remove_file(&path)
                        .with_context(|| format!("removing {}", path.display()))?;
                }
            }
            for name in SCENARIO_FOLDERS {
                let path = out.join(name);
                if path.exists() {
                    fs::remove_dir_all(&path)
                        .with_context(|| format!("removing {}", path.display()))?;
                }
            }
        }
    }
    fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))
}

fn print_summary(stdout: &mut dyn Write, summary: &Summary) -> std::io::Result<()> {
    writeln!(
        stdout,
        "Generated {} posts (seed {}, {} hours from {}) in {:.2} s: {} posts/s",
        terminal::count(summary.posts),
        summary.seed,
        summary.hours,
        summary.start,
        summary.seconds,
        terminal::count(summary.posts_per_second as u64),
    )?;
    for file in &summary.files {
        let unit = match file.path.as_str() {
            "rss/" => "documents",
            GROUND_TRUTH => "events",
            _ => "lines",
        };
        writeln!(
            stdout,
            "  {:<26} {:>10} {:<9} {:>8.1} MB",
            file.path,
            terminal::count(file.records),
            unit,
            file.bytes as f64 / 1e6
        )?;
    }
    writeln!(stdout, "Written to {}", summary.out)?;
    Ok(())
}
