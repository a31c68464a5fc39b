//! Sources: where records enter the pipeline.

mod files;
mod scenario;

pub use files::{FileSource, MAX_DOCUMENT, MAX_RECORD, RecordCounts};
pub use scenario::ScenarioSource;
