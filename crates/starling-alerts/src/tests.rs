use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use super::engine::SAMPLES;
use super::*;

fn at(minute: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_781_222_400 + minute * 60, 0).unwrap_or_default()
}

fn rule(name: &str, on: Trigger, url: &str) -> Rule {
    Rule {
        name: name.into(),
        on,
        channel: Channel {
            format: Format::Json,
            url: url.into(),
            secret: Some("s3cret".into()),
            to: Vec::new(),
            from: None,
        },
        throttle_secs: 300,
        quiet_hours: None,
    }
}

fn sample(n: u32, text: &str) -> Sample {
    Sample {
        key: format!("twitter:{n}"),
        platform: "twitter".into(),
        author: format!("user{n}"),
        text: text.into(),
        url: Some(format!("https://x.com/user{n}/status/{n}")),
        created_at: at(0),
    }
}

fn on_match(watch: &str) -> Trigger {
    Trigger::Match {
        watch: watch.into(),
    }
}

#[test]
fn matches_alert_at_once_then_gather_until_the_throttle_passes() {
    let mut engine = Engine::new(vec![rule("r", on_match("rooftops"), "http://x")], 1);
    let first = engine.on_match("rooftops", &sample(1, "first"), at(0));
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].count, 1);
    assert!(
        first[0]
            .reason
            .contains("1 post matched the watch rooftops")
    );
    assert!(engine.on_match("other", &sample(9, "x"), at(0)).is_empty());
    for n in 2..=14 {
        assert!(
            engine
                .on_match("rooftops", &sample(n, "more"), at(1))
                .is_empty()
        );
    }
    assert!(engine.tick(at(4)).is_empty(), "the throttle is 5 minutes");
    let gathered = engine.tick(at(5));
    assert_eq!(gathered.len(), 1);
    assert_eq!(gathered[0].count, 13);
    assert_eq!(gathered[0].samples.len(), SAMPLES);
    assert_eq!(gathered[0].samples[0].key, "twitter:14", "newest first");
    assert!(gathered[0].title.contains("13 new matches"));
    assert_ne!(first[0].id, gathered[0].id);
    assert!(engine.tick(at(20)).is_empty(), "nothing new, nothing sent");
}

#[test]
fn quiet_hours_hold_alerts_for_one_digest() {
    let mut quiet = rule("night", on_match("w"), "http://x");
    quiet.quiet_hours = Some(QuietHours { from: 22, until: 7 });
    quiet.throttle_secs = 0;
    let mut engine = Engine::new(vec![quiet], 1);
    let night = chrono::DateTime::from_timestamp(1_781_222_400 + 23 * 3600, 0).unwrap_or_default();
    for n in 0..5 {
        assert!(
            engine
                .on_match(
                    "w",
                    &sample(n, "x"),
                    night + chrono::TimeDelta::minutes(n.into())
                )
                .is_empty()
        );
    }
    assert!(
        engine.tick(night + chrono::TimeDelta::hours(7)).is_empty(),
        "06:00 is quiet"
    );
    let morning = engine.tick(night + chrono::TimeDelta::hours(8));
    assert_eq!(morning.len(), 1);
    assert_eq!(morning[0].count, 5);
    assert!(
        morning[0].reason.contains("in the last"),
        "{}",
        morning[0].reason
    );
}

#[test]
fn volume_rules_fire_at_the_count_within_the_window() {
    let volume = Trigger::Volume {
        watch: "w".into(),
        count: 10,
        window_secs: 600,
    };
    let mut engine = Engine::new(vec![rule("v", volume, "http://x")], 1);
    // Nine in ten minutes, spread out: no alert; the tenth within the window: one.
    for n in 0..9 {
        assert!(
            engine
                .on_match("w", &sample(n, "x"), at(i64::from(n) * 2))
                .is_empty()
        );
    }
    let fired = engine.on_match("w", &sample(9, "x"), at(19));
    assert!(
        fired.is_empty(),
        "the first matches fell out of the 10-minute window"
    );
    let mut fired = Vec::new();
    for n in 10..20 {
        fired.extend(engine.on_match("w", &sample(n, "x"), at(20)));
    }
    assert_eq!(fired.len(), 1);
    assert!(fired[0].count >= 10);
    assert!(
        fired[0].reason.contains("at or above the rule's 10"),
        "{}",
        fired[0].reason
    );
}

