use super::*;

/// A post at `minute` on `platform` by `author` saying `text`, with its hashtags found.
fn post(minute: i64, platform: &str, author: &str, text: &str, country: Option<&str>) -> Post {
    let created = chrono::DateTime::from_timestamp(1_781_222_400 + minute * 60, 0).unwrap();
    let hashtags: Vec<serde_json::Value> = text
        .split_whitespace()
        .filter_map(|word| word.strip_prefix('#'))
        .map(|tag| serde_json::json!({"tag": tag, "span": {"start": 0, "end": 1, "byte_start": 0, "byte_end": 1}}))
        .collect();
    let mut json = serde_json::json!({
        "platform": platform, "id": format!("{minute}-{author}"), "key": format!("{platform}:{minute}-{author}-{}", text.len()),
        "author": {"id": author, "handle": author},
        "created_at": created, "collected_at": created, "text": text,
        "entities": {"hashtags": hashtags},
        "provenance": {"source": {"kind": "generated", "name": "test"}, "format": "test"},
        "raw": "",
    });
    if let Some(country) = country {
        json["geo"] = serde_json::json!({"country": country});
    }
    serde_json::from_value(json).unwrap()
}

/// Everyday words, mixed differently in every post.
fn chatter(minute: i64, n: usize) -> String {
    const WORDS: &[&str] = &[
        "weather", "traffic", "football", "coffee", "market", "music", "school", "garden",
        "cinema", "bakery", "river", "mountain", "summer", "letter", "window", "bridge", "kitchen",
        "station", "morning", "evening", "holiday", "village", "library", "concert",
    ];
    let mut state = (minute as u64) * 1_000_003 + n as u64 * 7_919 + 1;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        WORDS[(state % WORDS.len() as u64) as usize]
    };
    let words: Vec<&str> = (0..7).map(|_| next()).collect();
    format!("{} #{}", words.join(" "), next())
}

/// The keys of the bursts found, in order.
fn burst_keys(found: &[Detection]) -> Vec<&str> {
    found
        .iter()
        .filter(|found| found.kind == Kind::Burst)
        .map(|found| found.key.as_str())
        .collect()
}

fn settings() -> Settings {
    Settings {
        burst_cells: 1 << 12,
        ..Settings::default()
    }
}

/// Ten hours of ordinary talk, 30 posts a minute, with whatever `extra` adds per minute.
fn stream(extra: impl Fn(i64) -> Vec<Post>) -> Vec<Detection> {
    ten_hours(
        |_| 30,
        |minute, n| {
            let platform = if n % 3 == 0 { "bluesky" } else { "twitter" };
            let country = (n % 10 == 0).then_some("IR");
            post(
                minute,
                platform,
                &format!("user{n}"),
                &chatter(minute, n),
                country,
            )
        },
        extra,
    )
}

/// Ten hours through the detectors: `base(minute)` posts a minute made by `ordinary(minute,
/// n)`, then whatever `extra` adds.
fn ten_hours(
    base: impl Fn(i64) -> usize,
    ordinary: impl Fn(i64, usize) -> Post,
    extra: impl Fn(i64) -> Vec<Post>,
) -> Vec<Detection> {
    let mut detectors = Detectors::new(settings());
    let mut found = Vec::new();
    for minute in 0..600 {
        for n in 0..base(minute) {
            found.extend(detectors.observe(&ordinary(minute, n)));
        }
        for extra in extra(minute) {
            found.extend(detectors.observe(&extra));
        }
    }
    found.extend(detectors.finish());
    found
}

