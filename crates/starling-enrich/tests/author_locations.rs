//! Place resolution on real profile locations: every `user.location` in the shared Twitter v2
//! captures (twarc-csv's test data, 846 distinct strings), resolved as a post's author
//! location. The expected countries below are our own reading of the most frequent strings.
#![allow(
    clippy::unwrap_used,
    clippy::print_stderr,
    reason = "a test that cannot unwrap has failed; the figures are printed for the notes"
)]

use std::collections::BTreeMap;

use starling_model::Post;

/// The 60 most frequent locations in the captures (at least 4 users each), with the country
/// they name, or `None` for those that name none.
const EXPECTED: &[(&str, Option<&str>)] = &[
    ("India", Some("IN")),
    ("United States", Some("US")),
    ("London", Some("GB")),
    ("New York, NY", Some("US")),
    ("Nashville", Some("US")),
    ("Italia", Some("IT")),
    ("United Kingdom", Some("GB")),
    ("New Delhi, India", Some("IN")),
    ("Mumbai, India", Some("IN")),
    ("Washington, DC", Some("US")),
    ("London, England", Some("GB")),
    ("Mumbai", Some("IN")),
    ("Italy", Some("IT")),
    ("Ireland", Some("IE")),
    ("UK", Some("GB")),
    ("Boston, MA", Some("US")),
    ("14 • They/Them • Bi ", None),
    ("Los Angeles, CA", Some("US")),
    ("Roma, Lazio", Some("IT")),
    ("Chicago, IL", Some("US")),
    ("San Francisco", Some("US")),
    ("Miami, FL", Some("US")),
    ("England, United Kingdom", Some("GB")),
    ("Tierra Firme", None),
    ("New York, New York", Some("US")),
    ("Southampton, England", Some("GB")),
    ("Florida, USA", Some("US")),
    ("Here", None),
    ("Nigeria ", Some("NG")),
    ("Manhattan, NY", Some("US")),
    ("California", Some("US")),
    ("Roma", Some("IT")),
    ("Milano, Lombardia", Some("IT")),
    ("Washington, D.C.", Some("US")),
    ("Ohio, USA", Some("US")),
    ("In Plain Sight", None),
    ("Dallas, TX", Some("US")),
    ("Milano", Some("IT")),
    ("England", Some("GB")),
    ("Europe", None),
    ("Brooklyn, NY", Some("US")),
    ("Portland, OR", Some("US")),
    ("Washington D.C.", Some("US")),
    ("USAF Desert Storm/Shield Vet", None),
    ("Detroit, MI", Some("US")),
    ("Los Angeles", Some("US")),
    ("Minnesota, USA", Some("US")),
    ("UttarPradesh", Some("IN")),
    ("London, UK", Some("GB")),
    ("Madrid, Comunidad de Madrid", Some("ES")),
    ("New Delhi", Some("IN")),
    ("Kolkata, India", Some("IN")),
    ("Scotland", Some("GB")),
    ("Berlin, Germany", Some("DE")),
    ("Lombardia, Italia", Some("IT")),
    ("Argentina", Some("AR")),
    ("she/her", None),
    ("Earth", None),
    ("California, USA", Some("US")),
    ("Jerusalem", Some("IL")),
];

fn post_from(location: &str) -> Post {
    let mut post: Post = serde_json::from_str(
        r#"{"platform":"twitter","id":"1","key":"twitter:1","author":{"id":"9","handle":"someone"},"created_at":"2026-06-12T18:00:00Z","collected_at":"2026-06-12T18:00:01Z","text":"no place here","provenance":{"source":{"kind":"generated","name":"test"},"format":"test"},"raw":""}"#,
    )
    .unwrap();
    post.author.location = Some(location.to_owned());
    post
}

fn collect(value: &serde_json::Value, into: &mut BTreeMap<String, u64>) {
    match value {
        serde_json::Value::Object(object) => {
            if let Some(serde_json::Value::String(location)) = object.get("location")
                && (object.contains_key("username") || object.contains_key("screen_name"))
            {
                *into.entry(location.clone()).or_default() += 1;
            }
            object.values().for_each(|value| collect(value, into));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|value| collect(value, into)),
        _ => {}
    }
}

#[test]
fn real_profile_locations_resolve_to_the_countries_they_name() {
    let Some(dir) = starling_testkit::shared_data("platforms/twitter-v2-twarc-csv/test-data")
    else {
        return;
    };
    let mut locations = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
        for line in text.lines() {
            if let Ok(value) = serde_json::from_str::<serde_json::Value>(line) {
                collect(&value, &mut locations);
            }
        }
    }
    assert!(
        locations.len() > 800,
        "{} distinct locations",
        locations.len()
    );
    let mut wrong = Vec::new();
    for (location, expected) in EXPECTED {
        assert!(
            locations.contains_key(*location),
            "{location:?} is not in the captures"
        );
        let found = starling_enrich::place::resolve(&post_from(location));
        let country = found.as_ref().map(|place| place.country.as_str());
        if country != *expected {
            wrong.push(format!(
                "{location:?}: expected {expected:?}, got {found:?}"
            ));
        }
    }
    let resolved = locations
        .keys()
        .filter(|location| starling_enrich::place::resolve(&post_from(location)).is_some())
        .count();
    let correct = EXPECTED.len() - wrong.len();
    eprintln!(
        "author locations: {correct} of {} labelled right; {resolved} of {} distinct locations resolved to a place\n{}",
        EXPECTED.len(),
        locations.len(),
        wrong.join("\n")
    );
    assert!(correct * 100 >= EXPECTED.len() * 85, "{}", wrong.join("\n"));
}
