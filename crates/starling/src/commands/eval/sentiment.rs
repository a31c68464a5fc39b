//! `starling eval sentiment --data DIR`: accuracy and macro-averaged recall of the sentiment
//! model on every split of a folder in TweetEval's layout except `train`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use serde::Serialize;
use starling_enrich::sentiment::{self, Label, Model};

/// Flags of `starling eval sentiment`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A folder with `<split>_text.txt` and `<split>_labels.txt` (labels 0 negative, 1
    /// neutral, 2 positive), for example `../shared/data/sentiment/tweeteval`.
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// Only this split [default: every split but `train`]
    #[arg(long)]
    split: Option<String>,
    /// A model file written by `starling train sentiment` [default: the built-in model]
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
    /// Folders whose `train_text.txt` the model was trained on: an evaluation post whose text
    /// appears there is left out (XLM-T's English training split holds 1,430 of TweetEval's
    /// 2,000 validation posts).
    #[arg(long, value_name = "DIR", num_args = 1..)]
    exclude_trained: Vec<PathBuf>,
    /// One JSON object per split.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct SplitScore {
    data: String,
    split: String,
    samples: usize,
    /// Posts left out because the model was trained on them.
    left_out: usize,
    accuracy: f64,
    /// The mean of the per-class recalls, TweetEval's measure.
    macro_recall: f64,
    recall: [f64; 3],
    /// Rows: the true label (negative, neutral, positive); columns: the answer.
    confusion: [[usize; 3]; 3],
    posts_per_sec: f64,
}

pub fn run(args: Args, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let model: &Model = match &args.model {
        Some(path) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            let model = Model::from_bytes(&bytes)
                .map_err(|error| anyhow::anyhow!("{}: {error}", path.display()))?;
            Box::leak(Box::new(model))
        }
        None => sentiment::model(),
    };
    let mut splits: Vec<String> = match &args.split {
        Some(split) => vec![split.clone()],
        None => std::fs::read_dir(&args.data)
            .with_context(|| format!("reading the folder {}", args.data.display()))?
            .filter_map(|entry| entry.ok())
            .filter_map(|entry| {
                entry
                    .file_name()
                    .to_str()?
                    .strip_suffix("_labels.txt")
                    .map(str::to_owned)
            })
            .filter(|split| split != "train")
            .collect(),
    };
    splits.sort();
    anyhow::ensure!(
        !splits.is_empty(),
        "{} holds no <split>_labels.txt besides train",
        args.data.display()
    );
    let mut trained = std::collections::HashSet::new();
    for dir in &args.exclude_trained {
        let path = dir.join("train_text.txt");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        trained.extend(text.lines().map(|line| line.trim().to_owned()));
    }
    for split in splits {
        let mut examples = super::super::train::read_split(&args.data, &split)?;
        let before = examples.len();
        examples.retain(|(text, _)| !trained.contains(text.trim()));
        let left_out = before - examples.len();
        let started = Instant::now();
        let answers: Vec<Label> = examples
            .iter()
            .map(|(text, _)| model.predict(text).label)
            .collect();
        let seconds = started.elapsed().as_secs_f64();
        let mut confusion = [[0usize; 3]; 3];
        for ((_, truth), answer) in examples.iter().zip(&answers) {
            confusion[*truth as usize][*answer as usize] += 1;
        }
        let recall = [0, 1, 2].map(|class| {
            let row: usize = confusion[class].iter().sum();
            if row == 0 {
                0.0
            } else {
                confusion[class][class] as f64 / row as f64
            }
        });
        let correct: usize = (0..3).map(|class| confusion[class][class]).sum();
        let score = SplitScore {
            data: args.data.display().to_string(),
            split,
            samples: examples.len(),
            left_out,
            accuracy: correct as f64 / examples.len().max(1) as f64,
            macro_recall: recall.iter().sum::<f64>() / 3.0,
            recall,
            confusion,
            posts_per_sec: examples.len() as f64 / seconds.max(1e-9),
        };
        if args.json {
            crate::terminal::json_line(stdout, &score)?;
            continue;
        }
        writeln!(
            stdout,
            "{} ({}): {} posts ({} left out: trained on), accuracy {:.1}%, macro recall {:.1}% (negative {:.1}, neutral {:.1}, positive {:.1}); {:.0} posts/s on one core",
            score.data,
            score.split,
            score.samples,
            score.left_out,
            score.accuracy * 100.0,
            score.macro_recall * 100.0,
            score.recall[0] * 100.0,
            score.recall[1] * 100.0,
            score.recall[2] * 100.0,
            score.posts_per_sec
        )?;
        writeln!(
            stdout,
            "  {:<10} {:>9} {:>9} {:>9}   (rows: truth, columns: answer)",
            "", "negative", "neutral", "positive"
        )?;
        for (class, row) in confusion.iter().enumerate() {
            writeln!(
                stdout,
                "  {:<10} {:>9} {:>9} {:>9}",
                Label::ALL[class].as_str(),
                row[0],
                row[1],
                row[2]
            )?;
        }
    }
    Ok(())
}
