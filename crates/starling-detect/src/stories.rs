//! Stories, in the spirit of first-story detection (Petrović, Osborne and Lavrenko, 2010): each
//! post, as a TF-IDF vector of its words, is compared with the most similar recent post that
//! locality-sensitive hashing (random hyperplanes) finds; close enough, it joins that post's
//! story, otherwise it starts a story of its own. A story that is new (begun after the stream's
//! first two hours) and grows to `story_posts` posts within an hour of its first is reported,
//! titled by its first post, with its platforms and languages.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use starling_model::{Post, Timestamp};

use crate::{Detection, Kind, Settings, hash};

const TABLES: usize = 6;
const BITS: usize = 8;
/// Posts compared against: the most recent.
const RECENT: usize = 20_000;
/// Candidates per bucket, newest first.
const PER_BUCKET: usize = 10;
/// Cosine similarity to join a story.
const JOIN: f32 = 0.5;
/// Hashed document-frequency counters.
const DF_CELLS: usize = 1 << 18;
const WARMUP_SECS: i64 = 2 * 3600;
const GROWTH_SECS: i64 = 3600;
/// Stories quiet this long are forgotten.
const QUIET_SECS: i64 = 2 * 3600;
const SAMPLES: usize = 5;
/// A story whose first post says what a story reported within this long said is the same
/// story coming back, not a new one.
const RETOLD_SECS: i64 = 24 * 3600;

struct Remembered {
    id: u64,
    vector: Vec<(u64, f32)>,
    story: u64,
    buckets: [u64; TABLES],
}

struct Story {
    title: String,
    first: Timestamp,
    last: Timestamp,
    posts: u64,
    platforms: BTreeSet<String>,
    languages: BTreeSet<String>,
    samples: Vec<String>,
    reported: bool,
    /// Reported as a detection (not a story told again).
    announced: bool,
    /// Posts per hour (UTC hours since the epoch), its first `HOURS_KEPT` hours.
    hourly: BTreeMap<i64, u32>,
}

/// Hours of a story's size kept.
const HOURS_KEPT: usize = 72;
/// Reported stories remembered after they go quiet, for their size over time.
const PAST_KEPT: usize = 256;

/// A reported story's size over time.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StorySize {
    /// Its title: its first post.
    pub title: String,
    /// Its first post's time.
    pub first_seen: Timestamp,
    /// Its newest post's time.
    pub last_seen: Timestamp,
    /// Posts in it.
    pub posts: u64,
    /// Posts per hour from its first, each with the hour's start (its first 72 hours).
    pub hourly: Vec<(Timestamp, u32)>,
    /// Platforms it was seen on.
    pub platforms: Vec<String>,
    /// Languages it was seen in.
    pub languages: Vec<String>,
}

impl Story {
    fn size(&self) -> StorySize {
        StorySize {
            title: self.title.clone(),
            first_seen: self.first,
            last_seen: self.last,
            posts: self.posts,
            hourly: self
                .hourly
                .iter()
                .filter_map(|(hour, count)| {
                    Some((chrono::DateTime::from_timestamp(hour * 3600, 0)?, *count))
                })
                .collect(),
            platforms: self.platforms.iter().cloned().collect(),
            languages: self.languages.iter().cloned().collect(),
        }
    }
}

pub(crate) struct Stories {
    settings: Settings,
    start: Option<Timestamp>,
    documents: u64,
    df: Vec<u32>,
    recent: VecDeque<Remembered>,
    buckets: HashMap<u64, VecDeque<u64>>,
    by_id: HashMap<u64, usize>,
    next_post: u64,
    stories: HashMap<u64, Story>,
    next_story: u64,
    /// Stories merged into others: where each went.
    merged: HashMap<u64, u64>,
    /// The words of the first posts of stories reported, and when.
    told: HashMap<u64, Timestamp>,
    /// Reported stories gone quiet, oldest first.
    past: VecDeque<StorySize>,
}

impl Stories {
    pub fn new(settings: Settings) -> Stories {
        Stories {
            settings,
            start: None,
            documents: 0,
            df: vec![0; DF_CELLS],
            recent: VecDeque::new(),
            buckets: HashMap::new(),
            by_id: HashMap::new(),
            next_post: 0,
            stories: HashMap::new(),
            next_story: 0,
            merged: HashMap::new(),
            told: HashMap::new(),
            past: VecDeque::new(),
        }
    }

