//! Bursts, in the spirit of SigniTrend (Schubert, Weiler and Kriegel, 2014): every key's count
//! per period goes into a fixed table of hashed counters, each keeping an exponentially
//! weighted mean and variance of the counts of the keys that share it.
//!
//! Each period, a key's count over the last 1, 2, 4, 16 and 64 periods is tested against what its
//! counter's mean leads to expect: the chance of at least that many posts if they came at the
//! usual rate (Poisson, widened by the counter's own overdispersion, variance over mean). A key
//! bursts when that chance is below one in 10^`burst_score` and it has enough posts. A key
//! rising from nothing is news within minutes; one that always swings is not.

use std::collections::HashMap;

use starling_model::{Post, Timestamp};

use crate::{Detection, Kind, Settings, hash};

/// Weight of the newest period in the moving mean (about 30 periods of memory).
const ALPHA: f64 = 0.033;
/// The variance learns slower, so that the start of a burst does not excuse the rest of it.
const ALPHA_VARIANCE: f64 = 0.01;
/// The smallest rate a count is compared with, per period.
const RATE_FLOOR: f64 = 0.05;
/// Periods to learn from before anything is called a burst.
const WARMUP: u64 = 60;
/// Periods after a burst during which the same key is not reported again.
const COOLDOWN: u64 = 180;
/// The windows tested, in periods: minutes catch a busy stream's bursts at once, an hour a
/// sparse stream's.
const WINDOWS: [usize; 5] = [1, 2, 4, 16, 64];
/// Periods of recent counts kept per key.
const RECENT: usize = 64;
/// Posts kept as samples per key.
const SAMPLES: usize = 3;

struct Recent {
    /// Counts of the last periods, newest first.
    counts: [u32; RECENT],
    first: Option<Timestamp>,
    samples: Vec<String>,
}

impl Default for Recent {
    fn default() -> Recent {
        Recent {
            counts: [0; RECENT],
            first: None,
            samples: Vec::new(),
        }
    }
}

pub(crate) struct Bursts {
    settings: Settings,
    mean: Vec<f32>,
    variance: Vec<f32>,
    /// The last period each counter has learned; the periods since, it had no key, and it
    /// learns them (as zeros) when next used.
    learned: Vec<u32>,
    /// Keys seen in the last `RECENT` periods.
    recent: HashMap<String, Recent>,
    /// Keys reported, and the period they were.
    reported: HashMap<String, u64>,
}

impl Bursts {
    pub fn new(settings: Settings) -> Bursts {
        let cells = settings.burst_cells.next_power_of_two();
        Bursts {
            settings,
            mean: vec![0.0; cells],
            variance: vec![0.0; cells],
            learned: vec![0; cells],
            recent: HashMap::new(),
            reported: HashMap::new(),
        }
    }

