//! No input makes a decoder panic, and whatever it returns is consistent: random bytes,
//! truncated records, and valid records with bytes flipped or hostile text spliced in.
#![allow(
    clippy::unwrap_used,
    reason = "a test that cannot unwrap has failed, and says where"
)]

use proptest::prelude::*;
use starling_formats::{Context, Format, decode};
use starling_model::Source;

const SEEDS: &[(Format, &str)] = &[
    (
        Format::TwitterV2,
        r##"{"data":[{"id":"1403216129661628420","text":"RT @a: #تهران https://t.co/x","author_id":"9","created_at":"2021-06-11T05:00:00.000Z","lang":"fa","referenced_tweets":[{"type":"retweeted","id":"1403216129661628000"}],"entities":{"hashtags":[{"start":7,"end":13,"tag":"تهران"}],"mentions":[{"start":3,"end":5,"username":"a","id":"8"}],"urls":[{"start":14,"end":28,"url":"https://t.co/x","expanded_url":"https://e.example/"}]},"geo":{"place_id":"p","coordinates":{"type":"Point","coordinates":[51.4,35.7]}}}],"includes":{"users":[{"id":"9","name":"N","username":"n","public_metrics":{"followers_count":3}}],"tweets":[{"id":"1403216129661628000","text":"#تهران https://t.co/x","author_id":"8"}],"places":[{"id":"p","full_name":"Tehran, Iran","country_code":"IR"}]},"errors":[{"resource_id":"5","title":"Not Found Error"}],"__twarc":{"retrieved_at":"2021-06-11T05:00:01.000Z"}}"##,
    ),
    (
        Format::Mastodon,
        r##"{"id":"1","uri":"https://m.example/users/a/statuses/1","created_at":"2026-06-12T00:00:00.000Z","content":"<p>سلام&zwnj;ها <a href=\"https://m.example/tags/x\">#<span>x</span></a> &lt;b&gt;</p>","language":"fa","account":{"username":"a","acct":"a","url":"https://m.example/@a","followers_count":2},"tags":[{"name":"x"}],"mentions":[{"acct":"b@o.example"}],"media_attachments":[{"type":"image","url":"https://m.example/i.png"}]}"##,
    ),
    (
        Format::Jetstream,
        r##"{"did":"did:plc:x","time_us":1781222400000000,"kind":"commit","commit":{"rev":"r","operation":"create","collection":"app.bsky.feed.post","rkey":"k","record":{"text":"هلو #t @b.bsky.social","createdAt":"2026-06-12T00:00:00Z","langs":["fa"],"facets":[{"index":{"byteStart":7,"byteEnd":9},"features":[{"$type":"app.bsky.richtext.facet#tag","tag":"t"}]},{"index":{"byteStart":10,"byteEnd":24},"features":[{"$type":"app.bsky.richtext.facet#mention","did":"did:plc:b"}]}],"reply":{"root":{"uri":"at://did:plc:r/app.bsky.feed.post/1","cid":"c"},"parent":{"uri":"at://did:plc:r/app.bsky.feed.post/2","cid":"c"}}}}}"##,
    ),
    (
        Format::Rss,
        r##"<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://n.example/</link><item><title>A &amp; B</title><link>https://n.example/1</link><guid>g1</guid><pubDate>Fri, 12 Jun 2026 01:00:00 +0000</pubDate><description>&lt;p&gt;x&lt;/p&gt;</description></item></channel></rss>"##,
    ),
];

const MORE_SEEDS: &[(Format, &str)] = &[
    (
        Format::Reddit,
        r##"{"id":"c0abc","name":"t1_c0abc","author":"a","body":"سلام #x","created_utc":"1244916245","subreddit":"worldnews","parent_id":"t3_8sq3x","permalink":"/r/worldnews/c0abc/","score":3}"##,
    ),
    (
        Format::Telegram,
        r##"{"name":"C","id":1,"messages":[{"id":2,"type":"message","date_unixtime":"1244887260","from_id":"channel1","text":["a ",{"type":"hashtag","text":"#b"},{"type":"text_link","text":"c","href":"https://e.example/"}]}]}"##,
    ),
    (
        Format::TwitterV1,
        r##"{"id_str":"1403216129661628420","text":"&lt;3 #a","created_at":"Fri Jun 11 05:00:00 +0000 2021","user":{"id_str":"1","screen_name":"a"},"entities":{"hashtags":[{"text":"a","indices":[6,8]}],"user_mentions":[],"urls":[],"symbols":[]}}"##,
    ),
];

