//! A deterministic generator of realistic multi-platform crisis streams, with ground truth.
//!
//! Starling needs data that looks like a real event (many platforms, many languages, a power
//! law of accounts, a daily rhythm, replies and shares) and whose hidden structure is known,
//! so that decoders, detectors and the dashboard can be tested and demonstrated without any
//! third-party data. The generator writes each platform in its own export shape:
//!
//! | stream | shape |
//! |---|---|
//! | `twitter-v2.jsonl` | Twitter API v2 response pages, one per line, as twarc2 writes them |
//! | `mastodon.jsonl` | Mastodon status objects, one per line, as the streaming API sends them |
//! | `bluesky-jetstream.jsonl` | Bluesky Jetstream commit events, one per line |
//! | `rss/<outlet>/<poll>.xml` | RSS 2.0 documents, one per poll of a news outlet's feed |
//!
//! and injects events whose timing and posts it records in a [`GroundTruth`]: a hashtag that
//! rises from nothing, a breaking story, a copy-paste campaign by a group of accounts, a
//! platform and a country going silent.
//!
//! The same [`Config`] always yields the same bytes: the generator has its own fixed random
//! number generator and never reads the clock.
//!
//! ```
//! use starling_simulate::{Config, Generator};
//! let mut generator = Generator::new(Config { posts: 2_000, ..Config::default() }).unwrap();
//! let bytes: usize = generator.by_ref().map(|output| output.bytes.len()).sum();
//! assert!(bytes > 100_000);
//! assert_eq!(generator.ground_truth().events.len(), 5);
//! ```

mod lexicon;
mod render;
mod rng;
mod schedule;
mod truth;
mod world;

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::Utc;
pub use starling_formats::Format;

use lexicon::{CITIES, CRISIS_CITIES, LANGUAGES};
use render::{Segment, ShareKind};
use rng::Rng;
use schedule::{Component, Schedule, Timeline};
pub use truth::{AccountRef, Event, GroundTruth, SilenceScope};
use world::{SimPlatform, World};

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The seed: the same seed gives the same bytes.
    pub seed: u64,
    /// How many posts to generate (at least [`Config::MIN_POSTS`]).
    pub posts: u64,
    /// Scenario start, seconds since the Unix epoch.
    pub start_unix: i64,
    /// Scenario length in hours (at least 24: the events need a day to fit).
    pub hours: u32,
}

impl Config {
    /// The fewest posts a scenario can have and still hold all its events.
    pub const MIN_POSTS: u64 = 1_000;
    /// The most posts one scenario can hold (ids and counters are sized for it).
    pub const MAX_POSTS: u64 = 1_000_000_000;
}

impl Default for Config {
    fn default() -> Config {
        Config {
            seed: 2009,
            posts: 100_000,
            // 2026-06-12T00:00:00Z
            start_unix: 1_781_222_400,
            hours: 72,
        }
    }
}

/// Why a [`Config`] cannot be generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// One piece of generated output: a line of a JSONL stream, or a whole document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Relative path of the file it belongs to (`twitter-v2.jsonl`, `rss/outlet/0001.xml`).
    pub path: String,
    /// Its format.
    pub format: Format,
    /// For JSONL streams, one line without its newline; for documents, the whole file.
    pub bytes: Vec<u8>,
    /// True for a line to append to `path`; false for a whole file.
    pub is_line: bool,
    /// Scenario time at which a collector would have received it (milliseconds since the
    /// Unix epoch): when the post was made, the page retrieved or the feed polled.
    pub received_ms: i64,
}

/// A post before it is rendered into its platform's shape.
#[derive(Debug)]
pub(crate) struct Draft {
    pub platform: SimPlatform,
    /// Index of the author in its platform's pool, or of the outlet for RSS.
    pub author: usize,
    pub time_ms: i64,
    pub language: usize,
    pub segments: Vec<Segment>,
    pub title: Option<String>,
    pub reply_to: Option<Arc<Published>>,
    pub share: Option<(ShareKind, Arc<Published>)>,
    pub geo: Option<(f64, f64, usize)>,
    pub sequence: u64,
    pub component: Component,
}

/// A scenario time (milliseconds since the Unix epoch) as a UTC time; scenario times are
/// checked to lie between 2010 and 2100, so the fallback is never used.
pub(crate) fn time_of(time_ms: i64) -> chrono::DateTime<Utc> {
    chrono::DateTime::from_timestamp_millis(time_ms).unwrap_or_default()
}

