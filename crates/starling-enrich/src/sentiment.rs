//! Sentiment per post: negative, neutral or positive, with a score from -1 to 1.
//!
//! A multinomial logistic regression over hashed features (words, word pairs, character 3- to
//! 5-grams inside words, negation scope) plus a few dense lexicon features (VADER's valences
//! for English words and emoticons, emoji valences derived from VADER's emoji descriptions, and
//! a small Persian seed list of our own). [`train`] fits it; the built-in model was trained by
//! `starling train sentiment` on the XLM-T training splits of eight languages (see
//! `models/README.md`). The score is P(positive) - P(negative).

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::{Reader, fnv, is_mark, is_word_char};

/// The compressed built-in model written by `starling train sentiment`.
const MODEL: &[u8] = include_bytes!("../models/sentiment.bin.zst");

/// Hashed feature space: 2^BITS slots.
const BITS: u32 = 18;
const HASHED: usize = 1 << BITS;
/// Dense features after the hashed ones.
const DENSE: usize = 9;
/// The dense slot of the compound score.
const COMPOUND: usize = 8;
const FEATURES: usize = HASHED + DENSE;
const CLASSES: usize = 3;
/// Weight of the lexicon features beside the L2-normalized hashed ones.
const DENSE_SCALE: f32 = 1.0;

/// The three classes, in the order of TweetEval's labels 0, 1, 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Label {
    /// Label 0.
    Negative,
    /// Label 1.
    Neutral,
    /// Label 2.
    Positive,
}

impl Label {
    /// All labels, in label order.
    pub const ALL: [Label; 3] = [Label::Negative, Label::Neutral, Label::Positive];

    /// `negative`, `neutral` or `positive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Negative => "negative",
            Label::Neutral => "neutral",
            Label::Positive => "positive",
        }
    }

    /// From TweetEval's numeric label (0, 1, 2).
    pub fn from_index(index: usize) -> Option<Label> {
        Label::ALL.get(index).copied()
    }

    /// From `negative`, `neutral` or `positive`.
    pub fn parse(text: &str) -> Option<Label> {
        Label::ALL.into_iter().find(|label| label.as_str() == text)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A sentiment decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sentiment {
    /// The most probable class.
    pub label: Label,
    /// P(positive) - P(negative), from -1 to 1.
    pub score: f32,
    /// The probabilities of negative, neutral and positive.
    pub probabilities: [f32; 3],
}

/// A trained model: weights per class and the lexicon its dense features read.
#[derive(Debug, Clone)]
pub struct Model {
    /// `FEATURES` weights per class, class-major.
    weights: Vec<f32>,
    bias: [f32; CLASSES],
    /// Word or emoji to valence (VADER's scale, about -4 to 4).
    lexicon: HashMap<String, f32>,
}

/// The built-in model.
pub fn model() -> &'static Model {
    static CELL: OnceLock<Model> = OnceLock::new();
    CELL.get_or_init(|| match Model::from_bytes(MODEL) {
        Ok(model) => model,
        // Compiled in and checked by the tests.
        Err(message) => panic!("the built-in sentiment model is damaged: {message}"),
    })
}

/// The sentiment of a post's text, by the built-in model.
pub fn analyze(text: &str) -> Sentiment {
    model().predict(text)
}

/// Words that turn the valence of the next few words around, in the languages of the
/// training data and Persian.
const NEGATIONS: &[&str] = &[
    "not",
    "no",
    "never",
    "none",
    "nothing",
    "nobody",
    "neither",
    "nor",
    "without",
    "cannot",
    "cant",
    "can't",
    "dont",
    "don't",
    "doesnt",
    "doesn't",
    "didnt",
    "didn't",
    "isnt",
    "isn't",
    "wasnt",
    "wasn't",
    "arent",
    "aren't",
    "wont",
    "won't",
    "wouldnt",
    "wouldn't",
    "shouldnt",
    "shouldn't",
    "aint",
    "ain't",
    "nicht",
    "kein",
    "keine",
    "keinen",
    "nie",
    "niemals",
    "ne",
    "pas",
    "jamais",
    "rien",
    "non",
    "mai",
    "nessuno",
    "niente",
    "não",
    "nao",
    "nunca",
    "nada",
    "nem",
    "nadie",
    "tampoco",
    "nahi",
    "nahin",
    "mat",
    "لا",
    "لم",
    "لن",
    "ما",
    "مش",
    "ليس",
    "نه",
    "نمی",
    "هیچ",
    "نیست",
];

