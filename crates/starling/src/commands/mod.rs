//! One module per subcommand.

pub mod alert;
pub mod analyze;
pub mod bench;
pub mod demo;
pub mod detect;
pub mod eval;
pub mod export;
pub mod follow;
pub mod import;
pub mod search;
pub mod serve;
pub mod simulate;
pub mod token;
pub mod train;
pub mod watch;

use std::path::PathBuf;

use starling_store::{SearchIndex, Store};

use crate::config::{Config, ScenarioDefaults};

/// What every command may need: the resolved data folder and the configuration file.
#[derive(Debug)]
pub struct Context {
    /// `--data-dir`, else the configuration's `data_dir`, else `./starling-data`.
    pub data_dir: PathBuf,
    /// The configuration file's contents (defaults when there is none).
    pub config: Config,
}

/// Scenario flags shared by `simulate` and `demo`.
#[derive(Debug, clap::Args)]
pub struct ScenarioArgs {
    /// The seed: the same seed gives the same scenario, byte for byte [default: 2009]
    #[arg(long)]
    pub seed: Option<u64>,
    /// How many hours the scenario spans, at least 24 [default: 72]
    #[arg(long)]
    pub hours: Option<u32>,
    /// When the scenario starts, RFC 3339 [default: 2026-06-12T00:00:00Z]
    #[arg(long, value_name = "TIME")]
    pub start: Option<chrono::DateTime<chrono::Utc>>,
}

impl ScenarioArgs {
    /// The generator's configuration: flags first, then the configuration file, then defaults.
    pub fn resolve(
        &self,
        posts: Option<u64>,
        file: &ScenarioDefaults,
        default_posts: u64,
    ) -> starling_simulate::Config {
        let defaults = starling_simulate::Config::default();
        starling_simulate::Config {
            seed: self.seed.or(file.seed).unwrap_or(defaults.seed),
            posts: posts.or(file.posts).unwrap_or(default_posts),
            hours: self.hours.or(file.hours).unwrap_or(defaults.hours),
            start_unix: self
                .start
                .or(file.start)
                .map_or(defaults.start_unix, |start| start.timestamp()),
        }
    }
}

/// What `search` and `export` share: the query parsed, the archive and its index opened, and
/// a refusal (no index at all) or a note on standard error (an index behind its archive) when
/// the two disagree, so that neither answers from a partial index in silence.
pub fn open_for_query(
    context: &Context,
    text: &str,
) -> anyhow::Result<(starling_query::Query, Store, SearchIndex)> {
    let query = starling_query::parse(text)
        .map_err(|error| anyhow::anyhow!("in the query {text:?}: {error}"))?;
    let store = Store::open(&context.data_dir)?;
    let index = SearchIndex::open(&context.data_dir)?;
    let (indexed, archived) = (index.len(), store.post_count()?);
    if indexed == 0 && archived > 0 {
        anyhow::bail!(
            "the archive in {} has posts but no search index: import the files again to index them",
            context.data_dir.display()
        );
    }
    if indexed < archived {
        eprintln!(
            "note: the index holds {indexed} of the {archived} archived posts (an import was interrupted); importing the same files again completes it"
        );
    }
    Ok((query, store, index))
}
