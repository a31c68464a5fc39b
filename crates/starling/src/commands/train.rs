//! `starling train sentiment`: fit the sentiment model on labelled posts and write it where
//! `starling-enrich` compiles it in (or anywhere, for `eval sentiment --model`).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use starling_enrich::sentiment::{self, Example, Label, TrainOptions};

/// Flags of `starling train`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// Train the sentiment model on folders in TweetEval's layout (`train_text.txt` and
    /// `train_labels.txt`, labels 0 negative, 1 neutral, 2 positive).
    Sentiment(SentimentArgs),
}

#[derive(Debug, clap::Args)]
struct SentimentArgs {
    /// Folders holding `train_text.txt` and `train_labels.txt` (one per language, say).
    #[arg(long, value_name = "DIR", num_args = 1.., required = true)]
    data: Vec<PathBuf>,
    /// The folder of VADER's `vader_lexicon.txt` and `emoji_utf8_lexicon.txt` (PyPI package
    /// vaderSentiment, MIT).
    #[arg(long, value_name = "DIR")]
    lexicon: PathBuf,
    /// Folders whose evaluation splits (every `<split>_text.txt` but `train`) must not be
    /// trained on: a training post whose text appears there is left out. (XLM-T's English
    /// training split holds 1,430 of TweetEval's 2,000 validation posts.)
    #[arg(long, value_name = "DIR", num_args = 1..)]
    exclude: Vec<PathBuf>,
    /// Where to write the model.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Passes over the data.
    #[arg(long, default_value_t = TrainOptions::default().epochs)]
    epochs: usize,
    /// AdaGrad step size.
    #[arg(long, default_value_t = TrainOptions::default().learning_rate)]
    learning_rate: f32,
}

pub fn run(args: Args, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let What::Sentiment(args) = args.what;
    let mut examples = Vec::new();
    let mut groups = Vec::new();
    for (group, dir) in args.data.iter().enumerate() {
        let read = read_split(dir, "train")?;
        writeln!(stdout, "{}: {} labelled posts", dir.display(), read.len())?;
        groups.extend(std::iter::repeat_n(group, read.len()));
        examples.extend(read);
    }
    let mut held_out = std::collections::HashSet::new();
    for dir in &args.exclude {
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("reading the folder {}", dir.display()))?;
        for entry in entries {
            let path = entry?.path();
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default();
            if name.ends_with("_text.txt") && name != "train_text.txt" {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("reading {}", path.display()))?;
                held_out.extend(text.lines().map(|line| line.trim().to_owned()));
            }
        }
    }
    let before = examples.len();
    let (examples, groups): (Vec<(String, Label)>, Vec<usize>) = examples
        .into_iter()
        .zip(groups)
        .filter(|((text, _), _)| !held_out.contains(text.trim()))
        .unzip();
    if before != examples.len() {
        writeln!(
            stdout,
            "left out {} training posts that appear in the excluded evaluation splits",
            before - examples.len()
        )?;
    }
    let read = |name: &str| {
        let path = args.lexicon.join(name);
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
    };
    let lexicon = sentiment::lexicon_from_vader(
        &read("vader_lexicon.txt")?,
        &read("emoji_utf8_lexicon.txt")?,
    );
    let options = TrainOptions {
        epochs: args.epochs,
        learning_rate: args.learning_rate,
        ..TrainOptions::default()
    };
    // Each folder's labels are balanced on their own: after the exclusion, English keeps
    // mostly negative posts, which must not make English text read as negative.
    let labels: Vec<Label> = examples.iter().map(|(_, label)| *label).collect();
    let weights = sentiment::balanced_weights(&groups, &labels);
    let examples: Vec<Example> = examples
        .into_iter()
        .zip(weights)
        .map(|((text, label), weight)| Example {
            text,
            label,
            weight,
        })
        .collect();
    let model = sentiment::train(&examples, lexicon, options);
    let bytes = model.to_bytes().map_err(|error| anyhow::anyhow!(error))?;
    std::fs::write(&args.out, &bytes).with_context(|| format!("writing {}", args.out.display()))?;
    writeln!(
        stdout,
        "trained on {} posts, {} epochs: {} bytes -> {}",
        examples.len(),
        options.epochs,
        bytes.len(),
        args.out.display()
    )?;
    Ok(())
}

/// The posts and labels of one split (`train`, `val`, `test`) of a folder in TweetEval's
/// layout. A line whose label is not 0, 1 or 2 is an error naming the file and line.
pub fn read_split(dir: &Path, split: &str) -> anyhow::Result<Vec<(String, Label)>> {
    let text_path = dir.join(format!("{split}_text.txt"));
    let labels_path = dir.join(format!("{split}_labels.txt"));
    let texts = std::fs::read_to_string(&text_path)
        .with_context(|| format!("reading {}", text_path.display()))?;
    let labels = std::fs::read_to_string(&labels_path)
        .with_context(|| format!("reading {}", labels_path.display()))?;
    let texts: Vec<&str> = texts.lines().collect();
    let labels: Vec<&str> = labels.lines().collect();
    anyhow::ensure!(
        texts.len() == labels.len(),
        "{} has {} lines but {} has {}",
        text_path.display(),
        texts.len(),
        labels_path.display(),
        labels.len()
    );
    texts
        .iter()
        .zip(&labels)
        .enumerate()
        .map(|(line, (text, label))| {
            let label = label
                .trim()
                .parse::<usize>()
                .ok()
                .and_then(Label::from_index)
                .with_context(|| {
                    format!(
                        "{} line {}: label {label:?} is not 0, 1 or 2",
                        labels_path.display(),
                        line + 1
                    )
                })?;
            Ok(((*text).to_owned(), label))
        })
        .collect()
}
