//! The durable outbox (`alerts.redb` in the data folder): the rules, every alert written
//! before it is sent, and the ids of those delivered. After a crash or restart every alert
//! still pending is sent again under the same id, which a receiver drops repeats by.

use std::path::{Path, PathBuf};

use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::engine::Alert;
use crate::rules::{Channel, Rule};

/// The outbox's file inside the data folder.
pub const OUTBOX_FILE: &str = "alerts.redb";

const RULES: TableDefinition<&str, &[u8]> = TableDefinition::new("rules");
/// Alerts not yet delivered, by id.
const PENDING: TableDefinition<&str, &[u8]> = TableDefinition::new("pending");
/// Alerts delivered: id to when (milliseconds since 1970).
const DELIVERED: TableDefinition<&str, i64> = TableDefinition::new("delivered");
/// Alerts a receiver refused for good (a 4xx other than 408 and 429), with the answer.
const FAILED: TableDefinition<&str, &[u8]> = TableDefinition::new("failed");

/// An alert waiting to be delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Queued {
    /// The alert.
    pub alert: Alert,
    /// Where it goes (the rule's channel when it was made).
    pub channel: Channel,
    /// Attempts so far.
    pub attempts: u32,
    /// Not before this (milliseconds since 1970).
    pub next_at_ms: i64,
    /// Why the last attempt failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// Why the outbox could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct OutboxError {
    path: PathBuf,
    message: String,
}

/// Counts of what the outbox holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OutboxCounts {
    /// Waiting to be delivered.
    pub pending: u64,
    /// Delivered.
    pub delivered: u64,
    /// Refused by their receiver for good.
    pub failed: u64,
}

/// The outbox of one data folder.
#[derive(Debug)]
pub struct Outbox {
    db: Database,
    path: PathBuf,
}

impl Outbox {
    /// Opens (creating when needed) `data_dir/alerts.redb`.
    pub fn open(data_dir: &Path) -> Result<Outbox, OutboxError> {
        let path = data_dir.join(OUTBOX_FILE);
        let fail = |error: &dyn std::fmt::Display| OutboxError {
            path: path.clone(),
            message: error.to_string(),
        };
        std::fs::create_dir_all(data_dir).map_err(|error| fail(&error))?;
        let db = Database::create(&path).map_err(|error| fail(&error))?;
        let transaction = db.begin_write().map_err(|error| fail(&error))?;
        for table in [RULES, PENDING, FAILED] {
            transaction
                .open_table(table)
                .map_err(|error| fail(&error))?;
        }
        transaction
            .open_table(DELIVERED)
            .map_err(|error| fail(&error))?;
        transaction.commit().map_err(|error| fail(&error))?;
        Ok(Outbox { db, path })
    }

    fn fail(&self, error: impl std::fmt::Display) -> OutboxError {
        OutboxError {
            path: self.path.clone(),
            message: error.to_string(),
        }
    }

    /// Saves `rule`, replacing one of its name; whether it replaced one.
    pub fn put_rule(&self, rule: &Rule) -> Result<bool, OutboxError> {
        let json = serde_json::to_vec(rule).map_err(|error| self.fail(error))?;
        let transaction = self.db.begin_write().map_err(|error| self.fail(error))?;
        let replaced = transaction
            .open_table(RULES)
            .map_err(|error| self.fail(error))?
            .insert(rule.name.as_str(), json.as_slice())
            .map_err(|error| self.fail(error))?
            .is_some();
        transaction.commit().map_err(|error| self.fail(error))?;
        Ok(replaced)
    }

    /// Removes the rule called `name`; whether there was one. Its pending alerts stay.
    pub fn remove_rule(&self, name: &str) -> Result<bool, OutboxError> {
        let transaction = self.db.begin_write().map_err(|error| self.fail(error))?;
        let removed = transaction
            .open_table(RULES)
            .map_err(|error| self.fail(error))?
            .remove(name)
            .map_err(|error| self.fail(error))?
            .is_some();
        transaction.commit().map_err(|error| self.fail(error))?;
        Ok(removed)
    }

