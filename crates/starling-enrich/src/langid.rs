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

use std::sync::OnceLock;

use crate::{Reader, fnv};

/// The compressed table written by `tools/langid-model/regenerate.sh`.
const MODEL: &[u8] = include_bytes!("../models/langid.bin.zst");

/// Log-probability charged for a character a language's model lacks altogether.
const MISSING: f32 = -16.0;
/// Orders of the character n-grams scored.
const MAX_ORDER: usize = 5;
/// Room for every language of the table in one fixed-size score array.
const WIDTH: usize = 64;

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
    codes: Vec<&'static str>,
    /// Open addressing, one word per slot so that a probe costs one cache line: the hash's
    /// high 32 bits (0 for an empty slot), then the row's offset in `rows` (24 bits) and
    /// length (8 bits).
    slots: Vec<u64>,
    /// Rows of (language id, log-probability in eighths of a nat, negated).
    rows: Vec<(u8, u8)>,
    mask: usize,
    /// Per script, the languages scored by n-grams (bit per language id).
    candidates: [u64; SCRIPTS],
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
        let mut codes = Vec::with_capacity(languages);
        for _ in 0..languages {
            codes.push(static_code(reader.take(2)?)?);
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
            let offset = rows.len();
            if offset >= 1 << 24 {
                return Err("too many entries".into());
            }
            for _ in 0..length {
                let language = reader.u8()?;
                let quantized = reader.u8()?;
                if usize::from(language) >= languages {
                    return Err(format!("language id {language} out of range"));
                }
                rows.push((language, quantized));
            }
            let fingerprint = fingerprint(hash);
            let mut slot = hash as usize & mask;
            while slots[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            slots[slot] = u64::from(fingerprint) << 32 | (offset as u64) << 8 | u64::from(length);
        }
        let mut candidates = [0u64; SCRIPTS];
        for (id, code) in codes.iter().enumerate() {
            if let Some(script) = Script::of_language(code) {
                candidates[script as usize] |= 1 << id;
            }
        }
        Ok(Model {
            codes,
            slots,
            rows,
            mask,
            candidates,
        })
    }

    fn row(&self, hash: u64) -> &[(u8, u8)] {
        let fingerprint = fingerprint(hash);
        let mut slot = hash as usize & self.mask;
        loop {
            let found = self.slots[slot];
            if found == 0 {
                return &[];
            }
            if (found >> 32) as u32 == fingerprint {
                let offset = (found as u32 >> 8) as usize;
                return &self.rows[offset..offset + (found & 0xFF) as usize];
            }
            slot = (slot + 1) & self.mask;
        }
    }
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
    let words_outside_hashtags = text
        .split_whitespace()
        .filter(|token| !is_noise(token) && !token.starts_with('#'))
        .any(|token| token.chars().any(|c| letter_script(c).is_some()));
    let keep =
        |token: &&str| !is_noise(token) && (!words_outside_hashtags || !token.starts_with('#'));
    let model = model();
    // Pass 1: letters per script, to pick the text's script.
    let mut per_script = [0u32; SCRIPTS];
    for token in text.split_whitespace().filter(keep) {
        for c in token.chars() {
            if let Some(script) = letter_script(c) {
                per_script[script as usize] += 1;
            }
        }
    }
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
    score(model, text, script, &keep)
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
fn letter_script(c: char) -> Option<Script> {
    let script = Script::of(c)?;
    // Combining marks count: a virama or a haraka is part of its word. The common blocks
    // are answered without the Unicode tables.
    static ARABIC: OnceLock<[bool; 256]> = OnceLock::new();
    let letter = match c as u32 {
        0..=0x7F => c.is_ascii_alphabetic(),
        0xD7 | 0xF7 => false,
        0xC0..=0x24F => true,
        0x482 => false,
        0x400..=0x52F => true,
        code @ 0x600..=0x6FF => ARABIC.get_or_init(|| {
            std::array::from_fn(|i| {
                char::from_u32(0x600 + i as u32)
                    .is_some_and(|c| c.is_alphabetic() || crate::is_mark(c))
            })
        })[(code - 0x600) as usize],
        _ => c.is_alphabetic() || crate::is_mark(c),
    };
    letter.then_some(script)
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
fn score(model: &Model, text: &str, script: Script, keep: &dyn Fn(&&str) -> bool) -> Language {
    let candidates = model.candidates[script as usize];
    let mut totals = [0f32; WIDTH];
    let mut word: Vec<char> = Vec::with_capacity(32);
    let mut scored = 0u32;
    let mut flush = |word: &mut Vec<char>, totals: &mut [f32; WIDTH]| {
        scored += score_word(model, word, totals);
        word.clear();
    };
    for token in text.split_whitespace().filter(keep) {
        for c in token.chars() {
            if letter_script(c) == Some(script) {
                if c.is_ascii() {
                    word.push(c.to_ascii_lowercase());
                } else {
                    word.extend(c.to_lowercase());
                }
            } else if !c.is_ascii()
                && Script::of(c).is_none()
                && (c.is_alphabetic() || crate::is_mark(c))
            {
                // Combining marks and letters outside the table's ranges stay in the word.
                word.push(c);
            } else if !word.is_empty() {
                flush(&mut word, &mut totals);
            }
        }
        if !word.is_empty() {
            flush(&mut word, &mut totals);
        }
    }
    if scored == 0 || candidates == 0 {
        return Language::UNDETERMINED;
    }
    // The candidate with the highest log-likelihood; confidence from a softmax over the
    // candidates, with the likelihood divided by the number of orders (the n-grams of one
    // position are far from independent).
    let mut best = usize::MAX;
    for id in 0..model.codes.len() {
        if candidates & (1 << id) != 0 && (best == usize::MAX || totals[id] > totals[best]) {
            best = id;
        }
    }
    // Nothing told the candidates apart (letters no language's table has): no answer.
    let all_tied = (0..model.codes.len())
        .filter(|id| candidates & (1 << id) != 0)
        .all(|id| totals[id] == totals[best]);
    if all_tied && candidates.count_ones() > 1 {
        return Language::UNDETERMINED;
    }
    let mut denominator = 0f64;
    for id in 0..model.codes.len() {
        if candidates & (1 << id) != 0 {
            denominator += f64::from((totals[id] - totals[best]) / MAX_ORDER as f32).exp();
        }
    }
    Language {
        code: model.codes[best],
        confidence: (1.0 / denominator) as f32,
    }
}

/// Adds the word's n-gram log-probabilities to `totals`; returns the positions scored.
fn score_word(model: &Model, word: &[char], totals: &mut [f32; WIDTH]) -> u32 {
    for start in 0..word.len() {
        let orders = (word.len() - start).min(MAX_ORDER);
        // The hashes of every order first, then the look-ups: independent loads that the
        // processor overlaps, where hash-then-look-up-then-decide would wait on each miss.
        let mut hashes = [0u64; MAX_ORDER];
        let mut hash = fnv::OFFSET;
        for (order, slot) in hashes.iter_mut().enumerate().take(orders) {
            hash = fnv::extend_char(hash, word[start + order]);
            *slot = hash;
        }
        let rows: [&[(u8, u8)]; MAX_ORDER] = std::array::from_fn(|order| {
            if order < orders {
                model.row(hashes[order])
            } else {
                &[]
            }
        });
        let mut best = [MISSING; WIDTH];
        for (order, row) in rows.iter().enumerate().take(orders) {
            if row.is_empty() {
                // No language has this n-gram, nor (nearly always) any longer one: every
                // remaining order backs off to what the languages have now.
                let remaining = (orders - order) as f32;
                for (total, value) in totals.iter_mut().zip(best.iter()) {
                    *total += value * remaining;
                }
                break;
            }
            for (language, quantized) in row.iter() {
                best[usize::from(*language)] = f32::from(*quantized) * -0.125;
            }
            for (total, value) in totals.iter_mut().zip(best.iter()) {
                *total += value;
            }
        }
    }
    word.len() as u32
}

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
}
