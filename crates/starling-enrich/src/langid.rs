//! Language identification for short posts.
//!
//! Two steps, as lingua does them: the writing system first (Greek, Hebrew, Armenian,
//! Georgian, Thai, Korean, the Indic scripts with one language each, Japanese kana decide on
//! their own), then, within a script that several languages share (Latin, Cyrillic, Arabic,
//! Devanagari), a naive-Bayes score over the character 1- to 5-grams of each word. The n-gram
//! log-probabilities are lingua's (Apache-2.0, learned from the Leipzig corpora), pruned to the
//! most frequent n-grams of each language and quantized by `tools/langid-model`; an n-gram a
//! language lacks backs off to its longest prefix that the language has, and a character it
//! lacks altogether costs a fixed penalty.
//!
//! The table is 64 MB, so a look-up is a cache miss; speed comes from doing fewer and
//! overlapping them: each thread remembers the costs of the words it scored last, the
//! look-ups of a word's positions are issued together, one-language rows live in their hash
//! slots, and a text is read no further once one language leads decisively. The answers are
//! those of the plain scoring (tested against it), but for that last shortcut.

use std::sync::OnceLock;

use crate::{Reader, fnv};

/// The compressed table written by `tools/langid-model/regenerate.sh`.
const MODEL: &[u8] = include_bytes!("../models/langid.bin.zst");

/// Log-probability charged for a character a language's model lacks altogether, in the
/// table's unit (an eighth of a nat, negated): 16 nats.
const MISSING: i32 = 128;
/// Orders of the character n-grams scored.
const MAX_ORDER: usize = 5;
/// The most languages a table may hold.
const WIDTH: usize = 64;
/// Room for the languages that share one script (Latin has the most: 31).
const GROUP: usize = 32;

/// A language decision: an ISO 639-1 code (or `und`) with a confidence from 0 to 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Language {
    /// ISO 639-1 code, or `und` when the text has no letters to judge by.
    pub code: &'static str,
    /// How sure the detector is, 0 to 1: the posterior of the chosen language among the
    /// candidates of the text's script (1 when the script has one language).
    pub confidence: f32,
}

impl Language {
    /// Undetermined: no letters.
    pub const UNDETERMINED: Language = Language {
        code: "und",
        confidence: 0.0,
    };
}

/// Writing systems the detector tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Cyrillic,
    Arabic,
    Devanagari,
    Greek,
    Hebrew,
    Armenian,
    Georgian,
    Thai,
    Hangul,
    Kana,
    Han,
    Bengali,
    Gujarati,
    Gurmukhi,
    Tamil,
    Telugu,
}

const SCRIPTS: usize = 17;

impl Script {
    fn of(c: char) -> Option<Script> {
        let cp = c as u32;
        Some(match cp {
            0x41..=0x5A | 0x61..=0x7A | 0xC0..=0x24F | 0x1E00..=0x1EFF => Script::Latin,
            0x370..=0x3FF | 0x1F00..=0x1FFF => Script::Greek,
            0x400..=0x52F => Script::Cyrillic,
            0x530..=0x58F => Script::Armenian,
            0x590..=0x5FF => Script::Hebrew,
            0x600..=0x6FF | 0x750..=0x77F | 0x8A0..=0x8FF | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => {
                Script::Arabic
            }
            0x900..=0x97F => Script::Devanagari,
            0x980..=0x9FF => Script::Bengali,
            0xA00..=0xA7F => Script::Gurmukhi,
            0xA80..=0xAFF => Script::Gujarati,
            0xB80..=0xBFF => Script::Tamil,
            0xC00..=0xC7F => Script::Telugu,
            0xE00..=0xE7F => Script::Thai,
            0x10A0..=0x10FF | 0x2D00..=0x2D2F => Script::Georgian,
            0x1100..=0x11FF | 0x3130..=0x318F | 0xAC00..=0xD7AF => Script::Hangul,
            0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9F => Script::Kana,
            0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF => Script::Han,
            _ => return None,
        })
    }

    /// The one language written in this script, for the scripts that decide on their own.
    fn sole_language(self) -> Option<&'static str> {
        Some(match self {
            Script::Greek => "el",
            Script::Hebrew => "he",
            Script::Armenian => "hy",
            Script::Georgian => "ka",
            Script::Thai => "th",
            Script::Hangul => "ko",
            Script::Kana => "ja",
            Script::Han => "zh",
            Script::Bengali => "bn",
            Script::Gujarati => "gu",
            Script::Gurmukhi => "pa",
            Script::Tamil => "ta",
            Script::Telugu => "te",
            Script::Latin | Script::Cyrillic | Script::Arabic | Script::Devanagari => return None,
        })
    }

    /// The script a table language is written in, for languages scored by n-grams.
    fn of_language(code: &str) -> Option<Script> {
        Some(match code {
            "be" | "bg" | "kk" | "mk" | "mn" | "ru" | "sr" | "uk" => Script::Cyrillic,
            "ar" | "fa" | "ur" => Script::Arabic,
            "hi" | "mr" => Script::Devanagari,
            "el" | "he" | "hy" | "ka" | "th" | "ko" | "ja" | "zh" | "bn" | "gu" | "pa" | "ta"
            | "te" => return None,
            _ => Script::Latin,
        })
    }
}

