//! `starling detect`: replay archived posts through the detectors and print what they notice;
//! `starling eval detect` (called from `eval`): measure the detectors on generated scenarios against their ground
//! truth.

use std::collections::{HashMap, HashSet};
use std::io::Write;

use serde::Serialize;
use starling_detect::{Detection, Detectors, Kind, Settings};
use starling_model::{Post, Source};
use starling_simulate::{Config, Event, Generator, SilenceScope};
use starling_store::{SortBy, for_each_match};

use super::Context;
use crate::terminal::{self, safe};

/// Flags of `starling detect`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Replay only the posts matching this query [default: every archived post]
    query: Option<String>,
    /// From this time (RFC 3339, or relative like -24h).
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Until this time (RFC 3339, or relative like -1h).
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Only these kinds (burst, story, campaign, silence), comma-separated.
    #[arg(long, value_delimiter = ',')]
    kind: Vec<String>,
    /// Also list the N key accounts (most mentioned, replied to, shared) and the N rising
    /// ones (attention growing fastest into the last hour) [default: 10 in tables; none in
    /// --json or with --kind]
    #[arg(long, value_name = "N")]
    accounts: Option<usize>,
    /// What "now" is for relative times (RFC 3339) [default: the clock]
    #[arg(long, value_name = "TIME")]
    now: Option<chrono::DateTime<chrono::Utc>>,
    /// One JSON object per detection.
    #[arg(long)]
    json: bool,
}

