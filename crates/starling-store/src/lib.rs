//! The archive: every post Starling has seen, deduplicated by its canonical key, and every
//! stream notice, kept durably in the data folder.
//!
//! Layout: posts (their fields and raw records, as JSON) are appended to segment files in
//! `posts/` ([`log`]); an embedded database (`archive.redb`, redb's copy-on-write B-trees)
//! keeps, by key, where each post lies and a hash of its title and text, beside the
//! notices, the delete flags and the earlier versions of edited posts.
//!
//! Durability: each [`Store::write`] appends its posts, syncs the segment file, and then
//! commits one database transaction (with `fsync`) that records their locations and the
//! log's new end; it returns after both. After a crash the archive holds exactly the
//! batches whose `write` returned: what a crash left past the recorded end is cut off when
//! the archive is opened. A pipeline acknowledges its source only after `write` returns.
//!
//! Edits keep earlier versions ([`Store::status`]); a delete flags the post and keeps it as
//! evidence. Retention (erasing on request) is not built yet.
//!
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! use starling_store::Store;
//! let store = Store::open(dir.path()).unwrap();
//! assert_eq!(store.post_count().unwrap(), 0);
//! ```

mod index;
mod log;
pub mod views;

pub use index::{
    CHECK_LIMIT, Candidates, Found, INDEX_FOLDER, Indexer, SearchIndex, SortBy, Summary,
    for_each_match, histogram, search,
};

use std::path::{Path, PathBuf};

use log::{Location, Log, Tail, content_hash};
use redb::{
    Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition, TableHandle,
};
use starling_formats::Notice;
use starling_model::{Post, Timestamp};
use starling_watch::WatchDef;

/// Where each post lies in the log, by canonical key: a location and the content hash.
const POSTS: TableDefinition<&str, &[u8]> = TableDefinition::new("post_locations");
/// Stream notices in arrival order, as JSON.
const NOTICES: TableDefinition<u64, &[u8]> = TableDefinition::new("notices");
/// Deleted posts by key: what the platform said.
const DELETED: TableDefinition<&str, &str> = TableDefinition::new("deleted");
/// Earlier versions of edited posts (their locations): `key`, NUL, a 10-digit version number.
const HISTORY: TableDefinition<&str, &[u8]> = TableDefinition::new("history");
/// The log's committed end, and the archive's layout version.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Watches by name, as JSON.
const WATCHES: TableDefinition<&str, &[u8]> = TableDefinition::new("watches");
/// Watch matches: `watch`, NUL, the post's creation time (20 digits, ordered), NUL, the post's
/// key; the value is when it matched (milliseconds since 1970). Keyed by the post, so matching
/// the same post again (a repeated import) records nothing new.
const MATCHES: TableDefinition<&str, i64> = TableDefinition::new("matches");
/// How many matches each watch has recorded (kept with them, so a count reads one entry).
const MATCH_COUNTS: TableDefinition<&str, u64> = TableDefinition::new("match_counts");
/// The table earlier versions kept whole posts in.
const OLD_POSTS: &str = "posts";

/// The page cache the database may use.
const CACHE_BYTES: usize = 64 << 20;

/// The database file inside the data folder.
pub const ARCHIVE_FILE: &str = "archive.redb";
/// The folder of the post log's segment files inside the data folder.
pub const LOG_FOLDER: &str = "posts";

/// Why the archive could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data folder could not be created.
    #[error("creating the data folder {path}: {source}")]
    Folder {
        /// The folder.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The database file failed.
    #[error("archive {path}: {message}")]
    Database {
        /// The file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// Writing what was read out of the archive failed (an export's file, a closed pipe).
    #[error("writing out: {0}")]
    Output(#[source] std::io::Error),
    /// A stored post could not be read back.
    #[error("archive {path}: post {key} is corrupt: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The post.
        key: String,
        /// What was wrong.
        message: String,
    },
}

/// What one write did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// For each post given, what became of it.
    pub outcomes: Vec<Outcome>,
    /// Notices appended.
    pub notices: u64,
    /// Watch matches recorded for the first time.
    pub matches: u64,
}

/// A post matched a watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchMatch {
    /// The watch's name.
    pub watch: String,
    /// The post's key.
    pub key: String,
    /// When the post was created.
    pub created_at: Timestamp,
    /// When it was matched.
    pub matched_at: Timestamp,
}