/// The n-gram table, decompressed once.
struct Model {
    /// Language codes by id. Ids are given script by script, so that the languages scored
    /// together (one script's) have neighbouring ids.
    codes: Vec<&'static str>,
    /// Open addressing, one word per slot so that a probe costs one cache line: the hash's
    /// high 32 bits (0 for an empty slot), then the entry (`INLINE`: the row itself; else the
    /// row's place in `rows`).
    slots: Vec<u64>,
    /// Rows of (language id, log-probability in eighths of a nat, negated).
    rows: Vec<(u8, u8)>,
    mask: usize,
    /// Per script, the ids of the languages scored by n-grams: `first..first + count`.
    groups: [(u8, u8); SCRIPTS],
}

/// Loads the model now.
pub(crate) fn warm_up() {
    let _ = model();
}

fn model() -> &'static Model {
    static MODEL_CELL: OnceLock<Model> = OnceLock::new();
    MODEL_CELL.get_or_init(|| match Model::load(MODEL) {
        Ok(model) => model,
        // The table is compiled in and checked by the tests: this cannot happen in a release.
        Err(message) => panic!("the built-in language table is damaged: {message}"),
    })
}

fn static_code(code: &[u8]) -> Result<&'static str, String> {
    const KNOWN: &[&str] = &[
        "ar", "az", "be", "bg", "bn", "ca", "cs", "da", "de", "el", "en", "es", "et", "fa", "fi",
        "fr", "gu", "he", "hi", "hr", "hu", "hy", "id", "it", "ja", "ka", "kk", "ko", "lt", "lv",
        "mk", "mn", "mr", "ms", "nb", "nl", "pa", "pl", "pt", "ro", "ru", "sk", "sl", "so", "sq",
        "sr", "sv", "sw", "ta", "te", "th", "tl", "tr", "uk", "ur", "vi", "zh",
    ];
    KNOWN
        .iter()
        .find(|known| known.as_bytes() == code)
        .copied()
        .ok_or_else(|| format!("unknown language code {:?}", String::from_utf8_lossy(code)))
}

impl Model {
    fn load(compressed: &[u8]) -> Result<Model, String> {
        let raw = zstd::decode_all(compressed).map_err(|error| error.to_string())?;
        let mut reader = Reader::new(&raw);
        if reader.take(8)? != b"STLANGID" || reader.u32()? != 2 {
            return Err("not a version 2 STLANGID table".into());
        }
        let languages = usize::from(reader.u8()?);
        if languages > WIDTH {
            return Err(format!("{languages} languages, at most {WIDTH} fit"));
        }
        let mut stored = Vec::with_capacity(languages);
        for _ in 0..languages {
            stored.push(static_code(reader.take(2)?)?);
        }
        // New ids, script by script (the scripts that decide alone last).
        let group_of = |code: &str| Script::of_language(code).map_or(SCRIPTS, |s| s as usize);
        let mut codes = stored.clone();
        // A stable sort: within a script, the table's own order, which breaks ties.
        codes.sort_by_key(|code| group_of(code));
        let new_id: Vec<u8> = stored
            .iter()
            .map(|code| codes.iter().position(|c| c == code).unwrap_or(0) as u8)
            .collect();
        let mut groups = [(0u8, 0u8); SCRIPTS];
        for (id, code) in codes.iter().enumerate() {
            if let Some(script) = Script::of_language(code) {
                let group = &mut groups[script as usize];
                if group.1 == 0 {
                    group.0 = id as u8;
                }
                group.1 += 1;
                if usize::from(group.1) > GROUP {
                    return Err(format!("more than {GROUP} languages share a script"));
                }
            }
        }
        let ngrams = reader.u32()? as usize;
        let capacity = (ngrams * 2).next_power_of_two();
        let mask = capacity - 1;
        let mut slots = vec![0u64; capacity];
        let mut rows = Vec::new();
        let mut ngram: Vec<u8> = Vec::with_capacity(32);
        for _ in 0..ngrams {
            let shared = usize::from(reader.u8()?);
            let suffix = usize::from(reader.u8()?);
            if shared > ngram.len() {
                return Err("bad front coding".into());
            }
            ngram.truncate(shared);
            ngram.extend_from_slice(reader.take(suffix)?);
            let hash = fnv::extend(fnv::OFFSET, &ngram);
            let length = reader.u8()?;
            let mut row = Vec::with_capacity(usize::from(length));
            for _ in 0..length {
                let language = reader.u8()?;
                let quantized = reader.u8()?;
                if usize::from(language) >= languages {
                    return Err(format!("language id {language} out of range"));
                }
                row.push((new_id[usize::from(language)], quantized));
            }
            let entry = match row[..] {
                // Three n-grams in four belong to one language: their row lives in the slot,
                // and a look-up costs one cache line instead of two.
                [(language, quantized)] => INLINE | u32::from(language) << 8 | u32::from(quantized),
                _ => {
                    let offset = rows.len();
                    if offset >= 1 << 23 {
                        return Err("too many entries".into());
                    }
                    rows.extend_from_slice(&row);
                    (offset as u32) << 8 | u32::from(length)
                }
            };
            let fingerprint = fingerprint(hash);
            let mut slot = hash as usize & mask;
            while slots[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            slots[slot] = u64::from(fingerprint) << 32 | u64::from(entry);
        }
        Ok(Model {
            codes,
            slots,
            rows,
            mask,
            groups,
        })
    }

    /// The entry of the n-gram whose hash is `hash` (`ABSENT` when no language has it),
    /// given the slot its probe starts at, already read.
    fn entry(&self, hash: u64, first: u64) -> u32 {
        let fingerprint = fingerprint(hash);
        let mut slot = hash as usize & self.mask;
        let mut found = first;
        loop {
            if found == 0 {
                return ABSENT;
            }
            if (found >> 32) as u32 == fingerprint {
                return found as u32;
            }
            slot = (slot + 1) & self.mask;
            found = self.slots[slot];
        }
    }

    /// An entry's row: one (language, quantized log-probability) pair in the entry itself,
    /// or a range of `rows`.
    fn row(&self, entry: u32) -> Row<'_> {
        if entry & INLINE != 0 {
            Row::One((entry >> 8) as u8, entry as u8)
        } else {
            let offset = (entry >> 8) as usize;
            Row::Many(&self.rows[offset..offset + (entry & 0xFF) as usize])
        }
    }
}

