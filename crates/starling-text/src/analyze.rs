//! Text analysis for search and matching: words cut and normalized so that the forms a
//! script allows for one word all meet.
//!
//! One analyzer serves the archive's index and the standing-query matcher, so that a query
//! finds the same posts in both. What it does, token by token:
//! - compatibility forms folded (NFKC: full-width Latin, ligatures, Arabic presentation forms);
//! - lowercase; Latin, Greek and Cyrillic diacritics removed (`Teherán` = `teheran`);
//! - Arabic script: harakat and tatweel removed, Arabic yeh and alef maksura written as Persian
//!   yeh, Arabic kaf as Persian kaf, hamza and madda marks removed (`أ`, `إ`, `آ` = `ا`), and the zero-width
//!   non-joiner removed (`می‌روم` = `میروم`), so Persian and Arabic spellings meet;
//! - Chinese, Japanese and Korean runs cut into overlapping pairs of characters.
//!
//! ```
//! use starling_text::analyze;
//! let words: Vec<String> = analyze("Teherán: می‌روم به تهران! #IranElection").into_iter().map(|token| token.text).collect();
//! assert_eq!(words, ["teheran", "میروم", "به", "تهران", "iranelection"]);
//! ```

use unicode_normalization::UnicodeNormalization;

/// One word of analyzed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The normalized word.
    pub text: String,
    /// Its position among the text's tokens, from 0 (for phrases and proximity).
    pub position: usize,
}

/// The tokens of `text`, normalized (see the module documentation).
pub fn analyze(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    let mut cjk = Vec::new();
    let flush_word = |word: &mut String, tokens: &mut Vec<Token>| {
        if !word.is_empty() {
            let normalized = normalize_word(word);
            if !normalized.is_empty() {
                let position = tokens.len();
                tokens.push(Token {
                    text: normalized,
                    position,
                });
            }
            word.clear();
        }
    };
    let flush_cjk = |cjk: &mut Vec<char>, tokens: &mut Vec<Token>| {
        if cjk.len() == 1 {
            let position = tokens.len();
            tokens.push(Token {
                text: cjk[0].to_string(),
                position,
            });
        } else {
            for pair in cjk.windows(2) {
                let position = tokens.len();
                tokens.push(Token {
                    text: pair.iter().collect(),
                    position,
                });
            }
        }
        cjk.clear();
    };
    // Most text is in NFKC already: then its characters are read as they are.
    let quick = unicode_normalization::is_nfkc_quick(text.chars())
        == unicode_normalization::IsNormalized::Yes;
    let mut composed = (!quick).then(|| text.nfkc());
    let mut plain = text.chars();
    let characters = std::iter::from_fn(|| match composed.as_mut() {
        Some(composed) => composed.next(),
        None => plain.next(),
    });
    for character in characters {
        if is_cjk(character) {
            flush_word(&mut word, &mut tokens);
            cjk.push(character);
        } else if is_word_character(character) {
            if !cjk.is_empty() {
                flush_cjk(&mut cjk, &mut tokens);
            }
            word.push(character);
        } else {
            flush_word(&mut word, &mut tokens);
            if !cjk.is_empty() {
                flush_cjk(&mut cjk, &mut tokens);
            }
        }
    }
    flush_word(&mut word, &mut tokens);
    if !cjk.is_empty() {
        flush_cjk(&mut cjk, &mut tokens);
    }
    tokens
}

/// The separator between the parts of a post (title, text) in one string: no phrase or
/// proximity match spans it.
pub const PART_BREAK: char = '\u{2029}';

/// The tokens of text made of parts joined by [`PART_BREAK`]: each part analyzed alone, and
/// one empty position left between parts so that phrases never span two.
pub fn analyze_parts(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut next_position = 0;
    for part in text.split(PART_BREAK) {
        let part_tokens = analyze(part);
        let count = part_tokens.len();
        tokens.extend(part_tokens.into_iter().map(|token| Token {
            position: token.position + next_position,
            ..token
        }));
        if count > 0 {
            next_position += count + 1;
        }
    }
    tokens
}

/// One word normalized as [`analyze`] does: for hashtags, handles and query terms.
pub fn normalize_word(word: &str) -> String {
    if word.is_ascii() {
        // NFKC, NFD and NFC leave ASCII as it is, and it has no marks to remove.
        return word.to_ascii_lowercase();
    }
    // Words repeat (Zipf): each thread remembers the last few thousand it normalized.
    const REMEMBERED: usize = 1 << 16;
    thread_local! {
        static SEEN: std::cell::RefCell<std::collections::HashMap<Box<str>, Box<str>>> =
            std::cell::RefCell::default();
    }
    SEEN.with(|seen| {
        if let Ok(mut seen) = seen.try_borrow_mut() {
            if let Some(normalized) = seen.get(word) {
                return normalized.to_string();
            }
            let normalized = normalize_uncached(word);
            if seen.len() >= REMEMBERED {
                seen.clear();
            }
            seen.insert(word.into(), normalized.as_str().into());
            normalized
        } else {
            normalize_uncached(word)
        }
    })
}