#[test]
fn a_detection_alerts_once_with_its_reason_and_score() {
    let detection = Trigger::Detection {
        kinds: vec!["burst".into()],
        key_contains: Some("#پشت".into()),
        watch: None,
    };
    let mut engine = Engine::new(vec![rule("d", detection, "http://x")], 1);
    let burst = Noticed {
        kind: "burst".into(),
        key: "#پشت_بام".into(),
        score: 14.2,
        reason: "41 posts in 5 minutes where 0.3 were expected".into(),
        samples: vec!["twitter:1".into(), "twitter:2".into()],
        watches: Vec::new(),
    };
    let silence = Noticed {
        kind: "silence".into(),
        ..burst.clone()
    };
    assert!(
        engine.on_detection(&silence, at(0)).is_empty(),
        "another kind"
    );
    let first = engine.on_detection(&burst, at(0));
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].score, Some(14.2));
    assert!(first[0].reason.contains("41 posts in 5 minutes"));
    assert_eq!(first[0].sample_keys, ["twitter:1", "twitter:2"]);
    assert!(
        engine.on_detection(&burst, at(30)).is_empty(),
        "a repeat within the hour"
    );
    assert!(engine.tick(at(31)).is_empty());
}

#[test]
fn rules_are_checked() {
    let mut bad = rule("", on_match("w"), "http://x");
    assert!(bad.check().is_err());
    bad.name = "ok".into();
    bad.channel.url = "ftp://x".into();
    assert!(bad.check().is_err());
    bad.channel.url = "https://hooks.example/x".into();
    assert!(bad.check().is_ok());
    bad.channel.format = Format::Matrix;
    bad.channel.secret = None;
    assert!(bad.check().is_err(), "Matrix needs its token");
    let kinds = rule(
        "k",
        Trigger::Detection {
            kinds: vec!["rumour".into()],
            key_contains: None,
            watch: None,
        },
        "http://x",
    );
    assert!(kinds.check().is_err());
    assert_eq!(
        rule("r", on_match("w"), "http://x")
            .redacted()
            .channel
            .secret
            .as_deref(),
        Some("set")
    );
}

#[test]
fn every_channel_escapes_hostile_post_text_its_own_way() {
    let alert = Alert {
        id: "a1".into(),
        rule: "r".into(),
        created_at: at(0),
        title: "New match <b>".into(),
        reason: "1 post & more".into(),
        count: 1,
        score: None,
        samples: vec![Sample {
            url: Some("javascript:alert(1)".into()),
            ..sample(1, "<script>alert('x')</script> & <@channel>")
        }],
        sample_keys: Vec::new(),
    };
    let slack = message::render(
        &alert,
        Format::Slack,
        "https://hooks.slack.example/x",
        None,
        1,
    );
    let text: serde_json::Value = serde_json::from_slice(&slack.body).unwrap_or_default();
    let text = text["text"].as_str().unwrap_or_default();
    assert!(text.contains("&lt;script&gt;") && text.contains("&lt;@channel&gt;"));
    assert!(!text.contains("javascript:"), "only http(s) links");
    let matrix = message::render(
        &alert,
        Format::Matrix,
        "https://m.example/send",
        Some("tok"),
        1,
    );
    assert_eq!(matrix.method, "PUT");
    assert_eq!(matrix.url, "https://m.example/send/a1");
    let body: serde_json::Value = serde_json::from_slice(&matrix.body).unwrap_or_default();
    let html = body["formatted_body"].as_str().unwrap_or_default();
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(!html.contains("<script") && !html.contains("javascript:"));
    assert!(
        body["body"]
            .as_str()
            .unwrap_or_default()
            .contains("<script>"),
        "plain stays plain"
    );
    let json = message::render(&alert, Format::Json, "https://r.example", Some("key"), 1700);
    let signed = json
        .headers
        .iter()
        .find(|(name, _)| *name == "X-Starling-Signature")
        .map(|(_, value)| value.clone())
        .unwrap_or_default();
    assert_eq!(
        signed,
        format!("sha256={}", message::signature("key", 1700, &json.body))
    );
    assert_ne!(
        signed,
        format!("sha256={}", message::signature("key", 1701, &json.body))
    );
}

