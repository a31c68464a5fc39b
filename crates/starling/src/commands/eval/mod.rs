//! `starling eval`: measure Starling against data whose answers are known, and print tables
//! (or `--json`) that anyone can rerun on other data of the same layout.

mod langid;
mod sentiment;

use std::io::Write;

/// Flags of `starling eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// Precision, recall and delay of the detectors on generated scenarios' ground truth, and
    /// the bursts found in each real crisis of CrisisLexT6 (from the shared data).
    Detect(super::detect::EvalDetectArgs),
    /// Accuracy of language identification on a folder of `<ISO 639-1 code>.txt` files, one
    /// sample per line: per language, overall, the confusions, and the throughput.
    Langid(langid::Args),
    /// Accuracy, macro-averaged recall and the confusion table of the sentiment model on a
    /// folder in TweetEval's layout (`<split>_text.txt`, `<split>_labels.txt`).
    Sentiment(sentiment::Args),
}

pub fn run(args: Args, stdout: &mut dyn Write) -> anyhow::Result<()> {
    match args.what {
        What::Detect(args) => super::detect::eval(args, stdout),
        What::Langid(args) => langid::run(args, stdout),
        What::Sentiment(args) => sentiment::run(args, stdout),
    }
}
