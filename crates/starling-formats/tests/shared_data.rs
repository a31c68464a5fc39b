//! Decoders against real third-party captures from `../shared/data` (see its README).
#![allow(
    clippy::unwrap_used,
    reason = "a test that cannot unwrap has failed, and says where"
)]

use std::path::Path;

use starling_formats::{Context, Decoded, Format, decode};
use starling_model::Source;

fn decode_lines(path: &Path, format: Format) -> Decoded {
    let text = std::fs::read_to_string(path).unwrap();
    let source = Source::File(path.file_name().unwrap().to_string_lossy().into_owned());
    let mut all = Decoded::default();
    for (index, line) in text
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
    {
        let mut context = Context::new(&source, "2026-01-01T00:00:00Z".parse().unwrap());
        context.line = Some(index as u64 + 1);
        let decoded = decode(format, line.as_bytes(), &context);
        all.posts.extend(decoded.posts);
        all.notices.extend(decoded.notices);
        all.rejects.extend(decoded.rejects);
    }
    all
}

/// The number of items in `data` and in `errors` of every parseable line, counted without
/// Starling's decoder.
fn count_items(path: &Path) -> (usize, usize) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut items = (0, 0);
    for value in text
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
    {
        items.0 += match &value["data"] {
            serde_json::Value::Array(tweets) => tweets.len(),
            serde_json::Value::Object(_) => 1,
            _ => 0,
        };
        items.1 += value["errors"].as_array().map_or(0, Vec::len);
    }
    items
}

const TWEET_PAGES: &[&str] = &[
    "2sets.jsonl",
    "brexit.jsonl",
    "cashtags.jsonl",
    "cotweet.jsonl",
    "edited.jsonl",
    "edited_after.jsonl",
    "edited_before.jsonl",
    "entities_test.jsonl",
    "geo_tweets.jsonl",
    "kpop.jsonl",
    "many_urls.jsonl",
    "media_policy_violation_off.jsonl",
    "media_policy_violation_on.jsonl",
    "media_tweet.jsonl",
    "mentions_tweet.jsonl",
    "noflat.jsonl",
    "quoted_edit.jsonl",
    "streaming_output_with_error.jsonl",
    "two_tweets.jsonl",
    "verified_type.jsonl",
    "withheld.jsonl",
];

#[test]
fn every_real_v2_tweet_is_decoded_and_every_error_kept() {
    let Some(dir) = starling_testkit::shared_data("platforms/twitter-v2-twarc-csv/test-data")
    else {
        return;
    };
    let (mut posts, mut expected_posts, mut notices, mut expected_notices) = (0, 0, 0, 0);
    let mut rejects = Vec::new();
    let mut spans = (0, 0);
    for name in TWEET_PAGES {
        let path = dir.join(name);
        let decoded = decode_lines(&path, Format::TwitterV2);
        let (tweets, errors) = count_items(&path);
        assert_eq!(decoded.posts.len(), tweets, "{name}");
        posts += decoded.posts.len();
        expected_posts += tweets;
        notices += decoded.notices.len();
        expected_notices += errors;
        rejects.extend(decoded.rejects);
        for post in &decoded.posts {
            assert!(
                post.raw
                    .as_str()
                    .unwrap()
                    .contains(&format!("\"{}\"", post.id))
            );
            for hashtag in &post.entities.hashtags {
                let Some(span) = hashtag.span else { continue };
                spans.0 += 1;
                let shown = span.slice(&post.text).unwrap_or_default();
                spans.1 += usize::from(
                    shown.trim_start_matches(['#', '＃']).to_lowercase()
                        == hashtag.tag.to_lowercase(),
                );
            }
        }
    }
    assert!(expected_posts > 1_400, "{expected_posts}");
    assert_eq!(posts, expected_posts);
    assert_eq!(notices, expected_notices);
    // The one truncated line of the stream capture, and nothing else.
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0].source, "streaming_output_with_error.jsonl");
    assert_eq!(rejects[0].line, Some(8));
    assert!(rejects[0].reason.contains("column"), "{}", rejects[0]);
    // Entity offsets are code points into the text as Twitter returns it.
    assert!(
        spans.0 > 300 && spans.1 == spans.0,
        "{} of {} hashtag spans fit",
        spans.1,
        spans.0
    );
}