/// What later posts need to know about a published post to reply to or share it.
#[derive(Debug)]
pub(crate) struct Published {
    pub id: String,
    pub key: String,
    pub author: usize,
    pub time_ms: i64,
    pub language: usize,
    pub segments: Vec<Segment>,
    /// Bluesky: the record's CID, for strong references.
    pub cid: String,
    /// Mastodon: the rendered status, embedded in boosts.
    pub rendered: Option<Arc<str>>,
    /// The first post of the conversation, when this one is a reply.
    pub root: Option<Arc<Published>>,
    /// The draft's sequence number, which seeds its links and counts wherever it is rendered.
    pub sequence: u64,
}

impl Draft {
    /// A post of its author's own: no title, reply, share or geotag until set.
    fn original(
        platform: SimPlatform,
        author: usize,
        time_ms: i64,
        language: usize,
        segments: Vec<Segment>,
        sequence: u64,
        component: Component,
    ) -> Draft {
        Draft {
            platform,
            author,
            time_ms,
            language,
            segments,
            title: None,
            reply_to: None,
            share: None,
            geo: None,
            sequence,
            component,
        }
    }

    /// The first post of the conversation this draft replies into.
    pub(crate) fn reply_root(&self) -> Option<Arc<Published>> {
        self.reply_to
            .as_ref()
            .map(|parent| parent.root.clone().unwrap_or_else(|| Arc::clone(parent)))
    }
}

const RECENT: usize = 512;
const RSS_POLL_MS: i64 = 3 * 3_600_000;
const RSS_OVERLAP: usize = 5;
const TWITTER_PAGE: usize = 100;

/// Generates a scenario as a stream of [`Output`]s in time order; then [`Generator::ground_truth`].
pub struct Generator {
    config: Config,
    rng: Rng,
    world: World,
    timeline: Timeline,
    schedule: Schedule,
    /// Draws post times, apart from every other random choice.
    schedule_rng: Rng,
    /// Posts drawn from the schedule (everything but the campaign).
    scheduled: u64,
    /// The next scheduled post's time and component, once drawn.
    peeked: Option<(i64, Component)>,
    next_index: u64,
    campaign: VecDeque<(i64, usize, SimPlatform)>,
    pending: VecDeque<Output>,
    recent: [VecDeque<Arc<Published>>; 3],
    twitter_page: Vec<(Draft, Arc<Published>)>,
    rss_buffers: Vec<Vec<render::rss::Item>>,
    rss_previous: Vec<Vec<render::rss::Item>>,
    rss_polls: Vec<u32>,
    next_poll_ms: i64,
    sequence: u64,
    truth: GroundTruth,
    finished: bool,
}

impl Generator {
    /// A generator for `config`, or why it cannot be generated.
    pub fn new(config: Config) -> Result<Generator, ConfigError> {
        if config.posts < Config::MIN_POSTS || config.posts > Config::MAX_POSTS {
            return Err(ConfigError(format!(
                "posts must be between {} and {}, not {}",
                Config::MIN_POSTS,
                Config::MAX_POSTS,
                config.posts
            )));
        }
        if !(24..=24 * 366).contains(&config.hours) {
            return Err(ConfigError(format!(
                "hours must be between 24 and 8784, not {}",
                config.hours
            )));
        }
        let start_ms = config.start_unix.checked_mul(1000).filter(|ms| {
            // Twitter ids count from 2010-11-04; keep within the years ids and TIDs can express.
            (1_288_834_974_657..4_102_444_800_000).contains(ms)
        });
        let Some(start_ms) = start_ms else {
            return Err(ConfigError(format!(
                "start must be between 2010-11-04 and 2099-12-31, not unix time {}",
                config.start_unix
            )));
        };
        let mut rng = Rng::new(config.seed, 0);
        let world = World::new(&mut rng, config.posts, start_ms);
        let timeline = Timeline::new(start_ms, config.hours);
        let silenced = silenced_shares(&world);
        let schedule = {
            let timeline = timeline.clone();
            Schedule::new(&timeline, |time_ms| {
                let mut share = 0.0;
                if timeline.platform_silence.contains(time_ms) {
                    share += silenced.0;
                }
                if timeline.country_silence.contains(time_ms) {
                    share += silenced.1;
                }
                share
            })
        };
        let campaign = campaign_plan(&mut rng, &world, &timeline);
        let scheduled = config.posts - campaign.len() as u64;
        let truth = GroundTruth::new(&config, &timeline, &world);
        let config_seed = config.seed;
        Ok(Generator {
            rss_buffers: world.outlets.iter().map(|_| Vec::new()).collect(),
            rss_previous: world.outlets.iter().map(|_| Vec::new()).collect(),
            rss_polls: world.outlets.iter().map(|_| 0).collect(),
            next_poll_ms: start_ms + RSS_POLL_MS,
            config,
            rng,
            world,
            timeline,
            schedule,
            schedule_rng: Rng::new(config_seed, 1),
            scheduled,
            peeked: None,
            next_index: 0,
            campaign,
            pending: VecDeque::new(),
            recent: Default::default(),
            twitter_page: Vec::with_capacity(TWITTER_PAGE),
            sequence: 0,
            truth,
            finished: false,
        })
    }

