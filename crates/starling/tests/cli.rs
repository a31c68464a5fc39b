//! The `starling` binary as a user runs it.
#![allow(
    clippy::unwrap_used,
    reason = "a test that cannot unwrap has failed, and says where"
)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{Scenario, json_lines, starling, stdout};

/// Every file under `dir` by relative path, with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut found = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(dir).unwrap().display().to_string();
                found.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    found
}

#[test]
fn simulate_writes_the_same_bytes_for_the_same_seed() {
    let temp = tempfile::tempdir().unwrap();
    let first = temp.path().join("first");
    let second = temp.path().join("second");
    for out in [&first, &second] {
        stdout(&starling(&[
            "simulate",
            "--seed",
            "42",
            "--posts",
            "3000",
            "--out",
            out.to_str().unwrap(),
        ]));
    }
    let (first_files, second_files) = (files(&first), files(&second));
    assert!(first_files.contains_key("twitter-v2.jsonl"));
    assert!(first_files.contains_key("mastodon.jsonl"));
    assert!(first_files.contains_key("bluesky-jetstream.jsonl"));
    assert!(
        first_files
            .keys()
            .any(|path| path.starts_with("rss/") && path.ends_with(".xml"))
    );
    assert!(first_files == second_files, "same seed, different bytes");

    // Generating again into the same folder replaces the scenario, and the JSON summary
    // accounts for every post.
    let summary = stdout(&starling(&[
        "simulate",
        "--seed",
        "43",
        "--posts",
        "2000",
        "--out",
        first.to_str().unwrap(),
        "--json",
    ]));
    let summary: serde_json::Value = serde_json::from_str(summary.trim()).unwrap();
    assert_eq!(summary["posts"], 2000);
    assert_eq!(summary["events"], 5);
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(first.join("ground-truth.json")).unwrap()).unwrap();
    assert_eq!(truth["seed"], 43);
    assert!(files(&first) != second_files);
}