#[test]
fn real_geotagged_tweets_keep_their_place() {
    let Some(dir) = starling_testkit::shared_data("platforms/twitter-v2-twarc-csv/test-data")
    else {
        return;
    };
    let decoded = decode_lines(&dir.join("geo_tweets.jsonl"), Format::TwitterV2);
    assert_eq!(decoded.posts.len(), 2);
    // One has an exact point (GeoJSON order, longitude first), the other a place.
    let point = decoded.posts[0].geo.as_ref().unwrap().point.unwrap();
    assert_eq!((point.lat, point.lon), (88.01785747, 42.77810097));
    let geo = decoded.posts[1].geo.as_ref().unwrap();
    assert_eq!(geo.place.as_ref().unwrap().name, "Berlin, Germany");
    assert_eq!(geo.country.as_deref(), Some("DE"));
}

#[test]
fn files_that_are_not_tweet_pages_are_rejected_not_misread() {
    let Some(dir) = starling_testkit::shared_data("platforms/twitter-v2-twarc-csv/test-data")
    else {
        return;
    };
    for (name, expected) in [
        ("users.jsonl", "not a tweet object"),
        ("tweets_compliance.jsonl", "not a twarc2 flattened tweet"),
    ] {
        let decoded = decode_lines(&dir.join(name), Format::TwitterV2);
        assert!(decoded.posts.is_empty(), "{name}");
        assert!(!decoded.rejects.is_empty(), "{name}");
        assert!(
            decoded
                .rejects
                .iter()
                .all(|reject| reject.reason.contains(expected)),
            "{name}: {:?}",
            decoded.rejects[0]
        );
    }
}

#[test]
fn real_feeds_yield_as_many_items_as_feed_rs_finds() {
    let Some(dir) = starling_testkit::shared_data("feeds/feed-rs/fixture") else {
        return;
    };
    let mut feeds = 0;
    let mut items = 0;
    let mut paths: Vec<_> = walk(&dir);
    paths.sort();
    for expected_path in paths
        .iter()
        .filter(|path| path.to_string_lossy().ends_with(".serde.json"))
    {
        // feed-rs keeps each fixture's parsed form beside it, with the same stem.
        let stem = expected_path
            .to_string_lossy()
            .trim_end_matches(".serde.json")
            .to_owned();
        let Some(feed_path) = paths.iter().find(|path| {
            let name = path.to_string_lossy();
            name.starts_with(&format!("{stem}.")) && !name.ends_with(".serde.json")
        }) else {
            continue;
        };
        let expected: serde_json::Value =
            serde_json::from_slice(&std::fs::read(expected_path).unwrap()).unwrap();
        let entries = expected["entries"].as_array().map_or(0, Vec::len);
        let bytes = std::fs::read(feed_path).unwrap();
        let source = Source::File(feed_path.display().to_string());
        let decoded = decode(
            Format::Rss,
            &bytes,
            &Context::new(&source, "2026-01-01T00:00:00Z".parse().unwrap()),
        );
        assert!(
            decoded.rejects.is_empty(),
            "{}: {:?}",
            feed_path.display(),
            decoded.rejects
        );
        assert_eq!(decoded.posts.len(), entries, "{}", feed_path.display());
        for post in &decoded.posts {
            assert!(post.key.as_str().starts_with("rss:"), "{}", post.key);
        }
        feeds += 1;
        items += entries;
    }
    assert!(feeds >= 60, "{feeds}");
    assert!(items >= 80, "{items}");
    let invalid = std::fs::read(dir.join("rss2/rss_2.0_invalid_1.xml")).unwrap();
    let source = Source::File("rss_2.0_invalid_1.xml".into());
    let decoded = decode(
        Format::Rss,
        &invalid,
        &Context::new(&source, "2026-01-01T00:00:00Z".parse().unwrap()),
    );
    assert_eq!(
        decoded.rejects[0].field, "document",
        "{:?}",
        decoded.rejects
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walk(&path))
        } else {
            found.push(path)
        }
    }
    found
}