pub fn run(context: &Context, args: Args, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let mut text = args.query.clone().map_or_else(
        || "since:1970-01-01".to_owned(),
        |query| format!("({query})"),
    );
    if let Some(since) = &args.since {
        text.push_str(&format!(" since:{since}"));
    }
    if let Some(until) = &args.until {
        text.push_str(&format!(" until:{until}"));
    }
    for kind in &args.kind {
        anyhow::ensure!(
            ["burst", "story", "campaign", "silence"].contains(&kind.as_str()),
            "--kind {kind:?}: the kinds are burst, story, campaign and silence"
        );
    }
    let (query, store, index) = super::open_for_query(context, &text)?;
    let now = args.now.unwrap_or_else(chrono::Utc::now);
    let mut detectors = Detectors::new(Settings::default());
    let mut accounts = starling_detect::Accounts::new(200_000);
    let mut found = Vec::new();
    let posts = for_each_match(&store, &index, &query, now, SortBy::Oldest, |post| {
        found.extend(detectors.observe(&post));
        accounts.observe(&post);
        Ok(())
    })?;
    let listed = args
        .accounts
        .unwrap_or(if args.json || !args.kind.is_empty() {
            0
        } else {
            10
        });
    let (key, rising) = (accounts.key(listed), accounts.rising(listed));
    found.extend(detectors.finish());
    found.retain(|detection| {
        args.kind.is_empty() || args.kind.iter().any(|kind| kind == detection.kind.as_str())
    });
    let sizes = if args.kind.is_empty() || args.kind.iter().any(|kind| kind == "story") {
        detectors.stories()
    } else {
        Vec::new()
    };
    if args.json {
        for detection in &found {
            crate::terminal::json_line(stdout, detection)?;
        }
        for size in &sizes {
            let mut line = serde_json::to_value(size)?;
            line["kind"] = serde_json::json!("story_size");
            crate::terminal::json_line(stdout, &line)?;
        }
        for (kind, list) in [("key_account", &key), ("rising_account", &rising)] {
            for account in list {
                let mut line = serde_json::to_value(account)?;
                line["kind"] = serde_json::json!(kind);
                crate::terminal::json_line(stdout, &line)?;
            }
        }
        return Ok(());
    }
    // Bursts of the same posts as an earlier one are shown under it.
    let mut members: Vec<Vec<&Detection>> = vec![Vec::new(); found.len()];
    let mut shown = vec![true; found.len()];
    for (index, lead) in group_leads(&found).into_iter().enumerate() {
        if let Some(lead) = lead {
            members[lead].push(&found[index]);
            shown[index] = false;
        }
    }
    writeln!(
        stdout,
        "{} posts replayed in creation order: {} bursts (of {} events), {} stories, {} campaigns, {} silences",
        terminal::count(posts as u64),
        found
            .iter()
            .filter(|found| found.kind == Kind::Burst)
            .count(),
        found
            .iter()
            .zip(&shown)
            .filter(|(found, shown)| found.kind == Kind::Burst && **shown)
            .count(),
        found
            .iter()
            .filter(|found| found.kind == Kind::Story)
            .count(),
        found
            .iter()
            .filter(|found| found.kind == Kind::Campaign)
            .count(),
        found
            .iter()
            .filter(|found| found.kind == Kind::Silence)
            .count(),
    )?;
    for (index, detection) in found.iter().enumerate() {
        if !shown[index] {
            continue;
        }
        writeln!(
            stdout,
            "{}  {:<8} {}",
            detection.detected_at.format("%Y-%m-%d %H:%M"),
            detection.kind.as_str(),
            safe(&detection.reason)
        )?;
        if let (Some(first), Some(last)) = (members[index].first(), members[index].last()) {
            let keys: Vec<String> = members[index]
                .iter()
                .take(12)
                .map(|member| safe(&member.key))
                .collect();
            let more = members[index].len().saturating_sub(keys.len());
            writeln!(
                stdout,
                "                   and {} more bursting in the same posts ({} to {}): {}{}",
                members[index].len(),
                first.detected_at.format("%H:%M"),
                last.detected_at.format("%H:%M"),
                keys.join(", "),
                if more > 0 {
                    format!(", and {more} more")
                } else {
                    String::new()
                }
            )?;
        }
    }
    if !sizes.is_empty() {
        writeln!(
            stdout,
            "\nStories over time (posts per hour from the first)"
        )?;
        for size in &sizes {
            let title: String = size.title.chars().take(60).collect();
            writeln!(
                stdout,
                "  {} to {}  {:>6} posts  {}  {}",
                size.first_seen.format("%m-%d %H:%M"),
                size.last_seen.format("%m-%d %H:%M"),
                terminal::count(size.posts),
                sparkline(&size.hourly),
                safe(&title)
            )?;
        }
    }
    if !key.is_empty() {
        writeln!(
            stdout,
            "\nKey accounts (mentions, replies, shares of their posts)"
        )?;
        for account in &key {
            writeln!(
                stdout,
                "  {:<40} {:>8} mentions {:>7} replies {:>7} shares",
                safe(&account.account),
                terminal::count(account.mentions),
                terminal::count(account.replies),
                terminal::count(account.shares)
            )?;
        }
    }
    if listed > 0 {
        let hour = accounts
            .latest_hour()
            .map(|hour| hour.format("%Y-%m-%d %H:00").to_string())
            .unwrap_or_default();
        writeln!(
            stdout,
            "\nRising accounts (the hour from {hour} against the one before)"
        )?;
        if rising.is_empty() {
            writeln!(
                stdout,
                "  none: no account got 5 or more mentions, replies or shares in that hour, and more than in the hour before"
            )?;
        }
        for account in &rising {
            writeln!(
                stdout,
                "  {:<40} {:>8} now {:>7} before",
                safe(&account.account),
                terminal::count(account.last_hour),
                terminal::count(account.hour_before)
            )?;
        }
    }
    Ok(())
}

/// Flags of `starling eval detect`.
#[derive(Debug, clap::Args)]
pub struct EvalDetectArgs {
    /// Posts per scenario.
    #[arg(long, default_value_t = 200_000)]
    posts: u64,
    /// Scenario seeds, comma-separated: one scenario each.
    #[arg(long, value_delimiter = ',', default_value = "2009,1979,2022")]
    seeds: Vec<u64>,
    /// The shared data folder, for the CrisisLexT6 replay [default: $STARLING_SHARED or ../shared]
    #[arg(long, value_name = "DIR")]
    shared: Option<std::path::PathBuf>,
    /// One JSON object per kind of detection, then one per crisis.
    #[arg(long)]
    json: bool,
    /// Also list each detection the ground truth does not explain (with `--json`, one object
    /// each, with an `unexplained` field naming its kind): what to look at when precision falls.
    #[arg(long)]
    unexplained: bool,
}

