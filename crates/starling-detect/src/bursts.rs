//! Bursts, in the spirit of SigniTrend (Schubert, Weiler and Kriegel, 2014): every key's count
//! per period goes into a fixed table of hashed counters, each keeping an exponentially
//! weighted mean and variance; a key whose count stands far above its counter's mean, by more
//! than a noise floor, bursts.

use std::collections::HashMap;

use starling_model::{Post, Timestamp};

use crate::{Detection, Kind, Settings, hash};

/// Weight of the newest period in the moving averages (about 30 periods of memory).
const ALPHA: f64 = 0.033;
/// Added to the standard deviation: a key seen once or twice before is not news at three.
const NOISE_FLOOR: f64 = 2.0;
/// Periods to learn from before anything is called a burst.
const WARMUP: u64 = 30;
/// Periods after a burst during which the same key is not reported again.
const COOLDOWN: u64 = 90;
/// Posts kept as samples per key and period.
const SAMPLES: usize = 3;

#[derive(Default)]
struct Seen {
    count: u32,
    first: Option<Timestamp>,
    samples: Vec<String>,
}

pub(crate) struct Bursts {
    settings: Settings,
    mean: Vec<f32>,
    variance: Vec<f32>,
    current: HashMap<String, Seen>,
    /// Keys reported, and the period they were.
    reported: HashMap<String, u64>,
}

impl Bursts {
    pub fn new(settings: Settings) -> Bursts {
        Bursts {
            settings,
            mean: vec![0.0; settings.burst_cells.next_power_of_two()],
            variance: vec![0.0; settings.burst_cells.next_power_of_two()],
            current: HashMap::new(),
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
        for token in starling_text::analyze(&post.text) {
            // Words of four letters or more; hashtags' words come as hashtags.
            if token.text.chars().count() >= 4
                && !token.text.chars().all(|character| character.is_numeric())
            {
                keys.push(token.text);
            }
        }
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            let seen = self.current.entry(key).or_default();
            seen.count += 1;
            seen.first = Some(seen.first.map_or(post.created_at, |first| first.min(post.created_at)));
            if seen.samples.len() < SAMPLES {
                seen.samples.push(post.key.as_str().to_owned());
            }
        }
    }

    pub fn close(&mut self, end: Timestamp, epoch: u64) -> Vec<Detection> {
        let mut found = Vec::new();
        let mut totals: HashMap<usize, f64> = HashMap::new();
        let minutes = self.settings.epoch_secs as f64 / 60.0;
        for (key, seen) in &self.current {
            let cell = (hash(key, 0) as usize) & (self.mean.len() - 1);
            *totals.entry(cell).or_default() += f64::from(seen.count);
            let count = f64::from(seen.count);
            let mean = f64::from(self.mean[cell]);
            let deviation = f64::from(self.variance[cell]).max(0.0).sqrt();
            let z = (count - mean) / (deviation + NOISE_FLOOR);
            let quiet = self
                .reported
                .get(key)
                .is_none_or(|when| epoch.saturating_sub(*when) > COOLDOWN);
            if epoch > WARMUP
                && seen.count >= self.settings.burst_min_posts
                && z >= self.settings.burst_z
                && quiet
            {
                self.reported.insert(key.clone(), epoch);
                found.push(Detection {
                    kind: Kind::Burst,
                    key: key.clone(),
                    detected_at: end,
                    first_seen: seen.first.unwrap_or(end),
                    score: z,
                    reason: format!(
                        "{key}: {} posts in {minutes:.0} minutes, against a usual {mean:.1} ± {deviation:.1} (z = {z:.1})",
                        seen.count
                    ),
                    samples: seen.samples.clone(),
                    accounts: Vec::new(),
                });
            }
        }
        // Every counter learns this period, those with no key in it as zero.
        for cell in 0..self.mean.len() {
            let count = totals.get(&cell).copied().unwrap_or(0.0);
            let mean = f64::from(self.mean[cell]);
            let difference = count - mean;
            let increment = ALPHA * difference;
            self.mean[cell] = (mean + increment) as f32;
            self.variance[cell] =
                ((1.0 - ALPHA) * (f64::from(self.variance[cell]) + difference * increment)) as f32;
        }
        self.current.clear();
        self.reported
            .retain(|_, when| epoch.saturating_sub(*when) <= COOLDOWN);
        found.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.key.cmp(&b.key)));
        found
    }
}