/// Response bodies of tweepy's recorded v1.1 calls that return tweets.
fn tweepy_v1_bodies() -> Option<Vec<(String, String)>> {
    let dir = starling_testkit::shared_data("platforms/twitter-v1-tweepy/cassettes")?;
    let mut bodies = Vec::new();
    let mut paths: Vec<_> = walk(&dir)
        .into_iter()
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "json")
        })
        .collect();
    paths.sort();
    for path in paths {
        let cassette: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for interaction in cassette["interactions"].as_array().into_iter().flatten() {
            let uri = interaction["request"]["uri"].as_str().unwrap_or_default();
            let Some(body) = interaction["response"]["body"]["string"].as_str() else {
                continue;
            };
            if uri.contains("/1.1/") {
                bodies.push((
                    format!("{}: {}", path.file_name().unwrap().to_string_lossy(), uri),
                    body.to_owned(),
                ));
            }
        }
    }
    Some(bodies)
}

/// The tweets in a v1.1 response body, found without Starling's decoder.
fn tweets_in(body: &serde_json::Value) -> Vec<&serde_json::Value> {
    let is_tweet = |value: &&serde_json::Value| {
        value.get("id_str").is_some()
            && (value.get("text").is_some() || value.get("full_text").is_some())
    };
    match body {
        serde_json::Value::Array(items) => items.iter().filter(is_tweet).collect(),
        serde_json::Value::Object(object) if object.contains_key("statuses") => {
            body["statuses"].as_array().unwrap().iter().collect()
        }
        object if is_tweet(&object) => vec![object],
        _ => Vec::new(),
    }
}

