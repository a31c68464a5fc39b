//! The archive as a sink: posts and notices into the store, rejects into a rejects file, and
//! a summary per format of what happened.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use serde::Serialize;
use starling_formats::{Notice, Reject};
use starling_model::{Post, RawRecord, Timestamp};
use starling_store::{Indexer, Outcome, Store, WatchMatch};
use starling_watch::Matcher;

use crate::{Batch, Item, Offset, PipelineError, Sink};

/// Posts indexed between index commits, at most.
pub const INDEX_COMMIT_POSTS: usize = 100_000;
/// Time between index commits, at most (while posts keep arriving).
pub const INDEX_COMMIT_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

/// The rejects file inside the data folder.
pub const REJECTS_FILE: &str = "rejects.jsonl";

/// What happened to one format's records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FormatSummary {
    /// Records read (filled in by the caller from the source).
    pub records: u64,
    /// Posts archived for the first time.
    pub imported: u64,
    /// Posts whose key was already archived, unchanged.
    pub duplicates: u64,
    /// Posts whose key was archived with another text: new versions, the old ones kept.
    pub edited: u64,
    /// Records or parts of records rejected.
    pub rejected: u64,
    /// Stream notices kept.
    pub notices: u64,
}

impl FormatSummary {
    /// The sum of `summaries`: what happened to every format together.
    pub fn total<'a>(summaries: impl IntoIterator<Item = &'a FormatSummary>) -> FormatSummary {
        let mut total = FormatSummary::default();
        for summary in summaries {
            total.records += summary.records;
            total.imported += summary.imported;
            total.duplicates += summary.duplicates;
            total.edited += summary.edited;
            total.rejected += summary.rejected;
            total.notices += summary.notices;
        }
        total
    }
}

/// One line of the rejects file.
#[derive(Serialize)]
struct RejectLine<'a> {
    at: Timestamp,
    format: &'a str,
    source: &'a str,
    line: Option<u64>,
    field: &'a str,
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<&'a RawRecord>,
}

/// Writes items into a [`Store`].
pub struct StoreSink<'a> {
    store: &'a Store,
    indexer: Option<SharedIndexer>,
    uncommitted: usize,
    last_commit: std::time::Instant,
    rejects_path: PathBuf,
    rejects: Option<BufWriter<File>>,
    at: Timestamp,
    /// Per format.
    pub summary: BTreeMap<String, FormatSummary>,
    /// The first rejects, to show.
    pub sample_rejects: Vec<Reject>,
    posts_seen: Arc<AtomicU64>,
    matcher: Option<SharedMatcher>,
    /// Matches found per watch (a post imported again is matched again).
    pub matches: BTreeMap<String, u64>,
    listener: Option<Box<MatchListener<'a>>>,
    post_listener: Option<Box<PostListener<'a>>>,
    commit_interval: std::time::Duration,
}

/// An indexer several sinks write through, one batch at a time (an index has one writer).
pub type SharedIndexer = Arc<Mutex<Indexer>>;

/// Watches that another thread may change while a sink matches with them (a server's API).
pub type SharedMatcher = Arc<RwLock<Matcher>>;

/// Told of each post once it is durable, with what the write did: detectors, live counts.
pub type PostListener<'a> = dyn FnMut(&Post, Outcome) + Send + 'a;

/// Told of each match once it is durable: the dashboard's live columns, alerts.
pub type MatchListener<'a> = dyn FnMut(&WatchMatch, &Post) + Send + 'a;

const SAMPLE_REJECTS: usize = 5;

impl<'a> StoreSink<'a> {
    /// A sink into `store`, appending rejects to `data_dir/rejects.jsonl` stamped `at`.
    pub fn new(store: &'a Store, data_dir: &Path, at: Timestamp) -> StoreSink<'a> {
        StoreSink {
            store,
            indexer: None,
            uncommitted: 0,
            last_commit: std::time::Instant::now(),
            rejects_path: data_dir.join(REJECTS_FILE),
            rejects: None,
            at,
            summary: BTreeMap::new(),
            sample_rejects: Vec::new(),
            posts_seen: Arc::default(),
            matcher: None,
            matches: BTreeMap::new(),
            listener: None,
            post_listener: None,
            commit_interval: INDEX_COMMIT_INTERVAL,
        }
    }

    /// Also match every post against `matcher`'s watches, recording each match in the
    /// archive in the same transaction as the post.
    pub fn with_watches(mut self, matcher: Matcher) -> StoreSink<'a> {
        self.matcher = (!matcher.is_empty()).then(|| Arc::new(RwLock::new(matcher)));
        self
    }