#[derive(Debug, Default, Serialize)]
struct Score {
    kind: &'static str,
    events: usize,
    found: usize,
    recall: f64,
    detections: usize,
    /// Detections that are not in an earlier one's group (a burst of the same posts).
    groups: usize,
    explained: usize,
    precision: f64,
    /// Minutes of stream time from each found event's start to its detection.
    delays_minutes: Vec<f64>,
    median_delay_minutes: Option<f64>,
}

impl Score {
    /// Counts one injected event, found by `hit` (or not), and how long after `start`.
    fn credit(&mut self, start: chrono::DateTime<chrono::Utc>, hit: Option<&Detection>) {
        self.events += 1;
        if let Some(hit) = hit {
            self.found += 1;
            self.delays_minutes
                .push((hit.detected_at - start).num_seconds() as f64 / 60.0);
        }
    }

    /// Counts one detection, and whether an injected event explains it.
    fn judge(&mut self, explained: bool) {
        self.detections += 1;
        if explained {
            self.explained += 1;
        }
    }
}

pub fn eval(args: EvalDetectArgs, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let mut scores = [
        Score {
            kind: "burst",
            ..Score::default()
        },
        Score {
            kind: "campaign",
            ..Score::default()
        },
        Score {
            kind: "silence",
            ..Score::default()
        },
        Score {
            kind: "story",
            ..Score::default()
        },
    ];
    let mut unexplained: Vec<(u64, Detection)> = Vec::new();
    for seed in &args.seeds {
        let mut generator = Generator::new(Config {
            posts: args.posts,
            seed: *seed,
            ..Config::default()
        })
        .map_err(|error| anyhow::anyhow!("cannot generate: {error}"))?;
        let source = Source::Generated("eval".into());
        let context = starling_formats::Context::new(&source, chrono::DateTime::UNIX_EPOCH);
        let mut posts: Vec<Post> = Vec::new();
        for output in generator.by_ref() {
            posts.extend(starling_formats::decode(output.format, &output.bytes, &context).posts);
        }
        let found = replay(&mut posts);
        let missed = score(
            &mut scores,
            generator.ground_truth().events.as_slice(),
            &posts,
            &found,
        );
        unexplained.extend(missed.into_iter().map(|detection| (*seed, detection)));
    }
    for score in &mut scores {
        score.recall = score.found as f64 / score.events.max(1) as f64;
        score.precision = score.explained as f64 / score.detections.max(1) as f64;
        let mut delays = score.delays_minutes.clone();
        delays.sort_by(f64::total_cmp);
        score.median_delay_minutes = delays.get(delays.len() / 2).copied();
    }
    let shared = args
        .shared
        .clone()
        .or_else(|| std::env::var_os("STARLING_SHARED").map(Into::into))
        .unwrap_or_else(|| "../shared".into());
    let crises = crisislex(&shared.join("data/crisis/crisislex-t6"))?;
    if args.json {
        for score in &scores {
            crate::terminal::json_line(stdout, score)?;
        }
        if args.unexplained {
            for (seed, detection) in &unexplained {
                crate::terminal::json_line(
                    stdout,
                    &serde_json::json!({
                        "unexplained": detection.kind.as_str(),
                        "seed": seed,
                        "key": detection.key,
                        "detected_at": detection.detected_at,
                        "first_seen": detection.first_seen,
                        "score": detection.score,
                        "reason": detection.reason,
                        "samples": detection.samples,
                        "accounts": detection.accounts,
                    }),
                )?;
            }
        }
        for crisis in &crises {
            crate::terminal::json_line(stdout, crisis)?;
        }
        return Ok(());
    }
    write_scores(stdout, &args, &scores)?;
    if args.unexplained {
        writeln!(
            stdout,
            "\n{} detections the ground truth does not explain:",
            unexplained.len()
        )?;
        for (seed, detection) in &unexplained {
            let accounts = if detection.accounts.is_empty() {
                String::new()
            } else {
                let shown: Vec<String> = detection
                    .accounts
                    .iter()
                    .take(8)
                    .map(|account| safe(account))
                    .collect();
                format!("\n      accounts: {}", shown.join(", "))
            };
            writeln!(
                stdout,
                "  seed {seed}  {}  {:<8}  {}\n      {}{accounts}",
                detection.detected_at.format("%m-%d %H:%M"),
                detection.kind.as_str(),
                safe(&detection.key.chars().take(80).collect::<String>()),
                safe(&detection.reason),
            )?;
        }
    }
    if crises.is_empty() {
        writeln!(
            stdout,
            "\nCrisisLexT6 not found under {}: give --shared DIR",
            shared.display()
        )?;
    }
    for crisis in &crises {
        writeln!(
            stdout,
            "\n{}: {} tweets from {} to {}; first on-topic burst {}",
            crisis.crisis,
            terminal::count(crisis.tweets as u64),
            crisis.first.format("%Y-%m-%d %H:%M"),
            crisis.last.format("%Y-%m-%d %H:%M"),
            crisis.onset.map_or_else(
                || "none".to_owned(),
                |at| format!(
                    "{} ({})",
                    at.format("%Y-%m-%d %H:%M"),
                    safe(&crisis.onset_keys.join(", "))
                )
            )
        )?;
        writeln!(
            stdout,
            "  {} bursts in {} groups; the strongest groups:",
            crisis.burst_count, crisis.group_count
        )?;
        for burst in &crisis.bursts {
            writeln!(
                stdout,
                "  {}  {:<28} {:>4.0}% on-topic  {}",
                burst.detected_at.format("%m-%d %H:%M"),
                safe(&burst.key),
                burst.on_topic * 100.0,
                safe(&burst.reason)
            )?;
            if !burst.with.is_empty() {
                let shown: Vec<String> = burst.with.iter().take(8).map(|key| safe(key)).collect();
                let more = burst.with.len().saturating_sub(shown.len());
                writeln!(
                    stdout,
                    "                with {}{}",
                    shown.join(", "),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                )?;
            }
        }
        writeln!(stdout, "  Characteristic hashtags (most on-topic tweets):")?;
        for tag in &crisis.hashtags {
            writeln!(
                stdout,
                "    {:<24} {:>5} on-topic tweets  {}",
                safe(&tag.key),
                terminal::count(tag.on_topic_tweets as u64),
                match (tag.first_burst, tag.group_rank) {
                    (Some(at), Some(rank)) => format!(
                        "first burst {}, in group {rank} of {}",
                        at.format("%m-%d %H:%M"),
                        crisis.group_count
                    ),
                    _ => "never bursts".to_owned(),
                }
            )?;
        }
    }
    Ok(())
}

