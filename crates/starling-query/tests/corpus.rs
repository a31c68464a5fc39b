//! The shared query corpus (`corpus.toml`) against the reference evaluator, and the parser's
//! promises: errors at the right column, no input that makes it panic.
#![allow(
    clippy::unwrap_used,
    reason = "a test that cannot unwrap has failed, and says where"
)]

use starling_query::corpus::Corpus;
use starling_query::{Document, parse};

#[test]
fn the_reference_evaluator_passes_the_shared_corpus() {
    let corpus = Corpus::load().unwrap();
    let documents: Vec<Document<'_>> = corpus.posts.iter().map(Document::new).collect();
    let mut failures = Vec::new();
    for (text, expected) in &corpus.cases {
        let query = match parse(text) {
            Ok(query) => query,
            Err(error) => {
                failures.push(format!("{text}: {error}"));
                continue;
            }
        };
        let found: Vec<&str> = documents
            .iter()
            .filter(|document| query.matches(document, corpus.now))
            .map(|document| document.post.id.as_str())
            .collect();
        if found != *expected {
            failures.push(format!("{text}: expected {expected:?}, found {found:?}"));
        }
    }
    assert!(corpus.cases.len() >= 40, "{}", corpus.cases.len());
    assert!(
        failures.is_empty(),
        "{} of {} cases fail:\n{}",
        failures.len(),
        corpus.cases.len(),
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

#[test]
fn hostile_queries_are_refused_or_answered_never_a_crash() {
    // Nesting that would exhaust the parser's stack is refused with a column.
    let deep = format!("{}tehran{}", "(".repeat(30_000), ")".repeat(30_000));
    let error = starling_query::parse(&deep).expect_err("too deep");
    assert!(error.message.contains("deeper"), "{error}");
    let negated = format!("{}tehran", "-".repeat(10_000));
    assert!(starling_query::parse(&negated).is_err());
    let fine = format!("{}tehran{}", "(".repeat(20), ")".repeat(20));
    assert!(starling_query::parse(&fine).is_ok());
    // Times too far back for the clock are refused, or reach back to the start of time.
    assert!(starling_query::parse("since:-9300000000000000s").is_err());
    let far = starling_query::parse("since:-100000000d").expect("parses");
    let now = chrono::Utc::now();
    let post: starling_model::Post = serde_json::from_value(serde_json::json!({
        "platform": "twitter", "id": "1", "key": "twitter:1",
        "author": {"id": "1", "handle": "a"},
        "created_at": now, "collected_at": now, "text": "tehran",
        "provenance": {"source": {"kind": "generated", "name": "test"}, "format": "test"},
        "raw": "",
    }))
    .expect("a post");
    assert!(far.matches(&starling_query::Document::new(&post), now));
}
