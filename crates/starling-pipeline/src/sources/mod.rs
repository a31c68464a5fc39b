//! Sources: where records enter the pipeline.

mod scenario;

pub use scenario::ScenarioSource;
