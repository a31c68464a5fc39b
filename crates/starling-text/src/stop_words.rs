//! Stop words: a language's function words ("from", "that", "with"), which say nothing of what
//! a post is about. The lists are NLTK's (23 languages, through the `stop-words` crate): short
//! lists of function words only. Stopwords ISO's longer lists were not taken: they hold words a
//! crisis is made of ("fire", "help", "home" in English). Persian has no NLTK list; most of its
//! function words are shorter than the four letters the burst detector counts.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

/// The ISO 639-1 codes of the languages with an NLTK list.
const LANGUAGES: [&str; 23] = [
    "ar", "az", "da", "de", "el", "en", "es", "fi", "fr", "hu", "id", "it", "kk", "ne", "no", "pt",
    "ro", "ru", "sl", "sv", "tg", "tr", "nl",
];

fn lists() -> &'static HashMap<&'static str, HashSet<String>> {
    static LISTS: OnceLock<HashMap<&'static str, HashSet<String>>> = OnceLock::new();
    LISTS.get_or_init(|| {
        LANGUAGES
            .iter()
            .map(|lang| {
                let words = stop_words::get(*lang)
                    .iter()
                    .map(|word| word.trim())
                    .filter(|word| !word.is_empty())
                    .map(crate::normalize_word)
                    .collect();
                (*lang, words)
            })
            .collect()
    })
}

/// Whether `word`, normalized as [`crate::analyze`] normalizes it, is a stop word of `lang`
/// (ISO 639-1, lowercase; a language without a list has none).
pub fn is_stop_word(lang: &str, word: &str) -> bool {
    lists().get(lang).is_some_and(|words| words.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_words_are_stop_words_in_their_language_only() {
        assert!(is_stop_word("en", "from"));
        assert!(is_stop_word("en", "with"));
        // Normalized as analysis normalizes words: French "été" loses its accents.
        assert!(is_stop_word("fr", &crate::normalize_word("été")));
        assert!(is_stop_word("ar", &crate::normalize_word("الذي")));
        assert!(is_stop_word("es", "para"));
        // A crisis's words are none.
        for word in ["fire", "help", "home", "flood", "police", "explosion"] {
            assert!(!is_stop_word("en", word), "{word}");
        }
        // A word is a stop word of its own language, not of another; no list, no stop words.
        assert!(!is_stop_word("de", "from"));
        assert!(!is_stop_word("fa", "from"));
        assert!(!is_stop_word("", "with"));
    }

    #[test]
    fn every_listed_language_has_a_list() {
        for lang in LANGUAGES {
            assert!(lists()[lang].len() >= 50, "{lang}: {}", lists()[lang].len());
        }
    }
}