/// The low half of a slot: a row of one language in the slot itself...
const INLINE: u32 = 1 << 31;
/// ... or, without that bit, the row's offset in `rows` (23 bits) and its length (8 bits).
/// An n-gram no language has:
const ABSENT: u32 = 0;

/// The languages that have an n-gram, with their quantized log-probabilities.
enum Row<'a> {
    One(u8, u8),
    Many(&'a [(u8, u8)]),
}

fn fingerprint(hash: u64) -> u32 {
    ((hash >> 32) as u32).max(1)
}

/// Whether a whitespace-separated token says nothing about the language: links, mentions,
/// e-mail addresses.
fn is_noise(token: &str) -> bool {
    token.starts_with('@')
        || token.contains("://")
        || token.starts_with("www.")
        || (token.contains('@') && token.contains('.'))
}

/// Identifies the language of a post's text. Links and mentions are left out; so are
/// hashtags (often English compounds in any language's posts) unless the text has no other
/// words.
pub fn detect(text: &str) -> Language {
    detect_deciding_at(text, DECISIVE)
}

/// `detect`, reading no further once the best language leads by `decisive`.
fn detect_deciding_at(text: &str, decisive: i64) -> Language {
    // One pass: letters per script, in hashtags and outside them, to pick the text's script.
    // Hashtags (often English compounds in any language's posts) count only when the text has
    // no other words.
    let mut per_script = [0u32; SCRIPTS];
    let mut in_hashtags = [0u32; SCRIPTS];
    for token in text.split_whitespace().filter(|token| !is_noise(token)) {
        let counts = if token.starts_with('#') {
            &mut in_hashtags
        } else {
            &mut per_script
        };
        for c in token.chars() {
            if let Class::Letter(script) = class(c) {
                counts[script as usize] += 1;
            }
        }
    }
    let words_outside_hashtags = per_script.iter().any(|count| *count > 0);
    if !words_outside_hashtags {
        per_script = in_hashtags;
    }
    let keep =
        |token: &&str| !is_noise(token) && (!words_outside_hashtags || !token.starts_with('#'));
    let model = model();
    let total: u32 = per_script.iter().sum();
    if total == 0 {
        return Language::UNDETERMINED;
    }
    // Kana anywhere makes Han text Japanese.
    if per_script[Script::Kana as usize] > 0 {
        per_script[Script::Kana as usize] += per_script[Script::Han as usize];
        per_script[Script::Han as usize] = 0;
    }
    let (best, count) = per_script
        .iter()
        .enumerate()
        .max_by_key(|(index, count)| (**count, std::cmp::Reverse(*index)))
        .map(|(index, count)| (index, *count))
        .unwrap_or((0, 0));
    let script = ALL_SCRIPTS[best];
    if let Some(code) = script.sole_language() {
        return Language {
            code,
            confidence: count as f32 / total as f32,
        };
    }
    if script == Script::Arabic
        && let Some(pashto) = pashto(text, count, &keep)
    {
        return pashto;
    }
    score(model, text, script, &keep, decisive)
}

/// Letters that Pashto writes and Persian, Arabic and Urdu do not (ټ ډ ړ ږ ښ ځ څ ګ ڼ ۍ ې):
/// lingua has no Pashto model, so Pashto is told by these, a rule rather than a score.
const PASHTO_LETTERS: &[char] = &[
    '\u{067C}', '\u{0689}', '\u{0693}', '\u{0696}', '\u{069A}', '\u{0681}', '\u{0685}', '\u{06AB}',
    '\u{06BC}', '\u{06CD}', '\u{06D0}',
];

/// Pashto, when at least two of the Arabic-script letters are Pashto's own and they make at
/// least 2% of them.
fn pashto(text: &str, arabic_letters: u32, keep: &dyn Fn(&&str) -> bool) -> Option<Language> {
    let own = text
        .split_whitespace()
        .filter(keep)
        .flat_map(str::chars)
        .filter(|c| PASHTO_LETTERS.contains(c))
        .count() as u32;
    (own >= 2 && own * 50 >= arabic_letters).then(|| Language {
        code: "ps",
        confidence: (0.5 + own as f32 / arabic_letters.max(1) as f32 * 5.0).min(0.95),
    })
}

/// The script of a letter; `None` for what is not a letter (digits, punctuation, symbols,
/// which the script blocks also hold: × ÷ ، ؟ ٣ ・ ฿).
#[cfg(test)]
fn letter_script(c: char) -> Option<Script> {
    match class(c) {
        Class::Letter(script) => Some(script),
        Class::OtherLetter | Class::None => None,
    }
}

/// What a character is to the detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// A letter (or combining mark) of one of the scripts the detector knows.
    Letter(Script),
    /// A letter or mark outside those scripts' blocks: it stays inside its word.
    OtherLetter,
    /// Anything else: digits, punctuation, symbols, spaces.
    None,
}

