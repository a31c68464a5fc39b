//! Derives Starling's language-identification table from lingua's n-gram models.
//!
//! Lingua (Apache-2.0) ships, per language, the log-probabilities of character 1- to 5-grams
//! learned from the Leipzig corpora: for a unigram `ln(count / total)`, for a longer n-gram
//! `ln(count(g) / count(prefix of g))`. This tool keeps, per language and order, the `K` most
//! frequent n-grams (frequency = the product of the conditional chain, i.e. `count(g) / total`),
//! quantizes each log-probability to an eighth of a nat, and writes the n-grams sorted and
//! front-coded, each with its row of (language, log-probability); `starling-enrich` keys its
//! table by the FNV-1a hash of each n-gram's UTF-8 bytes, which this tool checks for collisions.
//!
//! Usage: `cargo run --release -- OUT [K2 K3 K4 K5]` from this folder, after
//! `cargo fetch --manifest-path lingua-models/Cargo.toml` (see `regenerate.sh`).

use std::collections::HashMap;
use std::fs;
use std::io::Write as _;
use std::process::Command;

use anyhow::{Context as _, Result, bail};
use fst::Streamer as _;

/// ISO 639-1 code and lingua's crate name, in the order of the table's language ids.
const LANGUAGES: &[(&str, &str)] = &[
    ("ar", "arabic"), ("az", "azerbaijani"), ("be", "belarusian"), ("bg", "bulgarian"),
    ("bn", "bengali"), ("ca", "catalan"), ("cs", "czech"), ("da", "danish"), ("de", "german"),
    ("el", "greek"), ("en", "english"), ("es", "spanish"), ("et", "estonian"), ("fa", "persian"),
    ("fi", "finnish"), ("fr", "french"), ("gu", "gujarati"), ("he", "hebrew"), ("hi", "hindi"),
    ("hr", "croatian"), ("hu", "hungarian"), ("hy", "armenian"), ("id", "indonesian"),
    ("it", "italian"), ("ja", "japanese"), ("ka", "georgian"), ("kk", "kazakh"), ("ko", "korean"),
    ("lt", "lithuanian"), ("lv", "latvian"), ("mk", "macedonian"), ("mn", "mongolian"),
    ("mr", "marathi"), ("ms", "malay"), ("nb", "bokmal"), ("nl", "dutch"), ("pa", "punjabi"),
    ("pl", "polish"), ("pt", "portuguese"), ("ro", "romanian"), ("ru", "russian"), ("sk", "slovak"),
    ("sl", "slovene"), ("so", "somali"), ("sq", "albanian"), ("sr", "serbian"), ("sv", "swedish"),
    ("sw", "swahili"), ("ta", "tamil"), ("te", "telugu"), ("th", "thai"), ("tl", "tagalog"),
    ("tr", "turkish"), ("uk", "ukrainian"), ("ur", "urdu"), ("vi", "vietnamese"), ("zh", "chinese"),
];

/// FNV-1a over bytes; `starling-enrich` extends it one character at a time.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

