//! `starling demo`: the whole pipeline on a generated scenario, with nothing to install.

use std::io::Write;
use std::time::Instant;

use serde::Serialize;
use serde_json::json;
use starling_detect::{Detection, Detectors, InOrder, Kind, Settings};
use starling_pipeline::sinks::{Count, Tally};
use starling_pipeline::sources::ScenarioSource;
use starling_pipeline::{
    Batch, Decode, Item, Offset, PipelineError, RunOptions, Sink, run as run_pipeline,
};
use starling_simulate::{Event, Generator, GroundTruth};

use super::{Context, ScenarioArgs};
use crate::terminal::{self, safe};

/// Flags of `starling demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    scenario: ScenarioArgs,
    /// How many posts the scenario has [default: 200000]
    #[arg(long)]
    posts: Option<u64>,
    /// How many hashtags and accounts to list.
    #[arg(long, default_value_t = 10)]
    top: usize,
    /// Print one JSON object per line instead of tables (implies --report).
    #[arg(long)]
    json: bool,
    /// Run the scenario through the pipeline as fast as it goes and print what Starling saw,
    /// instead of serving the dashboard.
    #[arg(long)]
    report: bool,
    /// Where the dashboard listens.
    #[arg(long, default_value = super::serve::DEFAULT_ADDR, value_name = "HOST:PORT")]
    addr: String,
    /// Scenario seconds played per second [default: 720, 72 hours in 6 minutes]
    #[arg(long, default_value_t = 720.0)]
    speed: f64,
    /// Keep the demo's archive in this folder (it can then be searched, exported, served)
    /// instead of a temporary one removed on exit.
    #[arg(long, value_name = "DIR")]
    archive: Option<std::path::PathBuf>,
}

/// Watches the demo starts with: what an analyst of the scenario would set up.
const DEMO_WATCHES: [(&str, &str); 4] = [
    ("rooftops", "#پشت_بام OR \"الله اکبر\""),
    ("persian", "lang:fa -is:share"),
    ("campaign", "#StabilityNow"),
    (
        "english-news",
        "lang:en (#IranElection OR #Tehran OR tehran) -is:share",
    ),
];

pub fn run(context: &Context, args: Args, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let config = args
        .scenario
        .resolve(args.posts, &context.config.demo, 200_000);
    let generator = Generator::new(config.clone())
        .map_err(|error| anyhow::anyhow!("cannot generate this scenario: {error}"))?;
    if !(args.report || args.json) {
        return serve(context, &args, generator, stdout);
    }
    let started = Instant::now();
    let mut source = ScenarioSource::new(generator);
    let mut sink = DemoSink {
        tally: Tally::default(),
        detectors: InOrder::new(Detectors::new(Settings::default()), REORDER),
        detections: Vec::new(),
    };
    let stats = run_pipeline(
        &mut source,
        &mut Decode::default(),
        &mut sink,
        RunOptions::default(),
    )?;
    let DemoSink {
        tally, detections, ..
    } = sink;
    let seconds = started.elapsed().as_secs_f64();
    let truth = source.generator().ground_truth();
    let report = Report {
        seconds,
        records: stats.records,
        tally: &tally,
        detections: &detections,
        truth,
        top: args.top,
    };
    if args.json {
        report.print_json(stdout)
    } else {
        report.print_tables(stdout)
    }
}

/// Plays the scenario into a fresh archive in accelerated real time and serves the
/// dashboard over it.
fn serve(
    context: &Context,
    args: &Args,
    generator: Generator,
    stdout: &mut dyn Write,
) -> anyhow::Result<()> {
    if !(args.speed.is_finite() && args.speed > 0.0) {
        anyhow::bail!("--speed is a positive number of scenario seconds per second");
    }
    let address = super::serve::resolve(&args.addr)?;
    let temporary = args.archive.is_none();
    let folder = args.archive.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!(
            "starling-demo-{}-{}",
            std::process::id(),
            chrono::Utc::now().timestamp_millis()
        ))
    });
    let demo = Context {
        data_dir: folder.clone(),
        config: crate::config::Config::default(),
    };
    let access = super::serve::access(&demo, address, false, stdout)?;
    let store = starling_store::Store::open(&folder)?;
    for (name, query) in DEMO_WATCHES {
        store.put_watch(&starling_watch::WatchDef::new(name, query))?;
    }
    let matcher = super::watch::matcher(context, &store)?;
    drop(store);
    let truth = generator.config().clone();
    let options = starling_server::Options {
        // The scenario's feed documents and pages hold posts from hours before they arrive.
        reorder: REORDER,
        config_watches: context.config.watches.clone(),
        config_alerts: context.config.alerts.clone(),
        // Live sources of the configuration play beside the scenario.
        sources: context.config.sources.clone(),
        ..super::serve::options(access)
    };
    let app = starling_server::App::open(&folder, matcher, options)?;
    app.submit(starling_server::Job::Scenario {
        generator: Box::new(generator),
        speed: args.speed,
        done: None,
    });
    let minutes = f64::from(truth.hours) * 60.0 / args.speed;
    let what = format!(
        "a {}-hour crisis ({} posts, played at {}x: {minutes:.1} minutes) in {}",
        truth.hours,
        terminal::count(truth.posts),
        args.speed,
        if temporary {
            "a temporary archive".to_owned()
        } else {
            folder.display().to_string()
        }
    );
    let result = super::serve::serve(app, address, &what, stdout);
    if temporary {
        // Best effort: the demo's archive was only ever for this run.
        let _ = std::fs::remove_dir_all(&folder);
    }
    result
}