    pub fn observe(&mut self, post: &Post) -> Option<Detection> {
        let start = *self.start.get_or_insert(post.created_at);
        if post.share_of.is_some() {
            return None;
        }
        let mut words: Vec<u64> = starling_text::analyze(&post.text)
            .into_iter()
            .filter(|token| token.text.chars().count() >= 3)
            .map(|token| hash(&token.text, 7))
            .collect();
        words.sort_unstable();
        if words.len() < 4 {
            return None;
        }
        // TF-IDF, normalized; document frequencies counted as posts come.
        self.documents += 1;
        let mut vector: Vec<(u64, f32)> = Vec::new();
        for word in words.iter().copied() {
            match vector.last_mut() {
                Some((last, weight)) if *last == word => *weight += 1.0,
                _ => vector.push((word, 1.0)),
            }
        }
        for (word, weight) in &mut vector {
            let cell = (*word as usize) & (DF_CELLS - 1);
            self.df[cell] = self.df[cell].saturating_add(1);
            let idf = ((self.documents as f32 + 1.0) / (self.df[cell] as f32 + 1.0)).ln();
            *weight *= idf.max(0.0);
        }
        let norm = vector
            .iter()
            .map(|(_, weight)| weight * weight)
            .sum::<f32>()
            .sqrt();
        if norm <= 0.0 {
            return None;
        }
        for (_, weight) in &mut vector {
            *weight /= norm;
        }
        let buckets = signature(&vector);
        // The nearest recent post among those sharing a bucket; every story close enough.
        let mut best: Option<(f32, u64)> = None;
        let mut close: Vec<u64> = Vec::new();
        for bucket in &buckets {
            if let Some(ids) = self.buckets.get(bucket) {
                for id in ids.iter().rev().take(PER_BUCKET) {
                    let Some(index) = self.by_id.get(id) else {
                        continue;
                    };
                    let Some(other) = index
                        .checked_sub(self.first_index())
                        .and_then(|at| self.recent.get(at))
                    else {
                        continue;
                    };
                    let similarity = cosine(&vector, &other.vector);
                    let story = self.resolve(other.story);
                    if similarity >= JOIN {
                        close.push(story);
                    }
                    if best.is_none_or(|(top, _)| similarity > top) {
                        best = Some((similarity, story));
                    }
                }
            }
        }
        // Stories this post is close to are one story: variants that began apart meet here.
        if let Some((_, into)) = best {
            close.sort_unstable();
            close.dedup();
            for other in close {
                if other != into {
                    self.merge(into, other);
                }
            }
        }
        let story = match best {
            Some((similarity, story))
                if similarity >= JOIN && self.stories.contains_key(&story) =>
            {
                story
            }
            _ => {
                self.next_story += 1;
                let id = self.next_story;
                self.stories.insert(
                    id,
                    Story {
                        title: post.text.chars().take(140).collect(),
                        first: post.created_at,
                        last: post.created_at,
                        posts: 0,
                        platforms: BTreeSet::new(),
                        languages: BTreeSet::new(),
                        samples: Vec::new(),
                        reported: false,
                        announced: false,
                        hourly: BTreeMap::new(),
                    },
                );
                id
            }
        };
        self.remember(vector, story, buckets);
        let settings = self.settings;
        let entry = self.stories.get_mut(&story)?;
        entry.posts += 1;
        entry.last = entry.last.max(post.created_at);
        let hour = post.created_at.timestamp().div_euclid(3600);
        if entry.hourly.len() < HOURS_KEPT || entry.hourly.contains_key(&hour) {
            *entry.hourly.entry(hour).or_default() += 1;
        }
        entry.platforms.insert(post.platform.as_str().to_owned());
        // Starling's language (the same measure on every platform), else the declared one.
        let lang = post.language();
        if lang != "und" {
            entry.languages.insert(lang);
        }
        if entry.samples.len() < SAMPLES {
            entry.samples.push(post.key.as_str().to_owned());
        }
        if !entry.reported
            && (entry.first - start).num_seconds() >= WARMUP_SECS
            && (post.created_at - entry.first).num_seconds() <= GROWTH_SECS
            && entry.posts >= settings.story_posts
        {
            entry.reported = true;
            // Told before (a sentence people keep writing forms a cluster again and again
            // once the last one is forgotten): not news.
            let told = title_words(&entry.title);
            let retold = self
                .told
                .get(&told)
                .is_some_and(|when| (post.created_at - *when).num_seconds() <= RETOLD_SECS);
            self.told.insert(told, post.created_at);
            if retold {
                return None;
            }
            entry.announced = true;
            let minutes = (post.created_at - entry.first).num_minutes();
            return Some(Detection {
                kind: Kind::Story,
                key: entry.title.clone(),
                detected_at: post.created_at,
                first_seen: entry.first,
                score: entry.posts as f64,
                reason: format!(
                    "a new story: {} posts within {minutes} minutes of its first, on {}, in {}",
                    entry.posts,
                    entry
                        .platforms
                        .iter()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", "),
                    if entry.languages.is_empty() {
                        "languages not told".to_owned()
                    } else {
                        entry
                            .languages
                            .iter()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ),
                samples: entry.samples.clone(),
                accounts: Vec::new(),
                group: None,
            });
        }
        None
    }

    /// Where a story went, if it was merged.
    fn resolve(&self, mut story: u64) -> u64 {
        while let Some(into) = self.merged.get(&story) {
            story = *into;
        }
        story
    }