fn model_dirs() -> Result<HashMap<String, String>> {
    let output = Command::new("cargo")
        .args(["metadata", "--format-version", "1", "--manifest-path", "lingua-models/Cargo.toml"])
        .output()
        .context("running cargo metadata")?;
    if !output.status.success() {
        bail!("cargo metadata failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let mut dirs = HashMap::new();
    for package in metadata["packages"].as_array().context("no packages")? {
        let name = package["name"].as_str().unwrap_or_default();
        if let Some(language) = name.strip_prefix("lingua-").and_then(|n| n.strip_suffix("-language-model")) {
            let manifest = package["manifest_path"].as_str().context("manifest_path")?;
            let dir = manifest.trim_end_matches("Cargo.toml");
            dirs.insert(language.to_owned(), format!("{dir}models"));
        }
    }
    Ok(dirs)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let out = args.get(1).context("usage: langid-model OUT [K2 K3 K4 K5]")?;
    let keep: Vec<usize> = if args.len() >= 6 {
        args[2..6].iter().map(|a| a.parse()).collect::<Result<_, _>>()?
    } else {
        vec![2_000, 6_000, 6_000, 6_000]
    };
    let dirs = model_dirs()?;
    // hash -> (order, [(language, quantized)])
    let mut table: HashMap<u64, (u8, Vec<(u8, u8)>)> = HashMap::new();
    let mut keys_seen: HashMap<u64, Vec<u8>> = HashMap::new();
    for (id, (code, name)) in LANGUAGES.iter().enumerate() {
        let dir = dirs.get(*name).with_context(|| format!("no model crate for {name}"))?;
        let bytes = fs::read(format!("{dir}/ngrams.fst")).with_context(|| format!("reading {dir}"))?;
        let map = fst::Map::new(bytes)?;
        let mut conditional: HashMap<String, f64> = HashMap::new();
        let mut stream = map.stream();
        while let Some((key, value)) = stream.next() {
            let ngram = String::from_utf8(key.to_vec())?;
            conditional.insert(ngram, f64::from_bits(value));
        }
        // Joint log-frequency of each n-gram: its own conditional plus its prefix's joint.
        let mut by_order: Vec<Vec<(f64, &str, f64)>> = vec![Vec::new(); 6];
        for (ngram, logp) in &conditional {
            let chars: Vec<char> = ngram.chars().collect();
            let order = chars.len();
            if order == 0 || order > 5 {
                continue;
            }
            let mut joint = 0.0;
            for end in 1..=order {
                let prefix: String = chars[..end].iter().collect();
                joint += conditional.get(&prefix).copied().unwrap_or(-30.0);
            }
            by_order[order].push((joint, ngram.as_str(), *logp));
        }
        let mut kept = 0usize;
        for (order, entries) in by_order.iter_mut().enumerate().skip(1) {
            entries.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
            let limit = if order == 1 { usize::MAX } else { keep[order - 2] };
            for (_, ngram, logp) in entries.iter().take(limit) {
                let hash = fnv1a(ngram.as_bytes());
                if let Some(previous) = keys_seen.get(&hash) {
                    if previous != ngram.as_bytes() {
                        bail!("hash collision between {ngram:?} and {:?}", String::from_utf8_lossy(previous));
                    }
                } else {
                    keys_seen.insert(hash, ngram.as_bytes().to_vec());
                }
                let quantized = (-logp * 8.0).round().clamp(0.0, 255.0) as u8;
                let entry = table.entry(hash).or_insert((order as u8, Vec::new()));
                entry.1.push((id as u8, quantized));
                kept += 1;
            }
        }
        eprintln!("{code} {name}: {} n-grams, kept {kept}", conditional.len());
    }
    // Sorted n-grams, front-coded: each shares a prefix with the one before it, which is what
    // makes the table compress (hashes would not).
    let mut ngrams: Vec<(&Vec<u8>, &(u8, Vec<(u8, u8)>))> =
        table.iter().map(|(hash, row)| (&keys_seen[hash], row)).collect();
    ngrams.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut raw = Vec::new();
    raw.extend_from_slice(b"STLANGID");
    raw.extend_from_slice(&2u32.to_le_bytes());
    raw.push(LANGUAGES.len() as u8);
    for (code, _) in LANGUAGES {
        raw.extend_from_slice(code.as_bytes());
    }
    raw.extend_from_slice(&(ngrams.len() as u32).to_le_bytes());
    let mut entries = 0usize;
    let mut previous: &[u8] = &[];
    for (ngram, (_, row)) in &ngrams {
        let shared = previous.iter().zip(ngram.iter()).take_while(|(a, b)| a == b).count();
        raw.push(shared as u8);
        raw.push((ngram.len() - shared) as u8);
        raw.extend_from_slice(&ngram[shared..]);
        previous = ngram;
        let mut row = row.clone();
        row.sort_unstable();
        raw.push(row.len() as u8);
        for (language, quantized) in &row {
            raw.push(*language);
            raw.push(*quantized);
        }
        entries += row.len();
    }
    let compressed = zstd::encode_all(raw.as_slice(), 19)?;
    let mut file = fs::File::create(out)?;
    file.write_all(&compressed)?;
    eprintln!(
        "{} n-grams, {entries} entries, {} bytes raw, {} bytes compressed -> {out}",
        ngrams.len(),
        raw.len(),
        compressed.len()
    );
    Ok(())
}
