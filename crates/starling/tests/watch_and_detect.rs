//! `starling watch` (and matching on import) and `starling detect`, as a user runs them.
#![allow(
    clippy::unwrap_used,
    reason = "a test that cannot unwrap has failed, and says where"
)]

mod common;

use common::{Scenario, json_lines, starling, stdout};

#[test]
fn watches_are_saved_matched_on_import_counted_once_and_listed() {
    let scenario = Scenario::generate(4000, 9);
    let temp = &scenario.temp;
    let data_dir = scenario.data_dir();
    let truth = &scenario.truth;
    let burst = &truth["events"][0];
    let tag = burst["key"].as_str().unwrap();
    let config = temp.path().join("starling.toml");
    std::fs::write(
        &config,
        "[[watches]]\nname = \"from-config\"\nquery = \"#StabilityNow -is:share\"\nowner = \"desk\"\ntags = [\"campaign\"]\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let watch = |args: &[&str]| {
        let mut all = vec!["--data-dir", data_dir, "--config", config, "watch"];
        all.extend_from_slice(args);
        starling(&all)
    };

    stdout(&watch(&[
        "add",
        "rooftops",
        tag,
        "--owner",
        "night desk",
        "--tag",
        "fa",
    ]));
    // A query that does not parse is refused, saying where.
    let refused = watch(&["add", "broken", "tehran AND"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("column 11"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    // A name is unique unless replaced on purpose; the configuration's watches are changed there.
    assert!(!watch(&["add", "rooftops", "karaj"]).status.success());
    assert!(!watch(&["add", "from-config", "karaj"]).status.success());
    stdout(&watch(&["add", "quiet", "karaj", "--inactive"]));
    stdout(&watch(&["add", "quiet", "zzzunseenword", "--replace"]));

    let import = || {
        json_lines(&stdout(&starling(&[
            "--data-dir",
            data_dir,
            "--config",
            config,
            "import",
            scenario.files.to_str().unwrap(),
            "--json",
        ])))
    };
    let first = import();
    let matched = |lines: &[serde_json::Value], name: &str| {
        lines
            .iter()
            .find(|line| line["kind"] == "watch" && line["watch"] == name)
            .map_or(0, |line| line["matches"].as_u64().unwrap())
    };
    // Every post of the burst, as the ground truth counts them, and as search finds them.
    assert_eq!(
        matched(&first, "rooftops"),
        burst["posts"].as_u64().unwrap()
    );
    let searched = json_lines(&stdout(&starling(&[
        "--data-dir",
        data_dir,
        "search",
        "#StabilityNow -is:share",
        "--limit",
        "100000",
        "--json",
    ])));
    assert!(!searched.is_empty());
    assert_eq!(matched(&first, "from-config"), searched.len() as u64);
    assert_eq!(matched(&first, "quiet"), 0);

    // Importing again matches again but records nothing twice.
    let second = import();
    assert_eq!(
        matched(&second, "rooftops"),
        burst["posts"].as_u64().unwrap()
    );
    let list = json_lines(&stdout(&watch(&["list", "--json"])));
    let listed = |name: &str| list.iter().find(|line| line["name"] == name).unwrap();
    assert_eq!(listed("rooftops")["matches"], burst["posts"]);
    assert_eq!(listed("rooftops")["owner"], "night desk");
    assert_eq!(listed("rooftops")["defined_in"], "archive");
    assert_eq!(listed("from-config")["defined_in"], "config");
    assert_eq!(listed("from-config")["matches"], searched.len() as u64);
    assert_eq!(listed("quiet")["query"], "zzzunseenword");

    // The matches themselves, newest first.
    let shown = json_lines(&stdout(&watch(&[
        "matches", "rooftops", "--limit", "5", "--json",
    ])));
    assert_eq!(shown.len(), 5);
    let times: Vec<&str> = shown
        .iter()
        .map(|line| line["post"]["created_at"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|pair| pair[0] >= pair[1]), "{times:?}");
    assert!(shown.iter().all(|line| {
        line["post"]["text"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains(&tag.to_lowercase())
    }));

    // Testing a query runs the matcher over recent archived posts.
    let tested = json_lines(&stdout(&watch(&[
        "test", tag, "--recent", "100000", "--limit", "3", "--json",
    ])));
    let summary = tested.last().unwrap();
    assert_eq!(summary["kind"], "summary");
    assert_eq!(summary["matched"], burst["posts"]);
    assert_eq!(tested.len(), 4);

    stdout(&watch(&["rm", "rooftops"]));
    assert!(!watch(&["rm", "rooftops"]).status.success());
    assert!(!watch(&["rm", "from-config"]).status.success());
    let names: Vec<String> = json_lines(&stdout(&watch(&["list", "--json"])))
        .iter()
        .map(|line| line["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["from-config", "quiet"]);
}

#[test]
fn detect_replays_the_archive_and_explains_what_it_notices() {
    let scenario = Scenario::generate(30_000, 2009);
    scenario.import();
    let data_dir = scenario.data_dir();
    let truth = &scenario.truth;
    let found = json_lines(&stdout(&starling(&[
        "--data-dir",
        data_dir,
        "detect",
        "--json",
    ])));
    // Each story reported has its size over time (stories that met since are one): posts
    // per hour adding up to its posts.
    let (sizes, found): (Vec<serde_json::Value>, Vec<serde_json::Value>) = found
        .into_iter()
        .partition(|line| line["kind"] == "story_size");
    let stories = found
        .iter()
        .filter(|found| found["kind"] == "story")
        .count();
    assert!(
        stories > 0 && !sizes.is_empty() && sizes.len() <= stories,
        "{sizes:#?}"
    );
    for size in &sizes {
        let hourly: u64 = size["hourly"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hour| hour[1].as_u64().unwrap())
            .sum();
        let posts = size["posts"].as_u64().unwrap();
        assert!(posts >= 20 && hourly == posts, "{size}");
    }
    for detection in &found {
        for field in ["kind", "key", "detected_at", "score", "reason", "samples"] {
            assert!(
                detection.get(field).is_some(),
                "{field} missing in {detection}"
            );
        }
    }
    // The injected Bluesky blackout (about 2 posts a minute at this size) is noticed within
    // 20 minutes of its start, and said why.
    let silence = truth["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|event| event["kind"] == "silence" && event["scope"] == "platform")
        .unwrap();
    let start: chrono::DateTime<chrono::Utc> = silence["start"].as_str().unwrap().parse().unwrap();
    let noticed = found
        .iter()
        .find(|detection| {
            detection["kind"] == "silence"
                && detection["key"] == format!("platform:{}", silence["key"].as_str().unwrap())
        })
        .unwrap_or_else(|| panic!("{found:#?}"));
    let at: chrono::DateTime<chrono::Utc> =
        noticed["detected_at"].as_str().unwrap().parse().unwrap();
    assert!(
        at >= start && at - start <= chrono::Duration::minutes(20),
        "{noticed}"
    );
    assert!(
        noticed["reason"]
            .as_str()
            .unwrap()
            .contains("were expected")
    );
    // Only the kinds asked for.
    let bursts = json_lines(&stdout(&starling(&[
        "--data-dir",
        data_dir,
        "detect",
        "--kind",
        "burst",
        "--json",
    ])));
    assert!(bursts.iter().all(|detection| detection["kind"] == "burst"));
    // A burst in a group names one reported before it, the first of its group.
    let grouped: Vec<&serde_json::Value> = bursts
        .iter()
        .filter(|burst| burst.get("group").is_some())
        .collect();
    for member in &grouped {
        assert!(
            bursts.iter().any(|lead| lead.get("group").is_none()
                && lead["key"] == member["group"]
                && lead["detected_at"].as_str() <= member["detected_at"].as_str()),
            "{member}"
        );
    }
    assert!(
        !starling(&["--data-dir", data_dir, "detect", "--kind", "storm"])
            .status
            .success()
    );
    // Key and rising accounts, on request, ranked by attention.
    let lines = json_lines(&stdout(&starling(&[
        "--data-dir",
        data_dir,
        "detect",
        "--kind",
        "story",
        "--accounts",
        "5",
        "--json",
    ])));
    let key: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|line| line["kind"] == "key_account")
        .collect();
    assert_eq!(key.len(), 5, "{lines:#?}");
    let attention = |account: &serde_json::Value| {
        ["mentions", "replies", "shares"]
            .iter()
            .map(|field| account[field].as_u64().unwrap())
            .sum::<u64>()
    };
    assert!(
        key.windows(2)
            .all(|pair| attention(pair[0]) >= attention(pair[1]))
    );
    assert!(attention(key[0]) > 0);
    let table = stdout(&starling(&["--data-dir", data_dir, "detect"]));
    assert!(
        table.contains("Key accounts") && table.contains("Rising accounts"),
        "{table}"
    );
    assert!(
        stories == 0 || table.contains("Stories over time (posts per hour from the first)"),
        "{table}"
    );
    // Grouped bursts are shown under the first of their group, not on lines of their own.
    assert!(
        grouped.is_empty() || table.contains("more bursting in the same posts"),
        "{table}"
    );
    let burst_lines = table
        .lines()
        .filter(|line| line.contains(" burst "))
        .count();
    assert_eq!(burst_lines, bursts.len() - grouped.len(), "{table}");
}

#[test]
fn eval_detect_scores_every_kind_and_lists_what_nothing_explains() {
    let empty = tempfile::tempdir().unwrap();
    let output = starling(&[
        "eval",
        "detect",
        "--posts",
        "20000",
        "--seeds",
        "7",
        "--shared",
        empty.path().to_str().unwrap(),
        "--json",
        "--unexplained",
    ]);
    let lines = json_lines(&stdout(&output));
    let scores: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|line| line.get("kind").is_some())
        .collect();
    let kinds: Vec<&str> = scores
        .iter()
        .map(|score| score["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["burst", "campaign", "silence", "story"]);
    let mut unexplained_expected = 0;
    for score in &scores {
        let events = score["events"].as_u64().unwrap();
        let found = score["found"].as_u64().unwrap();
        let detections = score["detections"].as_u64().unwrap();
        let explained = score["explained"].as_u64().unwrap();
        let groups = score["groups"].as_u64().unwrap();
        assert!(
            groups <= detections && (detections == 0 || groups >= 1),
            "{score}"
        );
        // The generator injects every kind; the figures add up.
        assert!(
            events >= 1 && found <= events && explained <= detections,
            "{score}"
        );
        assert_eq!(
            score["delays_minutes"].as_array().unwrap().len() as u64,
            found,
            "{score}"
        );
        unexplained_expected += detections - explained;
    }
    let unexplained: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|line| line.get("unexplained").is_some())
        .collect();
    assert_eq!(unexplained.len() as u64, unexplained_expected, "{lines:#?}");
    for line in unexplained {
        assert!(
            ["burst", "campaign", "silence", "story"]
                .contains(&line["unexplained"].as_str().unwrap())
                && line["seed"] == 7
                && !line["reason"].as_str().unwrap().is_empty(),
            "{line}"
        );
    }
}

#[test]
fn eval_detect_replays_a_crisis_and_ranks_its_hashtags_among_the_bursts() {
    // A crisis in the CrisisLexT6 layout (tweet id, text, label; times from the ids), made
    // here: a keyword stream of a post every three minutes, then twenty times as many about a
    // flood, a hashtag in one of each minute's six at first and half of them later.
    let shared = tempfile::tempdir().unwrap();
    let folder = shared
        .path()
        .join("data/crisis/crisislex-t6/2030_Test_Flood");
    std::fs::create_dir_all(&folder).unwrap();
    let mut csv = String::from("tweet id,tweet,label\n");
    let words = [
        "weather", "traffic", "football", "coffee", "market", "music", "school", "garden",
        "cinema", "bakery", "letter", "window", "kitchen", "station", "holiday", "village",
    ];
    let start_ms: i64 = 1_900_000_000_000;
    let mut n = 0_usize;
    for minute in 0..600_i64 {
        let (posts, crisis) = if minute < 300 {
            (usize::from(minute % 3 == 0), false)
        } else {
            (6, true)
        };
        for k in 0..posts {
            n += 1;
            let chatter: Vec<&str> = (0..5)
                .map(|w| words[(n * 7 + w * 13 + k) % words.len()])
                .collect();
            let millis = start_ms + minute * 60_000 + k as i64 * 1_000;
            let id = ((millis - 1_288_834_974_657) << 22) + n as i64;
            let (text, label) = if crisis {
                let tagged = k < 1 + usize::from(minute >= 360) * 2;
                let tag = if tagged { " #testflood" } else { "" };
                (
                    format!("river flooding {}{tag}", chatter.join(" ")),
                    "on-topic",
                )
            } else {
                (chatter.join(" "), "off-topic")
            };
            csv.push_str(&format!("{id},{text},{label}\n"));
        }
    }
    std::fs::write(folder.join("2030_Test_Flood-ontopic_offtopic.csv"), csv).unwrap();
    let output = starling(&[
        "eval",
        "detect",
        "--posts",
        "2000",
        "--seeds",
        "7",
        "--shared",
        shared.path().to_str().unwrap(),
        "--json",
    ]);
    let lines = json_lines(&stdout(&output));
    let crisis = lines
        .iter()
        .find(|line| line["crisis"] == "2030_Test_Flood")
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert_eq!(crisis["tweets"], 100 + 300 * 6, "{crisis}");
    // The onset: the first burst of on-topic tweets, on the crisis's first minutes.
    let onset = crisis["onset"].as_str().unwrap();
    assert!(onset.starts_with("2030-03-17T"), "{crisis}");
    // The hashtag in most on-topic tweets, found bursting among the strongest groups.
    let tag = &crisis["hashtags"][0];
    assert_eq!(tag["key"], "#testflood", "{crisis}");
    assert_eq!(tag["on_topic_tweets"], 60 + 240 * 3, "{crisis}");
    let rank = tag["group_rank"]
        .as_u64()
        .unwrap_or_else(|| panic!("{crisis}"));
    assert!(rank <= 10, "{crisis}");
    // The groups listed are the strongest first, and add up.
    let bursts = crisis["bursts"].as_array().unwrap();
    assert!(!bursts.is_empty() && bursts.len() <= 10, "{crisis}");
    assert!(
        bursts
            .windows(2)
            .all(|pair| pair[0]["score"].as_f64() >= pair[1]["score"].as_f64()),
        "{crisis}"
    );
    let keys: usize = bursts
        .iter()
        .map(|burst| 1 + burst["with"].as_array().unwrap().len())
        .sum();
    assert!(
        keys as u64 <= crisis["burst_count"].as_u64().unwrap()
            && bursts.len() as u64 <= crisis["group_count"].as_u64().unwrap(),
        "{crisis}"
    );
}