fn seed(which: usize) -> (Format, &'static str) {
    SEEDS
        .iter()
        .chain(MORE_SEEDS)
        .nth(which % (SEEDS.len() + MORE_SEEDS.len()))
        .copied()
        .unwrap()
}

const HOSTILE: &[&str] = &[
    "\u{202e}", "\u{200d}", "\u{0}", "😀", "<script>", "\\u0000", "\"", "}", "]", "\u{fffd}",
    "&#0;", "&#xD800;",
];

fn check(format: Format, bytes: &[u8]) -> starling_formats::Decoded {
    let source = Source::File("fuzz.jsonl".into());
    let mut context = Context::new(&source, "2026-06-12T00:00:00Z".parse().unwrap());
    context.line = Some(1);
    let decoded = decode(format, bytes, &context);
    for post in &decoded.posts {
        // Every span a decoder returns points inside the text, on character boundaries.
        let spans = post
            .entities
            .hashtags
            .iter()
            .filter_map(|tag| tag.span)
            .chain(
                post.entities
                    .mentions
                    .iter()
                    .filter_map(|mention| mention.span),
            )
            .chain(post.entities.urls.iter().filter_map(|url| url.span));
        for span in spans {
            assert!(
                span.slice(&post.text).is_some(),
                "{span:?} outside {:?}",
                post.text
            );
        }
        assert!(!post.id.is_empty());
    }
    for reject in &decoded.rejects {
        assert_eq!(reject.line, Some(1));
        assert!(!reject.reason.is_empty());
    }
    decoded
}

#[test]
fn the_seeds_themselves_decode_cleanly() {
    for (format, seed) in SEEDS.iter().chain(MORE_SEEDS) {
        let source = Source::File("seed".into());
        let decoded = decode(
            *format,
            seed.as_bytes(),
            &Context::new(&source, "2026-06-12T00:00:00Z".parse().unwrap()),
        );
        assert_eq!(decoded.posts.len(), 1, "{format}: {:?}", decoded.rejects);
        assert!(
            decoded.rejects.is_empty(),
            "{format}: {:?}",
            decoded.rejects
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512), which in 0usize..7) {
        check(seed(which).0, &bytes);
    }

    #[test]
    fn empty_records_are_rejected(which in 0usize..7) {
        let (format, _) = seed(which);
        let decoded = check(format, b"");
        prop_assert!(decoded.posts.is_empty());
        prop_assert_eq!(decoded.rejects.len(), 1, "{}", format);
    }

    #[test]
    fn truncated_records_are_rejected_not_misread(which in 0usize..7, cut in 0.0f64..1.0) {
        let (format, seed) = seed(which);
        let end = (seed.len() as f64 * cut) as usize;
        let decoded = check(format, &seed.as_bytes()[..end]);
        if format.is_line_oriented() || format == Format::Telegram {
            // A JSON record cut anywhere is invalid: it must be rejected whole.
            prop_assert!(decoded.posts.is_empty());
            prop_assert_eq!(decoded.rejects.len(), 1);
        }
    }

    #[test]
    fn mutated_records_never_panic(which in 0usize..7, edits in prop::collection::vec((0.0f64..1.0, 0usize..HOSTILE.len(), any::<u8>(), any::<bool>()), 1..6)) {
        let (format, seed) = seed(which);
        let mut bytes = seed.as_bytes().to_vec();
        for (position, hostile, byte, splice) in edits {
            let at = ((bytes.len() as f64) * position) as usize;
            if splice {
                bytes.splice(at..at, HOSTILE[hostile].bytes());
            } else if at < bytes.len() {
                bytes[at] = byte;
            }
        }
        check(format, &bytes);
    }
}

#[test]
fn deeply_nested_json_is_rejected_without_overflowing_the_stack() {
    let depth = 100_000;
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let in_object = format!("{{\"data\":{nested}}}");
    for format in Format::ALL
        .into_iter()
        .filter(|format| *format != Format::Csv)
    {
        for record in [&nested, &in_object] {
            let decoded = check(format, record.as_bytes());
            assert!(decoded.posts.is_empty(), "{format}");
        }
    }
    let depth = 50_000;
    let xml = format!(
        "<rss><channel><item>{}{}</item></channel></rss>",
        "<x>".repeat(depth),
        "</x>".repeat(depth)
    );
    check(Format::Rss, xml.as_bytes());
}
