//! Sinks: where items leave the pipeline.

mod store;
mod tally;

pub use store::{FormatSummary, REJECTS_FILE, StoreSink};
pub use tally::{Count, Tally};