    pub fn observe(&mut self, post: &Post) {
        let mut keys: Vec<String> = Vec::new();
        for tag in &post.entities.hashtags {
            keys.push(format!("#{}", starling_text::normalize_word(&tag.tag)));
        }
        for mention in &post.entities.mentions {
            keys.push(format!("@{}", mention.handle.to_lowercase()));
        }
        for url in &post.entities.urls {
            if let Some(host) = starling_text::url_host(&url.target().to_lowercase()) {
                let host = host.trim_start_matches("www.");
                if host != "t.co" {
                    keys.push(format!("domain:{host}"));
                }
            }
        }
        let tags: Vec<String> = keys
            .iter()
            .filter_map(|key| key.strip_prefix('#'))
            .map(str::to_owned)
            .collect();
        // Hashtags, mentions and domains are shared across languages and platforms: each is
        // also counted within the post's language and within its platform, so that a key
        // usual in one language (or platform) and new in another bursts there.
        let mut scoped = Vec::new();
        for scope in scopes(post) {
            for key in &keys {
                scoped.push(format!("{key} [{scope}]"));
            }
        }
        keys.extend(scoped);
        for token in starling_text::analyze(&post.text) {
            // Words of four letters or more; hashtags' words come as hashtags.
            if token.text.chars().count() >= 4
                && !tags.contains(&token.text)
                && !token.text.chars().all(|character| character.is_numeric())
            {
                keys.push(token.text);
            }
        }
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            let recent = self.recent.entry(key).or_default();
            recent.counts[0] += 1;
            if recent.counts[1..].iter().all(|count| *count == 0) && recent.counts[0] == 1 {
                recent.first = Some(post.created_at);
                recent.samples.clear();
            }
            if recent.samples.len() < SAMPLES {
                recent.samples.push(post.key.as_str().to_owned());
            }
        }
    }

    pub fn close(&mut self, end: Timestamp, epoch: u64) -> Vec<Detection> {
        let mut found = Vec::new();
        let mut scoped_found = Vec::new();
        let mut totals: HashMap<usize, f64> = HashMap::new();
        let mask = self.mean.len() - 1;
        let minutes = self.settings.epoch_secs as f64 / 60.0;
        let period = u32::try_from(epoch).unwrap_or(u32::MAX);
        let cells: Vec<usize> = self
            .recent
            .keys()
            .map(|key| (hash(key, 0) as usize) & mask)
            .collect();
        for cell in cells {
            self.catch_up(cell, period);
        }
        for (key, recent) in &self.recent {
            let cell = (hash(key, 0) as usize) & mask;
            *totals.entry(cell).or_default() += f64::from(recent.counts[0]);
            if epoch <= WARMUP
                || self
                    .reported
                    .get(key)
                    .is_some_and(|when| epoch.saturating_sub(*when) <= COOLDOWN)
            {
                continue;
            }
            let mean = f64::from(self.mean[cell]).max(RATE_FLOOR);
            let dispersion = (f64::from(self.variance[cell]) / mean).max(1.0);
            // The window where the count is least likely by chance.
            let mut best: Option<(f64, u32, usize)> = None;
            for window in WINDOWS {
                let count: u32 = recent.counts[..window].iter().sum();
                if count < self.settings.burst_min_posts {
                    continue;
                }
                let score = -log10_poisson_tail(
                    f64::from(count) / dispersion,
                    mean * window as f64 / dispersion,
                );
                if best.is_none_or(|(top, ..)| score > top) {
                    best = Some((score, count, window));
                }
            }
            if let Some((score, count, window)) = best
                && score >= self.settings.burst_score
            {
                let span = minutes * window as f64;
                let (what, scope) = match split_scope(key) {
                    Some((base, scope)) => (format!("{base} among {scope} posts"), true),
                    None => (key.clone(), false),
                };
                let detection = Detection {
                    kind: Kind::Burst,
                    key: key.clone(),
                    detected_at: end,
                    first_seen: recent.first.unwrap_or(end),
                    score,
                    reason: format!(
                        "{what}: {count} posts in {span:.0} min, where {:.1} are usual (a chance of 1 in 10^{score:.0})",
                        mean * window as f64
                    ),
                    samples: recent.samples.clone(),
                    accounts: Vec::new(),
                };
                if scope {
                    scoped_found.push(detection);
                } else {
                    self.reported.insert(key.clone(), epoch);
                    found.push(detection);
                }
            }
        }
        // A key bursting in one scope only is news there; one bursting everywhere is reported
        // once, unscoped, and its scopes stay quiet while it cools down. Of one key's scopes,
        // the strongest is reported.
        scoped_found.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.key.cmp(&b.key)));
        for detection in scoped_found {
            let Some((base, _)) = split_scope(&detection.key) else {
                continue;
            };
            let any_scope = format!("{base} [*]");
            if self.reported.contains_key(base) || self.reported.contains_key(&any_scope) {
                continue;
            }
            // The key's other scopes stay quiet while this burst cools down; the key itself
            // may still burst everywhere, which is news of its own.
            self.reported.insert(any_scope, epoch);
            self.reported.insert(detection.key.clone(), epoch);
            found.push(detection);
        }
        // The counters of this period's keys learn it (the others, later, as zeros).
        for (cell, count) in totals {
            self.learn(cell, count);
            self.learned[cell] = period;
        }
        // Shift the recent counts; forget keys not seen for `RECENT` periods.
        self.recent.retain(|_, recent| {
            recent.counts.rotate_right(1);
            recent.counts[0] = 0;
            recent.counts.iter().any(|count| *count > 0)
        });
        self.reported
            .retain(|_, when| epoch.saturating_sub(*when) <= COOLDOWN);
        found.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.key.cmp(&b.key)));
        found
    }
}