    /// The scenario's configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// What was injected, and what was generated so far; complete once the iterator has
    /// returned `None`.
    pub fn ground_truth(&self) -> &GroundTruth {
        &self.truth
    }

    /// Generates the next post (or the last flushes) into `pending`.
    fn step(&mut self) {
        // The next scheduled post is drawn once and kept until it is published, so that a
        // campaign post slipped in before it cannot change its time.
        if self.peeked.is_none() && self.next_index < self.scheduled {
            self.peeked = Some(self.schedule.sample(
                &mut self.schedule_rng,
                self.next_index,
                self.scheduled,
            ));
        }
        let next_scheduled = self.peeked;
        let campaign_first = matches!((self.campaign.front(), next_scheduled), (Some((time, ..)), Some((next, _))) if *time <= next)
            || (self.campaign.front().is_some() && next_scheduled.is_none());
        let draft = if campaign_first {
            let Some((time_ms, author, platform)) = self.campaign.pop_front() else {
                return;
            };
            self.campaign_draft(time_ms, author, platform)
        } else if let Some((time_ms, component)) = next_scheduled {
            self.next_index += 1;
            self.peeked = None;
            self.scheduled_draft(time_ms, component)
        } else {
            self.finish();
            return;
        };
        self.flush_polls_before(draft.time_ms);
        self.publish(draft);
    }

    fn scheduled_draft(&mut self, time_ms: i64, component: Component) -> Draft {
        let rss_share = match component {
            Component::Background => SimPlatform::RSS_SHARE,
            Component::Story => 0.12,
            Component::Burst | Component::Campaign => 0.0,
        };
        if self.rng.chance(rss_share) {
            return self.news_draft(time_ms, component);
        }
        let platform = self.sample_platform(time_ms);
        let author = self.sample_author(platform, time_ms);
        let account = &self.world.pool(platform).accounts[author];
        let (language, home_city) = (account.language, account.city);
        let sequence = self.next_sequence();

        // Replies and shares refer to recent posts on the same platform.
        let recent = &self.recent[social_index(platform)];
        let kind = self.rng.unit();
        if component == Component::Background && !recent.is_empty() && kind < 0.17 {
            let shared = Arc::clone(&recent[self.rng.index(recent.len())]);
            let share_kind = if platform == SimPlatform::Twitter && self.rng.chance(0.15) {
                ShareKind::Quote
            } else {
                ShareKind::Share
            };
            let segments = if share_kind == ShareKind::Quote {
                self.sentence_segments(language, Component::Background, time_ms)
            } else {
                Vec::new()
            };
            return Draft {
                share: Some((share_kind, shared)),
                ..Draft::original(
                    platform, author, time_ms, language, segments, sequence, component,
                )
            };
        }
        let reply_to = (component == Component::Background && !recent.is_empty() && kind < 0.32)
            .then(|| Arc::clone(&recent[self.rng.index(recent.len())]));
        let mut segments = Vec::new();
        // Twitter and Mastodon replies start by naming who they answer; Bluesky's do not.
        if let Some(parent) = reply_to
            .as_ref()
            .filter(|_| platform != SimPlatform::Bluesky)
        {
            segments.push(Segment::Mention(parent.author));
            segments.push(Segment::Text(" ".into()));
        }
        segments.extend(self.sentence_segments(language, component, time_ms));
        let geo = (platform == SimPlatform::Twitter && self.rng.chance(0.04)).then(|| {
            let city = &CITIES[home_city];
            let jitter = |rng: &mut Rng| (rng.unit() - 0.5) * 0.1;
            (
                city.lat + jitter(&mut self.rng),
                city.lon + jitter(&mut self.rng),
                home_city,
            )
        });
        Draft {
            reply_to,
            geo,
            ..Draft::original(
                platform, author, time_ms, language, segments, sequence, component,
            )
        }
    }

