//! The archive: every post Starling has seen, deduplicated by its canonical key, and every
//! stream notice, kept durably in one embedded database file in the data folder.
//!
//! Durability: each [`Store::write`] is one ACID transaction (redb, copy-on-write B-trees)
//! committed with `fsync` before it returns; after a crash the archive holds exactly the
//! batches whose `write` returned. A pipeline acknowledges its source only after that.
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

pub use index::{
    CHECK_LIMIT, Candidates, Found, INDEX_FOLDER, Indexer, SearchIndex, SortBy, Summary,
    for_each_match, histogram, search,
};

use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use starling_formats::Notice;
use starling_model::Post;

/// Posts by canonical key, as JSON (the model's serde form, raw record included).
const POSTS: TableDefinition<&str, &[u8]> = TableDefinition::new("posts");
/// Stream notices in arrival order, as JSON.
const NOTICES: TableDefinition<u64, &[u8]> = TableDefinition::new("notices");
/// Deleted posts by key: what the platform said.
const DELETED: TableDefinition<&str, &str> = TableDefinition::new("deleted");
/// Earlier versions of edited posts: `key`, NUL, a 10-digit version number.
const HISTORY: TableDefinition<&str, &[u8]> = TableDefinition::new("history");

/// The page cache the archive may use.
const CACHE_BYTES: usize = 64 << 20;

/// The file inside the data folder.
pub const ARCHIVE_FILE: &str = "archive.redb";

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
    path: PathBuf,
}

impl Store {
    /// Opens (creating when needed) the archive in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Folder {
            path: data_dir.to_owned(),
            source,
        })?;
        let path = data_dir.join(ARCHIVE_FILE);
        // A bounded cache: the archive is written far more than it is read back here.
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(&path)
            .map_err(|error| database(&path, error))?;
        let store = Store { db, path };
        // Create the tables up front so that readers never meet a missing table.
        store.write(&[], &[])?;
        Ok(store)
    }

    /// Archives `posts` (skipping keys already present) and appends `notices`, in one
    /// transaction that is on disk when this returns.
    pub fn write(&self, posts: &[&Post], notices: &[Notice]) -> Result<Written, StoreError> {
        let fail = |error: &dyn std::fmt::Display| database(&self.path, error);
        let transaction = self.db.begin_write().map_err(|error| fail(&error))?;
        let mut written = Written {
            outcomes: Vec::with_capacity(posts.len()),
            notices: 0,
        };
        {
            let mut table = transaction
                .open_table(POSTS)
                .map_err(|error| fail(&error))?;
            let mut history = transaction
                .open_table(HISTORY)
                .map_err(|error| fail(&error))?;
            for post in posts {
                let key = post.key.as_str();
                let earlier: Option<Vec<u8>> = table
                    .get(key)
                    .map_err(|error| fail(&error))?
                    .map(|json| json.value().to_vec());
                let outcome = match earlier {
                    None => Outcome::New,
                    Some(json) => {
                        let earlier: Post =
                            serde_json::from_slice(&json).map_err(|error| StoreError::Corrupt {
                                path: self.path.clone(),
                                key: key.to_owned(),
                                message: error.to_string(),
                            })?;
                        if earlier.text == post.text && earlier.title == post.title {
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
                                .insert(version_key.as_str(), json.as_slice())
                                .map_err(|error| fail(&error))?;
                            Outcome::Edited
                        }
                    }
                };
                if outcome != Outcome::Duplicate {
                    let json = serde_json::to_vec(post).map_err(|error| fail(&error))?;
                    table
                        .insert(key, json.as_slice())
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
                let json = serde_json::to_vec(notice).map_err(|error| fail(&error))?;
                table
                    .insert(sequence, json.as_slice())
                    .map_err(|error| fail(&error))?;
                written.notices += 1;
            }
        }
        transaction.commit().map_err(|error| fail(&error))?;
        Ok(written)
    }

    /// The post archived under `key`.
    pub fn get(&self, key: &str) -> Result<Option<Post>, StoreError> {
        let fail = |error: &dyn std::fmt::Display| database(&self.path, error);
        let transaction = self.db.begin_read().map_err(|error| fail(&error))?;
        let table = transaction
            .open_table(POSTS)
            .map_err(|error| fail(&error))?;
        let Some(json) = table.get(key).map_err(|error| fail(&error))? else {
            return Ok(None);
        };
        serde_json::from_slice(json.value())
            .map(Some)
            .map_err(|error| StoreError::Corrupt {
                path: self.path.clone(),
                key: key.to_owned(),
                message: error.to_string(),
            })
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
            let (found, json) = entry.map_err(|error| fail(&error))?;
            if !found.value().starts_with(&prefix) {
                break;
            }
            history.push(serde_json::from_slice(json.value()).map_err(|error| {
                StoreError::Corrupt {
                    path: self.path.clone(),
                    key: key.to_owned(),
                    message: error.to_string(),
                }
            })?);
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
            raw: RawRecord(vec![0xff, b'{']),
        }
    }

    #[test]
    fn posts_are_kept_once_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let written = store
                .write(&[&post("1"), &post("2"), &post("1")], &[])
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
                    .write(&[&post("2"), &post("3")], &[notice.clone(), notice])
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
    fn edits_keep_history_and_deletes_keep_the_post_as_evidence() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let first = post("1");
        let mut second = post("1");
        second.text = "corrected".into();
        let mut third = post("1");
        third.text = "corrected again".into();
        assert_eq!(
            store.write(&[&first], &[]).unwrap().outcomes,
            [Outcome::New]
        );
        assert_eq!(
            store.write(&[&second, &second], &[]).unwrap().outcomes,
            [Outcome::Edited, Outcome::Duplicate]
        );
        assert_eq!(
            store.write(&[&third], &[]).unwrap().outcomes,
            [Outcome::Edited]
        );
        let delete = Notice {
            kind: "delete".into(),
            key: Some("twitter:1".into()),
            detail: "deleted by its author".into(),
        };
        store.write(&[], &[delete]).unwrap();
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
