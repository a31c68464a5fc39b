//! The ground truth: what the scenario injected, and where to find it in the generated posts.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::lexicon::{BURST_HASHTAG, CAMPAIGN_HASHTAG, LANGUAGES};
use crate::render::{Segment, ShareKind};
use crate::schedule::{Component, Timeline, Window};
use crate::world::{SimPlatform, World};
use crate::{Config, Draft, SILENT_COUNTRY, SILENT_PLATFORM};

/// What the scenario contains, written beside the generated files as `ground-truth.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    /// The seed the scenario was generated from.
    pub seed: u64,
    /// First instant of the scenario.
    pub start: DateTime<Utc>,
    /// End of the scenario (exclusive).
    pub end: DateTime<Utc>,
    /// Posts generated (news items counted once, though feeds repeat them).
    pub posts: u64,
    /// Posts per platform.
    pub platforms: BTreeMap<String, u64>,
    /// Posts per language (BCP 47 code).
    pub languages: BTreeMap<String, u64>,
    /// The injected events.
    pub events: Vec<Event>,
}

/// An account taking part in an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRef {
    /// `twitter`, `mastodon` or `bluesky`.
    pub platform: String,
    /// The account's stable id (user id or DID).
    pub id: String,
    /// Its handle.
    pub handle: String,
}

/// What went silent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SilenceScope {
    /// A whole platform (a broken connector, a throttled service).
    Platform,
    /// Every account in a country (an internet shutdown).
    Country,
}

/// One injected event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Event {
    /// A hashtag that nobody used before `start` rises, plateaus from `peak`, and decays.
    Burst {
        /// The hashtag, with `#`.
        key: String,
        /// When the first post can appear.
        start: DateTime<Utc>,
        /// When the plateau begins.
        peak: DateTime<Utc>,
        /// When the last post can appear.
        end: DateTime<Utc>,
        /// Posts whose text carries the hashtag (shares that repeat the text included).
        posts: u64,
        /// The first post that carries it.
        first_post: Option<String>,
    },
    /// A breaking story reported across platforms and languages.
    Story {
        /// What happened, in English.
        title: String,
        /// When it breaks.
        start: DateTime<Utc>,
        /// When the last post about it can appear.
        end: DateTime<Utc>,
        /// Posts about it.
        posts: u64,
        /// Languages it was reported in.
        languages: Vec<String>,
        /// Words (in every language) found in posts about it and in shares of them, and in no
        /// post before it breaks.
        terms: Vec<String>,
        /// The first posts about it.
        sample_posts: Vec<String>,
    },
    /// Accounts posting near-identical text within a short window.
    Campaign {
        /// The hashtag every copy carries, with `#`.
        hashtag: String,
        /// Window start.
        start: DateTime<Utc>,
        /// Window end.
        end: DateTime<Utc>,
        /// The accounts taking part.
        accounts: Vec<AccountRef>,
        /// Every campaign post.
        posts: Vec<String>,
    },
    /// A platform or a country from which nothing arrives for a while.
    Silence {
        /// Platform or country.
        scope: SilenceScope,
        /// The platform name or the ISO country code.
        key: String,
        /// First silent instant.
        start: DateTime<Utc>,
        /// When posts resume.
        end: DateTime<Utc>,
    },
}

use crate::time_of as time;

const STORY_SAMPLES: usize = 10;

