//! HTML post content (Mastodon, feeds) to plain text: tags dropped, entities decoded.

/// Plain text of an HTML fragment: paragraphs and line breaks become newlines, other tags are
/// dropped (their text kept), character references are decoded, and the result is NFC.
///
/// This reads the markup Mastodon and feeds produce; it is not a general HTML parser, and its
/// output is text, never markup: whatever page shows it must still escape it.
///
/// ```
/// use starling_formats::html_to_text;
/// let html = r#"<p>Hi <a href="https://x.example/tags/a" class="mention hashtag">#<span>a</span></a> &amp; bye</p><p>2nd<br>line</p>"#;
/// assert_eq!(html_to_text(html), "Hi #a & bye\n\n2nd\nline");
/// ```
pub fn html_to_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(position) = rest.find(['<', '&']) {
        text.push_str(&rest[..position]);
        rest = &rest[position..];
        if rest.starts_with("<!--") {
            // A comment ends at `-->`, whatever it holds; an unclosed one hides the rest.
            rest = rest.find("-->").map_or("", |end| &rest[end + 3..]);
        } else if rest.starts_with('<') {
            let Some(end) = tag_end(rest) else {
                // An unclosed `<` is text, as browsers treat it.
                text.push_str(rest);
                rest = "";
                break;
            };
            let tag = rest[1..end].trim().to_ascii_lowercase();
            let name: String = tag
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            match name.as_str() {
                "br" => text.push('\n'),
                "p" | "div" | "li" | "blockquote" if tag.starts_with('/') => text.push_str("\n\n"),
                _ => {}
            }
            rest = &rest[end + 1..];
        } else {
            let (decoded, used) = decode_reference(rest);
            text.push_str(&decoded);
            rest = &rest[used..];
        }
    }
    text.push_str(rest);
    let trimmed = text.trim_matches(|c: char| c == '\n' || c == ' ');
    starling_model::nfc(trimmed)
}

/// The index of the `>` that closes the tag starting `text`, skipping any inside quoted
/// attribute values (`<a title="a>b">`).
fn tag_end(text: &str) -> Option<usize> {
    let mut quote = None;
    for (index, character) in text.char_indices().skip(1) {
        match (quote, character) {
            (None, '"' | '\'') => quote = Some(character),
            (Some(open), close) if open == close => quote = None,
            (None, '>') => return Some(index),
            _ => {}
        }
    }
    None
}

/// Decodes the character reference at the start of `text` (which starts with `&`); returns
/// the text it stands for and how many bytes it used. An unknown reference stays as written.
fn decode_reference(text: &str) -> (String, usize) {
    let end = text[1..]
        .find(|c: char| c == ';' || c.is_whitespace() || c == '&' || c == '<')
        .map(|index| index + 1);
    let Some(end) = end.filter(|end| text[*end..].starts_with(';') && *end <= 33) else {
        return ("&".into(), 1);
    };
    let name = &text[1..end];
    let character =
        if let Some(number) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
            u32::from_str_radix(number, 16)
                .ok()
                .and_then(char::from_u32)
        } else if let Some(number) = name.strip_prefix('#') {
            number.parse::<u32>().ok().and_then(char::from_u32)
        } else {
            match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                "zwnj" => Some('\u{200c}'),
                "zwj" => Some('\u{200d}'),
                "rlm" => Some('\u{200f}'),
                "lrm" => Some('\u{200e}'),
                "hellip" => Some('…'),
                "mdash" => Some('—'),
                "ndash" => Some('–'),
                _ => None,
            }
        };
    match character {
        // NUL and surrogates are not text.
        Some('\0') | None => (text[..=end].to_owned(), end + 1),
        Some(character) => (character.to_string(), end + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_text_drops_tags_and_decodes_references() {
        assert_eq!(
            html_to_text("<p>a &lt;b&gt; &#1601;&#x627; &bogus; & x</p>"),
            "a <b> فا &bogus; & x"
        );
        assert_eq!(html_to_text("<p>unclosed <b"), "unclosed <b");
        assert_eq!(
            html_to_text("&#0; &#xD800; &#99999999;"),
            "&#0; &#xD800; &#99999999;"
        );
        assert_eq!(html_to_text("می&zwnj;روم"), "می\u{200c}روم");
    }

    #[test]
    fn quoted_attributes_and_comments_never_leak_markup() {
        assert_eq!(
            html_to_text(r#"<p><a title="a>b" href='x>y'>link</a> <!-- <b>hidden</b> --> end</p>"#),
            "link  end"
        );
        assert_eq!(html_to_text("before <!-- never closed"), "before");
    }

    #[test]
    fn mastodon_links_come_back_whole() {
        let html = r#"<p><a href="https://news.example/a/very/long/path" rel="nofollow"><span class="invisible">https://</span><span class="ellipsis">news.example/a/very</span><span class="invisible">/long/path</span></a></p>"#;
        assert_eq!(html_to_text(html), "https://news.example/a/very/long/path");
    }
}
