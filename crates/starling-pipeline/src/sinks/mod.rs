//! Sinks: where items leave the pipeline.

mod tally;

pub use tally::{Count, Tally};
