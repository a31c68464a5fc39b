//! Copy-paste campaigns: posts whose texts are near-identical (MinHash over word pairs, with
//! locality-sensitive hashing to find them), from many distinct accounts within a short time.
//! Shares (retweets, boosts) are not counted: repeating by sharing is what sharing is for.
//! Only a text first seen after the stream's first two hours, taken up by enough accounts
//! within the window from its first post (10; 6 when most of them are small), and posted again
//! by them (1.5 posts per account or more; 1.3 when most of the accounts are small, a median of
//! 50 followers or fewer), is a campaign: texts people repeat all the time (slogans, greetings,
//! a bot's daily message) are already there when the stream starts, or spread slower, and a
//! sentence many people happen to write about the same news comes once from each. A news
//! feed's headline is what people paste to share the news, some of them twice: only small
//! accounts make that a campaign.

use std::collections::{HashMap, HashSet};

use starling_model::{Platform, Post, Timestamp};

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
    /// Follower counts of its accounts, where the platform gives them (one per account).
    followers: Vec<u64>,
    order: Vec<String>,
    posts: u64,
    first: Timestamp,
    last: Timestamp,
    samples: Vec<String>,
    bands: Vec<u64>,
    reported: bool,
    /// The first news feed that published the text, when one did: then it is a headline.
    published_by: Option<String>,
}

/// Seconds of stream during which every text is new, and none is called a campaign.
const WARMUP_SECS: i64 = 2 * 3600;
/// Accounts remembered per cluster, at most.
const MAX_ACCOUNTS: usize = 1_000;
/// Posts per account a campaign needs: its accounts post the text again and again, where a
/// phrase many people happen to write comes once from each.
const REPEATS: f64 = 1.3;
/// Posts per account that make a campaign whoever the accounts are. Between `REPEATS` and
/// this, the accounts must also be small: a headline many ordinary people paste, some twice,
/// repeats about as much as a handful of fresh sock puppets do, but their audiences differ.
const REPEATS_ALONE: f64 = 1.5;
/// The median follower count under which a cluster's accounts are small.
const SMALL_ACCOUNTS: u64 = 50;
/// Accounts with a known follower count needed to judge their size.
const SIZED_ACCOUNTS: usize = 3;
/// Small accounts repeating a text that make a campaign, at the fewest.
const MIN_PUPPETS: usize = 6;

pub(crate) struct Campaigns {
    settings: Settings,
    start: Option<Timestamp>,
    next: u64,
    clusters: HashMap<u64, Cluster>,
    by_band: HashMap<u64, u64>,
}

impl Campaigns {
    pub fn new(settings: Settings) -> Campaigns {
        Campaigns {
            settings,
            start: None,
            next: 0,
            clusters: HashMap::new(),
            by_band: HashMap::new(),
        }
    }