#[test]
fn an_ordinary_stream_raises_nothing() {
    let found = stream(|_| Vec::new());
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn a_hashtag_rising_from_nothing_bursts_with_its_reason() {
    let found = stream(|minute| {
        if (300..330).contains(&minute) {
            (0..12)
                .map(|n| {
                    post(
                        minute,
                        "twitter",
                        &format!("chanter{n}"),
                        "allahu akbar from the rooftops #پشت_بام",
                        None,
                    )
                })
                .collect()
        } else {
            Vec::new()
        }
    });
    let burst = found
        .iter()
        .find(|found| found.kind == Kind::Burst && found.key == "#پشت_بام")
        .unwrap_or_else(|| panic!("{found:#?}"));
    // Found at the end of the first minute it came in.
    assert_eq!(burst.detected_at.timestamp(), 1_781_222_400 + 301 * 60);
    assert!(
        burst
            .reason
            .starts_with("#پشت_بام: 12 posts in 1 min, where 0.1 are usual"),
        "{}",
        burst.reason
    );
    assert_eq!(burst.samples.len(), 3);
    // Reported once, not once per period, and not again for its platform.
    assert_eq!(
        found
            .iter()
            .filter(|found| found.key.starts_with("#پشت_بام"))
            .count(),
        1,
        "{found:#?}"
    );
    // Its words burst from the same posts: one group, led by the first of them.
    let bursts: Vec<&Detection> = found
        .iter()
        .filter(|found| found.kind == Kind::Burst)
        .collect();
    assert!(bursts.len() > 3, "{bursts:#?}");
    let leads: Vec<&str> = bursts
        .iter()
        .filter(|burst| burst.group.is_none())
        .map(|burst| burst.key.as_str())
        .collect();
    assert_eq!(leads.len(), 1, "{bursts:#?}");
    assert!(
        bursts
            .iter()
            .all(|burst| burst.group.is_none() || burst.group.as_deref() == Some(leads[0])),
        "{bursts:#?}"
    );
}

#[test]
fn two_events_at_once_are_two_groups() {
    // Rooftop chants and a dormitory raid in the same minutes, in different posts.
    let found = stream(|minute| {
        if (300..330).contains(&minute) {
            (0..12)
                .map(|n| {
                    let text = if n % 2 == 0 {
                        "allahu akbar from the rooftops #پشت_بام"
                    } else {
                        "nighttime raid on the university dormitory #dormitory"
                    };
                    post(minute, "twitter", &format!("witness{n}"), text, None)
                })
                .collect()
        } else {
            Vec::new()
        }
    });
    let group_of = |key: &str| {
        let burst = found
            .iter()
            .find(|found| found.kind == Kind::Burst && found.key == key)
            .unwrap_or_else(|| panic!("{key}: {found:#?}"));
        burst.group.clone().unwrap_or_else(|| burst.key.clone())
    };
    assert_eq!(group_of("akbar"), group_of("#پشت_بام"));
    assert_eq!(group_of("university"), group_of("#dormitory"));
    assert_ne!(group_of("akbar"), group_of("university"));
    let leads = found
        .iter()
        .filter(|found| found.kind == Kind::Burst && found.group.is_none())
        .count();
    assert_eq!(leads, 2, "{found:#?}");
}

#[test]
fn a_hashtag_usual_in_one_language_bursts_where_it_is_new() {
    // #iran: 40 posts a minute all along; from minute 300, eight of them a minute are in
    // Persian instead of English. The stream-wide count does not move: only the Persian one
    // is news.
    let found = stream(|minute| {
        let persian = if (300..330).contains(&minute) { 8 } else { 0 };
        (0..40)
            .map(|n| {
                let mut post = post(
                    minute,
                    "twitter",
                    &format!("reporter{n}"),
                    if n < persian {
                        "خبر فوری از تهران #iran"
                    } else {
                        "breaking news from tehran #iran"
                    },
                    None,
                );
                post.declared_lang = Some(if n < persian { "fa" } else { "en-GB" }.into());
                post
            })
            .collect()
    });
    let bursts: Vec<&Detection> = found
        .iter()
        .filter(|found| found.kind == Kind::Burst && found.key.starts_with("#iran"))
        .collect();
    assert_eq!(bursts.len(), 1, "{found:#?}");
    assert_eq!(bursts[0].key, "#iran [lang:fa]");
    assert_eq!(bursts[0].detected_at.timestamp(), 1_781_222_400 + 301 * 60);
    assert!(
        bursts[0]
            .reason
            .starts_with("#iran among lang:fa posts: 8 posts in 1 min"),
        "{}",
        bursts[0].reason
    );
}

/// A sparse stream (`base(minute)` ordinary posts a minute for ten hours) and whatever
/// `extra` adds per minute.
fn sparse_stream(base: impl Fn(i64) -> usize, extra: impl Fn(i64) -> Vec<Post>) -> Vec<Detection> {
    ten_hours(
        base,
        |minute, n| {
            post(
                minute,
                "twitter",
                &format!("user{n}"),
                &chatter(minute, n),
                None,
            )
        },
        extra,
    )
}

#[test]
fn a_word_climbing_over_an_hour_in_a_sparse_stream_bursts() {
    // Two ordinary posts a minute; from minute 300, posts about an explosion, one every
    // twelve minutes at first and one a minute after an hour: never eight in four minutes,
    // and a quick mean would learn the climb as it happens.
    let found = sparse_stream(
        |_| 2,
        |minute| {
            let since = minute - 300;
            let every = match since {
                ..0 => return Vec::new(),
                0..20 => 12,
                20..40 => 4,
                40..60 => 2,
                _ => 1,
            };
            if since % every != 0 {
                return Vec::new();
            }
            vec![post(
                minute,
                "twitter",
                &format!("witness{since}"),
                "huge explosion heard across town",
                None,
            )]
        },
    );
    let burst = found
        .iter()
        .find(|found| found.kind == Kind::Burst && found.key == "explosion")
        .unwrap_or_else(|| panic!("{found:#?}"));
    assert!(burst.reason.contains("posts in 64 min"), "{}", burst.reason);
    let minutes = (burst.detected_at.timestamp() - 1_781_222_400) / 60;
    assert!((300..400).contains(&minutes), "found at minute {minutes}");
    // Its samples come from the burst, its first sighting is in it.
    assert_eq!(burst.samples.len(), 3);
    assert!(burst.first_seen.timestamp() >= 1_781_222_400 + 300 * 60);
}

#[test]
fn a_keyword_stream_surging_with_a_crisis_lets_its_new_hashtag_burst() {
    // The stream of a keyword: a post every three minutes, then a crisis brings twenty times
    // as many (six a minute, all about it). Its hashtag comes slowly: in none of them for the
    // first half hour, then in one, two, three of each minute's six. Judged by its share of
    // the posts, the hashtag rises from nothing to half the stream; a baseline weighting each
    // post alike would be made of the crisis's first hours and find it usual.
    let found = sparse_stream(
        |minute| usize::from(minute < 300 && minute % 3 == 0),
        |minute| {
            if minute < 300 {
                return Vec::new();
            }
            let tagged = ((minute - 300) / 40).min(3) as usize;
            (0..6)
                .map(|n| {
                    let tag = if n < tagged { " #blast" } else { "" };
                    let text = format!("explosion {}{tag}", chatter(minute, 500 + n));
                    post(minute, "twitter", &format!("witness{n}"), &text, None)
                })
                .collect()
        },
    );
    let burst = found
        .iter()
        .find(|found| found.kind == Kind::Burst && found.key == "#blast")
        .unwrap_or_else(|| panic!("{found:#?}"));
    let minutes = (burst.detected_at.timestamp() - 1_781_222_400) / 60;
    assert!((340..500).contains(&minutes), "found at minute {minutes}");
}

#[test]
fn function_words_of_a_posts_language_never_burst() {
    // From minute 300, twelve English posts a minute in the style of news: "from", "that",
    // "with" rise with "scene", but only the word that says something bursts.
    let found = stream(|minute| {
        if (300..330).contains(&minute) {
            (0..12)
                .map(|n| {
                    let text = format!("reports from that scene with {}", chatter(minute, 700 + n));
                    let mut post = post(minute, "twitter", &format!("reporter{n}"), &text, None);
                    post.declared_lang = Some("en-GB".into());
                    post
                })
                .collect()
        } else {
            Vec::new()
        }
    });
    let bursts = burst_keys(&found);
    assert!(bursts.contains(&"scene"), "{bursts:?}");
    for word in ["from", "that", "with"] {
        assert!(
            !bursts
                .iter()
                .any(|key| key.split(' ').any(|part| part == word)),
            "{word}: {bursts:?}"
        );
    }
}

#[test]
fn the_whole_stream_getting_busier_is_no_burst() {
    // A night of 5 posts a minute, then the morning: 40 a minute within two hours. Every
    // word rises eightfold at once; none rises in its share of the stream.
    let found = sparse_stream(
        |minute| match minute {
            ..240 => 5,
            240..360 => 5 + ((minute - 240) * 35 / 120) as usize,
            _ => 40,
        },
        |_| Vec::new(),
    );
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn two_usual_words_new_together_burst_as_a_pair() {
    // "river" and "bridge" are in a third of the posts each; from minute 300, four posts a
    // minute more put them side by side. Neither word alone is far from usual.
    let found = stream(|minute| {
        if (300..320).contains(&minute) {
            (0..4)
                .map(|n| {
                    let text = format!("river bridge {}", chatter(minute, 1_000 + n));
                    post(minute, "twitter", &format!("witness{n}"), &text, None)
                })
                .collect()
        } else {
            Vec::new()
        }
    });
    let bursts = burst_keys(&found);
    assert_eq!(bursts, ["river bridge"], "{found:#?}");
    let pair = &found[0];
    assert!(
        pair.reason.starts_with("river bridge: ") && pair.samples.len() == 3,
        "{pair:#?}"
    );
}

#[test]
fn a_platform_going_quiet_is_a_silence_and_so_is_a_country() {
    // Thirty hours, so that each hour of the day has been seen once before the silences.
    let mut detectors = Detectors::new(settings());
    let mut found = Vec::new();
    for minute in 0..1_800 {
        for n in 0..20 {
            let platform = if n % 3 == 0 { "bluesky" } else { "twitter" };
            if platform == "bluesky" && (1_700..1_760).contains(&minute) {
                continue;
            }
            let country = (n % 10 == 1 && !(1_560..1_620).contains(&minute)).then_some("IR");
            found.extend(detectors.observe(&post(
                minute,
                platform,
                &format!("user{n}"),
                &chatter(minute, n),
                country,
            )));
        }
    }
    let silences: Vec<(&str, i64)> = found
        .iter()
        .filter(|found| found.kind == Kind::Silence)
        .map(|found| {
            (
                found.key.as_str(),
                (found.detected_at.timestamp() - 1_781_222_400) / 60,
            )
        })
        .collect();
    // Iran, 2 posts a minute, is missed once 8 minutes should have held 16 (fewer than 15
    // expected is not enough to call); Bluesky, about 7 a minute, after 4.
    assert_eq!(
        silences,
        [("country:IR", 1_568), ("platform:bluesky", 1_704)],
        "{found:#?}"
    );
}

/// `post`, placed by Starling's resolver (not the platform) in `country`, from `source`
/// (`author` for the author's location, `text` for a place the text names).
fn placed(mut post: Post, country: &str, source: &str) -> Post {
    post.enrichment = Some(
        serde_json::from_value(serde_json::json!({
            "lang": "en", "lang_confidence": 1.0, "sentiment": "neutral", "sentiment_score": 0.0,
            "place": {"name": country, "country": country, "source": source,
                      "confidence": 0.8, "reason": "test"},
        }))
        .unwrap(),
    );
    post
}

#[test]
fn a_country_is_counted_by_where_its_authors_are_not_by_what_posts_name() {
    // Thirty hours, no geotags: Iran's two accounts are known by their profiles' location.
    // From minute 1,560 they fall silent, while everyone else goes on naming Iran.
    let mut detectors = Detectors::new(settings());
    let mut found = Vec::new();
    for minute in 0..1_800 {
        for n in 0..20 {
            let plain = post(
                minute,
                "twitter",
                &format!("user{n}"),
                &chatter(minute, n),
                None,
            );
            let post = if n % 10 == 1 {
                if (1_560..1_620).contains(&minute) {
                    continue;
                }
                placed(plain, "IR", "author")
            } else if n % 10 == 2 {
                placed(plain, "IR", "text")
            } else {
                plain
            };
            found.extend(detectors.observe(&post));
        }
    }
    let silences: Vec<(&str, i64)> = found
        .iter()
        .filter(|found| found.kind == Kind::Silence)
        .map(|found| {
            (
                found.key.as_str(),
                (found.detected_at.timestamp() - 1_781_222_400) / 60,
            )
        })
        .collect();
    // Its posts leave the stream with it: 8 minutes should have held 8 × 1.8, fewer than 15,
    // and the 16-minute window holds the last 2 posts before it until minute 1,575.
    assert_eq!(silences, [("country:IR", 1_575)], "{found:#?}");
}

#[test]
fn one_country_surging_silences_no_other() {
    // Thirty hours; Iran and Germany each 2 posts a minute of 20. For the last two hours
    // Iran's people post 300 a minute more: Germany's share of the stream falls sixteenfold,
    // but it posts as much as it always does.
    let mut detectors = Detectors::new(settings());
    let mut found = Vec::new();
    for minute in 0..1_800 {
        for n in 0..20 {
            let country = match n % 10 {
                1 => Some("IR"),
                2 => Some("DE"),
                _ => None,
            };
            let user = format!("user{n}");
            found.extend(detectors.observe(&post(
                minute,
                "twitter",
                &user,
                &chatter(minute, n),
                country,
            )));
        }
        if minute >= 1_680 {
            for n in 0..300 {
                let user = format!("iran{n}");
                let text = chatter(minute, 100 + n);
                found.extend(detectors.observe(&post(minute, "twitter", &user, &text, Some("IR"))));
            }
        }
    }
    let silences: Vec<&Detection> = found
        .iter()
        .filter(|found| found.kind == Kind::Silence)
        .collect();
    assert!(silences.is_empty(), "{silences:#?}");
}

#[test]
fn many_accounts_pasting_one_text_are_a_campaign_and_shares_are_not() {
    let found = stream(|minute| {
        if (200..220).contains(&minute) {
            let opener = ["", "Truth: ", "FACT: "][minute as usize % 3];
            // Ten sock puppets, each posting twice; "Truth: " and "FACT: " variants at first
            // apart, then together.
            vec![post(
                minute,
                "twitter",
                &format!("sock{}", 200 + minute % 10),
                &format!(
                    "{opener}The election was fair and the people have spoken clearly #StabilityNow https://t.co/{minute}"
                ),
                None,
            )]
        } else {
            Vec::new()
        }
    });
    let campaign = found
        .iter()
        .find(|found| found.kind == Kind::Campaign)
        .unwrap_or_else(|| panic!("{found:#?}"));
    assert_eq!(campaign.accounts.len(), 10);
    assert_eq!(campaign.accounts[0], "twitter:sock200");
    assert!(
        campaign.reason.starts_with("10 accounts"),
        "{}",
        campaign.reason
    );
    assert_eq!(
        found
            .iter()
            .filter(|found| found.kind == Kind::Campaign)
            .count(),
        1
    );
}

/// A text pasted by twelve accounts, four of them twice (16 posts: 1.33 per account), each
/// with `followers`.
fn pasted(followers: u64) -> Vec<Detection> {
    stream(|minute| {
        if (200..216).contains(&minute) {
            let mut post = post(
                minute,
                "twitter",
                &format!("paster{}", minute % 12),
                "Nighttime raid on the university dormitory in Tehran tonight",
                None,
            );
            post.author.followers = Some(followers);
            vec![post]
        } else {
            Vec::new()
        }
    })
}

#[test]
fn a_headline_pasted_by_ordinary_accounts_is_not_a_campaign_but_by_small_ones_is() {
    // At 1.33 posts per account, only accounts with small audiences make it a campaign.
    let ordinary = pasted(900);
    assert!(
        !ordinary.iter().any(|found| found.kind == Kind::Campaign),
        "{ordinary:#?}"
    );
    let small = pasted(12);
    let campaign = small
        .iter()
        .find(|found| found.kind == Kind::Campaign)
        .unwrap_or_else(|| panic!("{small:#?}"));
    assert!(
        campaign
            .reason
            .ends_with("their median follower count is 12"),
        "{}",
        campaign.reason
    );
}

#[test]
fn six_small_accounts_repeating_a_text_are_a_campaign_six_ordinary_ones_are_not() {
    // Six accounts, the first three posting twice (9 posts: 1.5 per account).
    let posting = |followers: u64| {
        stream(move |minute| {
            if (200..209).contains(&minute) {
                let mut post = post(
                    minute,
                    "twitter",
                    &format!("voice{}", minute % 6),
                    "Foreign media are lying about Tehran, everything is calm",
                    None,
                );
                post.author.followers = Some(followers);
                vec![post]
            } else {
                Vec::new()
            }
        })
    };
    let ordinary = posting(400);
    assert!(
        !ordinary.iter().any(|found| found.kind == Kind::Campaign),
        "{ordinary:#?}"
    );
    let small = posting(15);
    let campaign = small
        .iter()
        .find(|found| found.kind == Kind::Campaign)
        .unwrap_or_else(|| panic!("{small:#?}"));
    assert_eq!(campaign.accounts.len(), 6, "{campaign:#?}");
    assert!(
        campaign
            .reason
            .starts_with("6 accounts posted near-identical text 8 times"),
        "{}",
        campaign.reason
    );
}

#[test]
fn a_feeds_headline_pasted_again_and_again_is_a_campaign_only_from_small_accounts() {
    // A news feed publishes a headline; then ten accounts paste it, each twice (2 posts per
    // account: a campaign by repetition alone, were it not the feed's).
    let pasted = |followers: u64| {
        stream(move |minute| {
            let headline = "Nighttime raid on the university dormitory in Tehran tonight";
            match minute {
                199 => vec![post(minute, "rss", "rundschau.example", headline, None)],
                200..220 => {
                    let mut post = post(
                        minute,
                        "twitter",
                        &format!("reader{}", minute % 10),
                        headline,
                        None,
                    );
                    post.author.followers = Some(followers);
                    vec![post]
                }
                _ => Vec::new(),
            }
        })
    };
    let ordinary = pasted(300);
    assert!(
        !ordinary.iter().any(|found| found.kind == Kind::Campaign),
        "{ordinary:#?}"
    );
    let small = pasted(12);
    let campaign = small
        .iter()
        .find(|found| found.kind == Kind::Campaign)
        .unwrap_or_else(|| panic!("{small:#?}"));
    assert!(
        campaign
            .reason
            .ends_with("the text is a headline of rss:rundschau.example"),
        "{}",
        campaign.reason
    );
}

#[test]
fn a_sentence_people_keep_writing_is_a_story_once_a_day() {
    // The same sentence from 25 accounts at minute 150, and again four hours later, after the
    // first story and its posts were forgotten (more than 20,000 posts between): one story,
    // not two.
    let found = stream(|minute| {
        if (160..400).contains(&minute) {
            (0..60)
                .map(|n| {
                    post(
                        minute,
                        "twitter",
                        &format!("filler{n}"),
                        &chatter(minute, n + 100),
                        None,
                    )
                })
                .collect()
        } else if (150..155).contains(&minute) || (400..405).contains(&minute) {
            (0..5)
                .map(|n| {
                    post(
                        minute,
                        "twitter",
                        &format!("writer{}", (minute % 5) * 5 + n),
                        &format!(
                            "Foreign journalists are banned from reporting inside the country {}",
                            ["", "#Iran", "🙏", "#Iran https://t.co/x", ""][n as usize]
                        ),
                        None,
                    )
                })
                .collect()
        } else {
            Vec::new()
        }
    });
    let stories: Vec<&Detection> = found
        .iter()
        .filter(|found| found.kind == Kind::Story && found.key.starts_with("Foreign journalists"))
        .collect();
    assert_eq!(stories.len(), 1, "{found:#?}");
    assert!(stories[0].detected_at.timestamp() < 1_781_222_400 + 160 * 60);
}

#[test]
fn posts_about_one_new_thing_make_a_story_titled_by_its_first() {
    let found = stream(|minute| {
        if (400..430).contains(&minute) {
            let place = ["Tehran", "Tabriz", "Shiraz"][minute as usize % 3];
            vec![post(
                minute,
                if minute % 2 == 0 {
                    "mastodon"
                } else {
                    "twitter"
                },
                &format!("witness{minute}"),
                &format!(
                    "Security forces raided the university dormitory in {place} during the night, students report"
                ),
                None,
            )]
        } else {
            Vec::new()
        }
    });
    let stories: Vec<&Detection> = found
        .iter()
        .filter(|found| found.kind == Kind::Story)
        .collect();
    assert_eq!(stories.len(), 1, "{found:#?}");
    let story = stories[0];
    assert!(
        story
            .key
            .starts_with("Security forces raided the university dormitory in"),
        "{}",
        story.key
    );
    // Twenty posts, one a minute from minute 400.
    assert_eq!((story.detected_at.timestamp() - 1_781_222_400) / 60, 419);
    assert!(
        story.reason.contains("20 posts") && story.reason.contains("mastodon, twitter"),
        "{}",
        story.reason
    );
}

#[test]
fn a_storys_size_is_kept_hour_by_hour_after_it_goes_quiet() {
    // A story of a post a minute for half an hour from minute 400, then one every ten minutes
    // until minute 590; the stream goes on past the two quiet hours that forget it.
    let mut detectors = Detectors::new(settings());
    let mut announced = 0;
    for minute in 0..760 {
        for n in 0..30 {
            let platform = if n % 3 == 0 { "bluesky" } else { "twitter" };
            let post = post(
                minute,
                platform,
                &format!("user{n}"),
                &chatter(minute, n),
                None,
            );
            detectors.observe(&post);
        }
        if (400..430).contains(&minute) || ((430..600).contains(&minute) && minute % 10 == 0) {
            let place = ["Tehran", "Tabriz", "Shiraz"][minute as usize % 3];
            let text = format!(
                "Security forces raided the university dormitory in {place} during the night, students report"
            );
            let found = detectors.observe(&post(
                minute,
                "mastodon",
                &format!("witness{minute}"),
                &text,
                None,
            ));
            announced += found
                .iter()
                .filter(|found| found.kind == Kind::Story)
                .count();
        }
    }
    assert_eq!(announced, 1);
    let sizes = detectors.stories();
    assert_eq!(sizes.len(), 1, "{sizes:#?}");
    let story = &sizes[0];
    assert_eq!(story.posts, 47, "{story:#?}");
    let hourly: Vec<(i64, u32)> = story
        .hourly
        .iter()
        .map(|(hour, count)| ((hour.timestamp() - 1_781_222_400) / 3600, *count))
        .collect();
    assert_eq!(hourly, [(6, 20), (7, 15), (8, 6), (9, 6)]);
    assert_eq!((story.last_seen.timestamp() - 1_781_222_400) / 60, 590);
    assert_eq!(story.platforms, ["mastodon"]);
}

#[test]
fn posts_in_arrival_order_give_what_creation_order_gives() {
    // Ten hours of talk, a hashtag rising from nothing at minute 300; delivered in pages
    // of one hour each, newest post first within a page (as a v2 search returns them).
    let mut posts = Vec::new();
    for minute in 0..600 {
        for n in 0..30 {
            let platform = if n % 3 == 0 { "bluesky" } else { "twitter" };
            posts.push(post(
                minute,
                platform,
                &format!("user{n}"),
                &chatter(minute, n),
                None,
            ));
        }
        if (300..330).contains(&minute) {
            for n in 0..20 {
                posts.push(post(
                    minute,
                    "twitter",
                    &format!("witness{n}"),
                    "crowds now #azadi",
                    None,
                ));
            }
        }
    }
    let mut in_order = Detectors::new(settings());
    let mut expected: Vec<Detection> = posts
        .iter()
        .flat_map(|post| in_order.observe(post))
        .collect();
    expected.extend(in_order.finish());

    let mut arrival = posts.clone();
    for page in arrival.chunks_mut(30 * 60) {
        page.reverse();
    }
    let mut buffered = InOrder::new(Detectors::new(settings()), chrono::TimeDelta::hours(2));
    let mut found: Vec<Detection> = arrival
        .into_iter()
        .flat_map(|post| buffered.observe(post))
        .collect();
    found.extend(buffered.finish());
    assert_eq!(buffered.late(), 0);
    let keys = |detections: &[Detection]| -> Vec<(Kind, String, Timestamp)> {
        detections
            .iter()
            .map(|d| (d.kind, d.key.clone(), d.detected_at))
            .collect()
    };
    assert_eq!(keys(&found), keys(&expected));
    assert!(
        found
            .iter()
            .any(|d| d.kind == Kind::Burst && d.key == "#azadi")
    );

    // Fed in arrival order straight, the same stream is noticed at other times: a page's
    // posts all count in the period of its newest.
    let mut arrival = posts;
    for page in arrival.chunks_mut(30 * 60) {
        page.reverse();
    }
    let mut naive = Detectors::new(settings());
    let mut wrong: Vec<Detection> = arrival
        .iter()
        .flat_map(|post| naive.observe(post))
        .collect();
    wrong.extend(naive.finish());
    assert_ne!(keys(&wrong), keys(&expected));
}

/// A post at `minute` by `author` mentioning `mentions`, replying to `reply_to`.
fn talk(minute: i64, author: &str, mentions: &[&str], reply_to: Option<&str>) -> Post {
    let mut post = post(minute, "twitter", author, "words", None);
    let mut json = serde_json::to_value(&post).unwrap();
    json["entities"]["mentions"] = mentions
        .iter()
        .map(|handle| serde_json::json!({"handle": handle, "span": {"start": 0, "end": 1, "byte_start": 0, "byte_end": 1}}))
        .collect();
    if let Some(target) = reply_to {
        json["reply_to"] = serde_json::json!({"id": "1", "author_handle": target});
    }
    post = serde_json::from_value(json).unwrap();
    post
}

#[test]
fn key_accounts_by_attention_and_rising_ones_by_growth() {
    let mut accounts = Accounts::new(1000);
    // Hour 0: the ministry is mentioned steadily; hour 1: a new voice takes off.
    for minute in 0..60 {
        accounts.observe(&talk(minute, &format!("u{minute}"), &["Ministry"], None));
    }
    for minute in 60..120 {
        let mentions: &[&str] = if minute % 2 == 0 {
            &["ministry"]
        } else {
            &["witness"]
        };
        accounts.observe(&talk(
            minute,
            &format!("u{minute}"),
            mentions,
            Some("witness"),
        ));
    }
    let key = accounts.key(2);
    assert_eq!(key[0].account, "twitter:ministry", "handles fold case");
    assert_eq!(key[0].mentions, 90);
    assert_eq!(key[1].account, "twitter:witness");
    assert_eq!((key[1].mentions, key[1].replies), (30, 60));
    let rising = accounts.rising(5);
    assert_eq!(rising[0].account, "twitter:witness");
    assert_eq!((rising[0].last_hour, rising[0].hour_before), (90, 0));
    assert!(
        rising
            .iter()
            .all(|account| account.account != "twitter:ministry"),
        "30 mentions after 60 is no rise: {rising:?}"
    );
}

#[test]
fn accounts_memory_stays_bounded() {
    let mut accounts = Accounts::new(100);
    for n in 0..5000 {
        accounts.observe(&talk(n / 100, "someone", &[&format!("a{n}")], None));
        accounts.observe(&talk(n / 100, "someone", &["constant"], None));
    }
    assert!(accounts.len() <= 201, "{} accounts kept", accounts.len());
    assert_eq!(accounts.key(1)[0].account, "twitter:constant");
    assert_eq!(accounts.key(1)[0].mentions, 5000);
}
