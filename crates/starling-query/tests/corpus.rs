//! The shared query corpus (`corpus.toml`) against the reference evaluator, and the parser's
//! promises: errors at the right column, no input that makes it panic.
#![allow(
    clippy::unwrap_used,
    reason = "a test that cannot unwrap has failed, and says where"
)]

use serde::Deserialize;
use starling_model::{
    Author, Entities, Geo, Media, Platform, Point, Post, PostKey, PostRef, Provenance, RawRecord,
    Source, Timestamp,
};
use starling_query::{Document, parse};
use starling_text::EntityExtractor;

#[derive(Deserialize)]
struct Corpus {
    now: Timestamp,
    post: Vec<CorpusPost>,
    case: Vec<Case>,
}

#[derive(Deserialize)]
struct CorpusPost {
    id: String,
    platform: String,
    author: String,
    lang: String,
    created_at: Timestamp,
    text: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    point: Option<[f64; 2]>,
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    media: bool,
    #[serde(default)]
    reply: bool,
    #[serde(default)]
    share: bool,
    #[serde(default)]
    quote: bool,
}

#[derive(Deserialize)]
struct Case {
    query: String,
    matches: Vec<String>,
}

/// Corpus posts as the model holds them; entities found by Twitter's rules (Mastodon-style
/// `user@domain` mentions kept whole).
fn posts(corpus: &Corpus) -> Vec<Post> {
    let extractor = EntityExtractor::new();
    corpus
        .post
        .iter()
        .map(|item| {
            let platform = Platform::parse(&item.platform).unwrap();
            let reference = || {
                Some(PostRef {
                    id: "0".into(),
                    key: None,
                    author_id: None,
                    author_handle: None,
                })
            };
            let entities: Entities =
                extractor.entities_of(&item.text, platform == Platform::Mastodon);
            Post {
                platform,
                id: item.id.clone(),
                key: PostKey::for_platform_id(platform, &item.id),
                url: None,
                author: Author {
                    id: item.author.clone(),
                    handle: item.author.clone(),
                    display_name: None,
                    followers: None,
                },
                created_at: item.created_at,
                collected_at: item.created_at,
                title: item.title.clone(),
                community: None,
                text: item.text.clone(),
                declared_lang: Some(item.lang.clone()),
                reply_to: if item.reply { reference() } else { None },
                quote_of: if item.quote { reference() } else { None },
                share_of: if item.share { reference() } else { None },
                entities,
                media: if item.media {
                    vec![Media {
                        kind: "photo".into(),
                        url: None,
                    }]
                } else {
                    Vec::new()
                },
                metrics: Default::default(),
                geo: (item.point.is_some() || item.country.is_some()).then(|| Geo {
                    point: item.point.map(|[lat, lon]| Point { lat, lon }),
                    place: None,
                    country: item.country.clone(),
                }),
                provenance: Provenance {
                    source: Source::Generated("corpus".into()),
                    format: "corpus".into(),
                    line: None,
                    offset: None,
                },
                raw: RawRecord::default(),
            }
        })
        .collect()
}

fn corpus() -> Corpus {
    toml::from_str(include_str!("corpus.toml")).unwrap()
}

#[test]
fn the_reference_evaluator_passes_the_shared_corpus() {
    let corpus = corpus();
    let posts = posts(&corpus);
    let documents: Vec<Document<'_>> = posts.iter().map(Document::new).collect();
    let mut failures = Vec::new();
    for case in &corpus.case {
        let query = match parse(&case.query) {
            Ok(query) => query,
            Err(error) => {
                failures.push(format!("{}: {error}", case.query));
                continue;
            }
        };
        let found: Vec<&str> = documents
            .iter()
            .filter(|document| query.matches(document, corpus.now))
            .map(|document| document.post.id.as_str())
            .collect();
        if found != case.matches {
            failures.push(format!(
                "{}: expected {:?}, found {found:?}",
                case.query, case.matches
            ));
        }
    }
    assert!(corpus.case.len() >= 40, "{}", corpus.case.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n{}",
        failures.len(),
        corpus.case.len(),
        failures.join("\n")
    );
}

#[test]
fn errors_name_the_column_and_what_was_expected() {
    let cases = [
        (
            "tehran AND",
            "column 11: expected a term after AND, found the end of the query",
        ),
        (
            "(tehran OR azadi",
            "column 17: expected \")\" to close the \"(\" at column 1, found the end of the query",
        ),
        ("tehran)", "column 7: found \")\" without its \"(\""),
        (
            "\"azadi square",
            "column 1: expected a closing quote for this phrase",
        ),
        (
            "platform:myspace",
            "column 10: expected a platform (twitter, mastodon, bluesky, reddit, telegram, rss, other), found \"myspace\"",
        ),
        (
            "has:videos",
            "column 5: expected links, media or geo after has:, found \"videos\"",
        ),
        (
            "since:yesterday",
            "column 7: expected a date (2026-06-12), a time (2026-06-12T18:00:00Z) or a span back from now (-24h), found \"yesterday\"",
        ),
        (
            "geo:91,0,5km",
            "column 5: expected a latitude from -90 to 90, found \"91\"",
        ),
        (
            "a NEAR/x b",
            "column 3: expected a distance from 0 to 1000 after NEAR/, found \"x\"",
        ),
        (
            "a NEAR/3 #b",
            "column 12: expected words or phrases on both sides of NEAR, not fields or groups",
        ),
        ("t*", "column 1: expected at least two letters before *"),
        ("OR tehran", "column 1: expected a term, found OR"),
        ("", "column 1: expected a query, found nothing"),
        (
            "NOT",
            "column 4: expected a term after NOT, found the end of the query",
        ),
        (
            "country:Iran",
            "column 9: expected a two-letter country code (IR, US), found \"Iran\"",
        ),
    ];
    for (query, expected) in cases {
        assert_eq!(parse(query).unwrap_err().to_string(), expected, "{query}");
    }
}

#[test]
fn the_grammar_reads_precedence_as_documented() {
    use starling_query::Query::{And, Not, Or, Term};
    let term = |word: &str| Term(word.to_owned());
    // AND binds tighter than OR; juxtaposition is AND; NOT binds tightest.
    assert_eq!(
        parse("a b OR c").unwrap(),
        Or(vec![And(vec![term("a"), term("b")]), term("c")])
    );
    assert_eq!(
        parse("a OR b c").unwrap(),
        Or(vec![term("a"), And(vec![term("b"), term("c")])])
    );
    assert_eq!(
        parse("-a b").unwrap(),
        And(vec![Not(Box::new(term("a"))), term("b")])
    );
    assert_eq!(
        parse("a -(b OR c)").unwrap(),
        And(vec![
            term("a"),
            Not(Box::new(Or(vec![term("b"), term("c")])))
        ])
    );
    // A hyphen inside a word is part of it: `e-mail` is the phrase "e mail".
    assert_eq!(
        parse("e-mail").unwrap(),
        starling_query::Query::Phrase(vec!["e".into(), "mail".into()])
    );
}

proptest::proptest! {
    #[test]
    fn no_input_makes_the_parser_panic(text in "\\PC{0,60}") {
        let _ = parse(&text);
    }

    #[test]
    fn operator_soup_never_panics(parts in proptest::collection::vec(proptest::sample::select(vec!["a", "\"b c\"", "AND", "OR", "NOT", "-", "(", ")", "NEAR/2", "ONEAR/1", "#t", "@u", "from:", "geo:1,2,3", "since:-1h", "x*", ":"]), 0..12)) {
        let _ = parse(&parts.join(" "));
    }
}
