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
    html_to_text_with_links(html).0
}

/// A link in HTML content: where it points, and the bytes of the plain text it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlLink {
    /// The `href`, references decoded.
    pub href: String,
    /// The plain text's byte range the anchor covered; `None` when normalization moved it.
    pub range: Option<(usize, usize)>,
}

/// As [`html_to_text`], with the links of `<a href>` anchors that are not Mastodon's mention
/// or hashtag links.
pub fn html_to_text_with_links(html: &str) -> (String, Vec<HtmlLink>) {
    let mut text = String::with_capacity(html.len());
    let mut links: Vec<(String, usize, usize)> = Vec::new();
    let mut open_link: Option<(String, usize)> = None;
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
                "a" if tag.starts_with('/') => {
                    if let Some((href, start)) = open_link.take() {
                        links.push((href, start, text.len()));
                    }
                }
                "a" => {
                    let original = &rest[1..end];
                    let class = attribute(original, "class").unwrap_or_default();
                    let is_entity = class
                        .split_whitespace()
                        .any(|name| name == "mention" || name == "hashtag");
                    open_link = attribute(original, "href")
                        .filter(|_| !is_entity)
                        .map(|href| (href, text.len()));
                }
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
    let leading = trimmed.as_ptr() as usize - text.as_ptr() as usize;
    let plain = starling_model::nfc(trimmed);
    let same = plain == trimmed;
    let links = links
        .into_iter()
        .map(|(href, start, end)| {
            let range = (start.saturating_sub(leading), end.saturating_sub(leading));
            let fits = same && range.0 < range.1 && plain.get(range.0..range.1).is_some();
            HtmlLink {
                href,
                range: fits.then_some(range),
            }
        })
        .collect();
    (plain, links)
}

/// The value of attribute `name` in a tag's inside (`a href="x" class='y'`), references
/// decoded; names match in any case.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut search = 0;
    while let Some(found) = lower[search..].find(name).map(|index| index + search) {
        search = found + name.len();
        let before_ok = found == 0 || lower.as_bytes()[found - 1].is_ascii_whitespace();
        let after = lower[search..].trim_start();
        if !before_ok || !after.starts_with('=') {
            continue;
        }
        let value_start = tag.len() - after.len() + 1;
        let value = tag[value_start..].trim_start();
        let (raw, _) = match value.chars().next() {
            Some(quote @ ('"' | '\'')) => value[1..].split_once(quote).unwrap_or((&value[1..], "")),
            _ => value.split_once(char::is_whitespace).unwrap_or((value, "")),
        };
        return Some(decode_text(raw));
    }
    None
}

/// Character references decoded in attribute text.
fn decode_text(raw: &str) -> String {
    let mut decoded = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(position) = rest.find('&') {
        decoded.push_str(&rest[..position]);
        let (text, used) = decode_reference(&rest[position..]);
        decoded.push_str(&text);
        rest = &rest[position + used..];
    }
    decoded.push_str(rest);
    decoded
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
    fn links_are_found_but_not_mentions_or_hashtags() {
        let html = r#"<p> <a href="https://m.example/tags/x" class="mention hashtag">#<span>x</span></a> <a class='u-url' HREF="https://news.bbc.co.uk/a?b=1&amp;c=2">story</a></p>"#;
        let (text, links) = html_to_text_with_links(html);
        assert_eq!(text, "#x story");
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].href, "https://news.bbc.co.uk/a?b=1&c=2");
        let (start, end) = links[0].range.unwrap();
        assert_eq!(&text[start..end], "story");
    }

    #[test]
    fn mastodon_links_come_back_whole() {
        let html = r#"<p><a href="https://news.example/a/very/long/path" rel="nofollow"><span class="invisible">https://</span><span class="ellipsis">news.example/a/very</span><span class="invisible">/long/path</span></a></p>"#;
        assert_eq!(html_to_text(html), "https://news.example/a/very/long/path");
    }
}
