//! `starling analyze`: the entities, language and sentiment of texts, one JSON object per
//! input line, in order.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;

use anyhow::Context as _;
use serde::Serialize;
use starling_text::{EntityExtractor, Found, Kind};

/// Flags of `starling analyze`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Read from this file instead of standard input.
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    /// Each line is a JSON object with a `text` field (so a text may hold newlines); its `id`,
    /// when present, is copied to the output.
    #[arg(long)]
    jsonl: bool,
}

/// One output line. Its shape is relied on by scripts and evaluations: add fields, never
/// rename or remove them.
#[derive(Debug, Default, Serialize)]
struct Analysis {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<serde_json::Value>,
    hashtags: Vec<String>,
    mentions: Vec<String>,
    urls: Vec<String>,
    cashtags: Vec<String>,
    /// ISO 639-1 code, or `und`.
    #[serde(skip_serializing_if = "Option::is_none")]
    lang: Option<&'static str>,
    /// 0 to 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    lang_confidence: Option<f32>,
    /// `negative`, `neutral` or `positive`.
    #[serde(skip_serializing_if = "Option::is_none")]
    sentiment: Option<&'static str>,
    /// P(positive) - P(negative), -1 to 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    sentiment_score: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(serde::Deserialize)]
struct Input {
    text: String,
    #[serde(default)]
    id: Option<serde_json::Value>,
}

pub fn run(args: Args, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let (reader, name): (Box<dyn BufRead>, String) = match &args.input {
        Some(path) => {
            let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
            (
                Box::new(BufReader::with_capacity(1 << 16, file)),
                path.display().to_string(),
            )
        }
        None => (
            Box::new(BufReader::with_capacity(1 << 16, std::io::stdin().lock())),
            "stdin".into(),
        ),
    };
    analyze(reader, &name, args.jsonl, stdout)
}

fn analyze(
    mut reader: impl BufRead,
    name: &str,
    jsonl: bool,
    stdout: &mut dyn Write,
) -> anyhow::Result<()> {
    let extractor = EntityExtractor::new();
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        if reader
            .read_until(b'\n', &mut line)
            .with_context(|| format!("reading {name}"))?
            == 0
        {
            break;
        }
        number += 1;
        let bytes = line.strip_suffix(b"\n").unwrap_or(&line);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let analysis = if jsonl {
            match serde_json::from_slice::<Input>(bytes) {
                Ok(input) => Analysis {
                    id: input.id,
                    ..entities(&extractor, &input.text)
                },
                Err(error) => Analysis {
                    error: Some(format!(
                        "{name}:{number}: not a JSON object with a string `text`: {error}"
                    )),
                    ..Analysis::default()
                },
            }
        } else {
            // Invalid UTF-8 is replaced, never fatal: one bad byte costs only itself.
            entities(&extractor, &String::from_utf8_lossy(bytes))
        };
        crate::terminal::json_line(stdout, &analysis)?;
    }
    Ok(())
}

fn entities(extractor: &EntityExtractor, text: &str) -> Analysis {
    let language = starling_enrich::langid::detect(text);
    let sentiment = starling_enrich::sentiment::analyze(text);
    let round = |value: f32| (value * 1000.0).round() / 1000.0;
    let mut analysis = Analysis {
        lang: Some(language.code),
        lang_confidence: Some(round(language.confidence)),
        sentiment: Some(sentiment.label.as_str()),
        sentiment_score: Some(round(sentiment.score)),
        ..Analysis::default()
    };
    for Found {
        kind,
        value,
        list_slug,
        ..
    } in extractor.all(text)
    {
        match kind {
            Kind::Hashtag => analysis.hashtags.push(value),
            Kind::Cashtag => analysis.cashtags.push(value),
            Kind::Mention | Kind::FederatedMention => analysis.mentions.push(value),
            Kind::List => analysis
                .mentions
                .push(format!("{value}{}", list_slug.unwrap_or_default())),
            Kind::Url => analysis.urls.push(value),
        }
    }
    analysis
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_on(input: &[u8], jsonl: bool) -> Vec<serde_json::Value> {
        let mut output = Vec::new();
        analyze(input, "test", jsonl, &mut output).unwrap();
        String::from_utf8(output)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    #[test]
    fn one_object_per_line_in_order_without_sigils() {
        let lines = run_on(
            "#تهران @a $TSLA example.com\n\nno entities\r\n@b/list".as_bytes(),
            false,
        );
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0]["hashtags"][0], "تهران");
        assert_eq!(lines[0]["mentions"][0], "a");
        assert_eq!(lines[0]["cashtags"][0], "TSLA");
        assert_eq!(lines[0]["urls"][0], "example.com");
        assert_eq!(lines[1]["hashtags"].as_array().unwrap().len(), 0);
        assert_eq!(lines[3]["mentions"][0], "b/list");
    }

    #[test]
    fn language_and_sentiment_come_with_every_line() {
        let lines = run_on(
            "مردم امشب در خیابان‌های تهران جمع شده‌اند\nI love this, what a wonderful day!\n12:30"
                .as_bytes(),
            false,
        );
        assert_eq!(lines[0]["lang"], "fa");
        assert_eq!(lines[1]["lang"], "en");
        assert_eq!(lines[1]["sentiment"], "positive");
        assert_eq!(lines[2]["lang"], "und");
        for line in &lines {
            let confidence = line["lang_confidence"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&confidence), "{line}");
            let score = line["sentiment_score"].as_f64().unwrap();
            assert!((-1.0..=1.0).contains(&score), "{line}");
            assert!(
                ["negative", "neutral", "positive"].contains(&line["sentiment"].as_str().unwrap())
            );
        }
    }

    #[test]
    fn invalid_utf8_costs_only_its_bytes() {
        let lines = run_on(b"\xff\xfe #ok\n#next", false);
        assert_eq!(lines[0]["hashtags"][0], "ok");
        assert_eq!(lines[1]["hashtags"][0], "next");
    }

    #[test]
    fn jsonl_texts_may_hold_newlines_and_bad_lines_say_why() {
        let input = br#"{"id": "7", "text": "line one\nline two #tag"}
not json
{"text": 5}
{"text": "@x"}"#;
        let lines = run_on(input, true);
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0]["id"], "7");
        assert_eq!(lines[0]["hashtags"][0], "tag");
        assert!(
            lines[1]["error"]
                .as_str()
                .unwrap()
                .starts_with("test:2: not a JSON object")
        );
        assert!(lines[2]["error"].as_str().unwrap().starts_with("test:3:"));
        assert_eq!(lines[3]["mentions"][0], "x");
    }
}