/// One real crisis replayed.
#[derive(Debug, Serialize)]
struct Crisis {
    crisis: String,
    tweets: usize,
    first: chrono::DateTime<chrono::Utc>,
    last: chrono::DateTime<chrono::Utc>,
    /// The first burst most of whose sample tweets are labelled on-topic.
    onset: Option<chrono::DateTime<chrono::Utc>>,
    /// The keys of the on-topic bursts detected then.
    onset_keys: Vec<String>,
    /// Every burst found.
    burst_count: usize,
    /// Bursts of the same posts read as one (see `Detection::group`).
    group_count: usize,
    /// The strongest groups of bursts, strongest first (a group's strength is its strongest
    /// burst's).
    bursts: Vec<CrisisBurst>,
    /// The crisis's characteristic hashtags: those in most on-topic tweets, by the labels.
    hashtags: Vec<CrisisHashtag>,
}

#[derive(Debug, Serialize)]
struct CrisisBurst {
    /// The group's first burst.
    key: String,
    detected_at: chrono::DateTime<chrono::Utc>,
    /// The group's strongest score.
    score: f64,
    /// The share of the first burst's sample tweets labelled on-topic.
    on_topic: f64,
    reason: String,
    /// The group's other keys, in the order they burst.
    with: Vec<String>,
}

