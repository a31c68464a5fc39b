//! The archive's search passes the shared query corpus: the same answers as the reference
//! evaluator, through the index.
#![allow(
    clippy::unwrap_used,
    reason = "a test that cannot unwrap has failed, and says where"
)]

use starling_query::corpus::Corpus;
use starling_query::parse;
use starling_store::{SearchIndex, SortBy, Store, search};

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