/// Counts every post and runs the detectors over each new one in the order of creation:
/// posts arrive in pages and feed documents that span hours, so [`InOrder`] holds them until
/// nothing older can still come ([`REORDER`] behind the newest post seen).
struct DemoSink {
    tally: Tally,
    detectors: InOrder,
    detections: Vec<Detection>,
}

/// How far behind the newest post a post may still arrive.
const REORDER: chrono::TimeDelta = chrono::TimeDelta::hours(6);

impl Sink for DemoSink {
    type Item = Item;

    fn write(&mut self, batch: Batch<Item>) -> Result<Offset, PipelineError> {
        for item in &batch.items {
            if self.tally.add(item)
                && let Item::Post(post) = item
            {
                let mut post = post.as_ref().clone();
                // The detectors do not read the raw record (they read the language).
                post.raw = Default::default();
                self.detections.extend(self.detectors.observe(post));
            }
        }
        Ok(Offset(batch.offsets.end))
    }

    fn finish(&mut self) -> Result<(), PipelineError> {
        self.detections.extend(self.detectors.finish());
        self.tally.finish()
    }
}

/// How many detections of each kind the tables show, strongest first.
const SHOWN_PER_KIND: usize = 5;

struct Report<'a> {
    seconds: f64,
    records: u64,
    tally: &'a Tally,
    detections: &'a [Detection],
    truth: &'a GroundTruth,
    top: usize,
}

#[derive(Serialize)]
struct CountLine<'a> {
    kind: &'static str,
    key: &'a str,
    posts: u64,
}