/// How many tokens after a negation it reaches.
const NEGATION_SCOPE: usize = 3;

/// Persian seed words of our own (the shared data has no labelled Persian posts): valences on
/// VADER's scale.
pub const PERSIAN_SEEDS: &[(&str, f32)] = &[
    ("خوب", 1.9),
    ("عالی", 3.0),
    ("خوشحال", 2.7),
    ("خوشحالم", 2.7),
    ("شاد", 2.5),
    ("زیبا", 2.3),
    ("قشنگ", 2.2),
    ("ممنون", 2.0),
    ("مرسی", 2.0),
    ("سپاس", 2.0),
    ("تبریک", 2.4),
    ("پیروزی", 2.6),
    ("امید", 1.8),
    ("عشق", 3.2),
    ("دوست", 1.6),
    ("آزادی", 2.2),
    ("موفق", 2.3),
    ("موفقیت", 2.3),
    ("بد", -2.5),
    ("بدترین", -3.1),
    ("غمگین", -2.4),
    ("ناراحت", -2.2),
    ("خشم", -2.7),
    ("عصبانی", -2.5),
    ("ترس", -2.2),
    ("وحشت", -2.8),
    ("مرگ", -2.9),
    ("کشته", -3.0),
    ("قتل", -3.3),
    ("خشونت", -3.0),
    ("سرکوب", -2.6),
    ("دروغ", -2.4),
    ("تقلب", -2.6),
    ("فاجعه", -3.1),
    ("زخمی", -2.3),
    ("دستگیر", -1.9),
    ("اعتراض", -1.2),
    ("متاسفانه", -1.8),
    ("افتضاح", -3.0),
    ("شرم", -2.2),
];

/// One token of a post, after normalization.
fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for raw in text.split_whitespace() {
        if raw.starts_with('@') && raw.len() > 1 {
            out.push("@user".to_owned());
            continue;
        }
        if raw.contains("://") || raw.starts_with("www.") {
            out.push("<url>".to_owned());
            continue;
        }
        let mut word = String::new();
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            if is_word_char(c) || c == '\'' || is_mark(c) {
                word.extend(c.to_lowercase());
                continue;
            }
            if c == '\u{2019}' {
                // The typographic apostrophe is the apostrophe: "don’t" is "don't".
                word.push('\'');
                continue;
            }
            if c == '\u{200c}' || c == '\u{200d}' || c == '\u{fe0f}' {
                // ZWNJ inside Persian words and emoji joiners belong to what surrounds them.
                continue;
            }
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            if c == '#' {
                continue;
            }
            // Punctuation and emoji: runs of the same character are one token ("!!!" -> "!!").
            let mut run = 1;
            while chars.peek() == Some(&c) {
                chars.next();
                run += 1;
            }
            let mut symbol = c.to_string();
            if run > 1 && (c == '!' || c == '?' || c == '.') {
                symbol.push(c);
            }
            out.push(symbol);
        }
        if !word.is_empty() {
            out.push(word);
        }
    }
    // Emoticons spread over punctuation tokens (":)", ":(", ":D") are rejoined by the caller's
    // lexicon lookup of the raw whitespace token; nothing more to do here.
    out
}

/// [`hash`] of one part given as characters: the same value as hashing the string they spell.
fn hash_chars(kind: u8, chars: &[char]) -> usize {
    let hash = chars
        .iter()
        .fold(fnv::extend(fnv::OFFSET, &[kind]), |hash, c| {
            fnv::extend_char(hash, *c)
        });
    (hash >> (64 - BITS)) as usize
}

