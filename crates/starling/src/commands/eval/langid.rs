//! `starling eval langid --data DIR`: accuracy of `starling_enrich::langid` per language.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use serde::Serialize;

/// Flags of `starling eval langid`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A folder of `<ISO 639-1 code>.txt` files, one sample per line (for example
    /// `../shared/data/langid/lingua/sentences`).
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// One JSON object per language, then one with `"summary": true`.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct LanguageScore {
    language: String,
    samples: usize,
    correct: usize,
    accuracy: f64,
    /// Wrong answers, most frequent first.
    confused_with: Vec<(String, usize)>,
}

#[derive(Debug, Serialize)]
struct Summary {
    summary: bool,
    data: String,
    languages: usize,
    samples: usize,
    /// Correct answers over all samples.
    accuracy: f64,
    /// The mean of the per-language accuracies (macro-averaged recall).
    macro_recall: f64,
    /// Files whose language the detector does not know, left out of the figures.
    skipped: Vec<String>,
    bytes: usize,
    seconds: f64,
    mb_per_sec: f64,
}

pub fn run(args: Args, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let known = starling_enrich::langid::languages();
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    let mut skipped = Vec::new();
    let entries = std::fs::read_dir(&args.data)
        .with_context(|| format!("reading the folder {}", args.data.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("txt") {
            continue;
        }
        let Some(code) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else {
            continue;
        };
        if known.contains(&code.as_str()) {
            files.push((code, path));
        } else {
            skipped.push(code);
        }
    }
    anyhow::ensure!(
        !files.is_empty(),
        "{} holds no <ISO 639-1 code>.txt file of a language the detector knows ({})",
        args.data.display(),
        known.join(", ")
    );
    files.sort();
    skipped.sort();
    let mut scores = Vec::new();
    let (mut bytes, mut elapsed) = (0usize, 0f64);
    for (code, path) in &files {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let samples: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        bytes += samples.iter().map(|s| s.len()).sum::<usize>();
        let started = Instant::now();
        let answers: Vec<&'static str> = samples
            .iter()
            .map(|sample| starling_enrich::langid::detect(sample).code)
            .collect();
        elapsed += started.elapsed().as_secs_f64();
        let mut confused: BTreeMap<&str, usize> = BTreeMap::new();
        let mut correct = 0;
        for answer in &answers {
            if answer == code {
                correct += 1;
            } else {
                *confused.entry(answer).or_default() += 1;
            }
        }
        let mut confused_with: Vec<(String, usize)> = confused
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        confused_with.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        scores.push(LanguageScore {
            language: code.clone(),
            samples: samples.len(),
            correct,
            accuracy: ratio(correct, samples.len()),
            confused_with,
        });
    }
    let samples: usize = scores.iter().map(|s| s.samples).sum();
    let correct: usize = scores.iter().map(|s| s.correct).sum();
    let summary = Summary {
        summary: true,
        data: args.data.display().to_string(),
        languages: scores.len(),
        samples,
        accuracy: ratio(correct, samples),
        macro_recall: scores.iter().map(|s| s.accuracy).sum::<f64>() / scores.len() as f64,
        skipped,
        bytes,
        seconds: elapsed,
        mb_per_sec: bytes as f64 / 1e6 / elapsed.max(1e-9),
    };
    if args.json {
        for score in &scores {
            crate::terminal::json_line(stdout, score)?;
        }
        crate::terminal::json_line(stdout, &summary)?;
        return Ok(());
    }
    writeln!(
        stdout,
        "{:<8} {:>7} {:>9}  most confused with",
        "language", "samples", "accuracy"
    )?;
    for score in &scores {
        let confusions: Vec<String> = score
            .confused_with
            .iter()
            .take(4)
            .map(|(code, n)| format!("{code} {n}"))
            .collect();
        writeln!(
            stdout,
            "{:<8} {:>7} {:>8.1}%  {}",
            score.language,
            score.samples,
            score.accuracy * 100.0,
            confusions.join(", ")
        )?;
    }
    writeln!(
        stdout,
        "\n{} languages, {} samples: accuracy {:.2}%, macro recall {:.2}%; {:.1} MB/s on one core ({} bytes in {:.3} s)",
        summary.languages,
        summary.samples,
        summary.accuracy * 100.0,
        summary.macro_recall * 100.0,
        summary.mb_per_sec,
        summary.bytes,
        summary.seconds
    )?;
    if !summary.skipped.is_empty() {
        writeln!(
            stdout,
            "left out (languages the detector does not know): {}",
            summary.skipped.join(", ")
        )?;
    }
    Ok(())
}

fn ratio(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}
