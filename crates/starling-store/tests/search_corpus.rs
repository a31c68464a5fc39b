//! The archive's search passes the shared query corpus: the same answers as the reference
//! evaluator, through the index.
#![allow(
    clippy::unwrap_used,
    reason = "a test that cannot unwrap has failed, and says where"
)]

use starling_query::corpus::Corpus;
use starling_query::parse;
use starling_store::{SearchIndex, SortBy, Store, for_each_match, search};

#[test]
fn search_passes_the_shared_corpus() {
    let mut corpus = Corpus::load().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let archive = Store::open(dir.path()).unwrap();
    let index = SearchIndex::open(dir.path()).unwrap();
    let mut posts: Vec<&mut starling_model::Post> = corpus.posts.iter_mut().collect();
    archive.write(&mut posts, &[]).unwrap();
    let mut indexer = index.indexer().unwrap();
    for post in &corpus.posts {
        indexer.add(post).unwrap();
    }
    indexer.commit().unwrap();
    assert_eq!(index.len(), corpus.posts.len() as u64);

    let mut failures = Vec::new();
    for (text, expected) in &corpus.cases {
        let query = parse(text).unwrap();
        let found = search(&archive, &index, &query, corpus.now, SortBy::Time, 100).unwrap();
        let mut ids: Vec<String> = found.posts.iter().map(|post| post.id.clone()).collect();
        ids.sort();
        let mut wanted = expected.clone();
        wanted.sort();
        if ids != wanted || found.total != wanted.len() {
            failures.push(format!(
                "{text}: expected {wanted:?}, found {ids:?} (total {})",
                found.total
            ));
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

#[test]
fn results_come_newest_first_and_reindexing_a_post_replaces_it() {
    let mut corpus = Corpus::load().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let archive = Store::open(dir.path()).unwrap();
    let index = SearchIndex::open(dir.path()).unwrap();
    archive
        .write(&mut corpus.posts.iter_mut().collect::<Vec<_>>(), &[])
        .unwrap();
    let mut indexer = index.indexer().unwrap();
    for _ in 0..2 {
        for post in &corpus.posts {
            indexer.add(post).unwrap();
        }
    }
    indexer.commit().unwrap();
    assert_eq!(index.len(), corpus.posts.len() as u64);
    let found = search(
        &archive,
        &index,
        &parse("lang:en").unwrap(),
        corpus.now,
        SortBy::Time,
        10,
    )
    .unwrap();
    let times: Vec<_> = found.posts.iter().map(|post| post.created_at).collect();
    assert!(times.windows(2).all(|pair| pair[0] >= pair[1]), "{times:?}");
    assert_eq!(found.total, 3);
}

#[test]
fn facets_and_histogram_come_from_the_index() {
    let corpus = Corpus::load().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(dir.path()).unwrap();
    let mut indexer = index.indexer().unwrap();
    for post in &corpus.posts {
        indexer.add(post).unwrap();
    }
    indexer.commit().unwrap();
    let summary = index
        .summarise(&parse("since:2000-01-01").unwrap(), corpus.now, 10)
        .unwrap()
        .unwrap();
    let facet = |name: &str| {
        summary
            .facets
            .iter()
            .find(|(facet, _)| *facet == name)
            .unwrap()
            .1
            .clone()
    };
    assert_eq!(facet("platforms")[0], ("twitter".to_owned(), 3));
    assert!(
        facet("hashtags").contains(&("#تهران".to_owned(), 1)),
        "{:?}",
        facet("hashtags")
    );
    assert!(
        facet("domains").contains(&("bbc.co.uk".to_owned(), 1)),
        "{:?}",
        facet("domains")
    );
    // One language per post: the detected one (en-order is detected as Spanish), else the
    // declared one without its region (en-GB counts as en).
    assert_eq!(
        facet("languages")[..2],
        [("en".to_owned(), 2), ("es".to_owned(), 2)]
    );
    assert!(
        facet("countries").contains(&("IR".to_owned(), 2)),
        "{:?}",
        facet("countries")
    );
    assert_eq!(
        facet("sentiments"),
        [
            ("negative".to_owned(), 2),
            ("neutral".to_owned(), 1),
            ("positive".to_owned(), 1)
        ]
    );
    let (_, buckets) = summary.histogram.unwrap();
    assert_eq!(buckets.values().sum::<u64>(), corpus.posts.len() as u64);
    // A query the index answers only approximately is left to the caller.
    assert!(
        index
            .summarise(&parse("a NEAR/2 b").unwrap(), corpus.now, 10)
            .unwrap()
            .is_none()
    );
}

#[test]
fn every_match_is_handed_over_once_in_order_across_chunks() {
    // 10,000 posts (the corpus's, copied with new ids and times): more than two chunks of
    // the parallel reader.
    let corpus = Corpus::load().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let archive = Store::open(dir.path()).unwrap();
    let index = SearchIndex::open(dir.path()).unwrap();
    let mut posts: Vec<starling_model::Post> = (0..10_000)
        .map(|n| {
            let mut post = corpus.posts[n % corpus.posts.len()].clone();
            post.id = format!("copy{n}");
            post.key = starling_model::PostKey::for_uri(&format!("test:copy{n}"));
            post.created_at = corpus.now - chrono::Duration::seconds(n as i64 + 1);
            post
        })
        .collect();
    archive
        .write(&mut posts.iter_mut().collect::<Vec<_>>(), &[])
        .unwrap();
    let mut indexer = index.indexer().unwrap();
    for post in &posts {
        indexer.add(post).unwrap();
    }
    indexer.commit().unwrap();

    let everything = parse("since:2000-01-01").unwrap();
    let mut handed = Vec::new();
    let count = for_each_match(
        &archive,
        &index,
        &everything,
        corpus.now,
        SortBy::Time,
        |post| {
            handed.push(post.id);
            Ok(())
        },
    )
    .unwrap();
    let newest_first: Vec<String> = (0..10_000).map(|n| format!("copy{n}")).collect();
    assert_eq!(count, 10_000);
    assert!(handed == newest_first, "out of order or missing");

    // A query the index answers only roughly: each post checked, across chunks.
    let near = parse("dormitory NEAR/2 university").unwrap();
    let expected: Vec<String> = posts
        .iter()
        .filter(|post| near.matches(&starling_query::Document::new(post), corpus.now))
        .map(|post| post.id.clone())
        .collect();
    assert!(!expected.is_empty() && expected.len() < posts.len());
    let mut handed = Vec::new();
    for_each_match(&archive, &index, &near, corpus.now, SortBy::Time, |post| {
        handed.push(post.id);
        Ok(())
    })
    .unwrap();
    assert_eq!(handed.len(), expected.len());
    assert!(handed == expected, "out of order or wrong posts");

    // A failure to hand a post over ends the walk with that error.
    let mut seen = 0;
    let failed = for_each_match(
        &archive,
        &index,
        &everything,
        corpus.now,
        SortBy::Time,
        |_| {
            seen += 1;
            if seen == 5_000 {
                return Err(starling_store::StoreError::Corrupt {
                    path: dir.path().to_owned(),
                    key: "test".into(),
                    message: "the output is full".into(),
                });
            }
            Ok(())
        },
    );
    assert!(failed.is_err());
    assert_eq!(seen, 5_000);
}
