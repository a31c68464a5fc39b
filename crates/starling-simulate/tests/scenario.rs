//! The generator's promises: same seed, same bytes; and every injected event is really in the
#![allow(
    clippy::unwrap_used,
    reason = "a test that cannot unwrap has failed, and says where"
)]
//! posts, as Starling's own decoders read them back.

use std::collections::{HashMap, HashSet};

use starling_formats::{Context, decode};
use starling_model::{Platform, Post, Source};
use starling_simulate::{Config, Event, Generator, GroundTruth, SilenceScope};

fn digest(config: Config) -> (u64, usize) {
    // FNV-1a over every output's path and bytes, in order.
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    let mut count = 0;
    for output in Generator::new(config).unwrap() {
        for byte in output.path.bytes().chain(output.bytes.iter().copied()) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        count += 1;
    }
    (hash, count)
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let config = Config {
        posts: 5_000,
        ..Config::default()
    };
    let first = digest(config.clone());
    assert_eq!(first, digest(config.clone()));
    assert_ne!(first.0, digest(Config { seed: 7, ..config }).0);
}

#[test]
fn impossible_configurations_are_refused_with_a_reason() {
    let error = Generator::new(Config {
        posts: 10,
        ..Config::default()
    })
    .err()
    .unwrap();
    assert_eq!(
        error.to_string(),
        "posts must be between 1000 and 1000000000, not 10"
    );
    let error = Generator::new(Config {
        hours: 3,
        ..Config::default()
    })
    .err()
    .unwrap();
    assert!(
        error.to_string().starts_with("hours must be between 24"),
        "{error}"
    );
    let error = Generator::new(Config {
        start_unix: 0,
        ..Config::default()
    })
    .err()
    .unwrap();
    assert!(
        error.to_string().starts_with("start must be between"),
        "{error}"
    );
}

/// Generates a scenario and decodes every output, keeping each post once (feeds repeat items).
fn decoded_scenario(config: Config) -> (HashMap<String, Post>, GroundTruth) {
    let mut generator = Generator::new(config).unwrap();
    let mut posts = HashMap::new();
    let mut rejects = Vec::new();
    for output in generator.by_ref() {
        let source = Source::Generated(output.path.clone());
        let received = chrono::DateTime::from_timestamp_millis(output.received_ms).unwrap();
        let decoded = decode(
            output.format,
            &output.bytes,
            &Context::new(&source, received),
        );
        rejects.extend(decoded.rejects);
        for post in decoded.posts {
            posts.entry(post.key.as_str().to_owned()).or_insert(post);
        }
    }
    assert!(
        rejects.is_empty(),
        "the generator wrote records its decoders reject: {:?}",
        &rejects[..rejects.len().min(5)]
    );
    (posts, generator.ground_truth().clone())
}

fn has_tag(post: &Post, tag: &str) -> bool {
    post.entities
        .hashtags
        .iter()
        .any(|hashtag| hashtag.tag.to_lowercase() == tag.to_lowercase())
}

