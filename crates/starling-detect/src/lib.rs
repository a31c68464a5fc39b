//! Notice what is new: bursts of hashtags, words, term pairs, mentions and domains; new stories;
//! copy-paste campaigns; platforms and countries going silent. Each detection says why.
//!
//! Detectors see posts in the order of their creation time and keep their own clock from
//! them (stream time): a replay of the archive and a live stream give the same detections.
//! Memory is bounded whatever the stream's length: hashed counters for bursts, a window of
//! recent clusters for campaigns, a ring of recent counts per platform and country.
//!
//! ```
//! use starling_detect::{Detectors, Settings};
//! let mut detectors = Detectors::new(Settings::default());
//! # let posts: Vec<starling_model::Post> = Vec::new();
//! for post in &posts {
//!     for detection in detectors.observe(post) {
//!         println!("{}: {}", detection.kind.as_str(), detection.reason);
//!     }
//! }
//! let rest = detectors.finish();
//! assert!(rest.is_empty());
//! ```

mod accounts;
mod bursts;
mod campaigns;
mod reorder;
mod silence;
pub use accounts::{Account, Accounts};
pub use reorder::InOrder;
mod stories;

pub use stories::StorySize;

use serde::Serialize;
use starling_model::{Post, Timestamp};

/// What kind of thing was noticed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A key (hashtag, word, mention, domain) far above its usual rate.
    Burst,
    /// Many accounts posting near-identical text within a short time.
    Campaign,
    /// A platform or country far below its usual share of the stream.
    Silence,
    /// A new story: posts about one thing, growing fast.
    Story,
}

impl Kind {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Burst => "burst",
            Kind::Campaign => "campaign",
            Kind::Silence => "silence",
            Kind::Story => "story",
        }
    }
}

/// One thing noticed, with its reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detection {
    /// Burst, campaign or silence.
    pub kind: Kind,
    /// What: `#tag`, `word`, `@handle`, `domain:host`; a campaign's text; `platform:bluesky`,
    /// `country:IR`; a story's title (its first post).
    pub key: String,
    /// When it was noticed, in stream time.
    pub detected_at: Timestamp,
    /// When it began to show (a burst: the start of the window it burst in, or its first post
    /// when later; a story or campaign: its first post; a silence: the last post seen before it).
    pub first_seen: Timestamp,
    /// How strong: for a burst, how unlikely its count was by chance (1 in 10 to this power);
    /// a campaign's number of accounts; how many times fewer posts a silence has than expected.
    pub score: f64,
    /// Why, in words.
    pub reason: String,
    /// Keys of some of the posts it is about.
    pub samples: Vec<String>,
    /// A campaign's accounts (`platform:handle`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
    /// A burst of the same posts as an earlier one (the story's other words, its hashtag in
    /// one language): the key of the first burst of the group, which a reader shows it under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// How sensitive the detectors are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// The counting period, in seconds.
    pub epoch_secs: i64,
    /// Hashed counters for bursts (a power of two): more, fewer keys sharing one.
    pub burst_cells: usize,
    /// A burst needs at least this many posts (in the window tested).
    pub burst_min_posts: u32,
    /// And a count at least this unlikely by chance: 1 in 10 to this power.
    pub burst_score: f64,
    /// A campaign needs at least this many distinct accounts.
    pub campaign_accounts: usize,
    /// Within this many seconds.
    pub campaign_window_secs: i64,
    /// A silence needs at least this many posts expected.
    pub silence_min_expected: f64,
    /// And at most this share of them seen.
    pub silence_ratio: f64,
    /// A new story is reported once it has this many posts within an hour of its first.
    pub story_posts: u64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            epoch_secs: 60,
            burst_cells: 1 << 18,
            burst_min_posts: 8,
            burst_score: 10.0,
            campaign_accounts: 10,
            campaign_window_secs: 30 * 60,
            silence_min_expected: 15.0,
            silence_ratio: 0.1,
            story_posts: 20,
        }
    }
}

/// The detectors together, fed one post at a time in creation order.
pub struct Detectors {
    settings: Settings,
    epoch: Option<i64>,
    /// Periods seen since the first post.
    epochs_seen: u64,
    bursts: bursts::Bursts,
    campaigns: campaigns::Campaigns,
    silence: silence::Silence,
    stories: stories::Stories,
    latest: Option<Timestamp>,
}

impl Detectors {
    /// Detectors with `settings`.
    pub fn new(settings: Settings) -> Detectors {
        Detectors {
            settings,
            epoch: None,
            epochs_seen: 0,
            bursts: bursts::Bursts::new(settings),
            campaigns: campaigns::Campaigns::new(settings),
            silence: silence::Silence::new(settings),
            stories: stories::Stories::new(settings),
            latest: None,
        }
    }

    /// Takes one post (posts out of order by less than a period are counted in the current
    /// one); returns what became clear with it.
    pub fn observe(&mut self, post: &Post) -> Vec<Detection> {
        let time = post.created_at;
        let epoch = time.timestamp().div_euclid(self.settings.epoch_secs);
        let mut found = Vec::new();
        match self.epoch {
            None => self.epoch = Some(epoch),
            Some(current) if epoch > current => {
                // Close every period up to this one (empty ones too: silence is news).
                let mut closing = current;
                while closing < epoch {
                    found.extend(self.close(closing));
                    closing += 1;
                    // After a long gap, what the counters learned no longer matters.
                    if epoch - closing > 720 {
                        closing = epoch;
                    }
                }
                self.epoch = Some(epoch);
            }
            Some(_) => {}
        }
        self.latest = Some(self.latest.map_or(time, |latest| latest.max(time)));
        self.bursts.observe(post);
        self.silence.observe(post);
        found.extend(self.campaigns.observe(post));
        found.extend(self.stories.observe(post));
        found
    }

    /// The reported stories' sizes over time (posts per hour), growing or gone quiet.
    pub fn stories(&self) -> Vec<StorySize> {
        self.stories.sizes()
    }

    /// Closes the last period: what the end of the stream makes clear.
    pub fn finish(&mut self) -> Vec<Detection> {
        match self.epoch.take() {
            Some(epoch) => self.close(epoch),
            None => Vec::new(),
        }
    }

    fn close(&mut self, epoch: i64) -> Vec<Detection> {
        self.epochs_seen += 1;
        let end = chrono::DateTime::from_timestamp((epoch + 1) * self.settings.epoch_secs, 0)
            .unwrap_or_default();
        let mut found = self.bursts.close(end, self.epochs_seen);
        found.extend(self.silence.close(end, self.epochs_seen));
        self.campaigns.expire(end);
        self.stories.expire(end);
        found
    }
}

/// A stable 64-bit hash (FNV-1a): the same key lands in the same counter on every machine.
pub(crate) fn hash(text: &str, seed: u64) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    // Finish with a mix, so that nearby keys spread over the counters.
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^ (hash >> 33)
}

#[cfg(test)]
mod tests;
