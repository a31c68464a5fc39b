//! A sink that counts what passes: posts per platform, language, hashtag and account, shares
//! and replies, notices and rejects, duplicates dropped. It keeps counts, not posts: it is a
//! view for summaries (the demo, an import report), not a store.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use starling_formats::Reject;
use starling_model::{Post, Timestamp};

use crate::{Batch, Item, Offset, PipelineError, Sink};

/// Counts of everything a pipeline delivered.
#[derive(Debug, Default)]
pub struct Tally {
    seen: HashSet<String>,
    /// Distinct posts.
    pub posts: u64,
    /// Posts dropped because their key was already seen (feeds repeat items across polls,
    /// captures overlap).
    pub duplicates: u64,
    /// Shares (retweets, boosts, reposts).
    pub shares: u64,
    /// Replies.
    pub replies: u64,
    /// Quotes.
    pub quotes: u64,
    /// Posts with a point or place.
    pub geotagged: u64,
    /// Earliest `created_at`.
    pub first: Option<Timestamp>,
    /// Latest `created_at`.
    pub last: Option<Timestamp>,
    platforms: HashMap<String, u64>,
    languages: HashMap<String, u64>,
    detected_languages: HashMap<String, u64>,
    sentiments: HashMap<String, u64>,
    hashtags: HashMap<String, u64>,
    authors: HashMap<String, u64>,
    notices: HashMap<String, u64>,
    /// Rejects, all counted; the first few kept to show.
    pub rejects: u64,
    /// The first rejects, to show where input went wrong.
    pub sample_rejects: Vec<Reject>,
}

/// A key and how often it was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    /// What was counted.
    pub key: String,
    /// How many.
    pub count: u64,
}

const SAMPLE_REJECTS: usize = 10;

impl Tally {
    /// Counts one item; true when it is a post not seen before.
    pub fn add(&mut self, item: &Item) -> bool {
        match item {
            Item::Post(post) => return self.add_post(post),
            Item::Notice { notice, .. } => {
                *self.notices.entry(notice.kind.clone()).or_default() += 1
            }
            Item::Reject { reject, .. } => {
                self.rejects += 1;
                if self.sample_rejects.len() < SAMPLE_REJECTS {
                    self.sample_rejects.push(reject.clone());
                }
            }
        }
        false
    }

    /// Counts one post, unless its key was seen before; true when it was new.
    pub fn add_post(&mut self, post: &Post) -> bool {
        if !self.seen.insert(post.key.as_str().to_owned()) {
            self.duplicates += 1;
            return false;
        }
        self.posts += 1;
        self.shares += u64::from(post.share_of.is_some());
        self.replies += u64::from(post.reply_to.is_some());
        self.quotes += u64::from(post.quote_of.is_some());
        self.geotagged += u64::from(post.geo.is_some());
        self.first = Some(
            self.first
                .map_or(post.created_at, |first| first.min(post.created_at)),
        );
        self.last = Some(
            self.last
                .map_or(post.created_at, |last| last.max(post.created_at)),
        );
        *self
            .platforms
            .entry(post.platform.as_str().to_owned())
            .or_default() += 1;
        let language = post.declared_lang.as_deref().unwrap_or("und");
        *self.languages.entry(language.to_owned()).or_default() += 1;
        if let Some(enrichment) = &post.enrichment {
            *self
                .detected_languages
                .entry(enrichment.lang.clone())
                .or_default() += 1;
            *self
                .sentiments
                .entry(enrichment.sentiment.clone())
                .or_default() += 1;
        }
        for hashtag in &post.entities.hashtags {
            // Hashtags are counted as search matches them: case, accents and letter forms folded.
            *self
                .hashtags
                .entry(format!("#{}", starling_text::normalize_word(&hashtag.tag)))
                .or_default() += 1;
        }
        *self
            .authors
            .entry(format!("{}:{}", post.platform, post.author.handle))
            .or_default() += 1;
        true
    }

    /// Posts per platform, most first.
    pub fn platforms(&self) -> Vec<Count> {
        top(&self.platforms, usize::MAX)
    }

    /// Posts per declared language (`und` when none), most first.
    pub fn languages(&self) -> Vec<Count> {
        top(&self.languages, usize::MAX)
    }

    /// Posts per language as Starling detected it (enriched posts only), most first.
    pub fn detected_languages(&self) -> Vec<Count> {
        top(&self.detected_languages, usize::MAX)
    }

    /// Posts per sentiment (enriched posts only), most first.
    pub fn sentiments(&self) -> Vec<Count> {
        top(&self.sentiments, usize::MAX)
    }

    /// The `limit` most used hashtags (lowercased, with `#`).
    pub fn top_hashtags(&self, limit: usize) -> Vec<Count> {
        top(&self.hashtags, limit)
    }

    /// The `limit` most active accounts, as `platform:handle`.
    pub fn top_authors(&self, limit: usize) -> Vec<Count> {
        top(&self.authors, limit)
    }

    /// Notices per kind.
    pub fn notices(&self) -> Vec<Count> {
        top(&self.notices, usize::MAX)
    }
}

/// The `limit` largest counts, ties broken by key so output is stable.
fn top(counts: &HashMap<String, u64>, limit: usize) -> Vec<Count> {
    let mut sorted: Vec<Count> = counts
        .iter()
        .map(|(key, count)| Count {
            key: key.clone(),
            count: *count,
        })
        .collect();
    sorted.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    sorted.truncate(limit);
    sorted
}

impl Sink for Tally {
    type Item = Item;

    fn write(&mut self, batch: Batch<Item>) -> Result<Offset, PipelineError> {
        for item in &batch.items {
            self.add(item);
        }
        // Counting is complete once the batch is seen; nothing needs to reach a disk.
        Ok(Offset(batch.offsets.end))
    }
}
