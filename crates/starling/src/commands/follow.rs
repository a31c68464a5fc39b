//! `starling follow KIND URL...`: live sources in the foreground, storing what arrives and
//! showing each new post as it does; `starling sources`: every connector's health and the
//! gaps recorded.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use serde::Serialize;
use starling_pipeline::sinks::StoreSink;
use starling_pipeline::{Decode, RunOptions, run as run_pipeline};
use starling_sources::{Gap, Health, Kind, SourceConfig};
use starling_store::views::PostView;
use starling_store::{Outcome, PostStatus, SearchIndex, Store};

use super::Context;
use crate::terminal::safe;

/// Flags of `starling follow`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// rss, mastodon, jetstream or x.
    #[arg(value_parser = parse_kind)]
    kind: Kind,
    /// Feed URLs; Mastodon servers (https://mastodon.social); Jetstream endpoints
    /// (wss://jetstream2.us-east.bsky.network/subscribe); the X API base [default for x:
    /// https://api.x.com].
    #[arg(value_name = "URL")]
    urls: Vec<String>,
    /// Stop after this long (`90s`, `10m`, `2h`); Ctrl-C stops it in any case.
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    duration: Option<Duration>,
    /// One JSON object per new post, as `search --json` prints them.
    #[arg(long)]
    json: bool,
    /// Seconds between polls (feeds: 300, X recent search: 60).
    #[arg(long, value_name = "SECONDS")]
    interval: Option<u64>,
    /// Mastodon: public, local, hashtag:TAG or list:ID [default: public].
    #[arg(long)]
    stream: Option<String>,
    /// Jetstream: a collection wanted (repeat) [default: app.bsky.feed.post].
    #[arg(long = "collection", value_name = "NSID")]
    collections: Vec<String>,
    /// Jetstream: an account wanted, by DID (repeat) [default: all].
    #[arg(long = "did", value_name = "DID")]
    dids: Vec<String>,
    /// Jetstream: ask for zstd frames, inflated with this dictionary (Jetstream's own).
    #[arg(long, value_name = "FILE")]
    zstd_dictionary: Option<PathBuf>,
    /// X: `stream` (filtered stream, rules from the watches) or `search` (recent search).
    #[arg(long)]
    mode: Option<String>,
    /// X recent search: the query, in X's syntax.
    #[arg(long)]
    query: Option<String>,
    /// A file holding the token (mode 600). Tokens are never taken on the command line;
    /// without this, STARLING_X_BEARER_TOKEN or STARLING_MASTODON_TOKEN is read.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// A non-public address a connector may reach (IP, IP:port, host, host:port, or *).
    #[arg(long = "allow-private", value_name = "ADDRESS")]
    allow_private: Vec<String>,
    /// Seconds without a byte before a stream is declared stalled [default: 90].
    #[arg(long, value_name = "SECONDS")]
    idle_timeout: Option<u64>,
}

fn parse_kind(text: &str) -> Result<Kind, String> {
    text.parse()
}

/// `90s`, `10m`, `2h`, `1d`, or plain seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text, "s"), |at| text.split_at(at));
    let value: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a duration like 90s, 10m or 2h"))?;
    let seconds = match unit {
        "s" => value,
        "m" => value * 60,
        "h" => value * 3600,
        "d" => value * 86_400,
        _ => return Err(format!("{text:?}: the unit is s, m, h or d")),
    };
    Ok(Duration::from_secs(seconds))
}

impl Args {
    fn config(&self) -> SourceConfig {
        SourceConfig {
            kind: Some(self.kind),
            urls: self.urls.clone(),
            interval_secs: self.interval,
            allow_private: self.allow_private.clone(),
            stream: self.stream.clone(),
            collections: self.collections.clone(),
            dids: self.dids.clone(),
            compress: self.zstd_dictionary.is_some(),
            zstd_dictionary: self.zstd_dictionary.clone(),
            mode: self.mode.clone(),
            query: self.query.clone(),
            token_file: self.token_file.clone(),
            idle_timeout_secs: self.idle_timeout,
            ..SourceConfig::default()
        }
    }
}

/// The watches' names and queries, for X rules.
pub fn watch_list(context: &Context, store: &Store) -> anyhow::Result<starling_sources::WatchList> {
    let watches: Vec<(String, String)> = super::watch::all_watches(context, store)?
        .into_values()
        .filter(|(watch, _)| watch.active)
        .map(|(watch, _)| (watch.name, watch.query))
        .collect();
    Ok(Arc::new(move || Ok(watches.clone())))
}