#[test]
fn simulate_never_deletes_a_folder_it_did_not_write() {
    let temp = tempfile::tempdir().unwrap();
    std::fs::write(temp.path().join("notes.txt"), "mine").unwrap();
    let output = starling(&[
        "simulate",
        "--posts",
        "1000",
        "--out",
        temp.path().to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(
        error.contains("is not empty and holds no scenario"),
        "{error}"
    );
    assert_eq!(
        std::fs::read_to_string(temp.path().join("notes.txt")).unwrap(),
        "mine"
    );
}

#[test]
fn demo_json_reports_every_post_and_what_was_injected() {
    let lines = stdout(&starling(&["demo", "--posts", "4000", "--json"]));
    let objects: Vec<serde_json::Value> = lines
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let summary = &objects[0];
    assert_eq!(summary["kind"], "summary");
    assert_eq!(summary["posts"], 4000);
    assert_eq!(summary["rejects"], 0);
    let per_platform: u64 = objects
        .iter()
        .filter(|object| object["kind"] == "platform")
        .map(|object| object["posts"].as_u64().unwrap())
        .sum();
    assert_eq!(per_platform, 4000);
    let injected: Vec<&str> = objects
        .iter()
        .filter(|object| object["kind"] == "injected")
        .map(|object| object["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        injected,
        ["burst", "story", "campaign", "silence", "silence"]
    );
    // The detectors run over the stream in order of creation: the platform the scenario
    // silences is noticed while it is silent.
    let silence = objects
        .iter()
        .find(|object| {
            object["kind"] == "injected"
                && object["event"] == "silence"
                && object["scope"] == "platform"
        })
        .unwrap();
    let key = format!("platform:{}", silence["key"].as_str().unwrap());
    assert!(
        objects.iter().any(|object| object["kind"] == "detected"
            && object["event"] == "silence"
            && object["key"] == key.as_str()
            && object["detected_at"].as_str() >= silence["start"].as_str()
            && object["detected_at"].as_str() <= silence["end"].as_str()),
        "the silence of {key} was not noticed"
    );
    assert!(
        objects
            .iter()
            .any(|object| object["kind"] == "hashtag" && object["key"] == "#پشت_بام")
    );
}

#[test]
fn demo_tables_name_platforms_languages_and_hashtags() {
    let text = stdout(&starling(&["demo", "--posts", "2000", "--report"]));
    for expected in [
        "Posts by platform",
        "twitter",
        "mastodon",
        "bluesky",
        "rss",
        "Posts by declared language",
        "fa ",
        "Posts by language as Starling detects it",
        "Posts by sentiment",
        "negative",
        "Top hashtags",
        "Noticed by Starling",
        "Injected into this scenario",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn configuration_errors_name_line_and_column() {
    let temp = tempfile::tempdir().unwrap();
    let config = temp.path().join("starling.toml");
    std::fs::write(&config, "[demo]\nposts = 2000\nseeed = 3\n").unwrap();
    let output = starling(&["--config", config.to_str().unwrap(), "demo", "--report"]);
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(
        error.contains("line 3, column 1: unknown field `seeed`"),
        "{error}"
    );
}

#[test]
fn configuration_sets_defaults_and_flags_override_them() {
    let temp = tempfile::tempdir().unwrap();
    let config = temp.path().join("starling.toml");
    let data = temp.path().join("data");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\n[simulate]\nposts = 1500\nseed = 5\n",
            data.to_str().unwrap()
        ),
    )
    .unwrap();
    let summary = stdout(&starling(&[
        "--config",
        config.to_str().unwrap(),
        "simulate",
        "--seed",
        "6",
        "--json",
    ]));
    let summary: serde_json::Value = serde_json::from_str(summary.trim()).unwrap();
    assert_eq!(summary["posts"], 1500);
    assert_eq!(summary["seed"], 6);
    assert!(data.join("scenario").join("ground-truth.json").is_file());
}

#[test]
fn help_lists_the_commands_an_analyst_needs() {
    let help = stdout(&starling(&["--help"]));
    for command in ["demo", "simulate", "--data-dir", "--config"] {
        assert!(help.contains(command), "{help}");
    }
}

#[test]
fn analyze_reads_standard_input_and_writes_one_object_per_line() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_starling"))
        .arg("analyze")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all("#IranElection @bbc http://bbc.co.uk\n\n$AAPL".as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let lines: Vec<serde_json::Value> = stdout(&output)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for (field, expected) in [
        ("hashtags", serde_json::json!(["IranElection"])),
        ("mentions", serde_json::json!(["bbc"])),
        ("urls", serde_json::json!(["http://bbc.co.uk"])),
        ("cashtags", serde_json::json!([])),
    ] {
        assert_eq!(lines[0][field], expected, "{field}");
    }
    // Language and sentiment come with every line; a line without letters has no language.
    assert_eq!(lines[1]["lang"], "und");
    assert_eq!(lines[1]["lang_confidence"], 0.0);
    assert!(["negative", "neutral", "positive"].contains(&lines[0]["sentiment"].as_str().unwrap()));
    assert!(lines[0]["sentiment_score"].is_number());
    assert_eq!(lines[2]["cashtags"], serde_json::json!(["AAPL"]));
}

fn summary_of(lines: &[serde_json::Value]) -> &serde_json::Value {
    lines.iter().find(|line| line["kind"] == "summary").unwrap()
}

#[test]
fn import_takes_a_whole_scenario_once_and_never_twice() {
    let generated = Scenario::generate(3000, 5);
    let scenario = &generated.files;
    let data = &generated.data;
    let truth = &generated.truth;

    let first = json_lines(&stdout(&starling(&[
        "--data-dir",
        data.to_str().unwrap(),
        "import",
        scenario.to_str().unwrap(),
        "--json",
    ])));
    let summary = summary_of(&first);
    assert_eq!(summary["imported"], 3000);
    assert_eq!(summary["rejected"], 0);
    assert_eq!(summary["archive_posts"], 3000);
    let per_format = |lines: &[serde_json::Value], format: &str, field: &str| {
        lines
            .iter()
            .find(|line| line["kind"] == "format" && line["format"] == format)
            .map_or(0, |line| line[field].as_u64().unwrap())
    };
    assert_eq!(
        per_format(&first, "twitter-v2", "imported"),
        truth["platforms"]["twitter"].as_u64().unwrap()
    );
    assert_eq!(
        per_format(&first, "mastodon", "imported"),
        truth["platforms"]["mastodon"].as_u64().unwrap()
    );
    assert_eq!(
        per_format(&first, "jetstream", "imported"),
        truth["platforms"]["bluesky"].as_u64().unwrap()
    );
    assert_eq!(
        per_format(&first, "rss", "imported"),
        truth["platforms"]["rss"].as_u64().unwrap()
    );
    // Feeds repeat items across polls: the repeats are duplicates, not new posts.
    assert!(per_format(&first, "rss", "duplicates") > 0);

    let again = json_lines(&stdout(&starling(&[
        "--data-dir",
        data.to_str().unwrap(),
        "import",
        scenario.to_str().unwrap(),
        "--json",
    ])));
    assert_eq!(summary_of(&again)["imported"], 0);
    assert_eq!(summary_of(&again)["archive_posts"], 3000);
}

#[test]
fn import_reads_gzip_and_zstd_and_keeps_every_bad_record_with_its_reason() {
    use std::io::Write as _;
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let good = r#"{"did":"did:plc:a","time_us":1781222400000000,"kind":"commit","commit":{"rev":"r","operation":"create","collection":"app.bsky.feed.post","rkey":"k1","record":{"text":"one #a"}}}"#;
    let good2 = good.replace("k1", "k2");
    let bad = r#"{"did":"did:plc:a","time_us":"#;
    let lines = format!("{good}\n{bad}\n\n{good2}\n");
    let gz = temp.path().join("capture.jsonl.gz");
    let mut encoder = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    encoder.write_all(lines.as_bytes()).unwrap();
    encoder.finish().unwrap();
    let zst = temp.path().join("reddit.ndjson.zst");
    let reddit = "{\"id\":\"c1\",\"name\":\"t1_c1\",\"author\":\"a\",\"body\":\"hi\",\"created_utc\":\"1244916245\",\"subreddit\":\"iran\"}\n{\"id\":\"c2\",\"body\":\"no time\",\"subreddit\":\"iran\"}\n";
    std::fs::write(&zst, zstd::encode_all(reddit.as_bytes(), 3).unwrap()).unwrap();
    // A gzip stream cut in the middle: what came before the cut is kept.
    let cut = temp.path().join("cut.jsonl.gz");
    let whole = std::fs::read(&gz).unwrap();
    std::fs::write(&cut, &whole[..whole.len() - 12]).unwrap();

    let output = json_lines(&stdout(&starling(&[
        "--data-dir",
        data.to_str().unwrap(),
        "import",
        gz.to_str().unwrap(),
        zst.to_str().unwrap(),
        cut.to_str().unwrap(),
        "--json",
    ])));
    let summary = summary_of(&output);
    // k1, k2 from the gzip file, c1 from zstd; the cut file repeats k1 (and maybe k2).
    assert_eq!(summary["imported"], 3, "{output:?}");
    assert!(summary["rejected"].as_u64().unwrap() >= 3, "{output:?}");
    let rejects = std::fs::read_to_string(data.join("rejects.jsonl")).unwrap();
    let rejects: Vec<serde_json::Value> = json_lines(&rejects);
    let bad_line = rejects
        .iter()
        .find(|reject| {
            reject["source"]
                .as_str()
                .unwrap()
                .ends_with("capture.jsonl.gz")
        })
        .unwrap();
    assert_eq!(bad_line["line"], 2);
    assert_eq!(bad_line["record"], bad);
    assert!(
        bad_line["reason"].as_str().unwrap().contains("column"),
        "{bad_line}"
    );
    let reddit_reject = rejects
        .iter()
        .find(|reject| reject["format"] == "reddit")
        .unwrap();
    assert_eq!(reddit_reject["field"], "created_utc");
    assert!(
        rejects.iter().any(
            |reject| reject["source"].as_str().unwrap().ends_with("cut.jsonl.gz")
                && reject["reason"].as_str().unwrap().contains("read failed")
        ),
        "{rejects:?}"
    );
}

#[test]
fn an_import_killed_at_random_moments_loses_nothing_and_counts_nothing_twice() {
    let generated = Scenario::generate(40_000, 2009);
    let scenario = &generated.files;
    let data = &generated.data;
    // Kill -9 three imports at pseudo-random moments (a fixed seed, so a failure replays).
    let mut state = 0x2009_u64;
    for _ in 0..3 {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let delay = 200 + (state >> 33) % 1_500;
        let mut child = Command::new(env!("CARGO_BIN_EXE_starling"))
            .args([
                "--data-dir",
                data.to_str().unwrap(),
                "import",
                scenario.to_str().unwrap(),
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        child.kill().unwrap();
        child.wait().unwrap();
    }
    // Importing again completes the archive exactly, and the index agrees with it.
    let output = json_lines(&stdout(&starling(&[
        "--data-dir",
        data.to_str().unwrap(),
        "import",
        scenario.to_str().unwrap(),
        "--json",
    ])));
    assert_eq!(summary_of(&output)["archive_posts"], 40000);
    assert_eq!(summary_of(&output)["rejected"], 0);
    let everything = stdout(&starling(&[
        "--data-dir",
        data.to_str().unwrap(),
        "export",
        "since:2000-01-01",
        "--format",
        "ids",
    ]));
    assert_eq!(everything.lines().count(), 40000);
}

#[test]
fn a_line_longer_than_the_limit_is_rejected_and_the_lines_around_it_kept() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let line = |key: &str| {
        format!(
            r#"{{"did":"did:plc:a","time_us":1781222400000000,"kind":"commit","commit":{{"rev":"r","operation":"create","collection":"app.bsky.feed.post","rkey":"{key}","record":{{"text":"hi"}}}}}}"#
        )
    };
    let huge = format!(
        r#"{{"did":"did:plc:a","time_us":1,"kind":"commit","commit":{{"record":{{"text":"{}"}}}}}}"#,
        "x".repeat(65 << 20)
    );
    let path = temp.path().join("capture.jsonl");
    std::fs::write(&path, format!("{}\n{huge}\n{}\n", line("k1"), line("k2"))).unwrap();
    let output = json_lines(&stdout(&starling(&[
        "--data-dir",
        data.to_str().unwrap(),
        "import",
        path.to_str().unwrap(),
        "--json",
    ])));
    assert_eq!(summary_of(&output)["imported"], 2);
    assert_eq!(summary_of(&output)["rejected"], 1);
    let rejects = std::fs::read_to_string(data.join("rejects.jsonl")).unwrap();
    assert!(
        rejects.contains(r#""line":2"#) && rejects.contains("longer than 64 MiB"),
        "{rejects}"
    );
}

#[test]
fn search_finds_exactly_what_the_scenario_injected() {
    let generated = Scenario::generate(4000, 9);
    let data = &generated.data;
    let truth = &generated.truth;
    generated.import();
    let data_dir = data.to_str().unwrap();

    let burst = &truth["events"][0];
    let tag = burst["key"].as_str().unwrap();
    let lines = json_lines(&stdout(&starling(&[
        "--data-dir",
        data_dir,
        "search",
        tag,
        "--limit",
        "100000",
        "--json",
    ])));
    assert_eq!(lines.len() as u64, burst["posts"].as_u64().unwrap());
    for line in &lines {
        for field in ["key", "platform", "id", "created_at", "author", "text"] {
            assert!(line.get(field).is_some(), "{field} missing in {line}");
        }
        assert!(
            line["created_at"].as_str().unwrap()
                >= burst["start"].as_str().unwrap().get(..19).unwrap()
        );
    }

    // The campaign's posts, all of them, and only from its accounts.
    let campaign = &truth["events"][2];
    let query = format!("{} -is:share", campaign["hashtag"].as_str().unwrap());
    let lines = json_lines(&stdout(&starling(&[
        "--data-dir",
        data_dir,
        "search",
        &query,
        "--limit",
        "1000",
        "--json",
    ])));
    let mut keys: Vec<&str> = lines
        .iter()
        .map(|line| line["key"].as_str().unwrap())
        .collect();
    keys.sort_unstable();
    let mut expected: Vec<&str> = campaign["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key.as_str().unwrap())
        .collect();
    expected.sort_unstable();
    assert_eq!(keys, expected);

    // Facets and a histogram come as objects of their own.
    let lines = json_lines(&stdout(&starling(&[
        "--data-dir",
        data_dir,
        "search",
        "platform:bluesky",
        "--limit",
        "1",
        "--facets",
        "--histogram",
        "--json",
    ])));
    assert!(
        lines
            .iter()
            .any(|line| line["facet"] == "platforms" && line["value"] == "bluesky")
    );
    let bucketed: u64 = lines
        .iter()
        .filter(|line| line.get("histogram").is_some())
        .map(|line| line["posts"].as_u64().unwrap())
        .sum();
    assert_eq!(bucketed, truth["platforms"]["bluesky"].as_u64().unwrap());

    let output = starling(&["--data-dir", data_dir, "search", "tehran AND"]);
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("column 11: expected a term after AND")
    );
}

#[test]
fn export_streams_csv_jsonl_raw_and_ids() {
    let generated = Scenario::generate(2000, 4);
    let temp = &generated.temp;
    let scenario = &generated.files;
    let data = &generated.data;
    generated.import();
    let data_dir = data.to_str().unwrap();
    let query = "platform:bluesky";
    let ids = stdout(&starling(&[
        "--data-dir",
        data_dir,
        "export",
        query,
        "--format",
        "ids",
    ]));
    let count = ids.lines().count();
    assert!(count > 100, "{count}");

    let csv_path = temp.path().join("out.csv");
    stdout(&starling(&[
        "--data-dir",
        data_dir,
        "export",
        query,
        "--format",
        "csv",
        "--out",
        csv_path.to_str().unwrap(),
    ]));
    let csv_text = std::fs::read_to_string(&csv_path).unwrap();
    assert!(csv_text.starts_with("\"key\",\"platform\",\"id\",\"created_at\""));
    // Enrichment comes with every row: language, sentiment, country and place.
    let header = csv_text.lines().next().unwrap();
    for column in [
        "\"lang\"",
        "\"declared_lang\"",
        "\"sentiment\"",
        "\"sentiment_score\"",
        "\"place\"",
        "\"place_source\"",
    ] {
        assert!(header.contains(column), "{column} missing in {header}");
    }
    assert_eq!(csv_text.lines().count(), count + 1);
    // Ids are written as quoted text.
    let first_id = ids.lines().next().unwrap();
    assert!(csv_text.contains(&format!("\"{first_id}\"")));

    let jsonl = stdout(&starling(&[
        "--data-dir",
        data_dir,
        "export",
        query,
        "--format",
        "jsonl",
    ]));
    let posts: Vec<serde_json::Value> = json_lines(&jsonl);
    assert_eq!(posts.len(), count);
    assert!(posts.iter().all(|post| post["platform"] == "bluesky"));

    // Parquet: the same rows, typed, ids as text, readable back.
    let parquet_path = temp.path().join("out.parquet");
    stdout(&starling(&[
        "--data-dir",
        data_dir,
        "export",
        query,
        "--format",
        "parquet",
        "--out",
        parquet_path.to_str().unwrap(),
    ]));
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(&parquet_path).unwrap(),
    )
    .unwrap();
    let schema = reader.schema().clone();
    assert_eq!(
        schema.field_with_name("id").unwrap().data_type(),
        &arrow_schema::DataType::Utf8
    );
    assert!(matches!(
        schema.field_with_name("created_at").unwrap().data_type(),
        arrow_schema::DataType::Timestamp(_, Some(_))
    ));
    assert_eq!(
        schema
            .field_with_name("sentiment_score")
            .unwrap()
            .data_type(),
        &arrow_schema::DataType::Float32
    );
    let rows: usize = reader
        .build()
        .unwrap()
        .map(|batch| batch.unwrap().num_rows())
        .sum();
    assert_eq!(rows, count);
    let refused = starling(&[
        "--data-dir",
        data_dir,
        "export",
        query,
        "--format",
        "parquet",
    ]);
    assert!(!refused.status.success());

    // Raw records are the capture's own lines, byte for byte.
    let raw = stdout(&starling(&[
        "--data-dir",
        data_dir,
        "export",
        query,
        "--format",
        "raw",
    ]));
    let capture = std::fs::read_to_string(scenario.join("bluesky-jetstream.jsonl")).unwrap();
    let lines: std::collections::HashSet<&str> = capture.lines().collect();
    assert!(raw.lines().all(|line| lines.contains(line)));
    assert_eq!(raw.lines().count(), count);
}

#[test]
fn an_edited_then_deleted_post_keeps_its_history_and_stays_as_evidence() {
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    let event = |operation: &str, text: &str, time: u64| {
        let record = if operation == "delete" {
            String::new()
        } else {
            format!(r#","record":{{"text":"{text}"}}"#)
        };
        format!(
            r#"{{"did":"did:plc:a","time_us":{time},"kind":"commit","commit":{{"rev":"r","operation":"{operation}","collection":"app.bsky.feed.post","rkey":"k1"{record}}}}}"#
        )
    };
    let path = temp.path().join("capture.jsonl");
    let lines = [
        event("create", "blackout in tehran", 1_781_222_400_000_000),
        event(
            "update",
            "blackout in tehran and isfahan",
            1_781_222_460_000_000,
        ),
        event("delete", "", 1_781_222_520_000_000),
    ];
    std::fs::write(&path, lines.join("\n")).unwrap();
    let output = json_lines(&stdout(&starling(&[
        "--data-dir",
        data.to_str().unwrap(),
        "import",
        path.to_str().unwrap(),
        "--json",
    ])));
    let summary = summary_of(&output);
    assert_eq!(
        (
            summary["imported"].as_u64(),
            summary["edited"].as_u64(),
            summary["notices"].as_u64()
        ),
        (Some(1), Some(1), Some(2))
    );
    let found = json_lines(&stdout(&starling(&[
        "--data-dir",
        data.to_str().unwrap(),
        "search",
        "blackout",
        "--json",
    ])));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["text"], "blackout in tehran and isfahan");
    assert_eq!(found[0]["deleted"], "deleted by its author");
    assert_eq!(found[0]["earlier_versions"], 1);
    // The index follows the edit: the new words find it, and it is there once.
    let isfahan = json_lines(&stdout(&starling(&[
        "--data-dir",
        data.to_str().unwrap(),
        "search",
        "isfahan",
        "--json",
    ])));
    assert_eq!(isfahan.len(), 1);
}

#[test]
fn imported_posts_are_enriched_and_searchable_by_language_sentiment_and_country() {
    let generated = Scenario::generate(3000, 11);
    generated.import();
    let data_dir = generated.data_dir();
    let search = |query: &str, extra: &[&str]| {
        let mut args = vec![
            "--data-dir",
            data_dir,
            "search",
            query,
            "--limit",
            "100000",
            "--json",
        ];
        args.extend_from_slice(extra);
        json_lines(&stdout(&starling(&args)))
    };
    let everything = search("since:2000-01-01", &[]);
    assert!(everything.len() > 2000, "{}", everything.len());

    // Every post has a sentiment, and the three classes split the archive.
    let mut split = 0;
    for label in ["negative", "neutral", "positive"] {
        let lines = search(&format!("sentiment:{label}"), &[]);
        assert!(lines.iter().all(|line| line["sentiment"] == label));
        assert!(lines.iter().all(|line| {
            let score = line["sentiment_score"].as_f64().unwrap();
            (-1.0..=1.0).contains(&score)
        }));
        split += lines.len();
    }
    assert_eq!(split, everything.len());

    // lang: finds the detected or the declared language; Persian is the scenario's second.
    let persian = search("lang:fa", &[]);
    assert!(persian.len() > 300, "{}", persian.len());
    for line in &persian {
        let declared = line["declared_lang"].as_str().unwrap_or_default();
        assert!(line["lang"] == "fa" || declared.starts_with("fa"), "{line}");
    }
    let detected_persian = persian.iter().filter(|line| line["lang"] == "fa").count();
    assert!(
        detected_persian * 10 >= persian.len() * 9,
        "{detected_persian} of {}",
        persian.len()
    );

    // country: finds the platform's or the resolved country, and says why.
    let iran = search("country:IR", &[]);
    assert!(!iran.is_empty());
    for line in &iran {
        assert!(
            line["country"] == "IR" || line["place"]["country"] == "IR",
            "{line}"
        );
    }
    assert!(iran.iter().any(|line| {
        line["place"]["reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    }));

    // The facets count languages, countries and sentiments.
    let facets = search("since:2000-01-01", &["--facets"]);
    for facet in ["languages", "countries", "sentiments"] {
        assert!(
            facets.iter().any(|line| line["facet"] == facet),
            "{facet} missing"
        );
    }
}
