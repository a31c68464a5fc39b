//! `starling bench alerts`: from a post's arrival to the webhook's receipt, while the server
//! ingests at a steady rate. Posts are uploaded in batches at `--rate` posts/s (1% match the
//! alert rule's watch); a receiver on loopback notes when each alert arrives.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

/// Flags of `starling bench alerts`.
#[derive(Debug, clap::Args)]
pub struct AlertArgs {
    /// Posts per second fed in.
    #[arg(long, default_value_t = 10_000)]
    rate: u64,
    /// Seconds of feeding.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// One JSON object with the figures.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct AlertFigure {
    posts: u64,
    posts_per_sec_fed: f64,
    posts_archived: u64,
    matching_posts: usize,
    alerts_received: usize,
    latency_p50_ms: f64,
    latency_p99_ms: f64,
    latency_max_ms: f64,
}

/// Posts per upload.
const BATCH: u64 = 1000;

type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

/// A webhook receiver: for every alert, when it came, by the key of each post it names.
fn receiver(listener: std::net::TcpListener, arrivals: Arrivals) {
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let Ok(clone) = stream.try_clone() else {
                continue;
            };
            let mut reader = BufReader::new(clone);
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let now = Instant::now();
            if let Ok(alert) = serde_json::from_slice::<serde_json::Value>(&body)
                && let Some(samples) = alert["samples"].as_array()
            {
                let mut arrivals = arrivals
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                for sample in samples {
                    if let Some(key) = sample["key"].as_str() {
                        arrivals.entry(key.to_owned()).or_insert(now);
                    }
                }
            }
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
}

pub fn run(args: AlertArgs, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let folder = tempfile::tempdir()?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let arrivals: Arrivals = Arc::default();
    receiver(listener, Arc::clone(&arrivals));

    let watch = starling_watch::WatchDef::new("w", "tehran");
    let mut matcher = starling_watch::Matcher::default();
    matcher.insert(&watch)?;
    let app =
        starling_server::App::open(folder.path(), matcher, starling_server::Options::default())?;
    app.store.put_watch(&watch)?;
    app.alerts.put_rule(starling_alerts::Rule {
        name: "bench".into(),
        on: starling_alerts::Trigger::Match { watch: "w".into() },
        channel: starling_alerts::Channel {
            format: starling_alerts::Format::Json,
            url,
            secret: Some("bench".into()),
            to: Vec::new(),
            from: None,
        },
        throttle_secs: 0,
        quiet_hours: None,
    })?;

    let uploads = folder.path().join("uploads");
    std::fs::create_dir_all(&uploads)?;
    let posts = args.rate * args.seconds;
    let batches = posts.div_ceil(BATCH);
    let interval = Duration::from_secs_f64(BATCH as f64 / args.rate.max(1) as f64);
    let mut sent: HashMap<String, Instant> = HashMap::new();
    let started = Instant::now();
    for batch in 0..batches {
        let due = started + interval.mul_f64(batch as f64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let mut body = Vec::with_capacity(BATCH as usize * 200);
        let mut matching = Vec::new();
        for n in batch * BATCH..((batch + 1) * BATCH).min(posts) {
            let text = if n % 100 == 7 {
                matching.push(format!("twitter:{}", 1_000_000 + n));
                format!("crowds gather in tehran tonight, report {n}")
            } else {
                format!("an ordinary day with coffee and football, note {n}")
            };
            let tweet = serde_json::json!({
                "id_str": (1_000_000 + n).to_string(), "text": text,
                "created_at": "Fri Jun 12 12:00:00 +0000 2026",
                "user": {"id_str": (n % 5000).to_string(), "screen_name": format!("user{}", n % 5000)},
                "lang": "en",
            });
            serde_json::to_writer(&mut body, &tweet)?;
            body.push(b'\n');
        }
        let path = uploads.join(format!("{batch:06}.jsonl"));
        std::fs::write(&path, &body)?;
        let now = Instant::now();
        for key in matching {
            sent.insert(key, now);
        }
        app.submit(starling_server::Job::Files {
            paths: vec![path],
            format: None,
            remove_after: true,
            done: None,
        });
    }
    let fed = started.elapsed().as_secs_f64();
    // Wait for the stragglers (or give up after 60 s: what never came is reported).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let received = arrivals
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len();
        if received >= sent.len() || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let archived = app.store.post_count()?;
    app.shutdown();
    let arrivals = arrivals
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    let mut latencies: Vec<f64> = sent
        .iter()
        .filter_map(|(key, at)| {
            arrivals
                .get(key)
                .map(|received| received.duration_since(*at).as_secs_f64() * 1000.0)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let percentile = |p: f64| {
        if latencies.is_empty() {
            return 0.0;
        }
        latencies[((latencies.len() as f64 - 1.0) * p).round() as usize]
    };
    let figure = AlertFigure {
        posts,
        posts_per_sec_fed: posts as f64 / fed.max(1e-9),
        posts_archived: archived,
        matching_posts: sent.len(),
        alerts_received: latencies.len(),
        latency_p50_ms: percentile(0.5),
        latency_p99_ms: percentile(0.99),
        latency_max_ms: latencies.last().copied().unwrap_or(0.0),
    };
    if args.json {
        return crate::terminal::json_line(stdout, &figure);
    }
    writeln!(
        stdout,
        "{} posts fed at {:.0} posts/s ({} archived); {} matched the alert's watch, {} alerted",
        figure.posts,
        figure.posts_per_sec_fed,
        figure.posts_archived,
        figure.matching_posts,
        figure.alerts_received
    )?;
    writeln!(
        stdout,
        "arrival to webhook receipt: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        figure.latency_p50_ms, figure.latency_p99_ms, figure.latency_max_ms
    )?;
    Ok(())
}