    pub fn observe(&mut self, post: &Post) -> Option<Detection> {
        let start = *self.start.get_or_insert(post.created_at);
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
        let mut hits: Vec<u64> = bands
            .iter()
            .filter_map(|band| self.by_band.get(band).copied())
            .filter(|id| self.clusters.contains_key(id))
            .collect();
        hits.sort_unstable();
        hits.dedup();
        // Variants that began apart ("Truth: …", "RT this: …") meet through this post: one
        // cluster from then on.
        for other in hits.iter().skip(1) {
            self.merge(hits[0], *other);
        }
        let existing = hits.first().copied();
        let id = existing.unwrap_or_else(|| {
            self.next += 1;
            self.clusters.insert(
                self.next,
                Cluster {
                    text: words.join(" "),
                    accounts: HashSet::new(),
                    followers: Vec::new(),
                    order: Vec::new(),
                    posts: 0,
                    first: post.created_at,
                    last: post.created_at,
                    samples: Vec::new(),
                    bands: Vec::new(),
                    reported: false,
                    published_by: None,
                },
            );
            self.next
        });
        // Only bands not yet known are remembered: a text posted all day long keeps the few
        // bands its variants have, not one set per post.
        let mut new_bands = Vec::new();
        for band in bands {
            if let std::collections::hash_map::Entry::Vacant(entry) = self.by_band.entry(band) {
                entry.insert(id);
                new_bands.push(band);
            }
        }
        let settings = self.settings;
        let cluster = self.clusters.get_mut(&id)?;
        cluster.bands.extend(new_bands);
        cluster.posts += 1;
        cluster.last = cluster.last.max(post.created_at);
        let account = format!("{}:{}", post.platform.as_str(), post.author.handle);
        if post.platform == Platform::Rss && cluster.published_by.is_none() {
            cluster.published_by = Some(account.clone());
        }
        // A reported cluster keeps counting posts, not accounts: its list was given.
        if !cluster.reported
            && cluster.accounts.len() < MAX_ACCOUNTS
            && cluster.accounts.insert(account.clone())
        {
            cluster.order.push(account);
            if let Some(followers) = post.author.followers {
                cluster.followers.push(followers);
            }
        }
        if cluster.samples.len() < SAMPLES {
            cluster.samples.push(post.key.as_str().to_owned());
        }
        let span = (cluster.last - cluster.first).num_seconds();
        let repeats = cluster.posts as f64 / cluster.accounts.len().max(1) as f64;
        let median_followers = median(&cluster.followers);
        let small = cluster.followers.len() >= SIZED_ACCOUNTS
            && median_followers.is_some_and(|median| median <= SMALL_ACCOUNTS);
        // A news feed's headline is what people paste to share the news, some more than once:
        // only small accounts pasting it are a campaign (sock puppets pushing an outlet's line).
        // Small accounts repeating a text are the mark of sock puppets: half as many make a
        // campaign (never fewer than six).
        let puppets = repeats >= REPEATS && small;
        let repeated = puppets || (cluster.published_by.is_none() && repeats >= REPEATS_ALONE);
        let needed = if puppets {
            settings.campaign_accounts.div_ceil(2).max(MIN_PUPPETS)
        } else {
            settings.campaign_accounts
        };
        if !cluster.reported
            && (cluster.first - start).num_seconds() >= WARMUP_SECS
            && cluster.accounts.len() >= needed
            && repeated
            && span <= settings.campaign_window_secs
        {
            cluster.reported = true;
            let minutes = span / 60;
            let mut audience = median_followers.map_or_else(String::new, |median| {
                format!("; their median follower count is {median}")
            });
            if let Some(feed) = &cluster.published_by {
                audience.push_str(&format!("; the text is a headline of {feed}"));
            }
            return Some(Detection {
                kind: Kind::Campaign,
                key: cluster.text.chars().take(120).collect(),
                detected_at: post.created_at,
                first_seen: cluster.first,
                score: cluster.accounts.len() as f64,
                reason: format!(
                    "{} accounts posted near-identical text {} times within {minutes} minutes{audience}",
                    cluster.accounts.len(),
                    cluster.posts
                ),
                samples: cluster.samples.clone(),
                accounts: cluster.order.clone(),
                group: None,
            });
        }
        None
    }

    /// Moves cluster `from` into `into`.
    fn merge(&mut self, into: u64, from: u64) {
        let Some(from) = self.clusters.remove(&from) else {
            return;
        };
        for band in &from.bands {
            self.by_band.insert(*band, into);
        }
        if let Some(cluster) = self.clusters.get_mut(&into) {
            for account in from.order {
                if cluster.accounts.insert(account.clone()) {
                    cluster.order.push(account);
                }
            }
            // Accounts in both were counted in each; the estimate of their size tolerates it.
            cluster.followers.extend(from.followers);
            cluster.posts += from.posts;
            cluster.first = cluster.first.min(from.first);
            cluster.last = cluster.last.max(from.last);
            for sample in from.samples {
                if cluster.samples.len() < SAMPLES {
                    cluster.samples.push(sample);
                }
            }
            cluster.bands.extend(from.bands);
            cluster.reported |= from.reported;
            if cluster.published_by.is_none() {
                cluster.published_by = from.published_by;
            }
        }
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

/// The median of some counts.
fn median(counts: &[u64]) -> Option<u64> {
    if counts.is_empty() {
        return None;
    }
    let mut sorted = counts.to_vec();
    sorted.sort_unstable();
    Some(sorted[sorted.len() / 2])
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