fn hash(kind: u8, parts: &[&str]) -> usize {
    let mut hash = fnv::extend(fnv::OFFSET, &[kind]);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hash = fnv::extend(hash, &[0x1f]);
        }
        hash = fnv::extend(hash, part.as_bytes());
    }
    (hash >> (64 - BITS)) as usize
}

/// The feature vector of a text: (index, value) pairs, L2-normalized over the hashed part,
/// then the lexicon features (sums and counts of positive and negative valences, for words
/// and for emoji, and VADER's normalized "compound" of them all).
fn features(text: &str, lexicon: &HashMap<String, f32>, out: &mut Vec<(usize, f32)>) {
    out.clear();
    let mut valence_sum = 0f32;
    let tokens = tokens(text);
    let mut dense = [0f32; COMPOUND];
    let mut negated = 0usize;
    let mut previous = "<s>".to_owned();
    let mut padded: Vec<char> = Vec::with_capacity(32);
    for token in &tokens {
        let is_negation = NEGATIONS.contains(&token.as_str()) || token.ends_with("n't");
        let scope = if negated > 0 { "~" } else { "" };
        out.push((hash(b'w', &[scope, token]), 1.0));
        out.push((hash(b'b', &[&previous, token]), 1.0));
        if token.chars().count() > 3 && token.chars().all(is_word_char) {
            padded.clear();
            padded.push('<');
            padded.extend(token.chars());
            padded.push('>');
            for n in 3..=5 {
                for window in padded.windows(n) {
                    out.push((hash_chars(b'c', window), 0.5));
                }
            }
        }
        if let Some(valence) = lexicon.get(token.as_str()) {
            let valence = if negated > 0 {
                -0.74 * valence
            } else {
                *valence
            };
            valence_sum += valence;
            let is_emoji = !token.chars().any(is_word_char);
            let base = if is_emoji { 4 } else { 0 };
            if valence > 0.0 {
                dense[base] += valence / 4.0;
                dense[base + 1] += 1.0;
            } else if valence < 0.0 {
                dense[base + 2] += -valence / 4.0;
                dense[base + 3] += 1.0;
            }
        }
        negated = if is_negation {
            NEGATION_SCOPE
        } else {
            negated.saturating_sub(1)
        };
        previous.clone_from(token);
    }
    // Emoticons are whitespace tokens made of punctuation (":)", ":-(", "<3").
    for raw in text.split_whitespace() {
        if !raw.chars().any(is_word_char)
            && raw.chars().count() > 1
            && let Some(valence) = lexicon.get(raw)
        {
            valence_sum += valence;
            let slot = if *valence > 0.0 { 4 } else { 6 };
            dense[slot] += valence.abs() / 4.0;
            dense[slot + 1] += 1.0;
        }
    }
    let norm = out.iter().map(|(_, v)| v * v).sum::<f32>().sqrt().max(1.0);
    for (_, value) in out.iter_mut() {
        *value /= norm;
    }
    for (i, value) in dense.iter().enumerate() {
        if *value != 0.0 {
            out.push((HASHED + i, DENSE_SCALE * value.min(4.0)));
        }
    }
    if valence_sum != 0.0 {
        out.push((
            HASHED + COMPOUND,
            valence_sum / (valence_sum * valence_sum + 15.0).sqrt(),
        ));
    }
}

impl Model {
    fn probabilities(&self, features: &[(usize, f32)]) -> [f32; CLASSES] {
        let mut logits = self.bias;
        for (class, logit) in logits.iter_mut().enumerate() {
            let row = &self.weights[class * FEATURES..(class + 1) * FEATURES];
            for (index, value) in features {
                *logit += row[*index] * value;
            }
        }
        softmax(logits)
    }

    /// The sentiment of a text.
    pub fn predict(&self, text: &str) -> Sentiment {
        let mut buffer = Vec::with_capacity(256);
        features(text, &self.lexicon, &mut buffer);
        let probabilities = self.probabilities(&buffer);
        let mut best = 1;
        for class in 0..CLASSES {
            if probabilities[class] > probabilities[best] {
                best = class;
            }
        }
        Sentiment {
            label: Label::ALL[best],
            score: probabilities[2] - probabilities[0],
            probabilities,
        }
    }

