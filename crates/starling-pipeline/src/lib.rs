//! The pipeline: sources, stages and sinks meeting at one narrow interface.
//!
//! Every stage of Starling (decode, and later match, enrich, detect, store, alert) is a
//! [`Stage`]: a batch of records in, a batch of records out. Records enter from a [`Source`]
//! and leave through a [`Sink`]; a sink answers each batch with the [`Offset`] through which
//! its writes are durable, and only then does the source [`Source::acknowledge`] them. Records
//! are plain serializable data ([`Record`], [`Item`]), so a durable log (NATS JetStream,
//! Kafka) can later sit between any two stages, and stages can run on other machines, without
//! changing a stage: the log becomes one more sink and one more source.
//!
//! [`run`] drives one source, one stage and one sink on three threads joined by bounded
//! channels: a slow sink slows the source down (backpressure) instead of dropping records.

mod decode;
pub mod sinks;
pub mod sources;

use std::ops::Range;
use std::sync::mpsc;
use std::thread;

use serde::{Deserialize, Serialize};
use starling_formats::{Notice, Reject};
use starling_model::{Post, RawRecord, Source as Origin, Timestamp};

pub use decode::Decode;

/// A position in a source's stream of records: records `0..n` have offsets `0..n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Offset(pub u64);

/// Items read together from one source, with the source offsets they cover.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch<T> {
    /// The source offsets this batch accounts for (a stage may turn one record into several
    /// items or none, but the batch still covers the same offsets).
    pub offsets: Range<u64>,
    /// The items.
    pub items: Vec<T>,
}

impl<T> Batch<T> {
    /// The batch of `items` that follow offset `*next`, which moves past them; `None` when
    /// there are no items (the source is exhausted).
    pub fn following(next: &mut u64, items: Vec<T>) -> Option<Batch<T>> {
        if items.is_empty() {
            return None;
        }
        let first = *next;
        *next += items.len() as u64;
        Some(Batch {
            offsets: first..*next,
            items,
        })
    }

    /// The same offsets with other items.
    pub fn with_items<U>(&self, items: Vec<U>) -> Batch<U> {
        Batch {
            offsets: self.offsets.clone(),
            items,
        }
    }
}

/// Raw bytes as received, before decoding: the unit a source produces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The file or connector it came from.
    pub origin: Origin,
    /// The decoder that reads it (`twitter-v2`, `mastodon`, `jetstream`, `rss`).
    pub format: String,
    /// 1-based line in the origin, for line-oriented sources.
    pub line: Option<u64>,
    /// Byte offset in the origin.
    pub offset: Option<u64>,
    /// When it was received.
    pub collected_at: Timestamp,
    /// The bytes exactly as received.
    pub bytes: RawRecord,
}

/// What flows after decoding: posts, the notices that say what was missed, and rejects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Item {
    /// A decoded post (its format is in its provenance).
    Post(Box<Post>),
    /// A stream notice (a delete, an unavailable item), from a record of `format`.
    Notice {
        /// The format of the record it came from.
        format: String,
        /// The notice.
        notice: Notice,
    },
    /// A record or field that could not be taken, with its source, line and reason.
    Reject {
        /// The format the record was read as.
        format: String,
        /// What was wrong, and where.
        reject: Reject,
        /// The record's bytes (for a whole-record reject), to fix and import again.
        record: Option<RawRecord>,
    },
}

/// The format name a source gives a record it could not read at all (a file that would not
/// open, a line too long): its bytes are the reason, and the decode stage turns it into a
/// reject.
pub const UNREADABLE: &str = "!unreadable";

/// Why a source or sink failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Reading a source failed.
    #[error("reading {origin}: {message}")]
    Source {
        /// The source.
        origin: String,
        /// What happened.
        message: String,
    },
    /// Writing a sink failed; nothing after the last acknowledged offset is lost, since the
    /// source has not acknowledged it.
    #[error("writing {sink}: {message}")]
    Sink {
        /// The sink.
        sink: String,
        /// What happened.
        message: String,
    },
    /// A pipeline thread panicked.
    #[error("pipeline thread panicked: {0}")]
    Panicked(String),
}

/// Produces batches of records and learns which of them are safely stored.
pub trait Source: Send {
    /// The next batch of at most `max` records, or `None` when the source is exhausted.
    fn next_batch(&mut self, max: usize) -> Result<Option<Batch<Record>>, PipelineError>;

    /// Every record before `through` is durably written downstream: it need never be
    /// produced again (a file source records its position, a log commits its offset).
    fn acknowledge(&mut self, through: Offset) -> Result<(), PipelineError>;
}

/// A transformation of batches: pure, infallible (failures become [`Item::Reject`]s), and
/// free of IO, so it can run anywhere a batch can be sent.
pub trait Stage: Send {
    /// The items it reads.
    type Input: Send;
    /// The items it writes.
    type Output: Send;

