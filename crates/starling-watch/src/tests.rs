use super::*;
use presearch::anchors_of;

fn post(json: &str) -> Post {
    serde_json::from_str(json).unwrap()
}

fn sample() -> Post {
    post(
        r#"{"platform":"mastodon","id":"7","key":"mastodon:7","author":{"id":"42","handle":"Reporter@news.example"},"created_at":"2026-06-12T18:00:00Z","collected_at":"2026-06-12T18:00:01Z","text":"می‌روم به تهران for the Election count #IranElection @Witness","declared_lang":"fa-IR","entities":{"hashtags":[{"tag":"IranElection","span":{"start":0,"end":1,"byte_start":0,"byte_end":1}}],"mentions":[{"handle":"Witness","span":{"start":0,"end":1,"byte_start":0,"byte_end":1}}],"urls":[{"url":"https://t.co/x","expanded_url":"https://www.news.bbc.co.uk/live","span":{"start":0,"end":1,"byte_start":0,"byte_end":1}}]},"provenance":{"source":{"kind":"generated","name":"test"},"format":"test"},"raw":""}"#,
    )
}

fn now() -> Timestamp {
    "2026-06-13T00:00:00Z".parse().unwrap()
}

#[test]
fn anchors_stand_for_what_each_query_needs() {
    let stats = FeatureStats::default();
    let anchors = |text: &str| anchors_of(&starling_query::parse(text).unwrap(), &stats);
    let any = |features: &[&str]| {
        Anchors::Any(
            features
                .iter()
                .map(|feature| (*feature).to_owned())
                .collect(),
        )
    };
    assert_eq!(anchors("تهران AND lang:fa"), any(&["wتهران"]));
    // AND: the rarest part (an author is rarer than a language).
    assert_eq!(anchors("from:reporter lang:fa"), any(&["freporter"]));
    // OR: every part, or nothing.
    assert_eq!(anchors("(#a OR @b) -c"), any(&["#a", "@b"]));
    assert_eq!(anchors("#a OR -b"), Anchors::Always);
    assert_eq!(anchors("-spam"), Anchors::Always);
    assert_eq!(anchors("since:-1h"), Anchors::Always);
    assert_eq!(anchors("since:-1h karaj"), any(&["wkaraj"]));
    assert_eq!(anchors("url:live"), any(&["hlinks"]));
    assert_eq!(anchors("\"azadi square\""), any(&["wazadi"]));
    assert_eq!(anchors("tehr*"), any(&["*tehr"]));
    assert_eq!(anchors("domain:bbc.co.uk"), any(&["dbbc.co.uk"]));
    // Where having an anchor is matching, no check is needed; where it matches one part of
    // an AND, only the others are checked.
    let check = |text: &str| plan(&starling_query::parse(text).unwrap(), &stats).check;
    assert_eq!(check("karaj OR #iran OR lang:fa"), None);
    assert_eq!(
        check("(karaj OR #iran) lang:fa"),
        Some(starling_query::parse("lang:fa").unwrap())
    );
    assert_eq!(
        check("\"azadi square\" lang:fa"),
        Some(starling_query::parse("\"azadi square\" lang:fa").unwrap())
    );
}

#[test]
fn a_post_matches_its_watches_and_only_those() {
    let mut matcher = Matcher::default();
    for (name, query) in [
        ("word", "تهران"),
        ("zwnj", "میروم"),
        ("phrase", "\"election count\""),
        ("tag", "#iranelection"),
        ("mention", "@witness"),
        ("author", "from:reporter"),
        ("lang", "lang:fa -from:someone"),
        ("domain", "domain:bbc.co.uk"),
        ("prefix", "elect*"),
        ("near", "tehran NEAR/3 count"),
        ("not", "-karaj"),
        ("miss", "karaj OR shiraz"),
        ("miss-and", "تهران AND karaj"),
        ("time", "since:2026-06-14"),
    ] {
        matcher.insert(&WatchDef::new(name, query)).unwrap();
    }
    let post = sample();
    let found = matcher.match_post(&post, now());
    let mut names = found.names(&matcher);
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "author", "domain", "lang", "mention", "not", "phrase", "prefix", "tag", "word", "zwnj"
        ]
    );
    // Not every watch was checked: `miss` has no anchor in the post.
    assert!(found.candidates < matcher.len(), "{found:?}");
    assert_eq!(
        matcher
            .match_every_watch(&Document::new(&post), now())
            .watches,
        found.watches
    );
}

#[test]
fn watches_come_and_go_and_inactive_ones_are_not_matched() {
    let mut matcher = Matcher::default();
    let post = sample();
    matcher.insert(&WatchDef::new("a", "تهران")).unwrap();
    matcher.insert(&WatchDef::new("b", "تهران")).unwrap();
    assert_eq!(matcher.match_post(&post, now()).names(&matcher), ["a", "b"]);
    assert!(matcher.remove("a"));
    assert!(!matcher.remove("a"));
    assert_eq!(matcher.match_post(&post, now()).names(&matcher), ["b"]);
    // Replacing by name.
    matcher.insert(&WatchDef::new("b", "karaj")).unwrap();
    assert!(matcher.match_post(&post, now()).watches.is_empty());
    let mut inactive = WatchDef::new("c", "تهران");
    inactive.active = false;
    assert_eq!(matcher.insert(&inactive).unwrap(), None);
    assert!(matcher.match_post(&post, now()).watches.is_empty());
    // The freed slot is reused, and the new watch is found under its own name.
    matcher.insert(&WatchDef::new("d", "تهران")).unwrap();
    assert_eq!(matcher.match_post(&post, now()).names(&matcher), ["d"]);
    assert_eq!(matcher.len(), 2);
}

#[test]
fn bad_watches_are_refused_with_the_reason() {
    let mut matcher = Matcher::default();
    let error = matcher
        .insert(&WatchDef::new("x", "tehran AND"))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "watch \"x\": column 11: expected a term after AND, found the end of the query"
    );
    assert!(matches!(
        matcher.insert(&WatchDef::new("", "a")),
        Err(WatchError::Name(_))
    ));
    assert!(matcher.is_empty());
}