    /// The model as bytes: zstd over a header, the lexicon and the non-zero weights.
    pub fn to_bytes(&self) -> Result<Vec<u8>, String> {
        let mut raw = Vec::new();
        raw.extend_from_slice(b"STSENTI1");
        raw.extend_from_slice(&BITS.to_le_bytes());
        for bias in self.bias {
            raw.extend_from_slice(&bias.to_le_bytes());
        }
        let mut words: Vec<(&String, &f32)> = self.lexicon.iter().collect();
        words.sort_by(|a, b| a.0.cmp(b.0));
        raw.extend_from_slice(&(words.len() as u32).to_le_bytes());
        for (word, valence) in words {
            let bytes = word.as_bytes();
            raw.push(
                u8::try_from(bytes.len()).map_err(|_| format!("lexicon entry too long: {word}"))?,
            );
            raw.extend_from_slice(bytes);
            raw.extend_from_slice(&valence.to_le_bytes());
        }
        let nonzero: Vec<(usize, f32)> = self
            .weights
            .iter()
            .enumerate()
            .filter(|(_, w)| w.abs() > 1e-4)
            .map(|(i, w)| (i, *w))
            .collect();
        raw.extend_from_slice(&(nonzero.len() as u32).to_le_bytes());
        let mut previous = 0usize;
        for (index, weight) in nonzero {
            // Delta-coded indices and half-precision-like weights (f32 with the low 16 bits
            // dropped) compress well and lose nothing that matters.
            raw.extend_from_slice(&((index - previous) as u32).to_le_bytes());
            previous = index;
            raw.extend_from_slice(&((weight.to_bits() >> 16) as u16).to_le_bytes());
        }
        zstd::encode_all(raw.as_slice(), 19).map_err(|error| error.to_string())
    }

    /// Reads what [`Model::to_bytes`] wrote.
    pub fn from_bytes(compressed: &[u8]) -> Result<Model, String> {
        let raw = zstd::decode_all(compressed).map_err(|error| error.to_string())?;
        let mut reader = Reader::new(&raw);
        if reader.take(8)? != b"STSENTI1" {
            return Err("not a STSENTI1 model".into());
        }
        if reader.u32()? != BITS {
            return Err("hashed with another number of bits".into());
        }
        let mut bias = [0f32; CLASSES];
        for value in &mut bias {
            *value = f32::from_bits(reader.u32()?);
        }
        let entries = reader.u32()? as usize;
        let mut lexicon = HashMap::with_capacity(entries);
        for _ in 0..entries {
            let length = usize::from(reader.u8()?);
            let text = std::str::from_utf8(reader.take(length)?)
                .map_err(|e| e.to_string())?
                .to_owned();
            let valence = f32::from_bits(reader.u32()?);
            lexicon.insert(text, valence);
        }
        let count = reader.u32()? as usize;
        let mut weights = vec![0f32; FEATURES * CLASSES];
        let mut index = 0usize;
        for _ in 0..count {
            index += reader.u32()? as usize;
            let bits = u32::from(reader.u16()?) << 16;
            *weights.get_mut(index).ok_or("weight index out of range")? = f32::from_bits(bits);
        }
        Ok(Model {
            weights,
            bias,
            lexicon,
        })
    }
}

fn softmax(logits: [f32; CLASSES]) -> [f32; CLASSES] {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp = logits.map(|l| (l - max).exp());
    let sum: f32 = exp.iter().sum();
    exp.map(|e| e / sum)
}

/// How [`train`] fits the model.
#[derive(Debug, Clone, Copy)]
pub struct TrainOptions {
    /// Passes over the data.
    pub epochs: usize,
    /// AdaGrad's step size.
    pub learning_rate: f32,
    /// L2 penalty per step.
    pub l2: f32,
    /// Seed of the shuffling, for the same model on every machine.
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            epochs: 4,
            learning_rate: 0.2,
            l2: 1e-6,
            seed: 2009,
        }
    }
}