    fn news_draft(&mut self, time_ms: i64, component: Component) -> Draft {
        let outlet = self.rng.index(self.world.outlets.len());
        let language = self.world.outlets[outlet].language;
        let lexicon = &LANGUAGES[language];
        let headline = self.sentence(language, component);
        let prefix = self.rng.pick(lexicon.headline_prefixes);
        let title = if prefix.is_empty() {
            headline
        } else {
            format!("{prefix} {headline}")
        };
        let mut segments = vec![Segment::Text(
            self.sentence(language, Component::Background),
        )];
        segments.push(Segment::Text(". ".into()));
        segments.push(Segment::Text(self.sentence(language, component)));
        let sequence = self.next_sequence();
        Draft {
            title: Some(title),
            ..Draft::original(
                SimPlatform::Rss,
                outlet,
                time_ms,
                language,
                segments,
                sequence,
                component,
            )
        }
    }

    fn campaign_draft(&mut self, time_ms: i64, author: usize, platform: SimPlatform) -> Draft {
        let language = self.world.pool(platform).accounts[author].language;
        let code = LANGUAGES[language].code;
        let (_, text) = lexicon::CAMPAIGN_TEXTS
            .iter()
            .find(|(text_language, _)| *text_language == code)
            .unwrap_or(&lexicon::CAMPAIGN_TEXTS[0]);
        let city = CITIES[0].name_in(LANGUAGES[language].code);
        let mut segments = vec![Segment::Text(format!(
            "{}{}",
            self.rng.pick(lexicon::CAMPAIGN_OPENERS),
            text.replace("{city}", city)
        ))];
        segments.push(Segment::Text(" ".into()));
        segments.push(Segment::Hashtag(lexicon::CAMPAIGN_HASHTAG[1..].into()));
        if self.rng.chance(0.3) {
            segments.push(Segment::Text(" ".into()));
            segments.push(Segment::Mention(
                self.world.pool(platform).sample(&mut self.rng),
            ));
        }
        segments.push(Segment::Text(
            self.rng.pick(lexicon::CAMPAIGN_CLOSERS).to_string(),
        ));
        let sequence = self.next_sequence();
        Draft::original(
            platform,
            author,
            time_ms,
            language,
            segments,
            sequence,
            Component::Campaign,
        )
    }

    fn next_sequence(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }

    /// A social platform, never one that is silent at `time_ms`.
    fn sample_platform(&mut self, time_ms: i64) -> SimPlatform {
        let silent = self.timeline.platform_silence.contains(time_ms);
        let weights: Vec<f64> = SimPlatform::SOCIAL
            .iter()
            .map(|(platform, share)| {
                if silent && *platform == SILENT_PLATFORM {
                    0.0
                } else {
                    *share
                }
            })
            .collect();
        SimPlatform::SOCIAL[world::weighted_index(&mut self.rng, &weights)].0
    }

    /// An author on `platform`, never one in the silent country while it is silent.
    fn sample_author(&mut self, platform: SimPlatform, time_ms: i64) -> usize {
        let pool = self.world.pool(platform);
        let silent = self.timeline.country_silence.contains(time_ms);
        let allowed =
            |author: &usize| !silent || pool.accounts[*author].country() != SILENT_COUNTRY;
        for _ in 0..64 {
            let author = pool.sample(&mut self.rng);
            if allowed(&author) {
                return author;
            }
        }
        // A pool almost all in the silent country: take the first account outside it.
        (0..pool.regular()).find(allowed).unwrap_or(0)
    }

    fn sentence(&mut self, language: usize, component: Component) -> String {
        let lexicon = &LANGUAGES[language];
        let sentences = match component {
            Component::Story => lexicon.story,
            Component::Burst => lexicon.rooftops,
            Component::Background | Component::Campaign => lexicon.background,
        };
        let city = if component == Component::Story {
            0
        } else {
            self.rng.index(CRISIS_CITIES)
        };
        self.rng
            .pick(sentences)
            .replace("{city}", CITIES[city].name_in(lexicon.code))
    }