/// Code points below this are classed from a table built once (54 KiB: every script the
/// detector knows lies below it, Hangul syllables and Han included).
const CLASSED: usize = 0xD800;

fn class(c: char) -> Class {
    static TABLE: OnceLock<Vec<u8>> = OnceLock::new();
    let code = c as usize;
    if code < 0x80 {
        return if c.is_ascii_alphabetic() {
            Class::Letter(Script::Latin)
        } else {
            Class::None
        };
    }
    if code >= CLASSED {
        return class_by_unicode(c);
    }
    let table = TABLE.get_or_init(|| {
        (0..CLASSED as u32)
            .map(|code| match char::from_u32(code).map(class_by_unicode) {
                Some(Class::Letter(script)) => script as u8 + 1,
                Some(Class::OtherLetter) => u8::MAX,
                Some(Class::None) | None => 0,
            })
            .collect()
    });
    match table[code] {
        0 => Class::None,
        u8::MAX => Class::OtherLetter,
        index => Class::Letter(ALL_SCRIPTS[usize::from(index - 1)]),
    }
}

/// `class` from the Unicode tables. Combining marks count as letters: a virama or a haraka
/// is part of its word.
fn class_by_unicode(c: char) -> Class {
    let letter = match c as u32 {
        0..=0x7F => c.is_ascii_alphabetic(),
        0xD7 | 0xF7 | 0x482 => false,
        // Latin-1 and Latin Extended letters; Cyrillic with its combining signs.
        0xC0..=0x24F | 0x400..=0x52F => true,
        _ => c.is_alphabetic() || crate::is_mark(c),
    };
    match (Script::of(c), letter) {
        (Some(script), true) => Class::Letter(script),
        (None, true) => Class::OtherLetter,
        (_, false) => Class::None,
    }
}

const ALL_SCRIPTS: [Script; SCRIPTS] = [
    Script::Latin,
    Script::Cyrillic,
    Script::Arabic,
    Script::Devanagari,
    Script::Greek,
    Script::Hebrew,
    Script::Armenian,
    Script::Georgian,
    Script::Thai,
    Script::Hangul,
    Script::Kana,
    Script::Han,
    Script::Bengali,
    Script::Gujarati,
    Script::Gurmukhi,
    Script::Tamil,
    Script::Telugu,
];

/// Naive-Bayes over the character n-grams of the words written in `script`.
fn score(
    model: &Model,
    text: &str,
    script: Script,
    keep: &dyn Fn(&&str) -> bool,
    decisive: i64,
) -> Language {
    let (first, count) = model.groups[script as usize];
    let (first, count) = (usize::from(first), usize::from(count));
    // Log-likelihoods in the table's unit (eighths of a nat, negated), each less the same
    // constant for every language (what a position costs a language that lacks all its
    // n-grams): only their differences count.
    let mut totals = [0i64; GROUP];
    let mut word: Vec<char> = Vec::with_capacity(32);
    let mut scored = 0u32;
    // Tokens with letters of the script read so far (a lead counts only after a few).
    let mut words = 0u32;
    let mut scored_before = 0u32;
    // Arabic and Devanagari letters have no case: the Unicode tables need not be asked.
    let caseless = matches!(script, Script::Arabic | Script::Devanagari);
    WORDS.with_borrow_mut(|cache| {
        // Scores a word; returns its letters.
        let mut flush = |word: &mut Vec<char>, totals: &mut [i64; GROUP]| {
            cache.add(model, script, word, totals);
            let letters = word.len() as u32;
            word.clear();
            letters
        };
        for token in text.split_whitespace().filter(keep) {
            for c in token.chars() {
                let class = class(c);
                if class == Class::Letter(script) {
                    if c.is_ascii() {
                        word.push(c.to_ascii_lowercase());
                    } else if caseless {
                        word.push(c);
                    } else {
                        word.extend(c.to_lowercase());
                    }
                } else if class == Class::OtherLetter {
                    // Combining marks and letters outside the table's ranges stay in the word.
                    word.push(c);
                } else if !word.is_empty() {
                    scored = scored.saturating_add(flush(&mut word, &mut totals));
                }
            }
            if !word.is_empty() {
                scored = scored.saturating_add(flush(&mut word, &mut totals));
            }
            if scored > scored_before {
                words += 1;
                scored_before = scored;
                if words >= MIN_WORDS && margin(&totals[..count]) >= decisive {
                    break;
                }
            }
        }
    });
    if scored == 0 || count == 0 {
        return Language::UNDETERMINED;
    }
    let totals = &totals[..count];
    // The candidate with the highest log-likelihood (the lowest cost); confidence from a
    // softmax over the candidates, with the likelihood divided by the number of orders (the
    // n-grams of one position are far from independent).
    let mut best = 0;
    for (id, total) in totals.iter().enumerate() {
        if *total < totals[best] {
            best = id;
        }
    }
    // Nothing told the candidates apart (letters no language's table has): no answer.
    if count > 1 && totals.iter().all(|total| *total == totals[best]) {
        return Language::UNDETERMINED;
    }
    let mut denominator = 0f64;
    for total in totals {
        let nats = (totals[best] - total) as f32 * 0.125;
        denominator += f64::from(nats / MAX_ORDER as f32).exp();
    }
    Language {
        code: model.codes[first + best],
        confidence: (1.0 / denominator) as f32,
    }
}