    /// Matches with watches shared with another thread, which may change them at any time:
    /// each batch is matched with the watches as they are when it is written.
    pub fn with_shared_watches(mut self, matcher: SharedMatcher) -> StoreSink<'a> {
        self.matcher = Some(matcher);
        self
    }

    /// Calls `listener` with each post and its [`Outcome`], after it is written.
    pub fn on_post(mut self, listener: impl FnMut(&Post, Outcome) + Send + 'a) -> StoreSink<'a> {
        self.post_listener = Some(Box::new(listener));
        self
    }

    /// Commits the index at least this often while posts arrive (default
    /// [`INDEX_COMMIT_INTERVAL`]): shorter makes new posts searchable sooner, at the cost of
    /// more, smaller segments to merge.
    pub fn commit_every(mut self, interval: std::time::Duration) -> StoreSink<'a> {
        self.commit_interval = interval;
        self
    }

    /// Calls `listener` with each match, after it is written.
    pub fn on_match(
        mut self,
        listener: impl FnMut(&WatchMatch, &Post) + Send + 'a,
    ) -> StoreSink<'a> {
        self.listener = Some(Box::new(listener));
        self
    }

    /// Also index every post written (replacing, by key, what the index had). The index is
    /// committed every [`INDEX_COMMIT_POSTS`] posts or [`INDEX_COMMIT_INTERVAL`], and by
    /// the end of the run (`Sink::finish`): the archive is the durable record, and after a crash the index
    /// may lag it by one commit, which importing the same files again repairs.
    pub fn with_index(mut self, indexer: Indexer) -> StoreSink<'a> {
        self.indexer = Some(Arc::new(Mutex::new(indexer)));
        self
    }

    /// [`StoreSink::with_index`] through an indexer other sinks share (sinks on other
    /// threads, writing the same archive).
    pub fn with_shared_index(mut self, indexer: SharedIndexer) -> StoreSink<'a> {
        self.indexer = Some(indexer);
        self
    }

    /// Commits what the index has not committed yet.
    pub fn finish(&mut self) -> Result<(), PipelineError> {
        if let Some(indexer) = self.indexer.as_ref() {
            let mut indexer = indexer.lock().unwrap_or_else(PoisonError::into_inner);
            indexer.commit().map_err(|error| PipelineError::Sink {
                sink: "search index".into(),
                message: error.to_string(),
            })?;
        }
        self.uncommitted = 0;
        Ok(())
    }

    /// Commits the index when posts wait and the commit interval has passed.
    fn commit_if_due(&mut self) -> Result<(), PipelineError> {
        if self.uncommitted == 0 || self.last_commit.elapsed() < self.commit_interval {
            return Ok(());
        }
        if let Some(indexer) = self.indexer.as_ref() {
            let mut indexer = indexer.lock().unwrap_or_else(PoisonError::into_inner);
            indexer.commit().map_err(|error| PipelineError::Sink {
                sink: "search index".into(),
                message: error.to_string(),
            })?;
        }
        self.uncommitted = 0;
        self.last_commit = std::time::Instant::now();
        Ok(())
    }

    /// Where rejects go.
    pub fn rejects_path(&self) -> &Path {
        &self.rejects_path
    }

    /// A counter of posts written so far, for a progress display on another thread.
    pub fn posts_seen(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.posts_seen)
    }

    fn failure(&self, message: String) -> PipelineError {
        PipelineError::Sink {
            sink: self.rejects_path.display().to_string(),
            message,
        }
    }

    fn write_rejects(
        &mut self,
        rejects: &[(&str, &Reject, Option<&RawRecord>)],
    ) -> Result<(), PipelineError> {
        if rejects.is_empty() {
            return Ok(());
        }
        if self.rejects.is_none() {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.rejects_path)
                .map_err(|error| self.failure(error.to_string()))?;
            self.rejects = Some(BufWriter::new(file));
        }
        let at = self.at;
        let path = self.rejects_path.display().to_string();
        let Some(writer) = self.rejects.as_mut() else {
            return Ok(());
        };
        let fail = |error: std::io::Error| PipelineError::Sink {
            sink: path.clone(),
            message: error.to_string(),
        };
        for (format, reject, record) in rejects {
            let line = RejectLine {
                at,
                format,
                source: &reject.source,
                line: reject.line,
                field: &reject.field,
                reason: &reject.reason,
                record: *record,
            };
            serde_json::to_writer(&mut *writer, &line).map_err(|error| fail(error.into()))?;
            writer.write_all(b"\n").map_err(fail)?;
        }
        // Rejects are acknowledged with the batch: they must be on disk first.
        writer.flush().map_err(fail)?;
        writer.get_ref().sync_data().map_err(fail)
    }
}