    /// The words of an original post: a sentence, hashtags, maybe a link, an emoji, a mention.
    fn sentence_segments(
        &mut self,
        language: usize,
        component: Component,
        time_ms: i64,
    ) -> Vec<Segment> {
        let lexicon = &LANGUAGES[language];
        let mut segments = vec![Segment::Text(self.sentence(language, component))];
        if self.rng.chance(0.01) {
            segments.push(Segment::Text(format!(
                " {}",
                self.rng.pick(lexicon::HOSTILE)
            )));
        }
        if component == Component::Burst {
            segments.push(Segment::Text(" ".into()));
            segments.push(Segment::Hashtag(lexicon::BURST_HASHTAG[1..].into()));
        }
        let tags = if self.rng.chance(0.55) {
            1 + self.rng.index(2)
        } else {
            0
        };
        let mut used: Vec<usize> = Vec::new();
        for _ in 0..tags {
            // Common tags far more often than rare ones.
            let draw = self.rng.unit();
            let index = (draw * draw * lexicon.hashtags.len() as f64) as usize;
            if !used.contains(&index) {
                used.push(index);
                segments.push(Segment::Text(" ".into()));
                segments.push(Segment::Hashtag(lexicon.hashtags[index][1..].into()));
            }
        }
        if self.rng.chance(0.25) {
            let outlet = &self.world.outlets[self.rng.index(self.world.outlets.len())];
            let date = time_of(time_ms);
            segments.push(Segment::Text(" ".into()));
            segments.push(Segment::Url(format!(
                "https://{}/news/{}/{}",
                outlet.domain,
                date.format("%Y/%m/%d"),
                1000 + self.rng.below(9000)
            )));
        }
        if self.rng.chance(0.12) {
            segments.push(Segment::Text(format!(" {}", self.rng.pick(lexicon::EMOJI))));
        }
        segments
    }

    fn publish(&mut self, draft: Draft) {
        self.truth.record(&draft, &self.world, &self.timeline);
        match draft.platform {
            SimPlatform::Twitter => {
                let published = render::twitter::published(&draft, &self.world);
                self.remember(SimPlatform::Twitter, &published, &draft);
                self.truth.note_key(&draft, &published.key);
                self.twitter_page.push((draft, published));
                if self.twitter_page.len() == TWITTER_PAGE {
                    self.flush_twitter_page();
                }
            }
            SimPlatform::Mastodon => {
                let (line, published) =
                    render::mastodon::render(&draft, &self.world, &mut self.rng);
                self.remember(SimPlatform::Mastodon, &published, &draft);
                self.truth.note_key(&draft, &published.key);
                self.pending.push_back(Output {
                    path: "mastodon.jsonl".into(),
                    format: Format::Mastodon,
                    bytes: line,
                    is_line: true,
                    received_ms: draft.time_ms,
                });
            }
            SimPlatform::Bluesky => {
                let (line, published) = render::bluesky::render(&draft, &self.world, &mut self.rng);
                self.remember(SimPlatform::Bluesky, &published, &draft);
                self.truth.note_key(&draft, &published.key);
                self.pending.push_back(Output {
                    path: "bluesky-jetstream.jsonl".into(),
                    format: Format::Jetstream,
                    bytes: line,
                    is_line: true,
                    received_ms: draft.time_ms,
                });
            }
            SimPlatform::Rss => {
                let item = render::rss::item(&draft, &self.world);
                self.truth.note_key(&draft, &item.key());
                self.rss_buffers[draft.author].push(item);
            }
        }
    }

    fn remember(&mut self, platform: SimPlatform, published: &Arc<Published>, draft: &Draft) {
        // Shares are not shared again: real cascades go back to the original.
        if draft.share.is_some() {
            return;
        }
        let recent = &mut self.recent[social_index(platform)];
        if recent.len() == RECENT {
            recent.pop_front();
        }
        recent.push_back(Arc::clone(published));
    }