#[derive(Debug, Serialize)]
struct CrisisHashtag {
    /// As a burst key: `#` and the normalized tag.
    key: String,
    /// On-topic tweets with it.
    on_topic_tweets: usize,
    /// Its first burst, if any.
    first_burst: Option<chrono::DateTime<chrono::Utc>>,
    /// The rank (from 1) of the strongest group it bursts in, among all the crisis's groups.
    group_rank: Option<usize>,
}

/// Strongest groups listed per crisis; characteristic hashtags per crisis.
const CRISIS_GROUPS: usize = 10;
const CRISIS_HASHTAGS: usize = 3;

/// For each detection, the index of the burst whose group it is in (see
/// `Detection::group`): the latest burst of the group's key, at or before it, that began a
/// group. `None` for a group's first burst and for the other kinds.
fn group_leads(found: &[Detection]) -> Vec<Option<usize>> {
    let mut leads: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, detection) in found.iter().enumerate() {
        if detection.kind == Kind::Burst && detection.group.is_none() {
            leads.entry(detection.key.as_str()).or_default().push(index);
        }
    }
    found
        .iter()
        .map(|detection| {
            let lead = detection.group.as_deref()?;
            leads
                .get(lead)?
                .iter()
                .rev()
                .copied()
                .find(|lead| found[*lead].detected_at <= detection.detected_at)
        })
        .collect()
}

/// The bursts of `found` in groups (a group's first burst, then the others in the order
/// found), strongest group first.
fn burst_groups(found: &[Detection]) -> Vec<Vec<&Detection>> {
    let leads = group_leads(found);
    let mut members: Vec<Vec<&Detection>> = vec![Vec::new(); found.len()];
    for (index, lead) in leads.iter().enumerate() {
        if let Some(lead) = lead {
            members[*lead].push(&found[index]);
        }
    }
    let mut groups: Vec<Vec<&Detection>> = found
        .iter()
        .zip(&leads)
        .zip(members)
        .filter(|((detection, lead), _)| detection.kind == Kind::Burst && lead.is_none())
        .map(|((detection, _), members)| {
            let mut group = vec![detection];
            group.extend(members);
            group
        })
        .collect();
    let strength = |group: &Vec<&Detection>| {
        group
            .iter()
            .map(|burst| burst.score)
            .fold(f64::NEG_INFINITY, f64::max)
    };
    groups.sort_by(|a, b| {
        strength(b)
            .total_cmp(&strength(a))
            .then_with(|| a[0].detected_at.cmp(&b[0].detected_at))
    });
    groups
}

