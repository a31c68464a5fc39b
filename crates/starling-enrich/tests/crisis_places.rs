//! Place names in real crisis tweets: the on-topic tweets of CrisisLexT6's six crises, each
//! in a known country. How many name a place, and how many of those land in the crisis's
//! country (a place elsewhere is not always wrong: people name other cities too, but most
//! on-topic mentions are of the stricken region).
#![allow(
    clippy::unwrap_used,
    clippy::print_stderr,
    reason = "a test that cannot unwrap has failed; the figures are printed for the notes"
)]

use starling_model::Post;

const CRISES: &[(&str, &str)] = &[
    ("2012_Sandy_Hurricane", "US"),
    ("2013_Alberta_Floods", "CA"),
    ("2013_Boston_Bombings", "US"),
    ("2013_Oklahoma_Tornado", "US"),
    ("2013_Queensland_Floods", "AU"),
    ("2013_West_Texas_Explosion", "US"),
];

fn post_saying(text: &str) -> Post {
    let mut post: Post = serde_json::from_str(
        r#"{"platform":"twitter","id":"1","key":"twitter:1","author":{"id":"9","handle":"someone"},"created_at":"2026-06-12T18:00:00Z","collected_at":"2026-06-12T18:00:01Z","text":"","provenance":{"source":{"kind":"generated","name":"test"},"format":"test"},"raw":""}"#,
    )
    .unwrap();
    post.text = text.to_owned();
    post
}

#[test]
fn crisis_tweets_name_places_in_the_crisis_country() {
    let Some(root) = starling_testkit::shared_data("crisis/crisislex-t6") else {
        return;
    };
    let mut report = Vec::new();
    for (crisis, country) in CRISES {
        let path = root
            .join(crisis)
            .join(format!("{crisis}-ontopic_offtopic.csv"));
        let mut reader = csv::Reader::from_path(&path).unwrap();
        let (mut tweets, mut placed, mut in_country) = (0usize, 0usize, 0usize);
        for record in reader.records() {
            let record = record.unwrap();
            if record.get(2).map(str::trim) != Some("on-topic") {
                continue;
            }
            tweets += 1;
            if let Some(place) = starling_enrich::place::resolve(&post_saying(&record[1])) {
                placed += 1;
                if place.country == *country {
                    in_country += 1;
                }
            }
        }
        let precision = in_country as f64 / placed.max(1) as f64;
        report.push(format!(
            "{crisis}: {tweets} on-topic tweets, {placed} name a place ({:.0}%), {in_country} in {country} ({:.0}% of those)",
            100.0 * placed as f64 / tweets.max(1) as f64,
            100.0 * precision
        ));
        assert!(tweets > 1000, "{crisis}: {tweets}");
        assert!(placed * 5 >= tweets, "{}", report.join("\n"));
        assert!(precision >= 0.8, "{}", report.join("\n"));
    }
    eprintln!("{}", report.join("\n"));
}
