//! Copy-paste campaigns: posts whose texts are near-identical (MinHash over word pairs, with
//! locality-sensitive hashing to find them), from many distinct accounts within a short time.
//! Shares (retweets, boosts) are not counted: repeating by sharing is what sharing is for.

use std::collections::{HashMap, HashSet};

use starling_model::{Post, Timestamp};

use crate::{Detection, Kind, Settings, hash};

const HASHES: usize = 16;
const BANDS: usize = 4;
const ROWS: usize = HASHES / BANDS;
/// Texts of fewer words are too short to call copies.
const MIN_WORDS: usize = 5;
const SAMPLES: usize = 5;

struct Cluster {
    text: String,
    accounts: HashSet<String>,
    order: Vec<String>,
    posts: u64,
    first: Timestamp,
    last: Timestamp,
    samples: Vec<String>,
    bands: Vec<u64>,
    reported: bool,
}

pub(crate) struct Campaigns {
    settings: Settings,
    next: u64,
    clusters: HashMap<u64, Cluster>,
    by_band: HashMap<u64, u64>,
}

impl Campaigns {
    pub fn new(settings: Settings) -> Campaigns {
        Campaigns {
            settings,
            next: 0,
            clusters: HashMap::new(),
            by_band: HashMap::new(),
        }
    }

    pub fn observe(&mut self, post: &Post) -> Option<Detection> {
        if post.share_of.is_some() {
            return None;
        }
        // Words without links, mentions or the hashtags' marks; normalized.
        let words: Vec<String> = starling_text::analyze(&strip(&post.text))
            .into_iter()
            .map(|token| token.text)
            .collect();
        if words.len() < MIN_WORDS {
            return None;
        }
        let mut signature = [u64::MAX; HASHES];
        for pair in words.windows(2) {
            let shingle = format!("{} {}", pair[0], pair[1]);
            for (seed, slot) in signature.iter_mut().enumerate() {
                *slot = (*slot).min(hash(&shingle, seed as u64 + 1));
            }
        }
        let bands: Vec<u64> = signature
            .chunks(ROWS)
            .enumerate()
            .map(|(band, rows)| {
                let text: String = rows.iter().map(|row| format!("{row:x}.")).collect();
                hash(&text, 100 + band as u64)
            })
            .collect();
        let existing = bands
            .iter()
            .find_map(|band| self.by_band.get(band).copied())
            .filter(|id| self.clusters.contains_key(id));
        let id = existing.unwrap_or_else(|| {
            self.next += 1;
            self.clusters.insert(
                self.next,
                Cluster {
                    text: words.join(" "),
                    accounts: HashSet::new(),
                    order: Vec::new(),
                    posts: 0,
                    first: post.created_at,
                    last: post.created_at,
                    samples: Vec::new(),
                    bands: Vec::new(),
                    reported: false,
                },
            );
            self.next
        });
        for band in &bands {
            self.by_band.entry(*band).or_insert(id);
        }
        let settings = self.settings;
        let cluster = self.clusters.get_mut(&id)?;
        cluster.bands.extend(bands);
        cluster.posts += 1;
        cluster.last = cluster.last.max(post.created_at);
        let account = format!("{}:{}", post.platform.as_str(), post.author.handle);
        if cluster.accounts.insert(account.clone()) {
            cluster.order.push(account);
        }
        if cluster.samples.len() < SAMPLES {
            cluster.samples.push(post.key.as_str().to_owned());
        }
        let span = (cluster.last - cluster.first).num_seconds();
        if !cluster.reported
            && cluster.accounts.len() >= settings.campaign_accounts
            && span <= settings.campaign_window_secs
        {
            cluster.reported = true;
            let minutes = span / 60;
            return Some(Detection {
                kind: Kind::Campaign,
                key: cluster.text.chars().take(120).collect(),
                detected_at: post.created_at,
                first_seen: cluster.first,
                score: cluster.accounts.len() as f64,
                reason: format!(
                    "{} accounts posted near-identical text {} times within {minutes} minutes",
                    cluster.accounts.len(),
                    cluster.posts
                ),
                samples: cluster.samples.clone(),
                accounts: cluster.order.clone(),
            });
        }
        None
    }

    /// Forgets clusters quiet for longer than the window: memory stays bounded.
    pub fn expire(&mut self, now: Timestamp) {
        let window = self.settings.campaign_window_secs;
        let stale: Vec<u64> = self
            .clusters
            .iter()
            .filter(|(_, cluster)| (now - cluster.last).num_seconds() > window)
            .map(|(id, _)| *id)
            .collect();
        for id in stale {
            if let Some(cluster) = self.clusters.remove(&id) {
                for band in cluster.bands {
                    if self.by_band.get(&band) == Some(&id) {
                        self.by_band.remove(&band);
                    }
                }
            }
        }
    }
}

/// The text without links and mentions, and with share prefixes (`RT @user:`) gone.
fn strip(text: &str) -> String {
    text.split_whitespace()
        .filter(|word| {
            !(word.starts_with("http://")
                || word.starts_with("https://")
                || word.starts_with('@')
                || *word == "RT")
        })
        .collect::<Vec<_>>()
        .join(" ")
}