/// Replays each crisis of CrisisLexT6 (tweet id, text, label; posting times from the ids) and
/// keeps its bursts.
fn crisislex(folder: &std::path::Path) -> anyhow::Result<Vec<Crisis>> {
    let mut crises = Vec::new();
    let Ok(entries) = std::fs::read_dir(folder) else {
        return Ok(crises);
    };
    let mut folders: Vec<std::path::PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    folders.sort();
    let extractor = starling_text::EntityExtractor::new();
    for folder in folders {
        let name = folder
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(file) = std::fs::read_dir(&folder)?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .find(|path| path.extension().is_some_and(|extension| extension == "csv"))
        else {
            continue;
        };
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_path(&file)?;
        let mut posts = Vec::new();
        let mut on_topic = HashSet::new();
        for record in reader.records() {
            // A malformed line is skipped; the replay is about the many good ones.
            let Ok(record) = record else { continue };
            let (Some(id), Some(text), Some(label)) = (record.get(0), record.get(1), record.get(2))
            else {
                continue;
            };
            let id = id.trim().trim_matches('\'');
            let Ok(number) = id.parse::<u64>() else {
                continue;
            };
            // Twitter's snowflake ids carry their creation time.
            let millis = (number >> 22) as i64 + 1_288_834_974_657;
            let Some(created) = chrono::DateTime::from_timestamp_millis(millis) else {
                continue;
            };
            let key = format!("twitter:{id}");
            if label.trim() == "on-topic" {
                on_topic.insert(key.clone());
            }
            let post: Post = serde_json::from_value(serde_json::json!({
                "platform": "twitter", "id": id, "key": key,
                "author": {"id": "unknown", "handle": "unknown"},
                "created_at": created, "collected_at": created, "text": text,
                "provenance": {"source": {"kind": "generated", "name": "crisislex"}, "format": "csv"},
                "raw": "",
            }))?;
            let mut post = post;
            post.entities = extractor.entities_of(text, false);
            posts.push(post);
        }
        if posts.is_empty() {
            continue;
        }
        let found = replay(&mut posts);
        let share = |detection: &Detection| {
            detection
                .samples
                .iter()
                .filter(|key| on_topic.contains(key.as_str()))
                .count() as f64
                / detection.samples.len().max(1) as f64
        };
        let bursts: Vec<&Detection> = found
            .iter()
            .filter(|found| found.kind == Kind::Burst)
            .collect();
        let first = bursts
            .iter()
            .filter(|burst| share(burst) > 0.5)
            .min_by_key(|burst| burst.detected_at);
        let onset = first.map(|burst| burst.detected_at);
        let onset_keys: Vec<String> = first.map_or_else(Vec::new, |first| {
            bursts
                .iter()
                .filter(|burst| burst.detected_at == first.detected_at && share(burst) > 0.5)
                .map(|burst| burst.key.clone())
                .collect()
        });
        let groups = burst_groups(&found);
        let mut tag_tweets: HashMap<String, usize> = HashMap::new();
        for post in posts
            .iter()
            .filter(|post| on_topic.contains(post.key.as_str()))
        {
            let mut tags: Vec<String> = post
                .entities
                .hashtags
                .iter()
                .map(|tag| format!("#{}", starling_text::normalize_word(&tag.tag)))
                .collect();
            tags.sort_unstable();
            tags.dedup();
            for tag in tags {
                *tag_tweets.entry(tag).or_default() += 1;
            }
        }
        let mut characteristic: Vec<(String, usize)> = tag_tweets.into_iter().collect();
        characteristic.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        // A hashtag bursting within one language or platform only counts too.
        let is_tag = |burst: &Detection, key: &str| {
            burst.key == key
                || burst
                    .key
                    .strip_prefix(key)
                    .is_some_and(|scope| scope.starts_with(" ["))
        };
        let hashtags = characteristic
            .into_iter()
            .take(CRISIS_HASHTAGS)
            .map(|(key, on_topic_tweets)| CrisisHashtag {
                first_burst: bursts
                    .iter()
                    .filter(|burst| is_tag(burst, &key))
                    .map(|burst| burst.detected_at)
                    .min(),
                group_rank: groups
                    .iter()
                    .position(|group| group.iter().any(|burst| is_tag(burst, &key)))
                    .map(|index| index + 1),
                key,
                on_topic_tweets,
            })
            .collect();
        crises.push(Crisis {
            crisis: name,
            tweets: posts.len(),
            first: posts[0].created_at,
            last: posts[posts.len() - 1].created_at,
            onset,
            onset_keys,
            burst_count: bursts.len(),
            group_count: groups.len(),
            bursts: groups
                .iter()
                .take(CRISIS_GROUPS)
                .map(|group| CrisisBurst {
                    key: group[0].key.clone(),
                    detected_at: group[0].detected_at,
                    score: group
                        .iter()
                        .map(|burst| burst.score)
                        .fold(f64::NEG_INFINITY, f64::max),
                    on_topic: share(group[0]),
                    reason: group[0].reason.clone(),
                    with: group[1..].iter().map(|burst| burst.key.clone()).collect(),
                })
                .collect(),
            hashtags,
        });
    }
    Ok(crises)
}

