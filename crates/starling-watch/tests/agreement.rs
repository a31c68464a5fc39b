//! The matcher agrees with checking every watch: on the shared query corpus (the contract
//! search passes too), and on random multilingual queries and posts.
#![allow(clippy::unwrap_used, reason = "tests")]

use proptest::prelude::*;
use starling_model::{Post, Timestamp};
use starling_query::Document;
use starling_query::corpus::Corpus;
use starling_watch::{FeatureStats, Matcher, WatchDef};

#[test]
fn the_matcher_passes_the_shared_corpus() {
    let corpus = Corpus::load().unwrap();
    // Once judging rarity by rules of thumb, once by counts over the corpus itself.
    let mut stats = FeatureStats::default();
    for post in &corpus.posts {
        stats.add(&Document::new(post));
    }
    for matcher in [Matcher::default(), Matcher::with_stats(stats)] {
        let mut matcher = matcher;
        for (index, (query, _)) in corpus.cases.iter().enumerate() {
            matcher
                .insert(&WatchDef::new(&format!("case {index}"), query))
                .unwrap();
        }
        let mut found = vec![Vec::new(); corpus.cases.len()];
        for post in &corpus.posts {
            for name in matcher.match_post(post, corpus.now).names(&matcher) {
                let index: usize = name.trim_start_matches("case ").parse().unwrap();
                found[index].push(post.id.clone());
            }
        }
        let mut failures = Vec::new();
        for ((query, expected), mut ids) in corpus.cases.iter().zip(found) {
            ids.sort();
            let mut wanted = expected.clone();
            wanted.sort();
            if ids != wanted {
                failures.push(format!("{query}: expected {wanted:?}, found {ids:?}"));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} cases fail:\n{}",
            failures.len(),
            corpus.cases.len(),
            failures.join("\n")
        );
    }
}

/// Words in several scripts, with the spellings the analyzer must bring together.
const WORDS: &[&str] = &[
    "tehran",
    "Teherán",
    "تهران",
    "علی",
    "علي",
    "كتاب",
    "کتاب",
    "می‌روم",
    "میروم",
    "رأی",
    "رای",
    "election",
    "ELECTIONS",
    "azadi",
    "square",
    "karaj",
    "Москва",
    "москва",
    "北京大学",
    "ünïcode",
];
const TAGS: &[&str] = &["IranElection", "ایران", "iranelection", "news"];
const HANDLES: &[&str] = &["alice", "Bob@m.example", "carol", "witness"];
const LINKS: &[&str] = &[
    "https://www.bbc.co.uk/news/1",
    "http://news.example.org/live",
    "https://t.co/abc",
];