#[test]
fn real_v1_tweets_decode_with_their_ids_authors_times_and_text() {
    let Some(bodies) = tweepy_v1_bodies() else {
        return;
    };
    let mut checked = 0;
    for (name, body) in &bodies {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
            continue;
        };
        let expected = tweets_in(&value);
        if expected.is_empty() {
            continue;
        }
        let source = Source::File(name.clone());
        let decoded = decode(
            Format::TwitterV1,
            body.as_bytes(),
            &Context::new(&source, "2026-01-01T00:00:00Z".parse().unwrap()),
        );
        assert!(decoded.rejects.is_empty(), "{name}: {:?}", decoded.rejects);
        assert_eq!(decoded.posts.len(), expected.len(), "{name}");
        for (post, tweet) in decoded.posts.iter().zip(&expected) {
            assert_eq!(post.id, tweet["id_str"].as_str().unwrap(), "{name}");
            assert_eq!(
                post.author.handle,
                tweet["user"]["screen_name"].as_str().unwrap(),
                "{name}"
            );
            let created = chrono::DateTime::parse_from_str(
                tweet["created_at"].as_str().unwrap(),
                "%a %b %d %H:%M:%S %z %Y",
            )
            .unwrap();
            assert_eq!(post.created_at, created, "{name}");
            if tweet.get("retweeted_status").is_none() {
                let text = tweet
                    .get("full_text")
                    .or(tweet.get("text"))
                    .and_then(|text| text.as_str())
                    .unwrap();
                let plain = text
                    .replace("&lt;", "<")
                    .replace("&gt;", ">")
                    .replace("&amp;", "&");
                assert_eq!(post.text, plain, "{name}");
                let hashtags: Vec<&str> = tweet["entities"]["hashtags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|tag| tag["text"].as_str().unwrap())
                    .collect();
                let decoded_tags: Vec<&str> = post
                    .entities
                    .hashtags
                    .iter()
                    .map(|tag| tag.tag.as_str())
                    .collect();
                assert_eq!(decoded_tags, hashtags, "{name}");
            } else {
                assert!(post.share_of.is_some(), "{name}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 100, "{checked}");
}

#[test]
fn flattened_and_paged_captures_of_the_same_tweets_decode_alike() {
    let Some(dir) = starling_testkit::shared_data("platforms/twitter-v2-twarc-csv/test-data")
    else {
        return;
    };
    let flat = decode_lines(&dir.join("flat.jsonl"), Format::TwitterV2);
    let paged = decode_lines(&dir.join("noflat.jsonl"), Format::TwitterV2);
    assert!(flat.rejects.is_empty(), "{:?}", flat.rejects);
    assert_eq!(flat.posts.len(), 100);
    let by_key: std::collections::HashMap<&str, &starling_model::Post> = paged
        .posts
        .iter()
        .map(|post| (post.key.as_str(), post))
        .collect();
    let mut compared = 0;
    for post in &flat.posts {
        let Some(other) = by_key.get(post.key.as_str()) else {
            continue;
        };
        assert_eq!(post.text, other.text, "{}", post.key);
        assert_eq!(post.author, other.author, "{}", post.key);
        assert_eq!(post.created_at, other.created_at, "{}", post.key);
        // twarc's flattening adds mention ids the page lacks; values and positions must agree.
        let mentions = |post: &starling_model::Post| {
            post.entities
                .mentions
                .iter()
                .map(|mention| (mention.handle.clone(), mention.span))
                .collect::<Vec<_>>()
        };
        assert_eq!(mentions(post), mentions(other), "{}", post.key);
        assert_eq!(
            post.entities.hashtags, other.entities.hashtags,
            "{}",
            post.key
        );
        assert_eq!(post.entities.urls, other.entities.urls, "{}", post.key);
        assert_eq!(post.share_of, other.share_of, "{}", post.key);
        compared += 1;
    }
    assert!(compared >= 90, "only {compared} tweets in both captures");
}

/// Response bodies of Mastodon.py's recorded API calls (YAML cassettes holding JSON strings).
fn mastodon_bodies() -> Option<Vec<(String, String)>> {
    let dir = starling_testkit::shared_data("platforms/mastodon-py/tests")?;
    let mut bodies = Vec::new();
    let mut paths: Vec<_> = walk(&dir)
        .into_iter()
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "yaml")
        })
        .collect();
    paths.sort();
    for path in paths {
        let Ok(cassette) =
            serde_yaml::from_str::<serde_yaml::Value>(&std::fs::read_to_string(&path).unwrap())
        else {
            continue;
        };
        for interaction in cassette["interactions"].as_sequence().into_iter().flatten() {
            let uri = interaction["request"]["uri"].as_str().unwrap_or_default();
            if let Some(body) = interaction["response"]["body"]["string"].as_str() {
                bodies.push((format!("{}: {uri}", path.display()), body.to_owned()));
            }
        }
    }
    Some(bodies)
}

/// Statuses in a response body, found without Starling's decoder.
fn statuses_in(body: &serde_json::Value) -> Vec<&serde_json::Value> {
    let is_status = |value: &&serde_json::Value| {
        value.get("uri").is_some()
            && value.get("content").is_some()
            && value.get("account").is_some()
    };
    match body {
        serde_json::Value::Array(items) => items.iter().filter(is_status).collect(),
        object if is_status(&object) => vec![object],
        _ => Vec::new(),
    }
}

#[test]
fn real_mastodon_statuses_decode_with_their_keys_authors_and_text() {
    let Some(bodies) = mastodon_bodies() else {
        return;
    };
    let mut keys = std::collections::HashSet::new();
    let mut checked = 0;
    for (name, body) in &bodies {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
            continue;
        };
        let expected = statuses_in(&value);
        if expected.is_empty()
            || value.is_array() && expected.len() != value.as_array().unwrap().len()
        {
            continue;
        }
        let source = Source::File(name.clone());
        let decoded = decode(
            Format::Mastodon,
            body.as_bytes(),
            &Context::new(&source, "2026-01-01T00:00:00Z".parse().unwrap()),
        );
        assert!(decoded.rejects.is_empty(), "{name}: {:?}", decoded.rejects);
        assert_eq!(decoded.posts.len(), expected.len(), "{name}");
        for (post, status) in decoded.posts.iter().zip(&expected) {
            assert_eq!(post.key.as_str(), status["uri"].as_str().unwrap(), "{name}");
            assert_eq!(post.id, status["id"].as_str().unwrap(), "{name}");
            let acct = status["account"]["acct"].as_str().unwrap();
            assert!(
                post.author.handle == acct || post.author.handle.starts_with(&format!("{acct}@")),
                "{name}: {} vs {acct}",
                post.author.handle
            );
            let created =
                chrono::DateTime::parse_from_rfc3339(status["created_at"].as_str().unwrap())
                    .unwrap();
            assert_eq!(post.created_at, created, "{name}");
            // Markup never survives into the text.
            assert!(
                !post.text.contains("<p>") && !post.text.contains("</a>"),
                "{name}: {:?}",
                post.text
            );
            if status["reblog"].is_null() {
                let tags: Vec<&str> = status["tags"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|tag| tag["name"].as_str().unwrap())
                    .collect();
                let decoded_tags: Vec<&str> = post
                    .entities
                    .hashtags
                    .iter()
                    .map(|tag| tag.tag.as_str())
                    .collect();
                assert_eq!(decoded_tags, tags, "{name}");
            } else {
                assert_eq!(
                    post.share_of
                        .as_ref()
                        .unwrap()
                        .key
                        .as_ref()
                        .unwrap()
                        .as_str(),
                    status["reblog"]["uri"].as_str().unwrap()
                );
            }
            keys.insert(post.key.as_str().to_owned());
            checked += 1;
        }
    }
    println!("{checked} statuses checked, {} unique", keys.len());
    assert!(keys.len() >= 250, "only {} unique statuses", keys.len());
}