fn normalize_uncached(word: &str) -> String {
    let mut normalized = String::with_capacity(word.len());
    let mut previous_base = '\0';
    for character in word
        .nfkc()
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .nfd()
    {
        let is_mark = unicode_normalization::char::is_combining_mark(character);
        let kept = match character {
            // Zero-width non-joiner and joiner, tatweel: spelling, not meaning.
            '\u{200c}' | '\u{200d}' | '\u{0640}' => None,
            // Arabic harakat, madda and hamza marks (NFD splits أ إ آ ؤ ئ into a letter and
            // one of these), superscript alef, Quranic marks.
            '\u{064b}'..='\u{065f}' | '\u{0670}' | '\u{06d6}'..='\u{06ed}' => None,
            // Arabic yeh and alef maksura as Persian yeh; Arabic kaf as Persian kaf.
            '\u{064a}' | '\u{0649}' => Some('\u{06cc}'),
            '\u{0643}' => Some('\u{06a9}'),
            // Diacritics on Latin, Greek and Cyrillic letters.
            _ if is_mark && (previous_base as u32) < 0x0530 => None,
            other => Some(other),
        };
        if let Some(kept) = kept {
            if !is_mark {
                previous_base = kept;
            }
            normalized.push(kept);
        }
    }
    normalized.nfc().collect()
}

fn is_word_character(character: char) -> bool {
    character.is_alphanumeric()
        || unicode_normalization::char::is_combining_mark(character)
        || matches!(character, '\u{200c}' | '\u{200d}' | '\u{0640}' | '_')
}

/// Han, kana and Hangul, which are written without spaces between words.
fn is_cjk(character: char) -> bool {
    matches!(character as u32,
        0x3040..=0x30ff      // Hiragana, Katakana
        | 0x3400..=0x4dbf    // CJK extension A
        | 0x4e00..=0x9fff    // CJK unified ideographs
        | 0xac00..=0xd7af    // Hangul syllables
        | 0xf900..=0xfaff    // CJK compatibility ideographs
        | 0x20000..=0x2fa1f) // CJK extensions B-F
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        analyze(text).into_iter().map(|token| token.text).collect()
    }

    #[test]
    fn the_fast_paths_agree_with_the_full_normalization() {
        for word in [
            "Teherán",
            "IRAN",
            "ＩＲＡＮ",
            "ﻻ",
            "علي",
            "می‌روم",
            "İstanbul",
            "ÆON",
            "x",
            "ﬁre",
        ] {
            assert_eq!(normalize_word(word), normalize_uncached(word), "{word}");
            // Twice: the second answer comes from the thread's memory.
            assert_eq!(normalize_word(word), normalize_uncached(word), "{word}");
        }
        for text in ["plain ascii TEXT", "ＩＲＡＮ ﬁre", "تهران ﻻ", "Teherán"] {
            let expected: Vec<String> = text
                .nfkc()
                .collect::<String>()
                .split(' ')
                .map(normalize_uncached)
                .collect();
            assert_eq!(words(text), expected, "{text}");
        }
    }

    #[test]
    fn persian_and_arabic_spellings_meet() {
        // Arabic yeh and kaf against Persian ones; tatweel; harakat; ZWNJ.
        assert_eq!(normalize_word("علي"), normalize_word("علی"));
        assert_eq!(normalize_word("كتاب"), normalize_word("کتاب"));
        assert_eq!(normalize_word("تهــران"), "تهران");
        assert_eq!(normalize_word("مُحَمَّد"), "محمد");
        assert_eq!(normalize_word("می‌روم"), "میروم");
        assert_eq!(normalize_word("أحمد"), normalize_word("احمد"));
        assert_eq!(normalize_word("إيران"), normalize_word("ایران"));
    }

    #[test]
    fn latin_case_and_diacritics_fold_and_other_scripts_keep_their_marks() {
        assert_eq!(
            words("Teherán ÉLECTION İran ＩＲＡＮ"),
            ["teheran", "election", "iran", "iran"]
        );
        // Devanagari vowel signs are letters of the word, not decoration.
        assert_eq!(words("नमस्ते"), ["नमस्ते"]);
    }

    #[test]
    fn cjk_runs_become_overlapping_pairs() {
        assert_eq!(words("東京で地震"), ["東京", "京で", "で地", "地震"]);
        assert_eq!(words("a 東 b"), ["a", "東", "b"]);
    }

    #[test]
    fn positions_count_tokens() {
        let tokens = analyze("one, two... three");
        assert_eq!(
            tokens
                .iter()
                .map(|token| token.position)
                .collect::<Vec<_>>(),
            [0, 1, 2]
        );
    }
}