#[test]
fn every_injected_event_is_present_in_the_posts() {
    let (posts, truth) = decoded_scenario(Config {
        posts: 30_000,
        ..Config::default()
    });
    assert_eq!(posts.len() as u64, truth.posts);
    for platform in [
        Platform::Twitter,
        Platform::Mastodon,
        Platform::Bluesky,
        Platform::Rss,
    ] {
        let decoded = posts
            .values()
            .filter(|post| post.platform == platform)
            .count() as u64;
        assert_eq!(
            Some(&decoded),
            truth.platforms.get(platform.as_str()),
            "{platform}"
        );
    }
    let at_least_six_languages = posts
        .values()
        .filter_map(|post| post.declared_lang.as_deref())
        .collect::<HashSet<_>>();
    assert!(
        at_least_six_languages.len() >= 6,
        "{at_least_six_languages:?}"
    );

    assert_eq!(truth.events.len(), 5);
    for event in &truth.events {
        match event {
            Event::Burst {
                key,
                start,
                end,
                posts: count,
                first_post,
                ..
            } => {
                let tag = key.trim_start_matches('#');
                let carrying: Vec<&Post> =
                    posts.values().filter(|post| has_tag(post, tag)).collect();
                assert_eq!(carrying.len() as u64, *count, "posts carrying {key}");
                assert!(*count > 500, "a burst of {count} posts is too small to see");
                // Bluesky clients stamp posts a few seconds before the relay sees them; shares of
                // burst posts go on after the burst itself has ended.
                let skew = chrono::Duration::seconds(5);
                assert!(carrying.iter().all(|post| post.created_at >= *start - skew));
                assert!(
                    carrying
                        .iter()
                        .filter(|post| post.share_of.is_none())
                        .all(|post| post.created_at < *end)
                );
                let before_peak = carrying
                    .iter()
                    .filter(|post| post.created_at < *start + chrono::Duration::minutes(30))
                    .count();
                assert!(
                    before_peak * 10 < carrying.len(),
                    "it rises: {before_peak} of {}",
                    carrying.len()
                );
                assert!(posts.contains_key(first_post.as_deref().unwrap()));
            }
            Event::Story {
                start,
                posts: count,
                languages,
                sample_posts,
                ..
            } => {
                assert!(*count > 300, "{count}");
                assert!(languages.len() >= 6, "{languages:?}");
                for key in sample_posts {
                    assert!(posts[key].created_at >= *start, "{key}");
                }
            }
            Event::Campaign {
                hashtag,
                start,
                end,
                accounts,
                posts: keys,
            } => {
                let members: HashSet<&str> =
                    accounts.iter().map(|account| account.id.as_str()).collect();
                let mut posting = HashSet::new();
                for key in keys {
                    let post = &posts[key];
                    assert!(has_tag(post, hashtag.trim_start_matches('#')), "{key}");
                    assert!(post.created_at >= *start && post.created_at < *end, "{key}");
                    assert!(
                        members.contains(post.author.id.as_str()),
                        "{key} by {}",
                        post.author.id
                    );
                    posting.insert(post.author.id.as_str());
                }
                // Every member posted, at least twice.
                assert_eq!(posting.len(), accounts.len());
                assert!(keys.len() >= 2 * accounts.len());
                // Outside the campaign its hashtag appears only in shares of campaign posts.
                let campaign_keys: HashSet<&str> = keys.iter().map(String::as_str).collect();
                for post in posts.values().filter(|post| {
                    has_tag(post, "stabilitynow") && !members.contains(post.author.id.as_str())
                }) {
                    let shared = post
                        .share_of
                        .as_ref()
                        .and_then(|share| share.key.as_ref())
                        .map(|key| key.as_str());
                    assert!(
                        shared.is_some_and(|key| campaign_keys.contains(key)),
                        "{}",
                        post.key
                    );
                }
            }
            Event::Silence {
                scope: SilenceScope::Platform,
                key,
                start,
                end,
            } => {
                let platform = Platform::parse(key).unwrap();
                let on_platform = |post: &&Post| post.platform == platform;
                // Jetstream's relay time is the collection time.
                let during = posts
                    .values()
                    .filter(on_platform)
                    .filter(|post| post.collected_at >= *start && post.collected_at < *end)
                    .count();
                let hour_before = posts
                    .values()
                    .filter(on_platform)
                    .filter(|post| {
                        post.collected_at >= *start - chrono::Duration::hours(1)
                            && post.collected_at < *start
                    })
                    .count();
                assert_eq!(during, 0);
                assert!(hour_before > 10, "{hour_before}");
            }
            Event::Silence {
                scope: SilenceScope::Country,
                key,
                start,
                end,
            } => {
                let from_country = |post: &&Post| {
                    post.geo.as_ref().and_then(|geo| geo.country.as_deref()) == Some(key.as_str())
                };
                let during = posts
                    .values()
                    .filter(from_country)
                    .filter(|post| post.created_at >= *start && post.created_at < *end)
                    .count();
                let outside = posts.values().filter(from_country).count();
                assert_eq!(during, 0);
                assert!(outside > 20, "{outside}");
            }
        }
    }
}