/// Twitter's own entities against twitter-text's rules on the same real texts: the share of
/// tweets where the two give the same hashtags, mentions and links.
#[test]
fn platform_entities_agree_with_twitters_rules_on_real_tweets() {
    let Some(dir) = starling_testkit::shared_data("platforms/twitter-v2-twarc-csv/test-data")
    else {
        return;
    };
    let extractor = starling_text::EntityExtractor::new();
    let (mut tweets, mut same) = (0usize, [0usize; 3]);
    let mut differences = Vec::new();
    for name in TWEET_PAGES {
        for post in decode_lines(&dir.join(name), Format::TwitterV2).posts {
            let found = extractor.entities(&post.text);
            // Compared as sets: Twitter lists a link once per photo it carries.
            let lower = |values: Vec<String>| {
                values
                    .into_iter()
                    .map(|value| value.to_lowercase())
                    .collect::<std::collections::BTreeSet<_>>()
            };
            let pairs = [
                (
                    lower(
                        post.entities
                            .hashtags
                            .iter()
                            .map(|tag| tag.tag.clone())
                            .collect(),
                    ),
                    lower(found.hashtags.iter().map(|tag| tag.tag.clone()).collect()),
                ),
                (
                    lower(
                        post.entities
                            .mentions
                            .iter()
                            .map(|mention| mention.handle.clone())
                            .collect(),
                    ),
                    lower(
                        found
                            .mentions
                            .iter()
                            .map(|mention| mention.handle.clone())
                            .collect(),
                    ),
                ),
                (
                    lower(
                        post.entities
                            .urls
                            .iter()
                            .map(|url| url.url.clone())
                            .collect(),
                    ),
                    lower(found.urls.iter().map(|url| url.url.clone()).collect()),
                ),
            ];
            tweets += 1;
            for (index, (platform, rules)) in pairs.iter().enumerate() {
                if platform == rules {
                    same[index] += 1;
                } else if differences.len() < 8 {
                    differences.push(format!(
                        "{}: platform {platform:?}, rules {rules:?}",
                        post.key
                    ));
                }
            }
        }
    }
    let share = |count: usize| count as f64 / tweets as f64;
    println!(
        "{tweets} real tweets: hashtags agree on {:.1}%, mentions on {:.1}%, links on {:.1}%; e.g. {differences:?}",
        100.0 * share(same[0]),
        100.0 * share(same[1]),
        100.0 * share(same[2])
    );
    assert!(tweets > 1_400);
    // Measured: 99.9%, 94.3%, 94.8%. Mentions differ where Twitter omits accounts that no
    // longer exist (suspended, renamed); links where it adds one that is not in the text (a
    // withholding notice): the platform's lists are kept for that reason.
    assert!(
        share(same[0]) > 0.99 && share(same[1]) > 0.93 && share(same[2]) > 0.93,
        "{same:?} of {tweets}: {differences:?}"
    );
}