impl Report<'_> {
    fn posts_per_second(&self) -> f64 {
        self.tally.posts as f64 / self.seconds.max(1e-9)
    }

    fn print_json(&self, stdout: &mut dyn Write) -> anyhow::Result<()> {
        let tally = self.tally;
        writeln!(
            stdout,
            "{}",
            json!({
                "kind": "summary",
                "seed": self.truth.seed,
                "scenario_start": self.truth.start,
                "scenario_end": self.truth.end,
                "records": self.records,
                "posts": tally.posts,
                "duplicates": tally.duplicates,
                "shares": tally.shares,
                "replies": tally.replies,
                "quotes": tally.quotes,
                "geotagged": tally.geotagged,
                "rejects": tally.rejects,
                "seconds": self.seconds,
                "posts_per_second": self.posts_per_second(),
            })
        )?;
        let groups: [(&str, Vec<Count>); 7] = [
            ("platform", tally.platforms()),
            ("language", tally.languages()),
            ("detected_language", tally.detected_languages()),
            ("sentiment", tally.sentiments()),
            ("hashtag", tally.top_hashtags(self.top)),
            ("account", tally.top_authors(self.top)),
            ("notice", tally.notices()),
        ];
        for (kind, counts) in &groups {
            for count in counts {
                writeln!(
                    stdout,
                    "{}",
                    serde_json::to_string(&CountLine {
                        kind,
                        key: &count.key,
                        posts: count.count
                    })?
                )?;
            }
        }
        for reject in &tally.sample_rejects {
            writeln!(
                stdout,
                "{}",
                json!({"kind": "reject", "source": reject.source, "line": reject.line, "field": reject.field, "reason": reject.reason})
            )?;
        }
        for detection in self.detections {
            // The line's kind is `detected`; the detection's own kind is its `event`, as
            // for injected events.
            let mut value = serde_json::to_value(detection)?;
            if let Some(object) = value.as_object_mut() {
                let detection_kind = object.remove("kind");
                object.insert("kind".into(), json!("detected"));
                object.insert("event".into(), detection_kind.unwrap_or_default());
            }
            writeln!(stdout, "{value}")?;
        }
        for event in &self.truth.events {
            let mut value = serde_json::to_value(event)?;
            if let Some(object) = value.as_object_mut() {
                let event_kind = object.remove("kind");
                object.insert("kind".into(), json!("injected"));
                object.insert("event".into(), event_kind.unwrap_or_default());
            }
            writeln!(stdout, "{value}")?;
        }
        Ok(())
    }

    fn print_tables(&self, stdout: &mut dyn Write) -> anyhow::Result<()> {
        let tally = self.tally;
        let truth = self.truth;
        writeln!(
            stdout,
            "Starling demo: a simulated {}-hour crisis (seed {}), {} to {}",
            (truth.end - truth.start).num_hours(),
            truth.seed,
            truth.start.format("%Y-%m-%d %H:%M"),
            truth.end.format("%Y-%m-%d %H:%M UTC"),
        )?;
        writeln!(
            stdout,
            "Pipeline: generate -> decode -> count. {} records decoded into {} posts in {:.2} s ({} posts/s)",
            terminal::count(self.records),
            terminal::count(tally.posts),
            self.seconds,
            terminal::count(self.posts_per_second() as u64),
        )?;
        writeln!(
            stdout,
            "  {} shares, {} replies, {} quotes, {} geotagged; {} duplicates dropped (feeds repeat items across polls); {} rejected",
            terminal::count(tally.shares),
            terminal::count(tally.replies),
            terminal::count(tally.quotes),
            terminal::count(tally.geotagged),
            terminal::count(tally.duplicates),
            terminal::count(tally.rejects),
        )?;
        for reject in &tally.sample_rejects {
            writeln!(stdout, "  rejected: {}", safe(&reject.to_string()))?;
        }
        let total = tally.posts.max(1);
        print_counts(stdout, "Posts by platform", &tally.platforms(), total)?;
        print_counts(
            stdout,
            "Posts by declared language",
            &tally.languages(),
            total,
        )?;
        print_counts(
            stdout,
            "Posts by language as Starling detects it",
            &tally.detected_languages(),
            total,
        )?;
        print_counts(stdout, "Posts by sentiment", &tally.sentiments(), total)?;
        print_counts(stdout, "Top hashtags", &tally.top_hashtags(self.top), total)?;
        print_counts(
            stdout,
            "Most active accounts",
            &tally.top_authors(self.top),
            total,
        )?;
        let notices = tally.notices();
        if !notices.is_empty() {
            print_counts(stdout, "Stream notices", &notices, total)?;
        }
        writeln!(stdout)?;
        writeln!(
            stdout,
            "Noticed by Starling (stream time; `starling detect` replays an archive, `starling eval detect` scores this against the ground truth):"
        )?;
        for kind in [Kind::Burst, Kind::Story, Kind::Campaign, Kind::Silence] {
            let mut of_kind: Vec<&Detection> =
                self.detections.iter().filter(|d| d.kind == kind).collect();
            writeln!(
                stdout,
                "  {} {}",
                terminal::count(of_kind.len() as u64),
                match kind {
                    Kind::Burst => "bursts",
                    Kind::Story => "stories",
                    Kind::Campaign => "campaigns",
                    Kind::Silence => "silences",
                }
            )?;
            of_kind.sort_by(|a, b| b.score.total_cmp(&a.score));
            for detection in of_kind.iter().take(SHOWN_PER_KIND) {
                writeln!(
                    stdout,
                    "    {}  {}",
                    detection.detected_at.format("%m-%d %H:%M"),
                    safe(&detection.reason)
                )?;
            }
        }
        writeln!(stdout)?;
        writeln!(stdout, "Injected into this scenario (ground truth):")?;
        for event in &truth.events {
            writeln!(stdout, "  {}", describe(event))?;
        }
        Ok(())
    }
}

fn print_counts(
    stdout: &mut dyn Write,
    title: &str,
    counts: &[Count],
    total: u64,
) -> std::io::Result<()> {
    writeln!(stdout)?;
    writeln!(stdout, "{title}")?;
    for count in counts {
        writeln!(
            stdout,
            "  {:<32} {:>10}  {:>5.1}%",
            safe(&count.key),
            terminal::count(count.count),
            count.count as f64 * 100.0 / total as f64
        )?;
    }
    Ok(())
}

fn describe(event: &Event) -> String {
    let at = |time: &chrono::DateTime<chrono::Utc>| time.format("%m-%d %H:%M").to_string();
    match event {
        Event::Burst {
            key,
            start,
            peak,
            end,
            posts,
            ..
        } => format!(
            "burst     {} rises from nothing at {}, peaks from {}, fades by {}: {} posts",
            safe(key),
            at(start),
            at(peak),
            at(end),
            terminal::count(*posts)
        ),
        Event::Story {
            title,
            start,
            posts,
            languages,
            ..
        } => format!(
            "story     \"{}\" breaks at {}: {} posts in {}",
            safe(title),
            at(start),
            terminal::count(*posts),
            languages.join(", ")
        ),
        Event::Campaign {
            hashtag,
            start,
            end,
            accounts,
            posts,
        } => format!(
            "campaign  {} copy-pasted by {} accounts from {} to {}: {} posts",
            safe(hashtag),
            accounts.len(),
            at(start),
            at(end),
            posts.len()
        ),
        Event::Silence {
            scope,
            key,
            start,
            end,
        } => format!(
            "silence   {} {} goes quiet from {} to {}",
            match scope {
                starling_simulate::SilenceScope::Platform => "platform",
                starling_simulate::SilenceScope::Country => "country",
            },
            safe(key),
            at(start),
            at(end)
        ),
    }
}
