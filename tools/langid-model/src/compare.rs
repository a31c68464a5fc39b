//! Side by side on the same files: lingua (high-accuracy mode, restricted to Starling's
//! languages), whatlang, whichlang and `starling_enrich::langid`.
//!
//! Usage: `cargo run --release --bin compare -- DIR...`, each DIR a folder of
//! `<ISO 639-1 code>.txt` files (one sample per line), e.g. the three folders of
//! `../shared/data/langid/lingua`. Prints, per folder and detector, the accuracy over
//! Starling's languages, the accuracy over the languages the detector itself knows, and MB/s
//! on one core.

use std::str::FromStr as _;
use std::time::Instant;

use anyhow::{Context as _, Result};
use lingua::{IsoCode639_1, LanguageDetectorBuilder};

/// ISO 639-3 (whatlang's and whichlang's codes) to ISO 639-1, for Starling's languages.
const ISO3: &[(&str, &str)] = &[
    ("ara", "ar"), ("aze", "az"), ("bel", "be"), ("bul", "bg"), ("ben", "bn"), ("cat", "ca"),
    ("ces", "cs"), ("dan", "da"), ("deu", "de"), ("ell", "el"), ("eng", "en"), ("spa", "es"),
    ("est", "et"), ("pes", "fa"), ("fas", "fa"), ("fin", "fi"), ("fra", "fr"), ("guj", "gu"),
    ("heb", "he"), ("hin", "hi"), ("hrv", "hr"), ("hun", "hu"), ("hye", "hy"), ("ind", "id"),
    ("ita", "it"), ("jpn", "ja"), ("kat", "ka"), ("kaz", "kk"), ("kor", "ko"), ("lit", "lt"),
    ("lav", "lv"), ("mkd", "mk"), ("mon", "mn"), ("mar", "mr"), ("msa", "ms"), ("zsm", "ms"),
    ("nob", "nb"), ("nld", "nl"), ("pan", "pa"), ("pol", "pl"), ("por", "pt"), ("ron", "ro"),
    ("rus", "ru"), ("slk", "sk"), ("slv", "sl"), ("som", "so"), ("sqi", "sq"), ("srp", "sr"),
    ("swe", "sv"), ("swh", "sw"), ("swa", "sw"), ("tam", "ta"), ("tel", "te"), ("tha", "th"),
    ("tgl", "tl"), ("tur", "tr"), ("ukr", "uk"), ("urd", "ur"), ("vie", "vi"), ("cmn", "zh"),
    ("zho", "zh"),
];

fn iso1(code3: &str) -> &'static str {
    ISO3.iter().find(|(three, _)| *three == code3).map_or("?", |(_, one)| one)
}

type Detector<'a> = Box<dyn Fn(&str) -> &'static str + 'a>;

fn main() -> Result<()> {
    let dirs: Vec<String> = std::env::args().skip(1).collect();
    anyhow::ensure!(!dirs.is_empty(), "usage: compare DIR...");
    let ours = starling_enrich::langid::languages();
    let languages: Vec<lingua::Language> = ours
        .iter()
        .map(|code| {
            let iso = IsoCode639_1::from_str(code).map_err(|_| anyhow::anyhow!("{code}"))?;
            Ok(lingua::Language::from_iso_code_639_1(&iso))
        })
        .collect::<Result<_>>()?;
    let lingua = LanguageDetectorBuilder::from_languages(&languages).build();
    let whatlang_knows: Vec<&str> = whatlang::Lang::all().iter().map(|l| iso1(l.code())).collect();
    let whichlang_knows: Vec<&str> =
        whichlang::LANGUAGES.iter().map(|l| iso1(l.three_letter_code())).collect();
    let detectors: Vec<(&str, Vec<&str>, Detector)> = vec![
        ("starling", ours.clone(), Box::new(|text| starling_enrich::langid::detect(text).code)),
        (
            "lingua-high",
            ours.clone(),
            Box::new(|text| {
                lingua.detect_language_of(text).map_or("und", |l| {
                    let code = l.iso_code_639_1().to_string();
                    ours.iter().find(|o| **o == code).copied().unwrap_or("?")
                })
            }),
        ),
        (
            "whatlang",
            whatlang_knows,
            Box::new(|text| whatlang::detect(text).map_or("und", |info| iso1(info.lang().code()))),
        ),
        (
            "whichlang",
            whichlang_knows,
            Box::new(|text| iso1(whichlang::detect_language(text).three_letter_code())),
        ),
    ];
    // Warm up: load every model before timing.
    for (_, _, detect) in &detectors {
        detect("warm up the models");
    }
    for dir in &dirs {
        let mut files = Vec::new();
        for code in &ours {
            let path = format!("{dir}/{code}.txt");
            let text = std::fs::read_to_string(&path).with_context(|| path.clone())?;
            let samples: Vec<String> =
                text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
            files.push((*code, samples));
        }
        // Load every language's model (lingua loads them lazily) before timing.
        for (_, _, detect) in &detectors {
            for (_, samples) in &files {
                detect(&samples[0]);
            }
        }
        println!("{dir}");
        println!("{:<12} {:>10} {:>12} {:>7} {:>9}", "detector", "accuracy", "own langs", "langs", "MB/s");
        for (name, knows, detect) in &detectors {
            let (mut correct, mut total, mut own_correct, mut own_total, mut bytes) = (0, 0, 0, 0, 0);
            let mut per_language_all = 0.0;
            let mut per_language_own = 0.0;
            let mut own_languages = 0;
            let started = Instant::now();
            for (code, samples) in &files {
                let mut right = 0;
                for sample in samples {
                    bytes += sample.len();
                    if detect(sample) == *code {
                        right += 1;
                    }
                }
                correct += right;
                total += samples.len();
                per_language_all += right as f64 / samples.len() as f64;
                if knows.contains(code) {
                    own_correct += right;
                    own_total += samples.len();
                    per_language_own += right as f64 / samples.len() as f64;
                    own_languages += 1;
                }
            }
            let seconds = started.elapsed().as_secs_f64();
            let _ = (correct, total, own_correct, own_total);
            println!(
                "{:<12} {:>9.2}% {:>11.2}% {:>7} {:>9.2}",
                name,
                100.0 * per_language_all / files.len() as f64,
                100.0 * per_language_own / own_languages.max(1) as f64,
                own_languages,
                bytes as f64 / 1e6 / seconds
            );
        }
    }
    Ok(())
}