#[test]
fn real_v2_responses_recorded_by_tweepy_decode_tweet_for_tweet() {
    let Some(dir) = starling_testkit::shared_data("platforms/twitter-v1-tweepy/cassettes") else {
        return;
    };
    let mut paths: Vec<_> = walk(&dir)
        .into_iter()
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "yaml")
        })
        .collect();
    paths.sort();
    let mut unique = std::collections::HashSet::new();
    for path in paths {
        let Ok(cassette) =
            serde_yaml::from_str::<serde_yaml::Value>(&std::fs::read_to_string(&path).unwrap())
        else {
            continue;
        };
        for interaction in cassette["interactions"].as_sequence().into_iter().flatten() {
            let uri = interaction["request"]["uri"].as_str().unwrap_or_default();
            let Some(body) = interaction["response"]["body"]["string"].as_str() else {
                continue;
            };
            // v2 responses whose `data` are tweets (they have `text`); users, lists and spaces
            // are not posts.
            if !uri.contains("/2/") {
                continue;
            }
            let Ok(value) = serde_json::from_str::<serde_json::Value>(body) else {
                continue;
            };
            let items: Vec<&serde_json::Value> = match &value["data"] {
                serde_json::Value::Array(items) => items.iter().collect(),
                serde_json::Value::Object(_) => vec![&value["data"]],
                _ => continue,
            };
            let expected: Vec<&str> = items
                .iter()
                .filter(|item| item.get("text").is_some())
                .filter_map(|item| item["id"].as_str())
                .collect();
            let not_tweets = items.len() - expected.len();
            let name = format!("{}: {uri}", path.file_name().unwrap().to_string_lossy());
            let source = Source::File(name.clone());
            let decoded = decode(
                Format::TwitterV2,
                body.as_bytes(),
                &Context::new(&source, "2026-01-01T00:00:00Z".parse().unwrap()),
            );
            // Every tweet becomes a post; every other object (a user, a job) a reject saying so.
            assert_eq!(
                decoded.rejects.len(),
                not_tweets,
                "{name}: {:?}",
                decoded.rejects
            );
            assert!(
                decoded
                    .rejects
                    .iter()
                    .all(|reject| reject.reason.starts_with("not a tweet object")),
                "{name}: {:?}",
                decoded.rejects
            );
            let ids: Vec<&str> = decoded.posts.iter().map(|post| post.id.as_str()).collect();
            assert_eq!(ids, expected, "{name}");
            unique.extend(ids.iter().map(|id| (*id).to_owned()));
        }
    }
    println!("{} unique v2 tweets in tweepy's cassettes", unique.len());
    assert!(unique.len() >= 300, "{}", unique.len());
}
