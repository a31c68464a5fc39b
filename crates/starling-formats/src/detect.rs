//! Telling formats apart from the first bytes of a file, and how its records are framed.

use crate::Format;

/// How a file's bytes divide into records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// One record per line (JSONL, NDJSON).
    Lines,
    /// Records separated by a blank line (a server-sent events capture).
    Events,
    /// The whole file is one record (a feed, an export, a pretty-printed JSON document).
    Document,
    /// CSV rows under a header row; a row may span lines inside quotes.
    CsvRows,
}

/// What detection concluded about a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    /// The format.
    pub format: Format,
    /// How to cut it into records.
    pub framing: Framing,
}

/// Detects the format of a file from its first bytes (a few kilobytes are plenty; more help
/// with pretty-printed JSON). `None` when nothing fits: the caller should ask for `--format`.
pub fn detect(prefix: &[u8]) -> Option<Detected> {
    let text = String::from_utf8_lossy(prefix);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with('<') {
        return Some(Detected {
            format: Format::Rss,
            framing: Framing::Document,
        });
    }
    if text.starts_with("event:") || text.starts_with("data:") || text.starts_with(':') {
        return Some(Detected {
            format: Format::Mastodon,
            framing: Framing::Events,
        });
    }
    if text.starts_with('{') || text.starts_with('[') {
        let first_line = text.lines().next().unwrap_or_default().trim();
        // A pretty-printed document opens with a bracket alone on its first line; anything
        // else is JSON Lines (whose first line may be longer than the prefix seen).
        let framing = if matches!(first_line, "{" | "[" | "[{" | "[ {") {
            Framing::Document
        } else {
            Framing::Lines
        };
        return json_format(text).map(|format| Detected {
            format,
            // Feeds and exports are documents whatever their layout.
            framing: if matches!(format, Format::Rss | Format::Telegram) {
                Framing::Document
            } else {
                framing
            },
        });
    }
    let first_line = text.lines().next().unwrap_or_default();
    if first_line.contains(',') && !first_line.contains('{') {
        return Some(Detected {
            format: Format::Csv,
            framing: Framing::CsvRows,
        });
    }
    None
}

/// Which JSON format the keys near the start belong to.
fn json_format(text: &str) -> Option<Format> {
    let has =
        |key: &str| text.contains(&format!("\"{key}\":")) || text.contains(&format!("\"{key}\" :"));
    if text.contains("jsonfeed.org") {
        return Some(Format::Rss);
    }
    if has("did") && has("time_us") {
        return Some(Format::Jetstream);
    }
    if has("chats") || (has("messages") && (has("date_unixtime") || has("type"))) {
        return Some(Format::Telegram);
    }
    if has("subreddit") || has("created_utc") {
        return Some(Format::Reddit);
    }
    if has("id_str")
        || has("limit") && has("track")
        || has("delete") && has("status")
        || has("in_reply_to_status_id")
    {
        return Some(Format::TwitterV1);
    }
    if has("edit_history_tweet_ids")
        || has("author_id")
        || has("__twarc")
        || has("includes")
        || (has("data") && has("meta"))
    {
        return Some(Format::TwitterV2);
    }
    if has("uri") && has("account") && has("content") {
        return Some(Format::Mastodon);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_is_told_apart() {
        let cases: [(&str, Format, Framing); 11] = [
            (
                "<?xml version=\"1.0\"?><rss>",
                Format::Rss,
                Framing::Document,
            ),
            (
                "\u{feff}<feed xmlns=\"http://www.w3.org/2005/Atom\">",
                Format::Rss,
                Framing::Document,
            ),
            (
                "{\"version\": \"https://jsonfeed.org/version/1.1\",\n\"items\": []}",
                Format::Rss,
                Framing::Document,
            ),
            (
                "event: update\ndata: {}\n\n",
                Format::Mastodon,
                Framing::Events,
            ),
            (
                "{\"did\":\"did:plc:a\",\"time_us\":1,\"kind\":\"commit\"}\n",
                Format::Jetstream,
                Framing::Lines,
            ),
            (
                "{\n \"name\": \"Chat\",\n \"type\": \"public_channel\",\n \"id\": 1,\n \"messages\": [",
                Format::Telegram,
                Framing::Document,
            ),
            (
                "{\"id\":\"c0\",\"body\":\"x\",\"created_utc\":1,\"subreddit\":\"a\"}\n",
                Format::Reddit,
                Framing::Lines,
            ),
            (
                "{\"created_at\":\"Wed Oct 10 20:19:24 +0000 2018\",\"id\":1,\"id_str\":\"1\"}\n",
                Format::TwitterV1,
                Framing::Lines,
            ),
            (
                "{\"data\":[{\"id\":\"1\",\"text\":\"a\",\"edit_history_tweet_ids\":[\"1\"]}],\"meta\":{}}\n",
                Format::TwitterV2,
                Framing::Lines,
            ),
            (
                "[{\"id\":\"1\",\"uri\":\"https://m.example/1\",\"account\":{},\"content\":\"\"}]",
                Format::Mastodon,
                Framing::Lines,
            ),
            (
                "id,thread_id,author,body,timestamp\n1,1,a,b,2020-01-01",
                Format::Csv,
                Framing::CsvRows,
            ),
        ];
        for (text, format, framing) in cases {
            assert_eq!(
                detect(text.as_bytes()),
                Some(Detected { format, framing }),
                "{text}"
            );
        }
        // A first line longer than what detection sees is still a line.
        let long = format!(
            "{{\"data\":[{{\"id\":\"1\",\"author_id\":\"2\",\"text\":\"{}",
            "x".repeat(70_000)
        );
        assert_eq!(
            detect(&long.as_bytes()[..65_536]),
            Some(Detected {
                format: Format::TwitterV2,
                framing: Framing::Lines
            })
        );
        assert_eq!(
            detect(b"[\n  {\"id\": \"1\", \"uri\": \"u\", \"account\": {}, \"content\": \"\"}"),
            Some(Detected {
                format: Format::Mastodon,
                framing: Framing::Document
            })
        );
        assert_eq!(detect(b"just words"), None);
        assert_eq!(detect(b"{\"unknown\": 1}"), None);
    }
}