    /// The saved rules, by name.
    pub fn rules(&self) -> Result<Vec<Rule>, OutboxError> {
        let transaction = self.db.begin_read().map_err(|error| self.fail(error))?;
        let table = transaction
            .open_table(RULES)
            .map_err(|error| self.fail(error))?;
        let mut rules = Vec::new();
        for entry in table.iter().map_err(|error| self.fail(error))? {
            let (_, json) = entry.map_err(|error| self.fail(error))?;
            rules.push(serde_json::from_slice(json.value()).map_err(|error| self.fail(error))?);
        }
        Ok(rules)
    }

    /// Writes alerts to be sent: on disk when this returns.
    pub fn enqueue(&self, queued: &[Queued]) -> Result<(), OutboxError> {
        if queued.is_empty() {
            return Ok(());
        }
        let transaction = self.db.begin_write().map_err(|error| self.fail(error))?;
        {
            let mut pending = transaction
                .open_table(PENDING)
                .map_err(|error| self.fail(error))?;
            for item in queued {
                let json = serde_json::to_vec(item).map_err(|error| self.fail(error))?;
                pending
                    .insert(item.alert.id.as_str(), json.as_slice())
                    .map_err(|error| self.fail(error))?;
            }
        }
        transaction.commit().map_err(|error| self.fail(error))
    }

    /// Pending alerts due by `now_ms`, oldest id first, at most `limit`.
    pub fn due(&self, now_ms: i64, limit: usize) -> Result<Vec<Queued>, OutboxError> {
        let transaction = self.db.begin_read().map_err(|error| self.fail(error))?;
        let table = transaction
            .open_table(PENDING)
            .map_err(|error| self.fail(error))?;
        let mut due = Vec::new();
        for entry in table.iter().map_err(|error| self.fail(error))? {
            let (_, json) = entry.map_err(|error| self.fail(error))?;
            let queued: Queued =
                serde_json::from_slice(json.value()).map_err(|error| self.fail(error))?;
            if queued.next_at_ms <= now_ms {
                due.push(queued);
                if due.len() == limit {
                    break;
                }
            }
        }
        Ok(due)
    }

    /// Marks `id` delivered at `at_ms`, in one transaction with its removal from pending.
    pub fn delivered(&self, id: &str, at_ms: i64) -> Result<(), OutboxError> {
        let transaction = self.db.begin_write().map_err(|error| self.fail(error))?;
        transaction
            .open_table(PENDING)
            .map_err(|error| self.fail(error))?
            .remove(id)
            .map_err(|error| self.fail(error))?;
        transaction
            .open_table(DELIVERED)
            .map_err(|error| self.fail(error))?
            .insert(id, at_ms)
            .map_err(|error| self.fail(error))?;
        transaction.commit().map_err(|error| self.fail(error))
    }

    /// Writes back an alert whose attempt failed, to try again at its `next_at_ms`.
    pub fn retry(&self, queued: &Queued) -> Result<(), OutboxError> {
        self.enqueue(std::slice::from_ref(queued))
    }

    /// Moves an alert its receiver refused for good out of pending, keeping it with the
    /// answer.
    pub fn failed(&self, queued: &Queued) -> Result<(), OutboxError> {
        let json = serde_json::to_vec(queued).map_err(|error| self.fail(error))?;
        let transaction = self.db.begin_write().map_err(|error| self.fail(error))?;
        transaction
            .open_table(PENDING)
            .map_err(|error| self.fail(error))?
            .remove(queued.alert.id.as_str())
            .map_err(|error| self.fail(error))?;
        transaction
            .open_table(FAILED)
            .map_err(|error| self.fail(error))?
            .insert(queued.alert.id.as_str(), json.as_slice())
            .map_err(|error| self.fail(error))?;
        transaction.commit().map_err(|error| self.fail(error))
    }

    /// How many alerts are pending, delivered and failed.
    pub fn counts(&self) -> Result<OutboxCounts, OutboxError> {
        let transaction = self.db.begin_read().map_err(|error| self.fail(error))?;
        Ok(OutboxCounts {
            pending: transaction
                .open_table(PENDING)
                .map_err(|error| self.fail(error))?
                .len()
                .map_err(|error| self.fail(error))?,
            delivered: transaction
                .open_table(DELIVERED)
                .map_err(|error| self.fail(error))?
                .len()
                .map_err(|error| self.fail(error))?,
            failed: transaction
                .open_table(FAILED)
                .map_err(|error| self.fail(error))?
                .len()
                .map_err(|error| self.fail(error))?,
        })
    }
}
