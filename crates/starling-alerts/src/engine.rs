//! Rules applied to what happens: each match and detection becomes, at most once per
//! throttle window, an [`Alert`] that says why; what comes in between is gathered into the
//! next one, and what comes in quiet hours into one digest when they end. Pure: the clock is
//! given.

use std::collections::{HashMap, VecDeque};

use chrono::Timelike;
use serde::{Deserialize, Serialize};

use crate::rules::{Rule, Trigger};

/// A post an alert points at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Its key in the archive.
    pub key: String,
    /// Its platform.
    pub platform: String,
    /// Its author's handle.
    pub author: String,
    /// Its text (cut to 280 characters).
    pub text: String,
    /// Where it can be seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// When it was posted.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl Sample {
    /// `text` cut to 280 characters.
    pub fn cut(text: &str) -> String {
        let mut cut: String = text.chars().take(280).collect();
        if cut.len() < text.len() {
            cut.push('…');
        }
        cut
    }
}

/// Something the detectors noticed, as an alert rule reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Noticed {
    /// `burst`, `story`, `campaign` or `silence`.
    pub kind: String,
    /// What.
    pub key: String,
    /// How strong.
    pub score: f64,
    /// Why, in words.
    pub reason: String,
    /// Keys of posts it is about.
    pub samples: Vec<String>,
    /// Watches some of those posts match.
    pub watches: Vec<String>,
}

/// One alert, as written to the outbox and sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Unique: the idempotency key a receiver drops repeats by.
    pub id: String,
    /// The rule that made it.
    pub rule: String,
    /// When it was made.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// One line.
    pub title: String,
    /// Why: the counts, the score, the reason.
    pub reason: String,
    /// How many matches or detections it stands for.
    pub count: u64,
    /// A detection's score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// Some of the posts, newest first.
    pub samples: Vec<Sample>,
    /// Keys of posts a detection is about, when their text is not at hand.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sample_keys: Vec<String>,
}

/// Samples one alert carries at most.
pub const SAMPLES: usize = 5;

/// What a rule has gathered and not yet sent.
#[derive(Debug, Default)]
struct Held {
    count: u64,
    samples: VecDeque<Sample>,
    noticed: Vec<Noticed>,
    since: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Default)]
struct State {
    last_sent: Option<chrono::DateTime<chrono::Utc>>,
    held: Held,
    /// Arrival times of recent matches (volume rules).
    window: VecDeque<chrono::DateTime<chrono::Utc>>,
    /// When each detection key was last alerted (repeats within an hour are dropped).
    seen: HashMap<String, chrono::DateTime<chrono::Utc>>,
    /// Posts already counted (a post imported or delivered again is no new match).
    posts: std::collections::HashSet<String>,
    posts_order: VecDeque<String>,
}

/// Posts a rule remembers having counted, at most.
const POSTS_REMEMBERED: usize = 20_000;

impl State {
    /// Whether `key` is new to this rule (and remembers it).
    fn first_time(&mut self, key: &str) -> bool {
        if self.posts.contains(key) {
            return false;
        }
        self.posts.insert(key.to_owned());
        self.posts_order.push_back(key.to_owned());
        if self.posts_order.len() > POSTS_REMEMBERED
            && let Some(oldest) = self.posts_order.pop_front()
        {
            self.posts.remove(&oldest);
        }
        true
    }
}

/// How long a detection's key stays a repeat.
const REPEAT: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// The rules and what each has gathered.
#[derive(Debug, Default)]
pub struct Engine {
    rules: Vec<(Rule, State)>,
    made: u64,
    /// Tells ids apart across restarts.
    instance: u64,
}

impl Engine {
    /// An engine over `rules`; `instance` (any number that differs between runs, such as the
    /// start time in nanoseconds) keeps alert ids unique across restarts.
    pub fn new(rules: Vec<Rule>, instance: u64) -> Engine {
        Engine {
            rules: rules
                .into_iter()
                .map(|rule| (rule, State::default()))
                .collect(),
            made: 0,
            instance,
        }
    }

    /// Adds a rule, or replaces the one of its name (its gathered state is dropped).
    pub fn put(&mut self, rule: Rule) {
        self.remove(&rule.name);
        self.rules.push((rule, State::default()));
    }