/// An example as the trainer sees it: features, label index, weight.
type Encoded = (Vec<(usize, f32)>, usize, f32);

/// One labelled text for [`train`], with the weight of its errors.
#[derive(Debug, Clone)]
pub struct Example {
    /// The post's text.
    pub text: String,
    /// Its label.
    pub label: Label,
    /// How much its errors count (see [`balanced_weights`]).
    pub weight: f32,
}

/// Weights that balance the labels within each group (a language, a source): every label of a
/// group weighs as much as the others in total, and every group as much as its size, so that
/// a group whose posts are nearly all negative does not teach that its language is negative.
/// A weight is capped at 10 so that a handful of posts does not dominate.
pub fn balanced_weights(groups: &[usize], labels: &[Label]) -> Vec<f32> {
    let mut counts: HashMap<(usize, Label), usize> = HashMap::new();
    let mut sizes: HashMap<usize, usize> = HashMap::new();
    for (group, label) in groups.iter().zip(labels) {
        *counts.entry((*group, *label)).or_default() += 1;
        *sizes.entry(*group).or_default() += 1;
    }
    groups
        .iter()
        .zip(labels)
        .map(|(group, label)| {
            let size = sizes[group] as f32;
            let count = counts[&(*group, *label)] as f32;
            (size / (CLASSES as f32 * count)).min(10.0)
        })
        .collect()
}

/// Fits a model on weighted labelled texts (the score that matters is macro-averaged recall:
/// give balancing weights). Deterministic for the same input and options.
pub fn train(examples: &[Example], lexicon: HashMap<String, f32>, options: TrainOptions) -> Model {
    let mut model = Model {
        weights: vec![0.0; FEATURES * CLASSES],
        bias: [0.0; CLASSES],
        lexicon,
    };
    let encoded: Vec<Encoded> = examples
        .iter()
        .map(|example| {
            let mut buffer = Vec::new();
            features(&example.text, &model.lexicon, &mut buffer);
            (buffer, example.label.index(), example.weight)
        })
        .collect();
    let mut squared = vec![1e-8f32; FEATURES * CLASSES];
    let mut bias_squared = [1e-8f32; CLASSES];
    let mut order: Vec<usize> = (0..encoded.len()).collect();
    let mut state = options.seed | 1;
    for _ in 0..options.epochs {
        // Fisher-Yates with xorshift: the same order on every machine.
        for i in (1..order.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            order.swap(i, (state % (i as u64 + 1)) as usize);
        }
        for &example in &order {
            let (features, label, weight) = &encoded[example];
            let probabilities = model.probabilities(features);
            for class in 0..CLASSES {
                let target = if class == *label { 1.0 } else { 0.0 };
                let gradient = (probabilities[class] - target) * weight;
                let row = class * FEATURES;
                for (index, value) in features {
                    let slot = row + index;
                    let g = gradient * value + options.l2 * model.weights[slot];
                    squared[slot] += g * g;
                    model.weights[slot] -= options.learning_rate * g / squared[slot].sqrt();
                }
                bias_squared[class] += gradient * gradient;
                model.bias[class] -= options.learning_rate * gradient / bias_squared[class].sqrt();
            }
        }
    }
    model
}