#[test]
fn the_outbox_keeps_pending_alerts_across_a_restart() {
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let queued = Queued {
        alert: Engine::new(vec![rule("r", on_match("w"), "http://x")], 7)
            .on_match("w", &sample(1, "x"), at(0))
            .remove(0),
        channel: rule("r", on_match("w"), "http://x").channel,
        attempts: 0,
        next_at_ms: 0,
        last_error: None,
    };
    {
        let outbox = Outbox::open(dir.path()).unwrap_or_else(|error| panic!("{error}"));
        outbox
            .enqueue(std::slice::from_ref(&queued))
            .unwrap_or_else(|error| panic!("{error}"));
    }
    let outbox = Outbox::open(dir.path()).unwrap_or_else(|error| panic!("{error}"));
    let due = outbox.due(1, 10).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(due, std::slice::from_ref(&queued));
    outbox
        .delivered(&queued.alert.id, 5)
        .unwrap_or_else(|error| panic!("{error}"));
    assert!(outbox.due(i64::MAX, 10).unwrap_or_default().is_empty());
    let counts = outbox.counts().unwrap_or_else(|error| panic!("{error}"));
    assert_eq!((counts.pending, counts.delivered), (0, 1));
}

/// A webhook receiver on loopback: answers each request with the next status in `answers`
/// (then 200), and records (headers, body) of each.
/// Requests a receiver saw: headers and body of each.
type Seen = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

fn receiver(answers: Vec<u16>) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|error| panic!("{error}"));
    let address = format!(
        "http://{}/hook",
        listener
            .local_addr()
            .unwrap_or_else(|error| panic!("{error}"))
    );
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        let mut answers = answers.into_iter();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader =
                BufReader::new(stream.try_clone().unwrap_or_else(|error| panic!("{error}")));
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            record
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push((head, body));
            let status = answers.next().unwrap_or(200);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    (address, seen)
}

#[test]
fn alerts_are_delivered_signed_and_retried_until_taken() {
    let (url, seen) = receiver(vec![503]);
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let alerts = Alerts::open(dir.path(), Vec::new()).unwrap_or_else(|error| panic!("{error}"));
    alerts
        .put_rule(rule("r", on_match("w"), &url))
        .unwrap_or_else(|error| panic!("{error}"));
    let made = alerts
        .on_match("w", &sample(1, "hello"))
        .unwrap_or_default();
    assert_eq!(made.len(), 1);
    let agent = deliver::agent();
    assert_eq!(
        alerts.deliver_due(&agent).unwrap_or(9),
        0,
        "the first answer is 503"
    );
    assert_eq!(alerts.counts().map(|c| c.pending).unwrap_or(0), 1);
    // Due again after its backoff (1 to 1.2 s).
    std::thread::sleep(std::time::Duration::from_millis(1300));
    assert_eq!(alerts.deliver_due(&agent).unwrap_or(0), 1);
    let seen = seen
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    assert_eq!(seen.len(), 2);
    let key = |head: &str| {
        head.lines()
            .find_map(|line| {
                line.strip_prefix("idempotency-key: ")
                    .or_else(|| line.strip_prefix("Idempotency-Key: "))
            })
            .map(str::trim)
            .map(str::to_owned)
    };
    assert_eq!(key(&seen[0].0), Some(made[0].id.clone()));
    assert_eq!(key(&seen[1].0), key(&seen[0].0), "a retry keeps its id");
    let timestamp: i64 = seen[1]
        .0
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase()
                .strip_prefix("x-starling-timestamp: ")
                .map(|v| v.trim().to_owned())
        })
        .and_then(|value| value.parse().ok())
        .unwrap_or_default();
    let expected = format!(
        "sha256={}",
        message::signature("s3cret", timestamp, &seen[1].1)
    );
    assert!(
        seen[1].0.contains(&expected),
        "the body is signed: {}",
        seen[1].0
    );
    let counts = alerts.counts().unwrap_or_default();
    assert_eq!((counts.pending, counts.delivered), (0, 1));
}