prop_compose! {
    fn posts()(
        words in prop::collection::vec(prop::sample::select(WORDS), 0..12),
        tags in prop::collection::vec(prop::sample::select(TAGS), 0..3),
        mentions in prop::collection::vec(prop::sample::select(HANDLES), 0..2),
        links in prop::collection::vec(prop::sample::select(LINKS), 0..2),
        author in prop::sample::select(HANDLES),
        lang in prop::sample::select(&["fa", "fa-IR", "en", "ar", "zh-Hant-TW", ""][..]),
        platform in prop::sample::select(&["twitter", "mastodon", "bluesky"][..]),
        reply in any::<bool>(),
        country in prop::sample::select(&["", "IR", "de"][..]),
        minutes in 0i64..2880,
    ) -> Post {
        let mut text = words.join(" ");
        for tag in tags { text.push_str(&format!(" #{tag}")); }
        for handle in mentions { text.push_str(&format!(" @{}", handle.split('@').next().unwrap())); }
        for link in links { text.push_str(&format!(" {link}")); }
        let entities = starling_text::EntityExtractor::new().entities_of(&text, false);
        let created: Timestamp = "2026-06-11T00:00:00Z".parse::<Timestamp>().unwrap() + chrono::Duration::minutes(minutes);
        let mut json = serde_json::json!({
            "platform": platform, "id": "1", "key": format!("{platform}:1"),
            "author": {"id": "77", "handle": author},
            "created_at": created, "collected_at": created,
            "text": text,
            "provenance": {"source": {"kind": "generated", "name": "proptest"}, "format": "test"},
            "raw": "",
        });
        if !lang.is_empty() { json["declared_lang"] = lang.into(); }
        if reply { json["reply_to"] = serde_json::json!({"id": "0"}); }
        if !country.is_empty() { json["geo"] = serde_json::json!({"country": country}); }
        let mut post: Post = serde_json::from_value(json).unwrap();
        post.entities = entities;
        post
    }
}

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(WORDS).prop_map(str::to_owned),
        prop::sample::select(&["tehr*", "elect*", "تهر*", "کت*", "мо*"][..])
            .prop_map(str::to_owned),
        prop::sample::select(&["\"azadi square\"", "\"می‌روم تهران\"", "\"election karaj\""][..])
            .prop_map(str::to_owned),
        prop::sample::select(
            &[
                "azadi NEAR/2 square",
                "tehran ONEAR/1 election",
                "علی NEAR/0 کتاب"
            ][..]
        )
        .prop_map(str::to_owned),
        prop::sample::select(TAGS).prop_map(|tag| format!("#{tag}")),
        prop::sample::select(
            &[
                "@alice",
                "@witness",
                "from:alice",
                "from:bob",
                "from:77",
                "from:Bob@m.example"
            ][..]
        )
        .prop_map(str::to_owned),
        prop::sample::select(
            &[
                "lang:fa",
                "lang:zh-hant",
                "lang:EN",
                "platform:twitter",
                "platform:bluesky"
            ][..]
        )
        .prop_map(str::to_owned),
        prop::sample::select(
            &[
                "has:links",
                "has:geo",
                "is:reply",
                "url:bbc",
                "domain:bbc.co.uk",
                "domain:org",
                "country:ir",
                "country:DE"
            ][..]
        )
        .prop_map(str::to_owned),
        prop::sample::select(
            &[
                "since:2026-06-12T00:00:00Z",
                "until:2026-06-12T00:00:00Z",
                "since:-12h"
            ][..]
        )
        .prop_map(str::to_owned),
    ]
}

fn queries() -> impl Strategy<Value = String> {
    leaf().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4)
                .prop_map(|parts| format!("({})", parts.join(" AND "))),
            prop::collection::vec(inner.clone(), 2..4)
                .prop_map(|parts| format!("({})", parts.join(" OR "))),
            prop::collection::vec(inner.clone(), 2..3)
                .prop_map(|parts| format!("({})", parts.join(" "))),
            inner.prop_map(|part| format!("-({part})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_matcher_agrees_with_checking_every_watch(
        watches in prop::collection::vec(queries(), 1..40),
        posts in prop::collection::vec(posts(), 1..8),
        sampled in any::<bool>(),
    ) {
        let now: Timestamp = "2026-06-13T00:00:00Z".parse().unwrap();
        let mut stats = FeatureStats::default();
        if sampled {
            for post in &posts {
                stats.add(&Document::new(post));
            }
        }
        let mut matcher = Matcher::with_stats(stats);
        for (index, query) in watches.iter().enumerate() {
            matcher.insert(&WatchDef::new(&format!("w{index}"), query)).unwrap();
        }
        for post in &posts {
            let document = Document::new(post);
            let fast = matcher.match_document(&document, now);
            let slow = matcher.match_every_watch(&document, now);
            prop_assert_eq!(&fast.watches, &slow.watches, "post {:?}", post.text);
            prop_assert!(fast.candidates <= slow.candidates);
        }
        // Removing half the watches leaves the matcher agreeing still.
        for index in (0..watches.len()).step_by(2) {
            matcher.remove(&format!("w{index}"));
        }
        for post in &posts {
            let document = Document::new(post);
            prop_assert_eq!(
                matcher.match_document(&document, now).watches,
                matcher.match_every_watch(&document, now).watches
            );
        }
    }
}