/// A lexicon from VADER's files: `vader_lexicon.txt` (token, valence, ...) and
/// `emoji_utf8_lexicon.txt` (emoji, description: the emoji gets the mean valence of the
/// description's words that the lexicon knows), plus the Persian seeds.
pub fn lexicon_from_vader(words: &str, emoji: &str) -> HashMap<String, f32> {
    let mut lexicon = HashMap::new();
    for line in words.lines() {
        let mut fields = line.split('\t');
        if let (Some(token), Some(valence)) = (fields.next(), fields.next())
            && let Ok(valence) = valence.trim().parse::<f32>()
        {
            lexicon.insert(token.to_lowercase(), valence);
        }
    }
    let mut emoji_valences = Vec::new();
    for line in emoji.lines() {
        let Some((symbol, description)) = line.split_once('\t') else {
            continue;
        };
        let valences: Vec<f32> = description
            .split_whitespace()
            .filter_map(|word| lexicon.get(&word.to_lowercase()).copied())
            .collect();
        if !valences.is_empty() {
            let mean = valences.iter().sum::<f32>() / valences.len() as f32;
            emoji_valences.push((symbol.replace('\u{fe0f}', ""), mean));
        }
    }
    lexicon.extend(emoji_valences);
    for (word, valence) in PERSIAN_SEEDS {
        lexicon.insert((*word).to_owned(), *valence);
    }
    lexicon
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_hashes_equal_string_hashes_and_word_chars_equal_alphanumeric() {
        for text in ["<tehran>", "شده‌اند", "naïve", "😀x"] {
            let chars: Vec<char> = text.chars().collect();
            assert_eq!(hash_chars(b'c', &chars), hash(b'c', &[text]));
        }
        for c in ('\0'..='\u{2000}').chain(['😀', '中', '\u{fdf2}']) {
            assert_eq!(
                is_word_char(c),
                c.is_alphanumeric(),
                "{c:?} U+{:04X}",
                c as u32
            );
        }
    }

    #[test]
    fn tokens_normalize_mentions_links_and_runs() {
        assert_eq!(
            tokens("@Someone LOVE this!!! https://t.co/x #Win 😀😀"),
            ["@user", "love", "this", "!!", "<url>", "win", "😀"]
        );
        assert_eq!(tokens("می‌خواهم"), ["میخواهم"]);
        assert_eq!(tokens("don\u{2019}t"), ["don't"]);
    }

    #[test]
    fn balanced_weights_even_out_labels_within_each_group() {
        use Label::*;
        let groups = [0, 0, 0, 0, 1, 1, 1];
        let labels = [
            Negative, Negative, Negative, Positive, Negative, Neutral, Positive,
        ];
        let weights = balanced_weights(&groups, &labels);
        // Group 0: three negatives share what the one positive gets alone.
        assert!((weights[0] * 3.0 - weights[3]).abs() < 1e-6);
        assert!((weights[4] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn a_trained_model_round_trips_and_learns() {
        let lexicon = lexicon_from_vader("good\t1.9\t0\t[]\nbad\t-2.5\t0\t[]\n", "😀\tgood face\n");
        assert_eq!(lexicon.get("😀"), Some(&1.9));
        let mut examples = Vec::new();
        for i in 0..50 {
            for (text, label) in [
                (format!("what a good day {i}"), Label::Positive),
                (format!("such a bad day {i}"), Label::Negative),
                (format!("the meeting is at {i}"), Label::Neutral),
            ] {
                examples.push(Example {
                    text,
                    label,
                    weight: 1.0,
                });
            }
        }
        let model = train(&examples, lexicon, TrainOptions::default());
        let bytes = model.to_bytes().unwrap();
        let back = Model::from_bytes(&bytes).unwrap();
        for model in [&model, &back] {
            assert_eq!(model.predict("a good day").label, Label::Positive);
            assert_eq!(model.predict("a bad day").label, Label::Negative);
            assert_eq!(model.predict("the meeting").label, Label::Neutral);
            assert!(model.predict("a good day").score > 0.3);
        }
        assert!(Model::from_bytes(b"junk").is_err());
    }

    #[test]
    fn the_built_in_model_reads_obvious_cases() {
        let positive = analyze("I love this, what a wonderful day 😀");
        assert_eq!(positive.label, Label::Positive, "{positive:?}");
        assert!(positive.score > 0.0 && positive.score <= 1.0);
        let negative = analyze("This is terrible, I hate it. Awful 😡");
        assert_eq!(negative.label, Label::Negative, "{negative:?}");
        assert!(negative.score < 0.0 && negative.score >= -1.0);
        let sum: f32 = positive.probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4);
    }
}