impl Bursts {
    /// Lets `cell` learn the periods before `period` it had no key in, as zeros.
    fn catch_up(&mut self, cell: usize, period: u32) {
        let missed = period.saturating_sub(self.learned[cell]).saturating_sub(1);
        // After a few hundred empty periods a counter is at rest: the rest change nothing.
        for _ in 0..missed.min(400) {
            self.learn(cell, 0.0);
        }
        self.learned[cell] = period.saturating_sub(1).max(self.learned[cell]);
    }

    fn learn(&mut self, cell: usize, count: f64) {
        let mean = f64::from(self.mean[cell]);
        let difference = count - mean;
        self.mean[cell] = (mean + ALPHA * difference) as f32;
        self.variance[cell] = ((1.0 - ALPHA_VARIANCE)
            * (f64::from(self.variance[cell]) + ALPHA_VARIANCE * difference * difference))
            as f32;
    }
}

/// The scopes a post's entity keys are also counted in: its language (Starling's, else the
/// declared one) and its platform.
fn scopes(post: &Post) -> Vec<String> {
    let mut scopes = Vec::with_capacity(2);
    let lang = post
        .enrichment
        .as_ref()
        .map(|enrichment| enrichment.lang.as_str())
        .filter(|lang| !lang.is_empty() && *lang != "und")
        .map(str::to_owned)
        .or_else(|| {
            post.declared_lang
                .as_deref()
                .and_then(|lang| lang.split(['-', '_']).next())
                .filter(|lang| !lang.is_empty() && *lang != "und")
                .map(str::to_ascii_lowercase)
        });
    if let Some(lang) = lang {
        scopes.push(format!("lang:{lang}"));
    }
    scopes.push(format!("platform:{}", post.platform.as_str()));
    scopes
}

/// `#tag [lang:fa]` as (`#tag`, `lang:fa`).
fn split_scope(key: &str) -> Option<(&str, &str)> {
    let (base, scope) = key.strip_suffix(']')?.rsplit_once(" [")?;
    Some((base, scope))
}

/// log10 of the chance that a Poisson variable of mean `rate` is at least `count`.
fn log10_poisson_tail(count: f64, rate: f64) -> f64 {
    let count = count.floor().max(0.0);
    if count <= rate {
        return 0.0;
    }
    // ln P(X = count), then the terms after it, each rate / (k + 1) times the one before.
    let mut ln_factorial = 0.0;
    let mut k = 2.0;
    while k <= count {
        ln_factorial += f64::ln(k);
        k += 1.0;
    }
    let ln_first = -rate + count * rate.ln() - ln_factorial;
    let mut sum = 1.0;
    let mut term = 1.0;
    let mut k = count;
    while term > 1e-15 * sum {
        term *= rate / (k + 1.0);
        sum += term;
        k += 1.0;
    }
    (ln_first + sum.ln()) / std::f64::consts::LN_10
}

#[cfg(test)]
mod tests {
    #[test]
    fn poisson_tails_are_right() {
        // P(X >= 3 | 1) = 1 - e^-1 (1 + 1 + 1/2) = 0.080301...
        assert!((super::log10_poisson_tail(3.0, 1.0) - 0.080_301_397_f64.log10()).abs() < 1e-9);
        // P(X >= 1 | 0.5) = 1 - e^-0.5
        assert!(
            (super::log10_poisson_tail(1.0, 0.5) - (1.0 - (-0.5f64).exp()).log10()).abs() < 1e-9
        );
        assert_eq!(super::log10_poisson_tail(2.0, 5.0), 0.0);
    }
}