#[derive(Serialize)]
struct Summary<'a> {
    kind: &'static str,
    sources: &'a [Health],
    gaps: &'a [Gap],
}

pub fn run(context: &Context, args: Args, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let config = args.config();
    config.validate()?;
    let store = Store::open(&context.data_dir)?;
    let index = SearchIndex::open(&context.data_dir)?;
    let matcher = super::watch::matcher(context, &store)?;
    let options = starling_sources::Options {
        data_dir: Some(context.data_dir.clone()),
        watches: watch_list(context, &store)?,
        ..starling_sources::Options::default()
    };
    let (sources, mut live) = starling_sources::start(&[config], options)?;
    let registry = Arc::clone(sources.registry());
    let (done_sender, done) = tokio::sync::oneshot::channel::<()>();
    let duration = args.duration;
    let watched = Arc::clone(&registry);
    let stopper = std::thread::spawn(move || {
        let mut sources = sources;
        if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            runtime.block_on(async {
                let limit = async {
                    match duration {
                        Some(duration) => tokio::time::sleep(duration).await,
                        None => std::future::pending().await,
                    }
                };
                // Every connector ended (a configuration it cannot use): nothing will come.
                let all_ended = async {
                    loop {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        let health = watched.health(chrono::Utc::now());
                        if !health.is_empty()
                            && health
                                .iter()
                                .all(|health| health.state == starling_sources::State::Stopped)
                        {
                            return;
                        }
                    }
                };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    () = limit => {}
                    () = all_ended => {}
                    _ = done => {}
                }
            });
        }
        sources.stop();
    });
    stdout.flush()?;
    let json = args.json;
    let failure: Arc<Mutex<Option<std::io::Error>>> = Arc::default();
    let failed = Arc::clone(&failure);
    let mut sink = StoreSink::new(&store, &context.data_dir, chrono::Utc::now())
        .with_index(index.indexer()?)
        .with_watches(matcher)
        .commit_every(Duration::from_millis(500))
        .on_post(move |post, outcome| {
            if outcome != Outcome::New {
                return;
            }
            let line = if json {
                serde_json::to_string(&PostView::new(post, PostStatus::default()))
                    .unwrap_or_default()
            } else {
                format!(
                    "{} {} @{}: {}",
                    post.created_at.format("%Y-%m-%d %H:%M:%S"),
                    post.platform.as_str(),
                    safe(&post.author.handle),
                    safe(&post.text.replace(['\n', '\r'], " "))
                )
            };
            // Printed as it arrives (not through the buffered writer, which is flushed
            // before the run starts).
            let mut out = std::io::stdout().lock();
            if let Err(error) = writeln!(out, "{line}").and_then(|()| out.flush()) {
                failed
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .get_or_insert(error);
            }
        });
    let options = RunOptions {
        batch_size: 512,
        ..RunOptions::default()
    };
    let result = run_pipeline(&mut live, &mut Decode::default(), &mut sink, options);
    let _ = done_sender.send(());
    let _ = stopper.join();
    let summary = std::mem::take(&mut sink.summary);
    drop(sink);
    drop(live);
    result.context("following stopped; everything acknowledged before the error is archived")?;
    if let Some(error) = failure
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
    {
        return Err(error.into());
    }
    let total = starling_pipeline::sinks::FormatSummary::total(summary.values());
    let health = registry.health(chrono::Utc::now());
    let gaps = registry.gaps(100);
    if json {
        eprintln!(
            "{}",
            serde_json::to_string(&Summary {
                kind: "summary",
                sources: &health,
                gaps: &gaps,
            })?
        );
    } else {
        for health in &health {
            if let Some(error) = &health.last_error {
                eprintln!("{}: {}", safe(&health.id), safe(error));
            }
        }
        eprintln!(
            "stopped: {} new posts, {} already archived, {} rejected; {} gaps recorded (starling sources shows them)",
            total.imported,
            total.duplicates,
            total.rejected,
            gaps.len()
        );
    }
    Ok(())
}

