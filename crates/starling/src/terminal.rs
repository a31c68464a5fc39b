//! Showing untrusted text and numbers on a terminal.

/// `text` with every control character, bidirectional override and isolate made visible as
/// `\u{..}`: post text is hostile, and a terminal obeys such characters.
pub fn safe(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    for character in text.chars() {
        let dangerous = character.is_control()
            || matches!(character, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}');
        if dangerous {
            shown.push_str(&format!("\\u{{{:x}}}", u32::from(character)));
        } else {
            shown.push(character);
        }
    }
    shown
}

/// `value` as one line of JSON: what every command's `--json` prints.
pub fn json_line(
    out: &mut dyn std::io::Write,
    value: &impl serde::Serialize,
) -> anyhow::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)?;
    Ok(())
}

/// A count with thousands separators: `1,234,567`.
pub fn count(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_characters_are_made_visible() {
        assert_eq!(
            safe("a\u{202e}b\nc\u{1b}[31m"),
            "a\\u{202e}b\\u{a}c\\u{1b}[31m"
        );
        // Persian with its zero-width non-joiner is left alone.
        assert_eq!(safe("می\u{200c}روم"), "می\u{200c}روم");
    }

    #[test]
    fn counts_are_grouped() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }
}