    fn merge(&mut self, into: u64, from: u64) {
        let (Some(from_story), true) =
            (self.stories.remove(&from), self.stories.contains_key(&into))
        else {
            return;
        };
        self.merged.insert(from, into);
        if let Some(story) = self.stories.get_mut(&into) {
            if from_story.first < story.first {
                story.first = from_story.first;
                story.title = from_story.title;
            }
            story.last = story.last.max(from_story.last);
            story.posts += from_story.posts;
            story.platforms.extend(from_story.platforms);
            story.languages.extend(from_story.languages);
            for sample in from_story.samples {
                if story.samples.len() < SAMPLES {
                    story.samples.push(sample);
                }
            }
            story.reported |= from_story.reported;
            story.announced |= from_story.announced;
            for (hour, count) in from_story.hourly {
                if story.hourly.len() < HOURS_KEPT || story.hourly.contains_key(&hour) {
                    *story.hourly.entry(hour).or_default() += count;
                }
            }
        }
    }

    /// The reported stories' sizes over time, those still growing and those gone quiet
    /// (the last 256), by first post.
    pub fn sizes(&self) -> Vec<StorySize> {
        let mut sizes: Vec<StorySize> = self.past.iter().cloned().collect();
        sizes.extend(
            self.stories
                .values()
                .filter(|story| story.announced)
                .map(Story::size),
        );
        sizes.sort_by(|a, b| {
            a.first_seen
                .cmp(&b.first_seen)
                .then_with(|| a.title.cmp(&b.title))
        });
        sizes
    }

    fn first_index(&self) -> usize {
        (self.next_post as usize).saturating_sub(self.recent.len())
    }

    fn remember(&mut self, vector: Vec<(u64, f32)>, story: u64, buckets: [u64; TABLES]) {
        let id = self.next_post;
        self.next_post += 1;
        for bucket in buckets {
            let ids = self.buckets.entry(bucket).or_default();
            ids.push_back(id);
            if ids.len() > PER_BUCKET {
                ids.pop_front();
            }
        }
        self.by_id.insert(id, id as usize);
        self.recent.push_back(Remembered {
            id,
            vector,
            story,
            buckets,
        });
        if self.recent.len() > RECENT
            && let Some(old) = self.recent.pop_front()
        {
            self.by_id.remove(&old.id);
            for bucket in old.buckets {
                if let Some(ids) = self.buckets.get_mut(&bucket) {
                    ids.retain(|found| *found != old.id);
                    if ids.is_empty() {
                        self.buckets.remove(&bucket);
                    }
                }
            }
        }
    }

    /// Forgets stories quiet for two hours: memory stays bounded.
    pub fn expire(&mut self, now: Timestamp) {
        let past = &mut self.past;
        self.stories.retain(|_, story| {
            let live = (now - story.last).num_seconds() <= QUIET_SECS;
            if !live && story.announced {
                past.push_back(story.size());
                if past.len() > PAST_KEPT {
                    past.pop_front();
                }
            }
            live
        });
        self.told
            .retain(|_, when| (now - *when).num_seconds() <= RETOLD_SECS);
        // Aliases of forgotten stories, and of stories no remembered post points to, go too.
        let live = &self.stories;
        self.merged.retain(|_, into| live.contains_key(into));
    }
}

/// What a story's first post says: its words (not its hashtags, mentions, links or emoji),
/// in any order, as one hash.
fn title_words(title: &str) -> u64 {
    let text: String = title
        .split_whitespace()
        .filter(|word| {
            !(word.starts_with('#')
                || word.starts_with('@')
                || word.contains("://")
                || word.contains('/'))
        })
        .collect::<Vec<_>>()
        .join(" ");
    let mut words: Vec<String> = starling_text::analyze(&text)
        .into_iter()
        .map(|token| token.text)
        .filter(|word| word.chars().any(char::is_alphabetic))
        .collect();
    words.sort_unstable();
    words.dedup();
    hash(&words.join(" "), 7)
}

/// The post's bucket in each table: the signs of its vector against random hyperplanes, each
/// word's coordinate on a hyperplane being +1 or -1 by a bit of the word's hashes.
fn signature(vector: &[(u64, f32)]) -> [u64; TABLES] {
    let mut sums = [0f32; TABLES * BITS];
    for (word, weight) in vector {
        let bits = [*word, hash(&word.to_string(), 11)];
        for (plane, sum) in sums.iter_mut().enumerate() {
            let bit = (bits[plane / 64] >> (plane % 64)) & 1;
            *sum += if bit == 1 { *weight } else { -*weight };
        }
    }
    let mut buckets = [0u64; TABLES];
    for (table, bucket) in buckets.iter_mut().enumerate() {
        let mut key = table as u64;
        for bit in 0..BITS {
            key = (key << 1) | u64::from(sums[table * BITS + bit] > 0.0);
        }
        *bucket = key;
    }
    buckets
}

fn cosine(a: &[(u64, f32)], b: &[(u64, f32)]) -> f32 {
    let (mut i, mut j, mut sum) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                sum += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    sum
}