    /// Processes one batch; the output covers the same offsets as the input.
    fn process(&mut self, batch: Batch<Self::Input>) -> Batch<Self::Output>;
}

/// Where items end: a store, an index, a log, a summary.
pub trait Sink {
    /// The items it takes.
    type Item;

    /// Writes a batch and returns the offset through which everything is durable.
    fn write(&mut self, batch: Batch<Self::Item>) -> Result<Offset, PipelineError>;

    /// Called once when the source is exhausted and every batch written: flush what is kept
    /// for efficiency (a search index commit). [`run`] calls it.
    fn finish(&mut self) -> Result<(), PipelineError> {
        Ok(())
    }
}

/// How [`run`] batches and buffers.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Records per batch, at most (a source may end a batch sooner, at a size in bytes).
    pub batch_size: usize,
    /// Batches that may wait between two threads before the producer blocks.
    pub channel_depth: usize,
    /// Items the sink may be given in one write, at most, when batches wait for it: batches
    /// queued behind a slow write are joined into one (group commit), so that a sink that
    /// syncs to disk on each write syncs less often the more it falls behind.
    pub group_items: usize,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            batch_size: 4096,
            channel_depth: 8,
            group_items: 16_384,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RunStats {
    /// Batches written to the sink.
    pub batches: u64,
    /// Records read from the source.
    pub records: u64,
    /// Items the stage produced.
    pub items: u64,
    /// The offset through which the source was acknowledged.
    pub acknowledged: u64,
}

/// Runs `source` through `stage` into `sink` until the source is exhausted, acknowledging
/// each batch to the source once the sink has made it durable.
pub fn run<S, T, K>(
    source: &mut S,
    stage: &mut T,
    sink: &mut K,
    options: RunOptions,
) -> Result<RunStats, PipelineError>
where
    S: Source,
    T: Stage<Input = Record>,
    K: Sink<Item = T::Output>,
{
    let (records_tx, records_rx) = mpsc::sync_channel::<Batch<Record>>(options.channel_depth);
    let (items_tx, items_rx) = mpsc::sync_channel::<Batch<T::Output>>(options.channel_depth);
    let (acks_tx, acks_rx) = mpsc::channel::<Offset>();
    thread::scope(|scope| {
        let reader = scope.spawn(move || -> Result<u64, PipelineError> {
            let mut records = 0;
            let drain_acks = |source: &mut S, wait: bool| -> Result<(), PipelineError> {
                let mut latest = None;
                if wait {
                    // The sink drops its end when done, which ends this loop.
                    latest = acks_rx.iter().last();
                } else {
                    while let Ok(offset) = acks_rx.try_recv() {
                        latest = Some(offset);
                    }
                }
                latest.map_or(Ok(()), |offset| source.acknowledge(offset))
            };
            // A batch holds at least one record, or a run would end before it began.
            while let Some(batch) = source.next_batch(options.batch_size.max(1))? {
                records += batch.items.len() as u64;
                if records_tx.send(batch).is_err() {
                    break;
                }
                drain_acks(source, false)?;
            }
            drop(records_tx);
            drain_acks(source, true)?;
            Ok(records)
        });
        let transformer = scope.spawn(move || {
            for batch in records_rx {
                if items_tx.send(stage.process(batch)).is_err() {
                    break;
                }
            }
        });
        let mut stats = RunStats::default();
        let mut failure = None;
        while let Ok(mut batch) = items_rx.recv() {
            // Group commit: join what is already waiting, in order.
            while batch.items.len() < options.group_items {
                let Ok(next) = items_rx.try_recv() else {
                    break;
                };
                batch.offsets.end = next.offsets.end;
                batch.items.extend(next.items);
            }
            stats.items += batch.items.len() as u64;
            match sink.write(batch) {
                Ok(offset) => {
                    stats.batches += 1;
                    stats.acknowledged = offset.0;
                    // The reader may have finished early on its own error; nothing to tell it.
                    let _ = acks_tx.send(offset);
                }
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            }
        }
        // Dropping the receiving end unblocks a stage still sending after a failed write.
        drop(items_rx);
        drop(acks_tx);
        // Join both threads whatever happened, so that a panic is reported as an error and
        // never escapes the scope; a sink failure is reported first, as it stopped the run.
        let transformed = join(transformer);
        let read = join(reader).and_then(|records| records);
        if let Some(error) = failure {
            return Err(error);
        }
        transformed?;
        stats.records = read?;
        sink.finish()?;
        Ok(stats)
    })
}

/// Waits for a pipeline thread, turning a panic into [`PipelineError::Panicked`].
fn join<T>(handle: thread::ScopedJoinHandle<'_, T>) -> Result<T, PipelineError> {
    handle.join().map_err(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        PipelineError::Panicked(message)
    })
}

#[cfg(test)]
mod tests;