    /// Removes the rule called `name`; whether there was one.
    pub fn remove(&mut self, name: &str) -> bool {
        let before = self.rules.len();
        self.rules.retain(|(rule, _)| rule.name != name);
        self.rules.len() != before
    }

    /// The rules.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().map(|(rule, _)| rule)
    }

    /// A new match of `watch`; the alerts due now.
    pub fn on_match(
        &mut self,
        watch: &str,
        sample: &Sample,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Vec<Alert> {
        let mut due = Vec::new();
        for index in 0..self.rules.len() {
            let (rule, state) = &mut self.rules[index];
            let watched = match &rule.on {
                Trigger::Match { watch: wanted } | Trigger::Volume { watch: wanted, .. } => {
                    wanted == watch
                }
                Trigger::Detection { .. } => false,
            };
            if !watched || !state.first_time(&sample.key) {
                continue;
            }
            match &rule.on {
                Trigger::Match { watch: wanted } if wanted == watch => {
                    gather(state, Some(sample), None, now);
                }
                Trigger::Volume {
                    watch: wanted,
                    count,
                    window_secs,
                } if wanted == watch => {
                    state.window.push_back(now);
                    trim(&mut state.window, now, *window_secs);
                    state.held.samples.push_front(sample.clone());
                    state.held.samples.truncate(SAMPLES);
                    if state.window.len() as u64 >= *count {
                        state.held.count = state.window.len() as u64;
                        state.held.since.get_or_insert(now);
                    } else {
                        continue;
                    }
                }
                _ => continue,
            }
            due.extend(self.release(index, now));
        }
        due
    }

    /// Something noticed; the alerts due now.
    pub fn on_detection(
        &mut self,
        noticed: &Noticed,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Vec<Alert> {
        let mut due = Vec::new();
        for index in 0..self.rules.len() {
            let (rule, state) = &mut self.rules[index];
            let Trigger::Detection {
                kinds,
                key_contains,
                watch,
            } = &rule.on
            else {
                continue;
            };
            if let Some(watch) = watch
                && !noticed.watches.contains(watch)
            {
                continue;
            }
            if !kinds.is_empty() && !kinds.contains(&noticed.kind) {
                continue;
            }
            if let Some(part) = key_contains
                && !noticed.key.to_lowercase().contains(&part.to_lowercase())
            {
                continue;
            }
            let seen_key = format!("{}\u{0}{}", noticed.kind, noticed.key);
            if state
                .seen
                .get(&seen_key)
                .is_some_and(|at| now - *at < REPEAT)
            {
                continue;
            }
            state.seen.insert(seen_key, now);
            state.seen.retain(|_, at| now - *at < REPEAT);
            gather(state, None, Some(noticed), now);
            due.extend(self.release(index, now));
        }
        due
    }

    /// What is due as time passes: throttled matches once the window has passed, digests
    /// once quiet hours end.
    pub fn tick(&mut self, now: chrono::DateTime<chrono::Utc>) -> Vec<Alert> {
        let mut due = Vec::new();
        for index in 0..self.rules.len() {
            due.extend(self.release(index, now));
        }
        due
    }

    /// The rule's alert, if it has gathered something and may send now.
    fn release(&mut self, index: usize, now: chrono::DateTime<chrono::Utc>) -> Option<Alert> {
        let (rule, state) = &mut self.rules[index];
        if state.held.count == 0 {
            return None;
        }
        if rule
            .quiet_hours
            .is_some_and(|quiet| quiet.contains(now.hour()))
        {
            return None;
        }
        let throttle = span(rule.throttle_secs);
        if state.last_sent.is_some_and(|last| now - last < throttle) {
            return None;
        }
        // A volume sent late (throttled, quiet) must still be at its count now.
        if let Trigger::Volume {
            count, window_secs, ..
        } = &rule.on
        {
            trim(&mut state.window, now, *window_secs);
            if (state.window.len() as u64) < *count {
                state.held = Held::default();
                return None;
            }
            state.held.count = state.window.len() as u64;
        }
        let held = std::mem::take(&mut state.held);
        state.last_sent = Some(now);
        if matches!(rule.on, Trigger::Volume { .. }) {
            state.window.clear();
        }
        self.made += 1;
        // Zero-padded, so that ids sort in the order the alerts were made.
        let id = format!(
            "{:016x}-{:016x}-{}",
            self.instance,
            self.made,
            fnv(&rule.name)
        );
        Some(compose(id, rule, held, now))
    }
}

fn gather(
    state: &mut State,
    sample: Option<&Sample>,
    noticed: Option<&Noticed>,
    now: chrono::DateTime<chrono::Utc>,
) {
    state.held.count += 1;
    state.held.since.get_or_insert(now);
    if let Some(sample) = sample {
        state.held.samples.push_front(sample.clone());
        state.held.samples.truncate(SAMPLES);
    }
    if let Some(noticed) = noticed {
        // The newest, a bounded number (a night of quiet hours can hold many).
        if state.held.noticed.len() == NOTICED_HELD {
            state.held.noticed.remove(0);
        }
        state.held.noticed.push(noticed.clone());
    }
}

/// Detections one alert holds at most (the newest).
const NOTICED_HELD: usize = 50;

/// `seconds` as a span, at most [`crate::rules::LONGEST_SECS`].
fn span(seconds: u64) -> chrono::TimeDelta {
    chrono::TimeDelta::try_seconds(seconds.min(crate::rules::LONGEST_SECS) as i64)
        .unwrap_or(chrono::TimeDelta::MAX)
}

/// Drops arrivals older than `window_secs` before `now`.
fn trim(
    window: &mut VecDeque<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
    window_secs: u64,
) {
    if let Some(start) = now.checked_sub_signed(span(window_secs)) {
        while window.front().is_some_and(|time| *time < start) {
            window.pop_front();
        }
    }
}

fn fnv(text: &str) -> String {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in text.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    format!("{hash:08x}")
}

/// Says why: the counts, the window, the detection's reason and score.
fn compose(id: String, rule: &Rule, held: Held, now: chrono::DateTime<chrono::Utc>) -> Alert {
    let since = held.since.unwrap_or(now);
    let span = (now - since).num_seconds().max(0);
    let over = if span >= 60 {
        format!(" in the last {} minutes", (span + 59) / 60)
    } else {
        String::new()
    };
    let (title, reason, score, sample_keys) = match &rule.on {
        Trigger::Match { watch } => (
            if held.count == 1 {
                format!("New match for watch {watch}")
            } else {
                format!("{} new matches for watch {watch}", held.count)
            },
            format!(
                "{} post{} matched the watch {watch}{over} (at most one alert every {} s).",
                held.count,
                if held.count == 1 { "" } else { "s" },
                rule.throttle_secs
            ),
            None,
            Vec::new(),
        ),
        Trigger::Volume {
            watch,
            count,
            window_secs,
        } => (
            format!("Watch {watch}: {} matches in {} s", held.count, window_secs),
            format!(
                "{} posts matched the watch {watch} within {window_secs} s, at or above the rule's {count}.",
                held.count
            ),
            None,
            Vec::new(),
        ),
        Trigger::Detection { .. } => {
            let strongest = held
                .noticed
                .iter()
                .max_by(|a, b| a.score.total_cmp(&b.score));
            let title = match (held.noticed.len(), strongest) {
                (1, Some(noticed)) => format!("{}: {}", capitalized(&noticed.kind), noticed.key),
                (n, Some(noticed)) => {
                    format!("{n} detections; strongest {} {}", noticed.kind, noticed.key)
                }
                _ => "Detections".to_owned(),
            };
            let reasons: Vec<String> = held
                .noticed
                .iter()
                .rev()
                .take(SAMPLES)
                .map(|noticed| format!("{} {}: {}", noticed.kind, noticed.key, noticed.reason))
                .collect();
            let keys = held
                .noticed
                .iter()
                .rev()
                .flat_map(|noticed| noticed.samples.iter().take(3).cloned())
                .take(SAMPLES * 3)
                .collect();
            (
                title,
                reasons.join("\n"),
                strongest.map(|noticed| noticed.score),
                keys,
            )
        }
    };
    Alert {
        id,
        rule: rule.name.clone(),
        created_at: now,
        title,
        reason,
        count: held.count,
        score,
        samples: held.samples.into_iter().collect(),
        sample_keys,
    }
}

fn capitalized(word: &str) -> String {
    let mut characters = word.chars();
    characters
        .next()
        .map(|first| first.to_uppercase().chain(characters).collect())
        .unwrap_or_default()
}