fn write_scores(
    stdout: &mut dyn Write,
    args: &EvalDetectArgs,
    scores: &[Score; 4],
) -> anyhow::Result<()> {
    writeln!(
        stdout,
        "{} scenarios of {} posts (seeds {:?}):",
        args.seeds.len(),
        terminal::count(args.posts),
        args.seeds
    )?;
    writeln!(
        stdout,
        "  {:<9} {:>7} {:>6} {:>7} {:>11} {:>7} {:>10} {:>10} {:>14}",
        "kind",
        "events",
        "found",
        "recall",
        "detections",
        "groups",
        "explained",
        "precision",
        "median delay"
    )?;
    for score in scores {
        writeln!(
            stdout,
            "  {:<9} {:>7} {:>6} {:>7.2} {:>11} {:>7} {:>10} {:>10.2} {:>14}",
            score.kind,
            score.events,
            score.found,
            score.recall,
            score.detections,
            score.groups,
            score.explained,
            score.precision,
            score
                .median_delay_minutes
                .map_or_else(|| "-".to_owned(), |minutes| format!("{minutes:.1} min"))
        )?;
    }
    Ok(())
}

/// Runs decoded posts through the detectors as the archive would give them: each post once
/// (a feed item is in every document polled while it is listed, a tweet in the pages of
/// whatever quotes or replies to it), in creation order, enriched (languages detected, places
/// resolved). Leaves `posts` so.
fn replay(posts: &mut Vec<Post>) -> Vec<Detection> {
    let mut seen = HashSet::new();
    posts.retain(|post| seen.insert(post.key.clone()));
    posts.sort_by_key(|post| post.created_at);
    for post in posts.iter_mut() {
        starling_enrich::enrich(post);
    }
    let mut detectors = Detectors::new(Settings::default());
    let mut found = Vec::new();
    for post in posts.iter() {
        found.extend(detectors.observe(post));
    }
    found.extend(detectors.finish());
    found
}