fn match_key(watch: &str, created_at: Timestamp, key: &str) -> String {
    // Milliseconds with the sign bit flipped sort in time order as 20 digits.
    let ordered = (created_at.timestamp_millis() as u64) ^ (1 << 63);
    format!("{watch}\u{0}{ordered:020}\u{0}{key}")
}

fn parse_match_key(stored: &str) -> Option<(&str, Timestamp, &str)> {
    let mut parts = stored.splitn(3, '\u{0}');
    let watch = parts.next()?;
    let ordered: u64 = parts.next()?.parse().ok()?;
    let key = parts.next()?;
    let millis = (ordered ^ (1 << 63)) as i64;
    Some((watch, chrono::DateTime::from_timestamp_millis(millis)?, key))
}

/// What writing one post did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Its key was new: it is archived.
    New,
    /// Its key was archived with the same title and text: nothing changed.
    Duplicate,
    /// Its key was archived with another title or text: this version is current, and the
    /// earlier one is kept in the post's history.
    Edited,
}

/// What the archive knows of a post beyond its current version.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PostStatus {
    /// Set when a platform said the post was deleted: what it said. The post is kept as
    /// evidence.
    pub deleted: Option<String>,
    /// Earlier versions kept, oldest first.
    pub history: Vec<Post>,
}

/// The archive in one data folder.
#[derive(Debug)]
pub struct Store {
    db: Database,
    log: Log,
    path: PathBuf,
}

/// A post's entry in [`POSTS`]: its location and content hash.
fn entry(location: Location, hash: u64) -> [u8; Location::BYTES + 8] {
    let mut bytes = [0; Location::BYTES + 8];
    bytes[..Location::BYTES].copy_from_slice(&location.encode());
    bytes[Location::BYTES..].copy_from_slice(&hash.to_le_bytes());
    bytes
}

fn hash_of(post: &Post) -> u64 {
    content_hash(&[
        post.title.as_deref().unwrap_or_default().as_bytes(),
        post.text.as_bytes(),
    ])
}