impl Sink for StoreSink<'_> {
    type Item = Item;

    fn write(&mut self, mut batch: Batch<Item>) -> Result<Offset, PipelineError> {
        if batch.items.is_empty() {
            // A live source's tick: nothing to write, but the index commits what it holds
            // once the interval has passed, so the last posts become searchable.
            self.commit_if_due()?;
            return Ok(Offset(batch.offsets.end));
        }
        let mut posts: Vec<&mut Post> = Vec::new();
        let mut notices: Vec<Notice> = Vec::new();
        let mut rejects = Vec::new();
        for item in &mut batch.items {
            match item {
                Item::Post(post) => posts.push(post),
                Item::Notice { format, notice } => {
                    self.summary.entry(format.clone()).or_default().notices += 1;
                    notices.push(notice.clone());
                }
                Item::Reject {
                    format,
                    reject,
                    record,
                } => {
                    self.summary.entry(format.clone()).or_default().rejected += 1;
                    if self.sample_rejects.len() < SAMPLE_REJECTS {
                        self.sample_rejects.push(reject.clone());
                    }
                    rejects.push((format.as_str(), &*reject, record.as_ref()));
                }
            }
        }
        self.write_rejects(&rejects)?;
        let mut found = Vec::new();
        let mut matched_posts = Vec::new();
        if let Some(matcher) = &self.matcher {
            let matcher = matcher.read().unwrap_or_else(PoisonError::into_inner);
            let matched_at = chrono::Utc::now();
            for (index, post) in posts.iter().enumerate() {
                for id in matcher.match_post(post, self.at).watches {
                    if let Some(name) = matcher.name(id) {
                        found.push(WatchMatch {
                            watch: name.to_owned(),
                            key: post.key.as_str().to_owned(),
                            created_at: post.created_at,
                            matched_at,
                        });
                        matched_posts.push(index);
                    }
                }
            }
        }
        let written = self
            .store
            .write_with_matches(&mut posts, &notices, &found)
            .map_err(|error| PipelineError::Sink {
                sink: "archive".into(),
                message: error.to_string(),
            })?;
        if let Some(indexer) = self.indexer.as_ref() {
            let mut indexer = indexer.lock().unwrap_or_else(PoisonError::into_inner);
            let fail = |error: starling_store::StoreError| PipelineError::Sink {
                sink: "search index".into(),
                message: error.to_string(),
            };
            for (post, outcome) in posts.iter().zip(&written.outcomes) {
                match outcome {
                    Outcome::New => indexer.add_new(post).map_err(fail)?,
                    Outcome::Edited => indexer.add(post).map_err(fail)?,
                    // Indexed already, unless a crash lost the index's last commit: a
                    // repeated import repairs that.
                    Outcome::Duplicate => {
                        if !indexer.contains(post.key.as_str()).map_err(fail)? {
                            indexer.add(post).map_err(fail)?;
                        }
                    }
                }
            }
            self.uncommitted += posts.len();
            if self.uncommitted >= INDEX_COMMIT_POSTS
                || self.last_commit.elapsed() >= self.commit_interval
            {
                indexer.commit().map_err(fail)?;
                self.uncommitted = 0;
                self.last_commit = std::time::Instant::now();
            }
        }
        for (post, outcome) in posts.iter().zip(written.outcomes) {
            if let Some(listener) = self.post_listener.as_mut() {
                listener(post, outcome);
            }
            let summary = self
                .summary
                .entry(post.provenance.format.clone())
                .or_default();
            match outcome {
                Outcome::New => summary.imported += 1,
                Outcome::Duplicate => summary.duplicates += 1,
                Outcome::Edited => summary.edited += 1,
            }
        }
        for (found, index) in found.iter().zip(matched_posts) {
            *self.matches.entry(found.watch.clone()).or_default() += 1;
            if let Some(listener) = self.listener.as_mut() {
                listener(found, posts[index]);
            }
        }
        self.posts_seen
            .fetch_add(posts.len() as u64, Ordering::Relaxed);
        Ok(Offset(batch.offsets.end))
    }

    /// Commits what the index has not committed yet.
    fn finish(&mut self) -> Result<(), PipelineError> {
        if let Some(indexer) = self.indexer.as_ref() {
            let mut indexer = indexer.lock().unwrap_or_else(PoisonError::into_inner);
            indexer.commit().map_err(|error| PipelineError::Sink {
                sink: "search index".into(),
                message: error.to_string(),
            })?;
        }
        self.uncommitted = 0;
        Ok(())
    }
}
