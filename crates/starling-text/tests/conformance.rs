//! Twitter's own conformance suite (`../shared/data/twitter-text/conformance`), read as data:
//! every case of `extract.yml` and the length cases of `validate.yml` must pass.
#![allow(
    clippy::unwrap_used,
    reason = "a test that cannot unwrap has failed, and says where"
)]

use std::collections::BTreeMap;

use serde::Deserialize;
use starling_text::{EntityExtractor, Found, LengthRules, tweet_length, utf16_offset};

#[derive(Deserialize)]
struct Suite<T> {
    tests: BTreeMap<String, Vec<Case<T>>>,
}

#[derive(Deserialize)]
struct Case<T> {
    description: String,
    text: String,
    expected: T,
}

fn load<T: for<'de> Deserialize<'de>>(name: &str) -> Option<Suite<T>> {
    let dir = starling_testkit::shared_data("twitter-text/conformance")?;
    let text = std::fs::read_to_string(dir.join(name)).unwrap();
    Some(serde_yaml::from_str(&text).unwrap())
}

/// What an extraction case expects: plain values, values with UTF-16 indices, or one reply.
#[derive(Deserialize, Debug, PartialEq)]
#[serde(untagged)]
enum Expected {
    Values(Vec<String>),
    WithIndices(Vec<Indexed>),
    Reply(Option<String>),
}

#[derive(Deserialize, Debug, PartialEq)]
struct Indexed {
    #[serde(
        alias = "hashtag",
        alias = "screen_name",
        alias = "url",
        alias = "cashtag"
    )]
    value: String,
    #[serde(default)]
    list_slug: Option<String>,
    indices: [usize; 2],
}

fn indexed(text: &str, found: Vec<Found>) -> Vec<Indexed> {
    found
        .into_iter()
        .map(|item| Indexed {
            value: item.value,
            list_slug: Some(item.list_slug.unwrap_or_default()),
            indices: [
                utf16_offset(text, item.span.byte_start),
                utf16_offset(text, item.span.byte_end),
            ],
        })
        .collect()
}

#[test]
fn every_extraction_case_passes() {
    let Some(suite) = load::<Expected>("extract.yml") else {
        return;
    };
    let extractor = EntityExtractor::new();
    let mut failures = Vec::new();
    let mut cases = 0;
    for (group, group_cases) in &suite.tests {
        for case in group_cases {
            cases += 1;
            let text = case.text.as_str();
            let values = |found: Vec<Found>| {
                Expected::Values(found.into_iter().map(|item| item.value).collect())
            };
            let actual = match group.as_str() {
                "mentions" => values(extractor.mentions(text)),
                "replies" => Expected::Reply(extractor.reply_to(text)),
                "urls" | "tco_urls_with_params" => values(extractor.urls(text)),
                "hashtags" | "hashtags_from_astral" => values(extractor.hashtags(text)),
                "cashtags" => values(extractor.cashtags(text)),
                "mentions_with_indices" => {
                    Expected::WithIndices(indexed(text, extractor.mentions(text)))
                }
                "mentions_or_lists_with_indices" => {
                    Expected::WithIndices(indexed(text, extractor.mentions_or_lists(text)))
                }
                "urls_with_indices" | "urls_with_directional_markers" => {
                    Expected::WithIndices(indexed(text, extractor.urls(text)))
                }
                "hashtags_with_indices" => {
                    Expected::WithIndices(indexed(text, extractor.hashtags(text)))
                }
                "cashtags_with_indices" => {
                    Expected::WithIndices(indexed(text, extractor.cashtags(text)))
                }
                other => {
                    panic!("unknown group {other}: the suite grew, and this test must learn it")
                }
            };
            let expected = match (&case.expected, &actual) {
                // Cases without lists carry no slug; compare them as such.
                (Expected::WithIndices(expected), Expected::WithIndices(_)) => {
                    Expected::WithIndices(
                        expected
                            .iter()
                            .map(|item| Indexed {
                                value: item.value.clone(),
                                list_slug: Some(item.list_slug.clone().unwrap_or_default()),
                                indices: item.indices,
                            })
                            .collect(),
                    )
                }
                (Expected::Values(values), Expected::Reply(_)) if values.is_empty() => {
                    Expected::Reply(None)
                }
                (Expected::Values(values), Expected::Reply(_)) if values.len() == 1 => {
                    Expected::Reply(Some(values[0].clone()))
                }
                (expected, _) => match expected {
                    Expected::Values(values) => Expected::Values(values.clone()),
                    Expected::Reply(reply) => Expected::Reply(reply.clone()),
                    Expected::WithIndices(_) => panic!(
                        "{group}: indices expected for a group without them: {}",
                        case.description
                    ),
                },
            };
            if actual != expected {
                failures.push(format!(
                    "{group}: {} ({:?}): expected {expected:?}, got {actual:?}",
                    case.description, case.text
                ));
            }
        }
    }
    assert!(cases >= 238, "only {cases} cases read");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum Validation {
    Valid(bool),
    Length(Length),
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
struct Length {
    weighted_length: i32,
    valid: bool,
    permillage: i32,
    display_range_start: i32,
    display_range_end: i32,
    valid_range_start: i32,
    valid_range_end: i32,
}

#[test]
fn every_weighted_length_case_passes() {
    let Some(suite) = load::<Validation>("validate.yml") else {
        return;
    };
    let mut failures = Vec::new();
    let mut cases = 0;
    for (group, group_cases) in &suite.tests {
        let rules = match group.as_str() {
            "WeightedTweetsCounterTest" => LengthRules::V2,
            "WeightedTweetsWithDiscountedEmojiCounterTest"
            | "UnicodeDirectionalMarkerCounterTest" => LengthRules::V3,
            "tweets" => LengthRules::V1,
            // Validity of usernames, lists, hashtags and URLs on their own is not length.
            _ => continue,
        };
        for case in group_cases {
            cases += 1;
            let length = tweet_length(&case.text, rules);
            let ok = match &case.expected {
                Validation::Valid(valid) => length.valid == *valid,
                Validation::Length(expected) => {
                    length.weighted_length == expected.weighted_length
                        && length.valid == expected.valid
                        && length.permillage == expected.permillage
                        && length.display_range
                            == (expected.display_range_start, expected.display_range_end)
                        && length.valid_range
                            == (expected.valid_range_start, expected.valid_range_end)
                }
            };
            if !ok {
                failures.push(format!(
                    "{group}: {}: expected {:?}, got {length:?}",
                    case.description, case.expected
                ));
            }
        }
    }
    assert!(cases >= 50, "only {cases} cases read");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