impl Store {
    /// Opens (creating when needed) the archive in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Folder {
            path: data_dir.to_owned(),
            source,
        })?;
        let path = data_dir.join(ARCHIVE_FILE);
        if !path.exists() {
            // A new database is written whole under another name, then renamed: a crash while
            // redb writes its first header must not leave a file that never opens again.
            let fresh = data_dir.join(format!("{ARCHIVE_FILE}.new"));
            let _ = std::fs::remove_file(&fresh);
            drop(Database::create(&fresh).map_err(|error| database(&fresh, error))?);
            std::fs::rename(&fresh, &path).map_err(|error| database(&path, error))?;
            std::fs::File::open(data_dir)
                .and_then(|folder| folder.sync_all())
                .map_err(|error| database(&path, error))?;
        }
        // A bounded cache: the archive is written far more than it is read back here.
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(&path)
            .map_err(|error| database(&path, error))?;
        let fail = |error: &dyn std::fmt::Display| database(&path, error);
        // Create the tables up front so that readers never meet a missing table.
        let transaction = db.begin_write().map_err(|error| fail(&error))?;
        if transaction
            .list_tables()
            .map_err(|error| fail(&error))?
            .any(|table| table.name() == OLD_POSTS)
        {
            return Err(fail(
                &"made by an earlier version of Starling, which kept posts inside the database; import the files again into a new data folder",
            ));
        }
        let counted = transaction
            .list_tables()
            .map_err(|error| fail(&error))?
            .any(|table| table.name() == MATCH_COUNTS.name());
        if !counted {
            // An archive from before the counts were kept: count once what it has.
            let mut counts: std::collections::HashMap<String, u64> =
                std::collections::HashMap::new();
            {
                let matches = transaction
                    .open_table(MATCHES)
                    .map_err(|error| fail(&error))?;
                for entry in matches.iter().map_err(|error| fail(&error))? {
                    let (key, _) = entry.map_err(|error| fail(&error))?;
                    if let Some((watch, _, _)) = parse_match_key(key.value()) {
                        *counts.entry(watch.to_owned()).or_default() += 1;
                    }
                }
            }
            let mut table = transaction
                .open_table(MATCH_COUNTS)
                .map_err(|error| fail(&error))?;
            for (watch, count) in counts {
                table
                    .insert(watch.as_str(), count)
                    .map_err(|error| fail(&error))?;
            }
        }
        let tail = {
            transaction
                .open_table(POSTS)
                .map_err(|error| fail(&error))?;
            transaction
                .open_table(NOTICES)
                .map_err(|error| fail(&error))?;
            transaction
                .open_table(DELETED)
                .map_err(|error| fail(&error))?;
            transaction
                .open_table(HISTORY)
                .map_err(|error| fail(&error))?;
            transaction
                .open_table(WATCHES)
                .map_err(|error| fail(&error))?;
            transaction
                .open_table(MATCHES)
                .map_err(|error| fail(&error))?;
            let meta = transaction.open_table(META).map_err(|error| fail(&error))?;
            let tail = meta.get("tail").map_err(|error| fail(&error))?;
            match tail {
                None => Tail::default(),
                Some(bytes) => Tail::decode(bytes.value())
                    .ok_or_else(|| fail(&"the log's recorded end is unreadable"))?,
            }
        };
        transaction.commit().map_err(|error| fail(&error))?;
        let log_dir = data_dir.join(LOG_FOLDER);
        let log = Log::open(&log_dir, tail).map_err(|error| database(&log_dir, error))?;
        Ok(Store { db, log, path })
    }

    /// Archives `posts` (skipping keys already present with the same title and text) and
    /// appends `notices`; all of it is on disk when this returns.
    ///
    /// Each post is lent mutably only to set its raw record aside while its other fields are
    /// written: it is given back unchanged.
    pub fn write(
        &self,
        posts: &mut [&mut Post],
        notices: &[Notice],
    ) -> Result<Written, StoreError> {
        self.write_with_matches(posts, notices, &[])
    }

    /// [`Store::write`], and records watch matches in the same transaction.
    pub fn write_with_matches(
        &self,
        posts: &mut [&mut Post],
        notices: &[Notice],
        matches: &[WatchMatch],
    ) -> Result<Written, StoreError> {
        let fail = |error: &dyn std::fmt::Display| database(&self.path, error);
        let mut append = self.log.append();
        let transaction = self.db.begin_write().map_err(|error| fail(&error))?;
        let mut written = Written {
            outcomes: Vec::with_capacity(posts.len()),
            notices: 0,
            matches: 0,
        };
        let mut json = Vec::new();
        {
            let mut table = transaction
                .open_table(POSTS)
                .map_err(|error| fail(&error))?;
            let mut history = transaction
                .open_table(HISTORY)
                .map_err(|error| fail(&error))?;
            for post in posts.iter_mut() {
                let post: &mut Post = post;
                let key = post.key.as_str();
                let hash = hash_of(post);
                let earlier = table
                    .get(key)
                    .map_err(|error| fail(&error))?
                    .map(|found| found.value().to_vec());
                let outcome = match earlier {
                    None => Outcome::New,
                    Some(found) => {
                        let corrupt = || StoreError::Corrupt {
                            path: self.path.clone(),
                            key: key.to_owned(),
                            message: "its entry in the database is unreadable".into(),
                        };
                        let earlier_hash = found
                            .get(Location::BYTES..)
                            .and_then(|bytes| bytes.try_into().ok())
                            .map(u64::from_le_bytes)
                            .ok_or_else(corrupt)?;
                        if earlier_hash == hash {
                            Outcome::Duplicate
                        } else {
                            // The earlier version goes to history, numbered after any before it.
                            let prefix = format!("{key}\u{0}");
                            let versions = history
                                .range(prefix.as_str()..)
                                .map_err(|error| fail(&error))?
                                .take_while(|entry| {
                                    entry
                                        .as_ref()
                                        .is_ok_and(|(found, _)| found.value().starts_with(&prefix))
                                })
                                .count();
                            let version_key = format!("{prefix}{versions:010}");
                            history
                                .insert(version_key.as_str(), &found[..Location::BYTES])
                                .map_err(|error| fail(&error))?;
                            Outcome::Edited
                        }
                    }
                };
                if outcome != Outcome::Duplicate {
                    // The record: the length of the fields' JSON, the fields (with an empty
                    // raw record), and the raw bytes as received, unescaped.
                    let raw = std::mem::take(&mut post.raw);
                    json.clear();
                    json.extend_from_slice(&[0; 4]);
                    let serialized = serde_json::to_writer(&mut json, &*post);
                    post.raw = raw;
                    serialized.map_err(|error| fail(&error))?;
                    let fields = u32::try_from(json.len() - 4).unwrap_or(u32::MAX);
                    json[..4].copy_from_slice(&fields.to_le_bytes());
                    let location = append.push_parts(&[&json, post.raw.as_bytes()]);
                    table
                        .insert(post.key.as_str(), entry(location, hash).as_slice())
                        .map_err(|error| fail(&error))?;
                }
                written.outcomes.push(outcome);
            }
            // A delete is kept even before (or without) the post it names: it is evidence too.
            let mut deleted = transaction
                .open_table(DELETED)
                .map_err(|error| fail(&error))?;
            for notice in notices.iter().filter(|notice| notice.kind == "delete") {
                if let Some(key) = &notice.key {
                    deleted
                        .insert(key.as_str(), notice.detail.as_str())
                        .map_err(|error| fail(&error))?;
                }
            }
            let mut table = transaction
                .open_table(NOTICES)
                .map_err(|error| fail(&error))?;
            let first = table
                .last()
                .map_err(|error| fail(&error))?
                .map_or(0, |(key, _)| key.value() + 1);
            for (sequence, notice) in (first..).zip(notices) {
                json.clear();
                serde_json::to_writer(&mut json, notice).map_err(|error| fail(&error))?;
                table
                    .insert(sequence, json.as_slice())
                    .map_err(|error| fail(&error))?;
                written.notices += 1;
            }
            let mut table = transaction
                .open_table(MATCHES)
                .map_err(|error| fail(&error))?;
            let mut added: std::collections::HashMap<&str, u64> = std::collections::HashMap::new();
            for found in matches {
                let key = match_key(&found.watch, found.created_at, &found.key);
                // Matched before (a repeated import): the first time it matched stays.
                let known = table
                    .get(key.as_str())
                    .map_err(|error| fail(&error))?
                    .is_some();
                if !known {
                    table
                        .insert(key.as_str(), found.matched_at.timestamp_millis())
                        .map_err(|error| fail(&error))?;
                    written.matches += 1;
                    *added.entry(found.watch.as_str()).or_default() += 1;
                }
            }
            let mut counts = transaction
                .open_table(MATCH_COUNTS)
                .map_err(|error| fail(&error))?;
            for (watch, count) in added {
                let before = counts
                    .get(watch)
                    .map_err(|error| fail(&error))?
                    .map_or(0, |count| count.value());
                counts
                    .insert(watch, before + count)
                    .map_err(|error| fail(&error))?;
            }
            let mut meta = transaction.open_table(META).map_err(|error| fail(&error))?;
            meta.insert("tail", append.new_tail().encode().as_slice())
                .map_err(|error| fail(&error))?;
        }
        // The posts first: the transaction that points at them must never be on disk before them.
        append
            .sync()
            .map_err(|error| database(&self.path.with_file_name(LOG_FOLDER), error))?;
        transaction.commit().map_err(|error| fail(&error))?;
        append.committed();
        Ok(written)
    }

    /// Reads the post at `location`.
    fn read(&self, key: &str, location: Location) -> Result<Post, StoreError> {
        let corrupt = |message: String| StoreError::Corrupt {
            path: self.path.with_file_name(LOG_FOLDER),
            key: key.to_owned(),
            message,
        };
        let record = self
            .log
            .read(location)
            .map_err(|error| corrupt(error.to_string()))?;
        let fields = record
            .get(..4)
            .and_then(|bytes| bytes.try_into().ok())
            .map(u32::from_le_bytes)
            .map(|len| len as usize + 4)
            .filter(|end| *end <= record.len())
            .ok_or_else(|| corrupt("the record is shorter than its fields".into()))?;
        let mut post: Post = serde_json::from_slice(&record[4..fields])
            .map_err(|error| corrupt(error.to_string()))?;
        post.raw = record[fields..].to_vec().into();
        Ok(post)
    }

    fn location(&self, key: &str, bytes: &[u8]) -> Result<Location, StoreError> {
        Location::decode(bytes).ok_or_else(|| StoreError::Corrupt {
            path: self.path.clone(),
            key: key.to_owned(),
            message: "its entry in the database is unreadable".into(),
        })
    }

    /// The post archived under `key`.
    pub fn get(&self, key: &str) -> Result<Option<Post>, StoreError> {
        Ok(self.get_many(&[key])?.pop().flatten())
    }

    /// The posts under `keys`, in their order (`None` for a key not archived), read in one
    /// read transaction.
    pub fn get_many<K: AsRef<str>>(&self, keys: &[K]) -> Result<Vec<Option<Post>>, StoreError> {
        let fail = |error: &dyn std::fmt::Display| database(&self.path, error);
        let transaction = self.db.begin_read().map_err(|error| fail(&error))?;
        let table = transaction
            .open_table(POSTS)
            .map_err(|error| fail(&error))?;
        keys.iter()
            .map(|key| {
                let key = key.as_ref();
                let Some(found) = table.get(key).map_err(|error| fail(&error))? else {
                    return Ok(None);
                };
                let location = self.location(key, found.value())?;
                self.read(key, location).map(Some)
            })
            .collect()
    }

    /// Whether the post under `key` was deleted, and its earlier versions.
    pub fn status(&self, key: &str) -> Result<PostStatus, StoreError> {
        let fail = |error: &dyn std::fmt::Display| database(&self.path, error);
        let transaction = self.db.begin_read().map_err(|error| fail(&error))?;
        let deleted = transaction
            .open_table(DELETED)
            .map_err(|error| fail(&error))?;
        let deleted = deleted
            .get(key)
            .map_err(|error| fail(&error))?
            .map(|detail| detail.value().to_owned());
        let table = transaction
            .open_table(HISTORY)
            .map_err(|error| fail(&error))?;
        let prefix = format!("{key}\u{0}");
        let mut history = Vec::new();
        for entry in table
            .range(prefix.as_str()..)
            .map_err(|error| fail(&error))?
        {
            let (found, location) = entry.map_err(|error| fail(&error))?;
            if !found.value().starts_with(&prefix) {
                break;
            }
            let location = self.location(key, location.value())?;
            history.push(self.read(key, location)?);
        }
        Ok(PostStatus { deleted, history })
    }

    /// How many posts are archived.
    pub fn post_count(&self) -> Result<u64, StoreError> {
        let fail = |error: &dyn std::fmt::Display| database(&self.path, error);
        let transaction = self.db.begin_read().map_err(|error| fail(&error))?;
        let table = transaction
            .open_table(POSTS)
            .map_err(|error| fail(&error))?;
        table.len().map_err(|error| fail(&error))
    }

    /// Saves `watch`, replacing one of the same name; whether it replaced one.
    pub fn put_watch(&self, watch: &WatchDef) -> Result<bool, StoreError> {
        let fail = |error: &dyn std::fmt::Display| database(&self.path, error);
        let json = serde_json::to_vec(watch).map_err(|error| fail(&error))?;
        let transaction = self.db.begin_write().map_err(|error| fail(&error))?;
        let replaced = transaction
            .open_table(WATCHES)
            .map_err(|error| fail(&error))?
            .insert(watch.name.as_str(), json.as_slice())
            .map_err(|error| fail(&error))?
            .is_some();
        transaction.commit().map_err(|error| fail(&error))?;
        Ok(replaced)
    }

    /// Removes the watch called `name` (its recorded matches stay); whether there was one.
    pub fn remove_watch(&self, name: &str) -> Result<bool, StoreError> {
        let fail = |error: &dyn std::fmt::Display| database(&self.path, error);
        let transaction = self.db.begin_write().map_err(|error| fail(&error))?;
        let removed = transaction
            .open_table(WATCHES)
            .map_err(|error| fail(&error))?
            .remove(name)
            .map_err(|error| fail(&error))?
            .is_some();
        transaction.commit().map_err(|error| fail(&error))?;
        Ok(removed)
    }

    /// The saved watches, by name.
    pub fn watches(&self) -> Result<Vec<WatchDef>, StoreError> {
        let fail = |error: &dyn std::fmt::Display| database(&self.path, error);
        let transaction = self.db.begin_read().map_err(|error| fail(&error))?;
        let table = transaction
            .open_table(WATCHES)
            .map_err(|error| fail(&error))?;
        let mut watches = Vec::new();
        for entry in table.iter().map_err(|error| fail(&error))? {
            let (name, json) = entry.map_err(|error| fail(&error))?;
            watches.push(serde_json::from_slice(json.value()).map_err(|error| {
                StoreError::Corrupt {
                    path: self.path.clone(),
                    key: format!("watch {}", name.value()),
                    message: error.to_string(),
                }
            })?);
        }
        Ok(watches)
    }

    /// The matches recorded for `watch`, newest post first, at most `limit`; and how many
    /// there are in all.
    pub fn matches_of(
        &self,
        watch: &str,
        limit: usize,
    ) -> Result<(Vec<WatchMatch>, u64), StoreError> {
        let fail = |error: &dyn std::fmt::Display| database(&self.path, error);
        let transaction = self.db.begin_read().map_err(|error| fail(&error))?;
        let table = transaction
            .open_table(MATCHES)
            .map_err(|error| fail(&error))?;
        let total = transaction
            .open_table(MATCH_COUNTS)
            .map_err(|error| fail(&error))?
            .get(watch)
            .map_err(|error| fail(&error))?
            .map_or(0, |count| count.value());
        let start = format!("{watch}\u{0}");
        let end = format!("{watch}\u{1}");
        let mut found = Vec::new();
        for entry in table
            .range(start.as_str()..end.as_str())
            .map_err(|error| fail(&error))?
            .rev()
            .take(limit)
        {
            let (key, matched_at) = entry.map_err(|error| fail(&error))?;
            if let Some((watch, created_at, post)) = parse_match_key(key.value()) {
                found.push(WatchMatch {
                    watch: watch.to_owned(),
                    key: post.to_owned(),
                    created_at,
                    matched_at: chrono::DateTime::from_timestamp_millis(matched_at.value())
                        .unwrap_or_default(),
                });
            }
        }
        Ok((found, total))
    }

    /// How many notices are archived.
    pub fn notice_count(&self) -> Result<u64, StoreError> {
        let fail = |error: &dyn std::fmt::Display| database(&self.path, error);
        let transaction = self.db.begin_read().map_err(|error| fail(&error))?;
        let table = transaction
            .open_table(NOTICES)
            .map_err(|error| fail(&error))?;
        table.len().map_err(|error| fail(&error))
    }
}