/// A lead after which the rest of a text is not read, in the table's unit: 100 nats, where
/// the runner-up's share of the confidence is e^-20. Of 223,731 texts (lingua's test sets and
/// CrisisLexT6), 4 are labelled otherwise than after reading every word, none of whose
/// languages the detector knows; the accuracy on lingua's test sets is unchanged.
const DECISIVE: i64 = 800;
/// Words read before a text can be decided early.
const MIN_WORDS: u32 = 3;

/// How far the best candidate leads the second, in the table's unit.
fn margin(totals: &[i64]) -> i64 {
    if totals.len() < 2 {
        // One candidate: nothing to lead, and nothing to decide early.
        return 0;
    }
    let (mut best, mut second) = (i64::MAX, i64::MAX);
    for &total in totals {
        if total < best {
            second = best;
            best = total;
        } else if total < second {
            second = total;
        }
    }
    second.saturating_sub(best)
}

/// Words at most this long (in UTF-8 bytes) are remembered with their scores.
const CACHED_BYTES: usize = 30;
/// Words remembered per thread (a power of two).
const CACHED_WORDS: usize = 1 << 15;

thread_local! {
    /// Each thread's memory of the words it scored last: a stream repeats its words (Zipf's
    /// law), and a word's score is the same every time.
    static WORDS: std::cell::RefCell<WordCache> = std::cell::RefCell::new(WordCache::new());
}

/// A direct-mapped cache from a word (its script and lowercased letters) to its n-grams' cost
/// per language of the script. Exact: a word is looked up by its bytes, not its hash.
struct WordCache {
    /// Per entry, 32 bytes read as four words: the script (0 for an empty entry), the
    /// length, then the word's bytes, zero-padded.
    keys: Vec<[u64; 4]>,
    costs: Vec<[i32; GROUP]>,
}

impl WordCache {
    fn new() -> WordCache {
        WordCache {
            keys: vec![[0; 4]; CACHED_WORDS],
            costs: vec![[0; GROUP]; CACHED_WORDS],
        }
    }

    /// Adds the cost of `word` for each language of `script` to `totals`.
    fn add(&mut self, model: &Model, script: Script, word: &[char], totals: &mut [i64; GROUP]) {
        let mut bytes = [0u8; CACHED_BYTES + 2];
        bytes[0] = script as u8 + 1;
        let mut length = 0;
        for c in word {
            let size = c.len_utf8();
            if length + size > CACHED_BYTES {
                length = usize::MAX;
                break;
            }
            c.encode_utf8(&mut bytes[2 + length..]);
            length += size;
        }
        if length == usize::MAX {
            // Too long to remember: scored in pieces whose sums cannot overflow.
            let mut costs = [0i32; GROUP];
            score_word(model, script, word, &mut costs, totals);
            add_costs(totals, &costs);
            return;
        }
        bytes[1] = length as u8;
        let key: [u64; 4] = std::array::from_fn(|i| {
            let mut word = [0u8; 8];
            word.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
            u64::from_le_bytes(word)
        });
        let mixed = key.iter().fold(0u64, |hash, word| {
            (hash ^ word).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        });
        let slot = (mixed >> 32) as usize & (CACHED_WORDS - 1);
        if self.keys[slot] != key {
            let costs = &mut self.costs[slot];
            *costs = [0; GROUP];
            let mut unused = [0i64; GROUP];
            score_word(model, script, word, costs, &mut unused);
            self.keys[slot] = key;
        }
        add_costs(totals, &self.costs[slot]);
    }
}

fn add_costs(totals: &mut [i64; GROUP], costs: &[i32; GROUP]) {
    for (total, cost) in totals.iter_mut().zip(costs) {
        *total += i64::from(*cost);
    }
}

/// Positions of a word scored before its costs are moved into the 64-bit totals: 65,536
/// positions cost at most 65,536 x 5 x 5 x 255 in 32 bits.
const POSITIONS_PER_FLUSH: usize = 1 << 16;

/// The cost of the word's n-grams for each language of `script`, as lingua scores them: at
/// every position, each order from 1 to 5 adds the log-probability of the longest n-gram
/// (of that order or shorter) the language has there, or `MISSING` if it has none. Less the
/// constant `MISSING` times the orders, which every language pays alike: a language whose
/// n-gram of order k is worth `v` saves `MISSING - v` for order k and every longer order, up
/// to the next n-gram it has. Words of up to `POSITIONS_PER_FLUSH` letters are left in
/// `costs`; longer ones are moved into `totals` as they go.
fn score_word(
    model: &Model,
    script: Script,
    word: &[char],
    costs: &mut [i32; GROUP],
    totals: &mut [i64; GROUP],
) {
    let (first, count) = model.groups[script as usize];
    let (first, count) = (usize::from(first), usize::from(count));
    let apply = |language: u8,
                 value: i32,
                 current: &mut [i32; GROUP],
                 costs: &mut [i32; GROUP],
                 remaining: i32| {
        let index = usize::from(language).wrapping_sub(first);
        if index < count {
            costs[index] += (value - current[index]) * remaining;
            current[index] = value;
        }
    };
    for batch_start in (0..word.len()).step_by(BATCH) {
        if batch_start > 0 && batch_start % POSITIONS_PER_FLUSH == 0 {
            for (total, cost) in totals.iter_mut().zip(costs.iter_mut()) {
                *total += i64::from(std::mem::take(cost));
            }
        }
        let starts = batch_start..(batch_start + BATCH).min(word.len());
        // Every n-gram's hash first, then every first slot read, then the probes: loads
        // that do not wait on one another, so that their cache misses overlap.
        let mut hashes = [[0u64; MAX_ORDER]; BATCH];
        for (position, start) in starts.clone().enumerate() {
            let orders = (word.len() - start).min(MAX_ORDER);
            let mut hash = fnv::OFFSET;
            for order in 0..orders {
                hash = fnv::extend_char(hash, word[start + order]);
                hashes[position][order] = hash;
            }
        }
        let mut entries = [[0u64; MAX_ORDER]; BATCH];
        for (position, start) in starts.clone().enumerate() {
            let orders = (word.len() - start).min(MAX_ORDER);
            for order in 0..orders {
                entries[position][order] =
                    model.slots[hashes[position][order] as usize & model.mask];
            }
        }
        for (position, start) in starts.clone().enumerate() {
            let orders = (word.len() - start).min(MAX_ORDER);
            // What each language is charged at the current order, in the table's unit.
            let mut current = [MISSING; GROUP];
            for order in 0..orders {
                let entry = model.entry(hashes[position][order], entries[position][order]);
                let remaining = (orders - order) as i32;
                match model.row(entry) {
                    Row::One(language, quantized) => {
                        apply(
                            language,
                            i32::from(quantized),
                            &mut current,
                            costs,
                            remaining,
                        );
                    }
                    Row::Many(row) if !row.is_empty() => {
                        for (language, quantized) in row {
                            apply(
                                *language,
                                i32::from(*quantized),
                                &mut current,
                                costs,
                                remaining,
                            );
                        }
                    }
                    // No language has this n-gram (`ABSENT` reads as an empty row), nor (nearly
                    // always) any longer one: every remaining order backs off to what the
                    // languages have now.
                    Row::Many(_) => break,
                }
            }
        }
    }
}

