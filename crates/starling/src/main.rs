//! `starling`: the command-line entry point, and the only crate that decides what reaches the
//! terminal.

// The binary's job is printing results.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod commands;
mod config;
mod terminal;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Decoding a firehose allocates millions of small strings a second: with mimalloc, decoding
/// generated Twitter v2 pages went from 109 to 171 MB/s on one core (docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Monitor many social and news media at once during a fast-moving event.
///
/// Starling reads exports and live streams from Twitter/X, Mastodon, Bluesky and news feeds
/// into one model of a post. Start with `starling demo`, which shows the whole pipeline on a
/// generated crisis, with nothing to install and no network.
#[derive(Debug, Parser)]
#[command(name = "starling", version, max_term_width = 100)]
struct Cli {
    /// Where Starling keeps its data.
    #[arg(long, global = true, value_name = "DIR", env = "STARLING_DATA_DIR")]
    data_dir: Option<PathBuf>,

    /// A TOML configuration file (unknown keys are errors).
    #[arg(long, global = true, value_name = "FILE", env = "STARLING_CONFIG")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Alert rules that send matches and detections to webhooks and chat: add, list, rm, test.
    Alert(commands::alert::Args),
    /// Find hashtags, mentions, URLs and cashtags in texts, by Twitter's rules, with each
    /// text's language and sentiment: one text per line in, one JSON object per line out.
    Analyze(commands::analyze::Args),
    /// Measure Starling's hot paths and print the figures.
    Bench(commands::bench::Args),
    /// Play a generated crisis scenario into the dashboard (or, with --report, print what
    /// Starling sees).
    Demo(commands::demo::Args),
    /// Replay archived posts and print the bursts, campaigns and silences noticed, with reasons.
    Detect(commands::detect::Args),
    /// Measure Starling against ground truth: `eval detect`, `eval langid`, `eval sentiment`.
    Eval(commands::eval::Args),
    /// Export every post matching a query: CSV, JSON lines, raw records or ids.
    Export(commands::export::Args),
    /// Follow live sources (rss, mastodon, jetstream, x) in the foreground: each new post is
    /// archived and shown as it arrives.
    Follow(commands::follow::Args),
    /// Import exports (Twitter, Mastodon, Bluesky, Reddit, Telegram, feeds, CSV) into the archive.
    Import(commands::import::Args),
    /// Search the archive with the query language; facets and a time histogram on request.
    Search(commands::search::Args),
    /// The live sources' health (connected, rate, lag, errors) and every gap recorded.
    Sources(commands::follow::SourcesArgs),
    /// Run the pipeline continuously beside the REST API, the live stream and the dashboard.
    Serve(commands::serve::Args),
    /// Generate a realistic multi-platform crisis scenario, with its ground truth, as files.
    Simulate(commands::simulate::Args),
    /// API tokens for a server bound beyond loopback: add, list, rm.
    Token(commands::token::Args),
    /// Fit a model on labelled data: `train sentiment`.
    Train(commands::train::Args),
    /// Standing queries matched against every post that arrives: add, list, rm, test, matches.
    Watch(commands::watch::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut stdout = std::io::BufWriter::new(stdout.lock());
    let result = run(cli, &mut stdout).and_then(|()| stdout.flush().map_err(anyhow::Error::from));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`starling demo | head`): stop quietly, as Unix tools do.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn run(cli: Cli, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let config = match &cli.config {
        Some(path) => config::Config::load(path)?,
        None => config::Config::default(),
    };
    let data_dir = cli
        .data_dir
        .clone()
        .or_else(|| config.data_dir.clone())
        .unwrap_or_else(|| PathBuf::from("starling-data"));
    let context = commands::Context { data_dir, config };
    match cli.command {
        Command::Alert(args) => commands::alert::run(&context, args, stdout),
        Command::Analyze(args) => commands::analyze::run(args, stdout),
        Command::Bench(args) => commands::bench::run(args, stdout),
        Command::Demo(args) => commands::demo::run(&context, args, stdout),
        Command::Detect(args) => commands::detect::run(&context, args, stdout),
        Command::Eval(args) => commands::eval::run(args, stdout),
        Command::Export(args) => commands::export::run(&context, args, stdout),
        Command::Follow(args) => commands::follow::run(&context, args, stdout),
        Command::Import(args) => commands::import::run(&context, args, stdout),
        Command::Sources(args) => commands::follow::sources(&context, args, stdout),
        Command::Search(args) => commands::search::run(&context, args, stdout),
        Command::Serve(args) => commands::serve::run(&context, args, stdout),
        Command::Token(args) => commands::token::run(&context, args, stdout),
        Command::Simulate(args) => commands::simulate::run(&context, args, stdout),
        Command::Train(args) => commands::train::run(args, stdout),
        Command::Watch(args) => commands::watch::run(&context, args, stdout),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