#[test]
fn a_receiver_that_refuses_for_good_is_not_retried() {
    let (url, seen) = receiver(vec![410]);
    let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("{error}"));
    let alerts = Alerts::open(dir.path(), Vec::new()).unwrap_or_else(|error| panic!("{error}"));
    alerts
        .put_rule(rule("r", on_match("w"), &url))
        .unwrap_or_else(|error| panic!("{error}"));
    alerts.on_match("w", &sample(1, "x")).unwrap_or_default();
    let agent = deliver::agent();
    assert_eq!(alerts.deliver_due(&agent).unwrap_or(9), 0);
    let counts = alerts.counts().unwrap_or_default();
    assert_eq!((counts.pending, counts.failed), (0, 1));
    assert_eq!(seen.lock().map(|seen| seen.len()).unwrap_or(0), 1);
}

#[test]
fn a_detection_inside_a_watch_is_one_whose_posts_match_it() {
    let inside = Trigger::Detection {
        kinds: Vec::new(),
        key_contains: None,
        watch: Some("rooftops".into()),
    };
    let mut engine = Engine::new(vec![rule("inside", inside, "http://x")], 1);
    let mut burst = Noticed {
        kind: "burst".into(),
        key: "#azadi".into(),
        score: 9.0,
        reason: "r".into(),
        samples: vec!["twitter:1".into()],
        watches: vec!["other".into()],
    };
    assert!(engine.on_detection(&burst, at(0)).is_empty());
    burst.watches.push("rooftops".into());
    assert_eq!(engine.on_detection(&burst, at(0)).len(), 1);
}

#[test]
fn a_post_matched_again_is_no_new_alert() {
    let mut quick = rule("r", on_match("w"), "http://x");
    quick.throttle_secs = 0;
    let mut engine = Engine::new(vec![quick], 1);
    assert_eq!(engine.on_match("w", &sample(1, "x"), at(0)).len(), 1);
    assert!(
        engine.on_match("w", &sample(1, "x"), at(1)).is_empty(),
        "imported again"
    );
    assert!(engine.tick(at(2)).is_empty());
    assert_eq!(engine.on_match("w", &sample(2, "y"), at(3)).len(), 1);
}

#[test]
fn secrets_stay_hidden_and_huge_spans_are_refused() {
    let mut slack = rule(
        "s",
        on_match("w"),
        "https://hooks.slack.com/services/T0/B0/SECRETPATH",
    );
    slack.channel.format = Format::Slack;
    let shown = slack.redacted();
    assert_eq!(shown.channel.url, "https://hooks.slack.com/…");
    assert_eq!(shown.channel.secret.as_deref(), Some("set"));
    let debug = format!("{:?}", slack.channel);
    assert!(
        !debug.contains("s3cret") && !debug.contains("SECRETPATH"),
        "{debug}"
    );
    let mut long = rule("l", on_match("w"), "http://x");
    long.throttle_secs = u64::MAX;
    assert!(long.check().is_err());
    let volume = Trigger::Volume {
        watch: "w".into(),
        count: 2,
        window_secs: u64::MAX,
    };
    assert!(rule("v", volume, "http://x").check().is_err());
}

#[test]
fn a_volume_held_by_its_throttle_is_sent_only_if_still_at_its_count() {
    let volume = Trigger::Volume {
        watch: "w".into(),
        count: 3,
        window_secs: 60,
    };
    let mut engine = Engine::new(vec![rule("v", volume, "http://x")], 1);
    let mut sent = Vec::new();
    for n in 0..3 {
        sent.extend(engine.on_match("w", &sample(n, "x"), at(0)));
    }
    assert_eq!(sent.len(), 1, "the count is reached");
    // Throttled (5 minutes): three more arrive in a minute, then the window empties.
    for n in 3..6 {
        assert!(engine.on_match("w", &sample(n, "x"), at(1)).is_empty());
    }
    assert!(
        engine.tick(at(10)).is_empty(),
        "by then the volume has passed"
    );
}

#[test]
fn alert_ids_sort_in_the_order_they_were_made() {
    let mut quick = rule("r", on_match("w"), "http://x");
    quick.throttle_secs = 0;
    let mut engine = Engine::new(vec![quick], 7);
    let ids: Vec<String> = (0..20)
        .flat_map(|n| engine.on_match("w", &sample(n, "x"), at(0)))
        .map(|alert| alert.id)
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted);
}
