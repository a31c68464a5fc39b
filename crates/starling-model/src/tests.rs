//! Round trips of the post model through JSON, and the span arithmetic decoders rely on.

use super::*;
use chrono::TimeZone;
use proptest::prelude::*;

fn persian_post() -> Post {
    // "Gathering in Azadi Square" with a ZWNJ inside «شده‌اند» and a hashtag.
    let text = "مردم در میدان آزادی جمع شده‌اند #تهران https://t.co/abc @reporter";
    let hashtag_start = text.find('#').unwrap();
    let hashtag_end = hashtag_start + "#تهران".len();
    let url_start = text.find("https").unwrap();
    let mention_start = text.find('@').unwrap();
    Post {
        platform: Platform::Twitter,
        id: "1403216129661628420".into(),
        key: PostKey::for_platform_id(Platform::Twitter, "1403216129661628420"),
        url: Some("https://twitter.com/someone/status/1403216129661628420".into()),
        author: Author {
            id: "783214".into(),
            handle: "someone".into(),
            display_name: Some("کسی \u{200f}".into()),
            followers: Some(12),
            location: None,
        },
        created_at: chrono::Utc.with_ymd_and_hms(2009, 6, 13, 18, 4, 5).unwrap(),
        collected_at: chrono::Utc.with_ymd_and_hms(2009, 6, 13, 18, 4, 7).unwrap(),
        title: None,
        community: None,
        text: text.into(),
        declared_lang: Some("fa".into()),
        reply_to: Some(PostRef {
            id: "1403216129661628000".into(),
            key: Some(PostKey::for_platform_id(
                Platform::Twitter,
                "1403216129661628000",
            )),
            author_id: Some("1".into()),
            author_handle: None,
        }),
        quote_of: None,
        share_of: None,
        entities: Entities {
            hashtags: vec![Hashtag {
                tag: "تهران".into(),
                span: Span::from_bytes(text, hashtag_start, hashtag_end),
            }],
            mentions: vec![Mention {
                handle: "reporter".into(),
                id: Some("42".into()),
                span: Span::from_bytes(text, mention_start, text.len()),
            }],
            urls: vec![UrlEntity {
                url: "https://t.co/abc".into(),
                expanded_url: Some("https://example.org/news".into()),
                span: Span::from_bytes(text, url_start, url_start + "https://t.co/abc".len()),
            }],
            cashtags: vec![],
        },
        media: vec![Media {
            kind: "photo".into(),
            url: None,
        }],
        metrics: Metrics {
            likes: Some(3),
            shares: Some(1),
            ..Metrics::default()
        },
        geo: Some(Geo {
            point: Some(Point {
                lat: 35.6997,
                lon: 51.3380,
            }),
            place: Some(Place {
                id: Some("abc123".into()),
                name: "Tehran, Iran".into(),
            }),
            country: Some("IR".into()),
        }),
        provenance: Provenance {
            source: Source::File("captures/2009-06-13.jsonl".into()),
            format: "twitter-v2".into(),
            line: Some(17),
            offset: Some(40_960),
        },
        enrichment: None,
        raw: RawRecord(br#"{"id":"1403216129661628420"}"#.to_vec()),
    }
}

#[test]
fn full_post_round_trips_through_json() {
    let post = persian_post();
    let json = serde_json::to_string(&post).unwrap();
    let back: Post = serde_json::from_str(&json).unwrap();
    assert_eq!(back, post);
    // Ids stay strings and times stay RFC 3339 UTC in the JSON a script reads.
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["id"], "1403216129661628420");
    assert_eq!(value["created_at"], "2009-06-13T18:04:05Z");
    assert_eq!(value["raw"], r#"{"id":"1403216129661628420"}"#);
    assert_eq!(value["provenance"]["source"]["kind"], "file");
}

#[test]
fn raw_bytes_that_are_not_utf8_round_trip_exactly() {
    let mut post = persian_post();
    post.raw = RawRecord(vec![0xff, 0xfe, b'{', 0x00, 0xc3]);
    let json = serde_json::to_string(&post).unwrap();
    assert!(json.contains(r#""raw":{"base64":"#), "{json}");
    let back: Post = serde_json::from_str(&json).unwrap();
    assert_eq!(back.raw.as_bytes(), &[0xff, 0xfe, b'{', 0x00, 0xc3]);
}

#[test]
fn raw_rejects_an_unknown_object_field() {
    let error = serde_json::from_str::<RawRecord>(r#"{"hex":"00"}"#).unwrap_err();
    assert!(error.to_string().contains("unknown field `hex`"), "{error}");
}

#[test]
fn empty_optional_parts_are_left_out_of_the_json() {
    let mut post = persian_post();
    post.entities = Entities::default();
    post.metrics = Metrics::default();
    post.media.clear();
    post.geo = None;
    let value = serde_json::to_value(&post).unwrap();
    for absent in ["entities", "metrics", "media", "geo", "title", "quote_of"] {
        assert!(value.get(absent).is_none(), "{absent} should be omitted");
    }
    let back: Post = serde_json::from_value(value).unwrap();
    assert_eq!(back, post);
}

#[test]
fn spans_count_code_points_and_bytes() {
    let text = "a😀 #تهران";
    let start = text.find('#').unwrap();
    let span = Span::from_bytes(text, start, text.len()).unwrap();
    assert_eq!((span.start, span.end), (3, 9));
    assert_eq!(span.slice(text), Some("#تهران"));
    assert_eq!(Span::from_chars(text, 3, 9), Some(span));
    // Not on a character boundary, reversed, or past the end: no span.
    assert_eq!(Span::from_bytes(text, 2, 4), None);
    assert_eq!(Span::from_bytes(text, 4, 3), None);
    assert_eq!(Span::from_chars(text, 3, 10), None);
    assert_eq!(
        Span::from_chars(text, 9, 9).map(|span| span.byte_start),
        Some(text.len())
    );
}

#[test]
fn nfc_composes_decomposed_text() {
    // "é" as e + combining acute, and Arabic alef + hamza above.
    assert_eq!(nfc("cafe\u{301}"), "caf\u{e9}");
    assert_eq!(nfc("\u{627}\u{654}"), "\u{623}");
    // ZWNJ is not touched by normalization: Persian depends on it.
    assert_eq!(nfc("می\u{200c}روم"), "می\u{200c}روم");
}

#[test]
fn platforms_parse_from_their_names() {
    for platform in Platform::ALL {
        assert_eq!(Platform::parse(platform.as_str()), Some(platform));
        let json = serde_json::to_string(&platform).unwrap();
        assert_eq!(json, format!("\"{platform}\""));
    }
    assert_eq!(Platform::parse("X"), Some(Platform::Twitter));
    assert_eq!(Platform::parse("myspace"), None);
}

fn any_text() -> impl Strategy<Value = String> {
    // Mixed scripts, bidi controls, joiners, emoji and control characters.
    prop::collection::vec(
        prop_oneof![
            any::<char>(),
            prop::sample::select(vec![
                '\u{200c}', '\u{200d}', '\u{200f}', '\u{202e}', 'ی', 'ك', '😀', '#', '@'
            ]),
        ],
        0..40,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn any_post() -> impl Strategy<Value = Post> {
    (
        any_text(),
        any_text(),
        "[0-9]{1,20}",
        prop::collection::vec(any::<u8>(), 0..64),
        prop::option::of(any::<u64>()),
        prop::option::of((-90.0f64..90.0, -180.0f64..180.0)),
        -2_000_000_000i64..4_000_000_000,
        prop::sample::select(Platform::ALL.to_vec()),
    )
        .prop_map(
            |(text, handle, id, raw, followers, point, seconds, platform)| {
                let mut post = persian_post();
                post.platform = platform;
                post.key = PostKey::for_platform_id(platform, &id);
                post.id = id;
                post.entities = Entities {
                    hashtags: vec![Hashtag {
                        tag: text.clone(),
                        span: Span::from_chars(&text, 0, 0),
                    }],
                    ..Entities::default()
                };
                post.text = text;
                post.author.handle = handle;
                post.author.followers = followers;
                post.raw = RawRecord(raw);
                post.created_at = chrono::Utc.timestamp_opt(seconds, 0).unwrap();
                post.geo = point.map(|(lat, lon)| Geo {
                    point: Some(Point { lat, lon }),
                    ..Geo::default()
                });
                post
            },
        )
}

proptest! {
    #[test]
    fn any_post_round_trips_through_json(post in any_post()) {
        let json = serde_json::to_vec(&post).unwrap();
        let back: Post = serde_json::from_slice(&json).unwrap();
        prop_assert_eq!(back, post);
    }

    #[test]
    fn spans_from_bytes_and_from_chars_agree(text in any_text(), a in 0usize..50, b in 0usize..50) {
        let (start, end) = (a.min(b), a.max(b));
        if let Some(span) = Span::from_chars(&text, start, end) {
            prop_assert_eq!(Span::from_bytes(&text, span.byte_start, span.byte_end), Some(span));
            let expected: String = text.chars().skip(start).take(end - start).collect();
            prop_assert_eq!(span.slice(&text), Some(expected.as_str()));
        } else {
            prop_assert!(end > text.chars().count());
        }
    }
}

#[test]
fn a_post_with_no_known_language_is_und_for_counting_and_matching() {
    let mut post = persian_post();
    post.declared_lang = None;
    post.enrichment = None;
    assert_eq!(post.language(), "und");
    assert_eq!(post.languages().collect::<Vec<_>>(), ["und"]);
    post.declared_lang = Some("fa-IR".into());
    assert_eq!(post.languages().collect::<Vec<_>>(), ["fa-ir"]);
}