/// Every tweet's creation time and its author's profile location, read from the v2 pages
/// directly (`includes.users`), without Starling's decoder; and the ground truth.
fn tweet_locations(config: Config) -> (Vec<(chrono::DateTime<chrono::Utc>, String)>, GroundTruth) {
    let mut tweets = Vec::new();
    let mut generator = Generator::new(config).unwrap();
    for output in generator
        .by_ref()
        .filter(|output| output.path == "twitter-v2.jsonl")
    {
        let page: serde_json::Value = serde_json::from_slice(&output.bytes).unwrap();
        let locations: HashMap<&str, &str> = page["includes"]["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|user| {
                (
                    user["id"].as_str().unwrap(),
                    user["location"].as_str().unwrap(),
                )
            })
            .collect();
        for tweet in page["data"].as_array().unwrap() {
            let created = tweet["created_at"].as_str().unwrap().parse().unwrap();
            tweets.push((
                created,
                locations[tweet["author_id"].as_str().unwrap()].to_owned(),
            ));
        }
    }
    (tweets, generator.ground_truth().clone())
}

#[test]
fn nobody_in_the_silenced_country_posts_during_its_silence() {
    let (tweets, truth) = tweet_locations(Config {
        posts: 20_000,
        ..Config::default()
    });
    let Some(Event::Silence { start, end, .. }) = truth
        .events
        .iter()
        .find(|event| {
            matches!(
                event,
                Event::Silence {
                    scope: SilenceScope::Country,
                    ..
                }
            )
        })
        .cloned()
    else {
        panic!("no country silence injected");
    };
    let in_iran =
        |(_, location): &&(chrono::DateTime<chrono::Utc>, String)| location.ends_with(", Iran");
    let during = tweets
        .iter()
        .filter(in_iran)
        .filter(|(time, _)| *time >= start && *time < end)
        .count();
    let before = tweets
        .iter()
        .filter(in_iran)
        .filter(|(time, _)| *time >= start - chrono::Duration::hours(6) && *time < start)
        .count();
    assert_eq!(during, 0, "tweets from Iran during the shutdown");
    assert!(
        before > 100,
        "only {before} tweets from Iran in the six hours before"
    );
}

#[test]
fn posts_carry_replies_shares_geotags_and_hostile_text() {
    let (posts, _) = decoded_scenario(Config {
        posts: 20_000,
        seed: 11,
        ..Config::default()
    });
    let count =
        |predicate: &dyn Fn(&Post) -> bool| posts.values().filter(|post| predicate(post)).count();
    let total = posts.len();
    assert!(count(&|post| post.reply_to.is_some()) > total / 20);
    assert!(count(&|post| post.share_of.is_some()) > total / 20);
    assert!(count(&|post| post.quote_of.is_some()) > 0);
    assert!(count(&|post| post.geo.as_ref().is_some_and(|geo| geo.point.is_some())) > total / 100);
    assert!(
        count(&|post| post.text.contains('\u{200c}')) > 0,
        "Persian ZWNJ"
    );
    assert!(
        count(&|post| post.text.contains("<script>")) > 0,
        "markup in text"
    );
    // Entity spans point at the entity in the text, whatever the script.
    for post in posts.values() {
        for hashtag in &post.entities.hashtags {
            if let Some(span) = hashtag.span {
                let shown = span.slice(&post.text).unwrap();
                assert_eq!(
                    shown.trim_start_matches('#').to_lowercase(),
                    hashtag.tag.to_lowercase(),
                    "{}",
                    post.key
                );
            }
        }
    }
    // A power law: the busiest account posts far more than the median one.
    let mut per_author: HashMap<&str, usize> = HashMap::new();
    for post in posts
        .values()
        .filter(|post| post.platform == Platform::Twitter)
    {
        *per_author.entry(post.author.id.as_str()).or_default() += 1;
    }
    let mut counts: Vec<usize> = per_author.into_values().collect();
    counts.sort_unstable();
    assert!(
        counts[counts.len() - 1] > 20 * counts[counts.len() / 2],
        "{:?}",
        &counts[counts.len() - 5..]
    );
}