/// Flags of `starling sources`.
#[derive(Debug, clap::Args)]
pub struct SourcesArgs {
    /// As JSON: `{"type":"source",...}` per connector, then `{"type":"gap",...}` per gap.
    #[arg(long)]
    json: bool,
    /// How many of the latest gaps to show.
    #[arg(long, default_value_t = 20)]
    gaps: usize,
}

#[derive(Serialize)]
struct Line<'a, T: Serialize> {
    #[serde(rename = "type")]
    line: &'static str,
    #[serde(flatten)]
    item: &'a T,
}

pub fn sources(context: &Context, args: SourcesArgs, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let folder = context.data_dir.join("sources");
    let snapshot = starling_sources::health::read_snapshot(&folder)?;
    let gaps = starling_sources::health::read_gaps(
        &folder.join(starling_sources::health::GAPS_FILE),
        args.gaps,
    )?;
    let Some(snapshot) = snapshot else {
        if args.json {
            return Ok(());
        }
        writeln!(
            stdout,
            "No live source has run with {} yet: `starling follow` or [[sources]] in the configuration with `starling serve` starts them.",
            context.data_dir.display()
        )?;
        return Ok(());
    };
    let now = chrono::Utc::now();
    let stale = (now - snapshot.written_at).num_seconds() > 10;
    let running = snapshot.running && !stale;
    if args.json {
        for health in &snapshot.sources {
            let mut health = health.clone();
            if !running {
                health.connected = false;
                health.state = starling_sources::State::Stopped;
            }
            serde_json::to_writer(
                &mut *stdout,
                &Line {
                    line: "source",
                    item: &health,
                },
            )?;
            writeln!(stdout)?;
        }
        for gap in &gaps {
            serde_json::to_writer(
                &mut *stdout,
                &Line {
                    line: "gap",
                    item: gap,
                },
            )?;
            writeln!(stdout)?;
        }
        return Ok(());
    }
    if running {
        writeln!(
            stdout,
            "Running (process {}), as of {}:",
            snapshot.process,
            snapshot.written_at.format("%H:%M:%S")
        )?;
    } else {
        writeln!(
            stdout,
            "Not running; last seen {}:",
            snapshot
                .written_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )?;
    }
    for health in &snapshot.sources {
        let state = if running {
            format!("{:?}", health.state).to_lowercase()
        } else {
            "stopped".into()
        };
        writeln!(
            stdout,
            "  {}  {state}  received {}  {}/min  lag {}  errors {}  reconnects {}",
            safe(&health.id),
            health.received,
            health.per_minute,
            health
                .lag_ms
                .map_or_else(|| "-".into(), |lag| format!("{:.1}s", lag as f64 / 1000.0)),
            health.errors,
            health.reconnects,
        )?;
        if let Some(error) = &health.last_error {
            writeln!(stdout, "      last error: {}", safe(error))?;
        }
        if let Some(gap) = &health.open_gap {
            writeln!(
                stdout,
                "      gap open since {} ({})",
                gap.from.format("%Y-%m-%d %H:%M:%S"),
                gap.cause.as_str()
            )?;
        }
        for note in &health.notes {
            writeln!(stdout, "      note: {}", safe(note))?;
        }
    }
    if gaps.is_empty() {
        writeln!(stdout, "No gaps recorded.")?;
    } else {
        writeln!(stdout, "Gaps (latest {}):", gaps.len())?;
        for gap in &gaps {
            let until = gap.until.map_or_else(
                || "now".into(),
                |until| until.format("%H:%M:%S").to_string(),
            );
            let recovery = match &gap.recovery {
                starling_sources::Recovery::None => "not recovered".to_owned(),
                starling_sources::Recovery::Cursor { cursor } => {
                    format!("replayed from cursor {cursor}")
                }
                starling_sources::Recovery::Backfill { posts, complete } => format!(
                    "backfilled {posts} posts{}",
                    if *complete { "" } else { ", incomplete" }
                ),
                starling_sources::Recovery::Refetched { complete } => match complete {
                    Some(true) => "refetched, complete".into(),
                    Some(false) => "refetched; entries may have scrolled off".into(),
                    None => "refetched".into(),
                },
            };
            writeln!(
                stdout,
                "  {}  {} - {}  {}  {}  ({})",
                safe(&gap.source),
                gap.from.format("%Y-%m-%d %H:%M:%S"),
                until,
                gap.cause.as_str(),
                recovery,
                safe(&gap.detail),
            )?;
        }
    }
    Ok(())
}