fn database(path: &Path, error: impl std::fmt::Display) -> StoreError {
    StoreError::Database {
        path: path.to_owned(),
        message: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use starling_model::{Author, PostKey, Provenance, RawRecord, Source};

    fn post(id: &str) -> Post {
        Post {
            platform: starling_model::Platform::Twitter,
            id: id.into(),
            key: PostKey::for_platform_id(starling_model::Platform::Twitter, id),
            url: None,
            author: Author {
                id: "1".into(),
                handle: "a".into(),
                display_name: None,
                followers: None,
                location: None,
            },
            created_at: "2009-06-13T18:04:05Z".parse().unwrap(),
            collected_at: "2009-06-13T18:04:06Z".parse().unwrap(),
            title: None,
            community: None,
            text: "سلام".into(),
            declared_lang: None,
            reply_to: None,
            quote_of: None,
            share_of: None,
            entities: Default::default(),
            media: Vec::new(),
            metrics: Default::default(),
            geo: None,
            provenance: Provenance {
                source: Source::File("a.jsonl".into()),
                format: "twitter-v1".into(),
                line: Some(1),
                offset: None,
            },
            enrichment: None,
            raw: RawRecord(vec![0xff, b'{']),
        }
    }

    #[test]
    fn posts_are_kept_once_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let written = store
                .write(&mut [&mut post("1"), &mut post("2"), &mut post("1")], &[])
                .unwrap();
            assert_eq!(
                written.outcomes,
                [Outcome::New, Outcome::New, Outcome::Duplicate]
            );
            let notice = Notice {
                kind: "limit".into(),
                key: None,
                detail: "5 missed".into(),
            };
            assert_eq!(
                store
                    .write(
                        &mut [&mut post("2"), &mut post("3")],
                        &[notice.clone(), notice]
                    )
                    .unwrap()
                    .outcomes,
                [Outcome::Duplicate, Outcome::New]
            );
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.post_count().unwrap(), 3);
        assert_eq!(store.notice_count().unwrap(), 2);
        let back = store.get("twitter:1").unwrap().unwrap();
        assert_eq!(back, post("1"));
        assert_eq!(back.raw.as_bytes(), [0xff, b'{']);
        assert_eq!(store.get("twitter:9").unwrap(), None);
    }

    #[test]
    fn match_totals_are_kept_and_counted_once_for_an_older_archive() {
        let dir = tempfile::tempdir().unwrap();
        let found = |id: &str, watch: &str| WatchMatch {
            watch: watch.into(),
            key: format!("twitter:{id}"),
            created_at: "2009-06-13T18:04:05Z".parse().unwrap(),
            matched_at: "2009-06-13T18:05:00Z".parse().unwrap(),
        };
        {
            let store = Store::open(dir.path()).unwrap();
            let (mut a, mut b, mut c) = (post("1"), post("2"), post("3"));
            let matches = [found("1", "w"), found("2", "w"), found("3", "other")];
            store
                .write_with_matches(&mut [&mut a, &mut b, &mut c], &[], &matches)
                .unwrap();
            // Matched again (a repeated import): not counted twice.
            let mut again = post("1");
            store
                .write_with_matches(&mut [&mut again], &[], &[found("1", "w")])
                .unwrap();
            let (newest, total) = store.matches_of("w", 1).unwrap();
            assert_eq!((newest.len(), total), (1, 2));
            assert_eq!(store.matches_of("other", 0).unwrap().1, 1);
            assert_eq!(store.matches_of("none", 5).unwrap(), (Vec::new(), 0));
        }
        // An archive from before the counts: they are counted when it is opened.
        {
            let db = Database::create(dir.path().join(ARCHIVE_FILE)).unwrap();
            let transaction = db.begin_write().unwrap();
            transaction.delete_table(MATCH_COUNTS).unwrap();
            transaction.commit().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.matches_of("w", 10).unwrap().1, 2);
        assert_eq!(store.matches_of("w", 10).unwrap().0.len(), 2);
    }

    #[test]
    fn an_archive_of_the_earlier_layout_is_refused_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = Database::create(dir.path().join(ARCHIVE_FILE)).unwrap();
            let transaction = db.begin_write().unwrap();
            let old: TableDefinition<&str, &[u8]> = TableDefinition::new(OLD_POSTS);
            transaction
                .open_table(old)
                .unwrap()
                .insert("twitter:1", b"{}".as_slice())
                .unwrap();
            transaction.commit().unwrap();
        }
        let error = Store::open(dir.path()).unwrap_err().to_string();
        assert!(error.contains("earlier version"), "{error}");
    }

    #[test]
    fn edits_keep_history_and_deletes_keep_the_post_as_evidence() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut first = post("1");
        let mut second = post("1");
        second.text = "corrected".into();
        let mut third = post("1");
        third.text = "corrected again".into();
        assert_eq!(
            store.write(&mut [&mut first], &[]).unwrap().outcomes,
            [Outcome::New]
        );
        assert_eq!(
            store
                .write(&mut [&mut second.clone(), &mut second], &[])
                .unwrap()
                .outcomes,
            [Outcome::Edited, Outcome::Duplicate]
        );
        assert_eq!(
            store.write(&mut [&mut third], &[]).unwrap().outcomes,
            [Outcome::Edited]
        );
        let delete = Notice {
            kind: "delete".into(),
            key: Some("twitter:1".into()),
            detail: "deleted by its author".into(),
        };
        store.write(&mut [], &[delete]).unwrap();
        assert_eq!(
            store.get("twitter:1").unwrap().unwrap().text,
            "corrected again"
        );
        let status = store.status("twitter:1").unwrap();
        assert_eq!(status.deleted.as_deref(), Some("deleted by its author"));
        let texts: Vec<&str> = status
            .history
            .iter()
            .map(|post| post.text.as_str())
            .collect();
        assert_eq!(texts, ["سلام", "corrected"]);
        assert_eq!(store.status("twitter:2").unwrap(), PostStatus::default());
    }
}
