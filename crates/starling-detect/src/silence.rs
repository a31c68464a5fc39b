//! Silence: a platform or a country posting far less than its usual share of the stream.
//! Each scope's share is a slowly moving average (not learned while it is silent); each period,
//! the posts it should have had over the last 1 to 32 periods are compared with those it had,
//! so a busy platform is found silent within minutes and a sparse country within the hour.

use std::collections::{BTreeMap, VecDeque};

use starling_model::{Post, Timestamp};

use crate::{Detection, Kind, Settings};

const ALPHA: f64 = 0.02;
const WINDOWS: [usize; 6] = [1, 2, 4, 8, 16, 32];
const WARMUP: u64 = 30;

#[derive(Default)]
struct Scope {
    share: f64,
    /// Posts per period, newest last.
    counts: VecDeque<u64>,
    current: u64,
    last_post: Option<Timestamp>,
    silent: bool,
}

pub(crate) struct Silence {
    settings: Settings,
    scopes: BTreeMap<String, Scope>,
    totals: VecDeque<u64>,
    total: u64,
}

impl Silence {
    pub fn new(settings: Settings) -> Silence {
        Silence {
            settings,
            scopes: BTreeMap::new(),
            totals: VecDeque::new(),
            total: 0,
        }
    }

    pub fn observe(&mut self, post: &Post) {
        self.total += 1;
        let mut scopes = vec![format!("platform:{}", post.platform.as_str())];
        if let Some(country) = post.geo.as_ref().and_then(|geo| geo.country.as_deref()) {
            scopes.push(format!("country:{}", country.to_ascii_uppercase()));
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
        if self.totals.len() > longest {
            self.totals.pop_front();
        }
        let total = self.total;
        self.total = 0;
        let minutes = self.settings.epoch_secs / 60;
        let mut found = Vec::new();
        for (name, scope) in &mut self.scopes {
            scope.counts.push_back(scope.current);
            if scope.counts.len() > longest {
                scope.counts.pop_front();
            }
            // The window where the shortfall is clearest.
            let mut worst: Option<(f64, u64, f64, usize)> = None;
            for window in WINDOWS {
                if window > scope.counts.len() {
                    break;
                }
                let seen: u64 = scope.counts.iter().rev().take(window).sum();
                let all: u64 = self.totals.iter().rev().take(window).sum();
                let expected = scope.share * all as f64;
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
                            "{name}: {seen} posts in the last {} minutes where about {expected:.0} were expected (its usual {:.1}% of the stream)",
                            window as i64 * minutes,
                            scope.share * 100.0
                        ),
                        samples: Vec::new(),
                        accounts: Vec::new(),
                    });
                }
                Some(_) => {}
                None => {
                    let recent: u64 = scope.counts.iter().rev().take(2).sum();
                    let all: u64 = self.totals.iter().rev().take(2).sum();
                    // Back to at least half its share: no longer silent, and learning again.
                    if scope.silent && recent as f64 >= 0.5 * scope.share * all as f64 {
                        scope.silent = false;
                    }
                    if !scope.silent && total > 0 {
                        let share = scope.current as f64 / total as f64;
                        scope.share = if epoch <= 1 {
                            share
                        } else {
                            scope.share + ALPHA * (share - scope.share)
                        };
                    }
                }
            }
            scope.current = 0;
        }
        found
    }
}
