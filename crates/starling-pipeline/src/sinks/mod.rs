//! Sinks: where items leave the pipeline.

mod store;
mod tally;

pub use store::{
    FormatSummary, INDEX_COMMIT_INTERVAL, INDEX_COMMIT_POSTS, MatchListener, PostListener,
    REJECTS_FILE, SharedIndexer, SharedMatcher, StoreSink,
};
pub use tally::{Count, Tally};