    fn flush_twitter_page(&mut self) {
        if self.twitter_page.is_empty() {
            return;
        }
        let page = std::mem::take(&mut self.twitter_page);
        let retrieved_ms = page.last().map_or(0, |(draft, _)| draft.time_ms) + 1_500;
        let bytes = render::twitter::page(&page, &self.world, retrieved_ms);
        self.pending.push_back(Output {
            path: "twitter-v2.jsonl".into(),
            format: Format::TwitterV2,
            bytes,
            is_line: true,
            received_ms: retrieved_ms,
        });
    }

    fn flush_polls_before(&mut self, time_ms: i64) {
        while self.next_poll_ms <= time_ms {
            let poll_ms = self.next_poll_ms;
            self.poll_feeds(poll_ms);
            self.next_poll_ms += RSS_POLL_MS;
        }
    }

    /// Every outlet with new items publishes its feed: the new items and, as real feeds do,
    /// the last few it already showed.
    fn poll_feeds(&mut self, poll_ms: i64) {
        for outlet in 0..self.world.outlets.len() {
            if self.rss_buffers[outlet].is_empty() {
                continue;
            }
            let fresh = std::mem::take(&mut self.rss_buffers[outlet]);
            let mut items = std::mem::take(&mut self.rss_previous[outlet]);
            items.extend(fresh);
            let keep_from = items.len().saturating_sub(RSS_OVERLAP);
            self.rss_polls[outlet] += 1;
            let bytes = render::rss::document(&self.world.outlets[outlet], &items, poll_ms);
            self.pending.push_back(Output {
                path: format!(
                    "rss/{}/{:04}.xml",
                    self.world.outlets[outlet].domain, self.rss_polls[outlet]
                ),
                format: Format::Rss,
                bytes,
                is_line: false,
                received_ms: poll_ms,
            });
            self.rss_previous[outlet] = items.split_off(keep_from);
        }
    }

    fn finish(&mut self) {
        self.flush_twitter_page();
        self.poll_feeds(self.timeline.end_ms);
        self.finished = true;
    }
}

impl Iterator for Generator {
    type Item = Output;

    fn next(&mut self) -> Option<Output> {
        loop {
            if let Some(output) = self.pending.pop_front() {
                return Some(output);
            }
            if self.finished {
                return None;
            }
            self.step();
        }
    }
}

/// The platform that goes silent for a while.
const SILENT_PLATFORM: SimPlatform = SimPlatform::Bluesky;
/// The country that goes silent for a while.
const SILENT_COUNTRY: &str = "IR";

fn social_index(platform: SimPlatform) -> usize {
    match platform {
        SimPlatform::Twitter | SimPlatform::Rss => 0,
        SimPlatform::Mastodon => 1,
        SimPlatform::Bluesky => 2,
    }
}

/// The share of everyday volume lost while the platform is silent, and while the country is.
fn silenced_shares(world: &World) -> (f64, f64) {
    let social: f64 = SimPlatform::SOCIAL.iter().map(|(_, share)| share).sum();
    let platform = SimPlatform::SOCIAL
        .iter()
        .find(|(platform, _)| *platform == SILENT_PLATFORM)
        .map_or(0.0, |(_, share)| {
            share / social * (1.0 - SimPlatform::RSS_SHARE)
        });
    let in_country = |pool: &world::Pool| {
        let accounts = &pool.accounts;
        accounts
            .iter()
            .filter(|account| account.country() == SILENT_COUNTRY)
            .count() as f64
            / accounts.len().max(1) as f64
    };
    // Activity is skewed, but the country's share of accounts is a fair estimate of its
    // share of posts.
    let country =
        (in_country(&world.twitter) + in_country(&world.mastodon) + in_country(&world.bluesky))
            / 3.0
            * (1.0 - SimPlatform::RSS_SHARE);
    (platform, country)
}

/// When each campaign account posts: two to four near-identical copies in the window.
fn campaign_plan(
    rng: &mut Rng,
    world: &World,
    timeline: &Timeline,
) -> VecDeque<(i64, usize, SimPlatform)> {
    let window = timeline.campaign;
    let mut plan = Vec::new();
    for platform in [SimPlatform::Twitter, SimPlatform::Bluesky] {
        for author in world.pool(platform).campaign() {
            for _ in 0..(2 + rng.below(3)) {
                let time_ms =
                    window.start_ms + rng.below((window.end_ms - window.start_ms) as u64) as i64;
                plan.push((time_ms, author, platform));
            }
        }
    }
    plan.sort_by_key(|(time_ms, author, platform)| (*time_ms, *platform, *author));
    plan.into()
}