impl GroundTruth {
    pub(crate) fn new(config: &Config, timeline: &Timeline, world: &World) -> GroundTruth {
        let Window { start_ms, end_ms } = timeline.campaign;
        let mut accounts = Vec::new();
        for platform in [SimPlatform::Twitter, SimPlatform::Bluesky] {
            let pool = world.pool(platform);
            accounts.extend(pool.campaign().map(|index| AccountRef {
                platform: platform.name().to_owned(),
                id: pool.accounts[index].id.clone(),
                handle: pool.accounts[index].handle.clone(),
            }));
        }
        let clip = |window: Window| {
            (
                time(window.start_ms),
                time(window.end_ms.min(timeline.end_ms)),
            )
        };
        let (burst_start, burst_end) = clip(timeline.burst);
        let (story_start, story_end) = clip(timeline.story);
        let (platform_start, platform_end) = clip(timeline.platform_silence);
        let (country_start, country_end) = clip(timeline.country_silence);
        GroundTruth {
            seed: config.seed,
            start: time(timeline.start_ms),
            end: time(timeline.end_ms),
            posts: 0,
            platforms: BTreeMap::new(),
            languages: BTreeMap::new(),
            events: vec![
                Event::Burst {
                    key: BURST_HASHTAG.to_owned(),
                    start: burst_start,
                    peak: time(timeline.burst_peak_ms),
                    end: burst_end,
                    posts: 0,
                    first_post: None,
                },
                Event::Story {
                    title: "Security forces raid the university dormitory in Tehran".to_owned(),
                    start: story_start,
                    end: story_end,
                    posts: 0,
                    languages: Vec::new(),
                    terms: LANGUAGES
                        .iter()
                        .flat_map(|language| {
                            language.story_terms.iter().map(|term| (*term).to_owned())
                        })
                        .collect(),
                    sample_posts: Vec::new(),
                },
                Event::Campaign {
                    hashtag: CAMPAIGN_HASHTAG.to_owned(),
                    start: time(start_ms),
                    end: time(end_ms),
                    accounts,
                    posts: Vec::new(),
                },
                Event::Silence {
                    scope: SilenceScope::Platform,
                    key: SILENT_PLATFORM.name().to_owned(),
                    start: platform_start,
                    end: platform_end,
                },
                Event::Silence {
                    scope: SilenceScope::Country,
                    key: SILENT_COUNTRY.to_owned(),
                    start: country_start,
                    end: country_end,
                },
            ],
        }
    }

    /// Counts a draft; its key is noted later by [`GroundTruth::note_key`].
    pub(crate) fn record(&mut self, draft: &Draft, _world: &World, _timeline: &Timeline) {
        self.posts += 1;
        *self
            .platforms
            .entry(draft.platform.name().to_owned())
            .or_default() += 1;
        *self
            .languages
            .entry(LANGUAGES[draft.language].code.to_owned())
            .or_default() += 1;
    }

    /// Notes the key of a post that belongs to an event.
    pub(crate) fn note_key(&mut self, draft: &Draft, key: &str) {
        let burst_tag = &BURST_HASHTAG[1..];
        let carries_burst = carried_segments(draft)
            .iter()
            .any(|segment| matches!(segment, Segment::Hashtag(tag) if tag == burst_tag));
        let is_story = draft.component == Component::Story;
        let is_campaign = draft.component == Component::Campaign;
        for event in &mut self.events {
            match event {
                Event::Burst {
                    posts, first_post, ..
                } if carries_burst => {
                    *posts += 1;
                    first_post.get_or_insert_with(|| key.to_owned());
                }
                Event::Story {
                    posts,
                    languages,
                    sample_posts,
                    ..
                } if is_story => {
                    *posts += 1;
                    let code = LANGUAGES[draft.language].code.to_owned();
                    if !languages.contains(&code) {
                        languages.push(code);
                        languages.sort();
                    }
                    if sample_posts.len() < STORY_SAMPLES {
                        sample_posts.push(key.to_owned());
                    }
                }
                Event::Campaign { posts, .. } if is_campaign => posts.push(key.to_owned()),
                _ => {}
            }
        }
    }
}

/// The segments whose text a post shows: its own, or for a plain share (retweet, boost) the
/// shared post's. A Bluesky repost shows no text.
fn carried_segments(draft: &Draft) -> &[Segment] {
    match &draft.share {
        Some((ShareKind::Share, original)) if draft.platform != SimPlatform::Bluesky => {
            &original.segments
        }
        Some((ShareKind::Quote, _)) | None => &draft.segments,
        Some(_) => &[],
    }
}
