//! Silence: a platform or a country posting far less than its usual share of the stream.
//! Each scope's share is a slowly moving average, learned from periods as they leave the
//! longest window (so a silence that has begun is never learned as the new normal before it
//! can be noticed), and not while the scope is silent; each period,
//! the posts it should have had over the last 1 to 128 periods are compared with those it had,
//! so a busy platform is found silent within minutes and a sparse country within the hour.
//!
//! People sleep: a country's share of the stream falls every night. So each scope also learns
//! its share for each hour of the day, across days, and where that is known it is what a
//! period is expected to hold. A country is judged only by its hours (from its second day);
//! a platform, by its recent share until its hours are known.

use std::collections::{BTreeMap, VecDeque};

use starling_model::{Post, Timestamp};

use crate::{Detection, Kind, Settings};

const ALPHA: f64 = 0.02;
const WINDOWS: [usize; 8] = [1, 2, 4, 8, 16, 32, 64, 128];
const WARMUP: u64 = 128 + 30;

#[derive(Default)]
struct Scope {
    share: f64,
    /// Its own posts per period, a moving average learned with `share`.
    rate: f64,
    /// Periods learned from so far.
    learned: u64,
    /// The share for each hour of the day (UTC), and the periods each was learned from.
    hourly: [f64; 24],
    /// Its own posts per period for each hour of the day.
    hourly_rate: [f64; 24],
    hourly_learned: [u32; 24],
    /// Posts per period, newest last.
    counts: VecDeque<u64>,
    current: u64,
    last_post: Option<Timestamp>,
    silent: bool,
}

/// Periods of an hour a scope must have been seen in before its share for that hour counts.
const HOUR_LEARNED: u32 = 60;

impl Scope {
    /// The posts expected in a period of `hour` whose stream had `total` posts, when known:
    /// its share of that total, but never more than it usually posts itself. A story that
    /// makes one country's people post three times as much swells the stream, and every other
    /// country's share of it shrinks though none of them went quiet.
    fn expected(&self, hour: usize, total: u64, country: bool) -> Option<f64> {
        let (share, rate) = if self.hourly_learned[hour] >= HOUR_LEARNED {
            (self.hourly[hour], self.hourly_rate[hour])
        } else if country {
            return None;
        } else {
            (self.share, self.rate)
        };
        Some((share * total as f64).min(rate))
    }
}

pub(crate) struct Silence {
    settings: Settings,
    scopes: BTreeMap<String, Scope>,
    totals: VecDeque<u64>,
    /// The hour of the day of each period in `totals`.
    hours: VecDeque<usize>,
    total: u64,
}

impl Silence {
    pub fn new(settings: Settings) -> Silence {
        Silence {
            settings,
            scopes: BTreeMap::new(),
            totals: VecDeque::new(),
            hours: VecDeque::new(),
            total: 0,
        }
    }

    pub fn observe(&mut self, post: &Post) {
        self.total += 1;
        let mut scopes = vec![format!("platform:{}", post.platform.as_str())];
        // Where it was sent from: a shutdown silences the people who live there, geotagged
        // or not.
        if let Some(country) = post.sent_from() {
            scopes.push(format!("country:{country}"));
        }
        for name in scopes {
            let scope = self.scopes.entry(name).or_default();
            scope.current += 1;
            scope.last_post = Some(
                scope
                    .last_post
                    .map_or(post.created_at, |last| last.max(post.created_at)),
            );
        }
    }

    pub fn close(&mut self, end: Timestamp, epoch: u64) -> Vec<Detection> {
        let longest = WINDOWS[WINDOWS.len() - 1];
        self.totals.push_back(self.total);
        let period_start = end - chrono::Duration::seconds(self.settings.epoch_secs);
        self.hours
            .push_back(chrono::Timelike::hour(&period_start) as usize);
        let leaving_total = if self.totals.len() > longest {
            self.hours.pop_front();
            self.totals.pop_front()
        } else {
            None
        };
        let leaving_hour = self.hours.front().copied();
        self.total = 0;
        let minutes = self.settings.epoch_secs / 60;
        let mut found = Vec::new();
        for (name, scope) in &mut self.scopes {
            scope.counts.push_back(scope.current);
            let leaving = if scope.counts.len() > longest {
                scope.counts.pop_front()
            } else {
                None
            };
            // The window where the shortfall is clearest.
            let mut worst: Option<(f64, u64, f64, usize)> = None;
            for window in WINDOWS {
                if window > scope.counts.len() {
                    break;
                }
                let country = name.starts_with("country:");
                let seen: u64 = scope.counts.iter().rev().take(window).sum();
                let mut expected = 0.0;
                let mut known = true;
                for (total, hour) in self
                    .totals
                    .iter()
                    .rev()
                    .zip(self.hours.iter().rev())
                    .take(window)
                {
                    match scope.expected(*hour, *total, country) {
                        Some(posts) => expected += posts,
                        None => known = false,
                    }
                }
                if !known {
                    continue;
                }
                if expected >= self.settings.silence_min_expected
                    && (seen as f64) <= self.settings.silence_ratio * expected
                {
                    let ratio = expected / (seen as f64 + 1.0);
                    if worst.is_none_or(|(best, ..)| ratio > best) {
                        worst = Some((ratio, seen, expected, window));
                    }
                }
            }
            match worst {
                Some((ratio, seen, expected, window)) if epoch > WARMUP && !scope.silent => {
                    scope.silent = true;
                    found.push(Detection {
                        kind: Kind::Silence,
                        key: name.clone(),
                        detected_at: end,
                        first_seen: scope.last_post.unwrap_or(end),
                        score: ratio,
                        reason: format!(
                            "{name}: {seen} posts in the last {} minutes where about {expected:.0} were expected (its usual share of the stream at this hour, and no more than it usually posts)",
                            window as i64 * minutes
                        ),
                        samples: Vec::new(),
                        accounts: Vec::new(),
                        group: None,
                    });
                }
                Some(_) => {}
                None => {
                    let recent: u64 = scope.counts.iter().rev().take(16).sum();
                    let all: u64 = self.totals.iter().rev().take(16).sum();
                    // Back to half its share (or, for a sparse scope, posting at all) over the
                    // last 16 periods: no longer silent, and learning again.
                    let needed = (0.5 * scope.share * all as f64).max(1.0);
                    if scope.silent && recent as f64 >= needed {
                        scope.silent = false;
                    }
                }
            }
            if !scope.silent
                && let (Some(count), Some(total)) = (leaving, leaving_total)
                && total > 0
            {
                // A plain average at first, then a moving one.
                let share = count as f64 / total as f64;
                scope.learned += 1;
                let weight = ALPHA.max(1.0 / scope.learned as f64);
                scope.share += weight * (share - scope.share);
                scope.rate += weight * (count as f64 - scope.rate);
                if let Some(hour) = leaving_hour {
                    scope.hourly_learned[hour] += 1;
                    // Within an hour's first 60 periods a plain average; then days weigh in.
                    let weight = (1.0 / f64::from(scope.hourly_learned[hour])).max(0.005);
                    scope.hourly[hour] += weight * (share - scope.hourly[hour]);
                    scope.hourly_rate[hour] += weight * (count as f64 - scope.hourly_rate[hour]);
                }
            }
            scope.current = 0;
        }
        found
    }
}