/// Scores one scenario's detections against its ground truth.
///
/// Recall: an injected burst is found by a burst of its hashtag during it; a campaign by a
/// campaign most of whose accounts are the campaign's, during it or within two hours; a
/// silence by a silence of its platform or country during it. Precision: a burst is
/// explained when most of its sample posts belong to an injected event (they carry the
/// burst's or the campaign's hashtag, or one of the story's terms); a campaign when most of
/// its accounts are the campaign's; a silence when it falls inside an injected silence.
///
/// Returns the detections nothing explains.
fn score(
    scores: &mut [Score; 4],
    events: &[Event],
    posts: &[Post],
    found: &[Detection],
) -> Vec<Detection> {
    let by_key: std::collections::HashMap<&str, &Post> =
        posts.iter().map(|post| (post.key.as_str(), post)).collect();
    let mut event_words: Vec<String> = Vec::new();
    let mut campaign_accounts: HashSet<String> = HashSet::new();
    for event in events {
        match event {
            Event::Burst { key, .. } => event_words.push(key.to_lowercase()),
            Event::Campaign {
                hashtag, accounts, ..
            } => {
                event_words.push(hashtag.to_lowercase());
                // Bluesky posts name their author by DID: accounts are matched by either.
                for account in accounts {
                    campaign_accounts.insert(format!("{}:{}", account.platform, account.handle));
                    campaign_accounts.insert(format!("{}:{}", account.platform, account.id));
                }
            }
            Event::Story { terms, .. } => {
                event_words.extend(terms.iter().map(|term| term.to_lowercase()));
            }
            Event::Silence { .. } => {}
        }
    }
    let belongs = |key: &str| {
        by_key.get(key).is_some_and(|post| {
            let text = post.text.to_lowercase();
            event_words.iter().any(|word| text.contains(word.as_str()))
        })
    };
    let mostly_campaign = |detection: &Detection| {
        let ours = detection
            .accounts
            .iter()
            .filter(|account| campaign_accounts.contains(account.as_str()))
            .count();
        ours * 5 >= detection.accounts.len() * 4
    };
    for event in events {
        match event {
            Event::Burst {
                key, start, end, ..
            } => {
                let tag = format!(
                    "#{}",
                    starling_text::normalize_word(key.trim_start_matches('#'))
                );
                let hit = found.iter().find(|found| {
                    found.kind == Kind::Burst
                        && found.key == tag
                        && found.detected_at >= *start
                        && found.detected_at <= *end
                });
                scores[0].credit(*start, hit);
            }
            Event::Campaign { start, end, .. } => {
                let hit = found.iter().find(|found| {
                    found.kind == Kind::Campaign
                        && mostly_campaign(found)
                        && found.detected_at >= *start
                        && found.detected_at <= *end + chrono::Duration::hours(2)
                });
                scores[1].credit(*start, hit);
            }
            Event::Silence {
                scope,
                key,
                start,
                end,
                ..
            } => {
                let name = match scope {
                    SilenceScope::Platform => format!("platform:{key}"),
                    SilenceScope::Country => format!("country:{key}"),
                };
                let hit = found.iter().find(|found| {
                    found.kind == Kind::Silence
                        && found.key == name
                        && found.detected_at >= *start
                        && found.detected_at <= *end
                });
                scores[2].credit(*start, hit);
            }
            Event::Story {
                start, end, terms, ..
            } => {
                let terms: Vec<String> = terms.iter().map(|term| term.to_lowercase()).collect();
                let about = |key: &String| {
                    by_key.get(key.as_str()).is_some_and(|post| {
                        let text = post.text.to_lowercase();
                        terms.iter().any(|term| text.contains(term.as_str()))
                    })
                };
                let hit = found.iter().find(|found| {
                    found.kind == Kind::Story
                        && found.detected_at >= *start
                        && found.detected_at <= *end
                        && found.samples.iter().filter(|key| about(key)).count() * 2
                            > found.samples.len()
                });
                scores[3].credit(*start, hit);
            }
        }
    }
    let mut unexplained = Vec::new();
    for detection in found {
        let mostly_ours = || {
            let ours = detection.samples.iter().filter(|key| belongs(key)).count();
            ours * 2 > detection.samples.len()
        };
        let (slot, explained) = match detection.kind {
            Kind::Burst => (0, mostly_ours()),
            Kind::Campaign => (1, mostly_campaign(detection)),
            Kind::Story => (3, mostly_ours()),
            Kind::Silence => (
                2,
                events.iter().any(|event| {
                    matches!(event, Event::Silence { start, end, .. }
                        if detection.detected_at >= *start && detection.detected_at <= *end)
                }),
            ),
        };
        scores[slot].judge(explained);
        if detection.group.is_none() {
            scores[slot].groups += 1;
        }
        if !explained {
            unexplained.push(detection.clone());
        }
    }
    unexplained
}

/// Counts per hour as a line of block characters, an empty hour as a space, the busiest hour
/// full; hours with no post between the first and last are filled in.
fn sparkline(hourly: &[(chrono::DateTime<chrono::Utc>, u32)]) -> String {
    const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let (Some(first), Some(last)) = (hourly.first(), hourly.last()) else {
        return String::new();
    };
    let most = hourly
        .iter()
        .map(|(_, count)| *count)
        .max()
        .unwrap_or(1)
        .max(1);
    let hours = (last.0 - first.0).num_hours().clamp(0, 71) as usize + 1;
    let mut line = vec![' '; hours];
    for (hour, count) in hourly {
        let at = (*hour - first.0).num_hours().clamp(0, 71) as usize;
        let level = ((u64::from(*count) * 8).div_ceil(u64::from(most))).clamp(1, 8) as usize;
        line[at] = BLOCKS[level - 1];
    }
    line.into_iter().collect()
}