/// Positions whose look-ups are issued together.
const BATCH: usize = 8;

/// The languages the detector knows, as ISO 639-1 codes.
pub fn languages() -> Vec<&'static str> {
    let mut codes = model().codes.clone();
    for script in ALL_SCRIPTS {
        if let Some(code) = script.sole_language()
            && !codes.contains(&code)
        {
            codes.push(code);
        }
    }
    codes.push("ps");
    codes.sort_unstable();
    codes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_loads_and_knows_its_languages() {
        let languages = languages();
        assert!(languages.len() >= 50, "{languages:?}");
        for code in ["fa", "ar", "ur", "ru", "uk", "bg", "es", "pt", "it", "en"] {
            assert!(languages.contains(&code), "{code} missing");
        }
    }

    #[test]
    fn hash_is_fnv1a_over_utf8() {
        // Pinned: the table generator hashes the n-gram's bytes with the same function.
        let by_chars = "شد".chars().fold(fnv::OFFSET, fnv::extend_char);
        assert_eq!(by_chars, fnv::extend(fnv::OFFSET, "شد".as_bytes()));
        assert_eq!(
            "a".chars().fold(fnv::OFFSET, fnv::extend_char),
            0xaf63_dc4c_8601_ec8c
        );
    }

    #[test]
    fn tells_apart_languages_that_share_a_script() {
        let cases = [
            (
                "fa",
                "مردم در خیابان‌های تهران برای اعتراض به نتایج انتخابات جمع شده‌اند",
            ),
            (
                "ar",
                "تجمع المتظاهرون في شوارع العاصمة للاحتجاج على نتائج الانتخابات",
            ),
            (
                "ur",
                "لوگ انتخابات کے نتائج کے خلاف احتجاج کے لیے سڑکوں پر جمع ہو گئے ہیں",
            ),
            (
                "ru",
                "Люди вышли на улицы, чтобы протестовать против результатов выборов",
            ),
            (
                "uk",
                "Люди вийшли на вулиці, щоб протестувати проти результатів виборів",
            ),
            (
                "bg",
                "Хората излязоха по улиците, за да протестират срещу резултатите",
            ),
            (
                "es",
                "La gente salió a las calles para protestar contra los resultados",
            ),
            (
                "pt",
                "As pessoas saíram às ruas para protestar contra os resultados",
            ),
            (
                "it",
                "La gente è scesa in piazza per protestare contro i risultati",
            ),
            (
                "en",
                "People took to the streets to protest against the election results",
            ),
        ];
        for (expected, text) in cases {
            let language = detect(text);
            assert_eq!(language.code, expected, "{text}: {language:?}");
            assert!(language.confidence > 0.5, "{text}: {language:?}");
        }
    }

    #[test]
    fn letters_of_the_common_blocks_are_told_as_the_unicode_tables_tell_them() {
        for c in ('\u{0}'..='\u{6FF}').filter(|c| Script::of(*c).is_some()) {
            let expected = c.is_alphabetic() || crate::is_mark(c);
            // The Cyrillic block's enclosing and combining signs count as marks here.
            if (0x483..=0x489).contains(&(c as u32)) {
                continue;
            }
            assert_eq!(letter_script(c).is_some(), expected, "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn pashto_by_its_own_letters() {
        // "I live in Kabul and work at the university."
        let language = detect("زه په کابل کې اوسېږم او په پوهنتون کې کار کوم");
        assert_eq!(language.code, "ps", "{language:?}");
        // Persian and Urdu have none of those letters.
        assert_eq!(
            detect("من در کابل زندگی می‌کنم و در دانشگاه کار می‌کنم").code,
            "fa"
        );
        assert_eq!(
            detect("میں کابل میں رہتا ہوں اور یونیورسٹی میں کام کرتا ہوں").code,
            "ur"
        );
        assert!(languages().contains(&"ps"));
    }

    #[test]
    fn scripts_with_one_language_and_no_letters() {
        assert_eq!(detect("Καλημέρα σας").code, "el");
        assert_eq!(detect("こんにちは世界").code, "ja");
        assert_eq!(detect("你好世界").code, "zh");
        assert_eq!(detect("안녕하세요").code, "ko");
        assert_eq!(detect("12:30 !!! 🔥🔥").code, "und");
        // Digits, punctuation and symbols inside a script's block are not its letters.
        for text in ["5×3", "؟؟ ٣٤", "・・・", "฿500"] {
            assert_eq!(detect(text).code, "und", "{text}");
        }
        // Accents written as combining marks stay in their words.
        assert_eq!(
            detect("le cafe\u{301} est ferme\u{301} aujourd'hui").code,
            "fr"
        );
        assert_eq!(detect("").code, "und");
        // Mentions and links say nothing about the language.
        assert_eq!(detect("@someone https://t.co/abc").code, "und");
    }

    /// The table as stored, read into a plain map from each n-gram to its (language code,
    /// quantized log-probability) pairs: nothing of the fast table's layout (slots,
    /// fingerprints, inline rows, remapped ids).
    struct PlainTable {
        codes: Vec<&'static str>,
        ngrams: std::collections::HashMap<Vec<u8>, Vec<(&'static str, u8)>>,
    }

    fn plain_table() -> &'static PlainTable {
        static TABLE: OnceLock<PlainTable> = OnceLock::new();
        TABLE.get_or_init(|| {
            let raw = zstd::decode_all(MODEL).expect("the table decompresses");
            let mut reader = Reader::new(&raw);
            reader.take(12).expect("the header");
            let languages = usize::from(reader.u8().expect("a count"));
            let codes: Vec<&'static str> = (0..languages)
                .map(|_| static_code(reader.take(2).expect("a code")).expect("a known code"))
                .collect();
            let count = reader.u32().expect("a count") as usize;
            let mut ngrams = std::collections::HashMap::with_capacity(count);
            let mut ngram: Vec<u8> = Vec::new();
            for _ in 0..count {
                let shared = usize::from(reader.u8().expect("front coding"));
                let suffix = usize::from(reader.u8().expect("front coding"));
                ngram.truncate(shared);
                ngram.extend_from_slice(reader.take(suffix).expect("the n-gram"));
                let length = reader.u8().expect("a row length");
                let row = (0..length)
                    .map(|_| {
                        let language = usize::from(reader.u8().expect("a language"));
                        (codes[language], reader.u8().expect("a value"))
                    })
                    .collect();
                ngrams.insert(ngram.clone(), row);
            }
            PlainTable { codes, ngrams }
        })
    }

    /// The scoring as lingua does it, written plainly from the original code (floating-point
    /// log-probabilities, every order's best value added for every language, hashtags left
    /// out unless nothing else is left, no memory of words, whole text read): the reference the
    /// fast scoring must equal.
    fn reference(text: &str) -> Language {
        let table = plain_table();
        let outside_hashtags = text
            .split_whitespace()
            .filter(|token| !is_noise(token) && !token.starts_with('#'))
            .any(|token| token.chars().any(|c| letter_script(c).is_some()));
        let keep =
            |token: &&str| !is_noise(token) && (!outside_hashtags || !token.starts_with('#'));
        let per_script = text
            .split_whitespace()
            .filter(keep)
            .flat_map(str::chars)
            .filter_map(letter_script)
            .fold([0u32; SCRIPTS], |mut counts, script| {
                counts[script as usize] += 1;
                counts
            });
        // No letter of a script the detector knows (ə alone, or a script it has no model
        // of): no language.
        if per_script.iter().all(|count| *count == 0) {
            return Language::UNDETERMINED;
        }
        let (best, _) = per_script
            .iter()
            .enumerate()
            .max_by_key(|(index, count)| (**count, std::cmp::Reverse(*index)))
            .expect("scripts");
        let script = ALL_SCRIPTS[best];
        // In the table's order, which breaks ties.
        let candidates: Vec<&str> = table
            .codes
            .iter()
            .copied()
            .filter(|code| Script::of_language(code) == Some(script))
            .collect();
        let mut totals = vec![0f64; candidates.len()];
        let mut words = Vec::new();
        let mut word = Vec::new();
        for c in text
            .split_whitespace()
            .filter(keep)
            .flat_map(|t| t.chars().chain([' ']))
        {
            match class(c) {
                Class::Letter(s) if s == script => word.extend(c.to_lowercase()),
                Class::OtherLetter => word.push(c),
                _ => words.push(std::mem::take(&mut word)),
            }
        }
        for word in words.iter().filter(|word| !word.is_empty()) {
            for start in 0..word.len() {
                let mut best = vec![-16f64; candidates.len()];
                let orders = (word.len() - start).min(MAX_ORDER);
                for order in 0..orders {
                    let ngram: String = word[start..=start + order].iter().collect();
                    let row = table
                        .ngrams
                        .get(ngram.as_bytes())
                        .filter(|row| !row.is_empty());
                    let Some(row) = row else {
                        for (total, value) in totals.iter_mut().zip(&best) {
                            *total += value * (orders - order) as f64;
                        }
                        break;
                    };
                    for (code, quantized) in row {
                        if let Some(at) = candidates.iter().position(|c| c == code) {
                            best[at] = -f64::from(*quantized) / 8.0;
                        }
                    }
                    for (total, value) in totals.iter_mut().zip(&best) {
                        *total += value;
                    }
                }
            }
        }
        let tied = totals.len() > 1 && totals.iter().all(|total| *total == totals[0]);
        if words.iter().all(Vec::is_empty) || totals.is_empty() || tied {
            return Language::UNDETERMINED;
        }
        let top =
            (0..totals.len()).fold(0, |top, at| if totals[at] > totals[top] { at } else { top });
        let denominator: f64 = totals
            .iter()
            .map(|total| ((total - totals[top]) / MAX_ORDER as f64).exp())
            .sum();
        Language {
            code: candidates[top],
            confidence: (1.0 / denominator) as f32,
        }
    }

    fn texts_to_compare() -> Vec<String> {
        let mut texts: Vec<String> = [
            "People took to the streets to protest against the election results",
            "مردم در خیابان‌های تهران برای اعتراض به نتایج انتخابات جمع شده‌اند",
            "Люди вийшли на вулиці, щоб протестувати проти результатів виборів",
            "La gente è scesa in piazza per protestare contro i risultati",
            "le cafe\u{301} est ferme\u{301} aujourd'hui",
            "Straße über Öffnungszeiten",
            "मुंबई में बारिश",
            "a",
            "ə",
            "əʻ ə",
        ]
        .iter()
        .map(|text| text.to_string())
        .collect();
        // Words longer than the cache keeps, and longer than one batch of look-ups.
        texts.push("internationalization antidisestablishmentarianism".repeat(3));
        // Hashtags are read only when nothing else is.
        texts.push("#Tehran #protests #election".into());
        texts.push("#Tehran #protests Menschen gehen auf die Straße".into());
        texts.push("Les gens sont dans la rue #IranElection #Tehran".into());
        let Some(root) = starling_testkit::shared_data("langid/lingua") else {
            return texts;
        };
        for folder in ["word-pairs", "sentences"] {
            for code in [
                "en", "fa", "ar", "ur", "ru", "uk", "es", "pt", "it", "de", "tr",
            ] {
                let path = root.join(folder).join(format!("{code}.txt"));
                let lines = std::fs::read_to_string(&path).expect("a lingua test file");
                texts.extend(lines.lines().take(60).map(str::to_owned));
            }
        }
        texts
    }

    #[test]
    fn fast_scoring_equals_the_plain_scoring() {
        let texts = texts_to_compare();
        // Twice: the second time every word comes from the thread's memory of words.
        for pass in 0..2 {
            for text in &texts {
                let fast = detect_deciding_at(text, i64::MAX);
                let plain = reference(text);
                assert_eq!(fast.code, plain.code, "pass {pass}: {text}");
                assert!(
                    (fast.confidence - plain.confidence).abs() < 1e-5,
                    "pass {pass}: {text}: {fast:?} vs {plain:?}"
                );
            }
        }
    }

    /// Characters random texts are made of: letters of the scored scripts (accented Latin,
    /// Cyrillic, Arabic and Persian letters, Devanagari; ə and ʻ, letters outside the scripts'
    /// blocks that some languages' n-grams have), a combining accent, a Cyrillic
    /// combining sign, ZWNJ, digits, punctuation, emoji, and what marks hashtags, mentions and
    /// links.
    const ALPHABET: &[char] = &[
        'a', 'e', 'i', 'o', 'n', 's', 't', 'r', 'h', 'l', 'é', 'ç', 'ß', 'ø', 'ą', 'İ', 'ı', 'з',
        'и', 'ї', 'ъ', 'щ', 'ا', 'ل', 'ی', 'ي', 'ک', 'ك', 'پ', 'ه', 'ن', 'ب', 'न', 'म', 'स', '्',
        '\u{301}', '\u{483}', '\u{200c}', '1', '.', ',', '!', '🔥', '#', '@', ':', '/', 'ə', 'ə',
        'ʻ', ' ', ' ', ' ', ' ',
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        #[test]
        fn random_texts_are_scored_as_the_plain_scoring_scores_them(
            indexes in proptest::collection::vec(0..ALPHABET.len(), 0..120),
        ) {
            let text: String = indexes.iter().map(|i| ALPHABET[*i]).collect();
            let fast = detect_deciding_at(&text, i64::MAX);
            let plain = reference(&text);
            proptest::prop_assert_eq!(fast.code, plain.code, "{:?}", text);
            proptest::prop_assert!((fast.confidence - plain.confidence).abs() < 1e-5);
            // The early stop answers too, and nothing panics.
            let _ = detect(&text);
        }
    }

    #[test]
    fn a_decisive_lead_ends_the_reading_without_changing_clear_answers() {
        for text in texts_to_compare() {
            if text.split_whitespace().count() < 8 {
                continue;
            }
            let whole = detect_deciding_at(&text, i64::MAX);
            let early = detect(&text);
            if whole.confidence > 0.99 {
                assert_eq!(early.code, whole.code, "{text}");
            }
        }
        assert_eq!(margin(&[5, 900, 3, 40]), 2);
        assert_eq!(margin(&[7]), 0);
    }

    #[test]
    fn a_word_longer_than_a_flush_is_scored_as_lingua_scores_it() {
        // 70,000 positions: costs move into the 64-bit totals once on the way.
        let word = "tehranbazaar".repeat(70_000 / 12);
        assert!(word.len() > POSITIONS_PER_FLUSH);
        let fast = detect(&word);
        let plain = reference(&word);
        assert_eq!(fast.code, plain.code);
        assert!(
            (fast.confidence - plain.confidence).abs() < 1e-5,
            "{fast:?} {plain:?}"
        );
    }
}
