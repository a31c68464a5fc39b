//! `starling follow`, `starling sources` and `[[sources]]` in `starling serve`, as a user runs
//! them, against servers on loopback started here.
#![allow(
    clippy::unwrap_used,
    clippy::result_large_err,
    reason = "a test that cannot unwrap has failed, and says where; tungstenite's callback type is its own"
)]

mod common;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Server, http, json_lines, starling, stdout};

const TEXTS: [(&str, &str); 4] = [
    ("en", "Crowds gather in Azadi square tonight #iranelection"),
    ("fa", "مردم امشب در میدان آزادی جمع شده‌اند و شعار می‌دهند"),
    (
        "ar",
        "تجمع الآلاف في الساحة الرئيسية الليلة للمطالبة بإعادة الفرز",
    ),
    ("en", "Mobile network down across the city, reports say"),
];

fn event(n: i64) -> String {
    let (lang, text) = TEXTS[(n % 4) as usize];
    serde_json::json!({
        "did": format!("did:plc:user{}", n % 9),
        "time_us": 1_750_000_000_000_000_i64 + n * 1_000_000,
        "kind": "commit",
        "commit": {
            "rev": format!("3l{n:010}"),
            "operation": "create",
            "collection": "app.bsky.feed.post",
            "rkey": format!("3k{n:010}"),
            "cid": format!("bafy{n}"),
            "record": {
                "$type": "app.bsky.feed.post",
                "text": text,
                "createdAt": "2025-06-15T12:00:00.000Z",
                "langs": [lang]
            }
        }
    })
    .to_string()
}

/// A Jetstream-like server: replays its events from the cursor asked for, then stays open.
fn jetstream(events: i64) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&asked);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let seen = Arc::clone(&seen);
            std::thread::spawn(move || {
                let uri = Arc::new(Mutex::new(String::new()));
                let uri_in = Arc::clone(&uri);
                let Ok(mut socket) = tungstenite::accept_hdr(
                    stream,
                    move |request: &tungstenite::handshake::server::Request, response| {
                        *uri_in.lock().unwrap() = request.uri().to_string();
                        Ok(response)
                    },
                ) else {
                    return;
                };
                let uri = uri.lock().unwrap().clone();
                seen.lock().unwrap().push(uri.clone());
                let cursor: i64 = uri
                    .split("cursor=")
                    .nth(1)
                    .and_then(|value| value.split('&').next()?.parse().ok())
                    .unwrap_or(0);
                for n in 0..events {
                    if 1_750_000_000_000_000_i64 + n * 1_000_000 >= cursor
                        && socket.send(tungstenite::Message::text(event(n))).is_err()
                    {
                        return;
                    }
                }
                std::thread::sleep(Duration::from_secs(60));
            });
        }
    });
    (port, asked)
}

#[test]
fn follow_archives_and_shows_new_posts_and_resumes_where_it_stopped() {
    let (port, asked) = jetstream(40);
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let url = format!("ws://127.0.0.1:{port}/subscribe");
    let follow = |duration: &str| {
        starling(&[
            "--data-dir",
            data_dir,
            "follow",
            "jetstream",
            &url,
            "--allow-private",
            "127.0.0.1",
            "--duration",
            duration,
            "--json",
        ])
    };
    let output = follow("3s");
    let posts = json_lines(&stdout(&output));
    assert_eq!(posts.len(), 40, "one line per new post");
    for post in &posts {
        assert_eq!(post["platform"], "bluesky");
        assert!(
            post["key"]
                .as_str()
                .unwrap()
                .starts_with("at://did:plc:user")
        );
    }
    // Archived, enriched and indexed: Persian found by language.
    let found = json_lines(&stdout(&starling(&[
        "--data-dir",
        data_dir,
        "search",
        "lang:fa",
        "--json",
    ])));
    assert_eq!(found.len(), 10, "{found:?}");

    // Again: it resumes from the last stored event, rewound by 5 s; what it has already
    // archived is not shown again.
    let output = follow("2s");
    assert!(json_lines(&stdout(&output)).is_empty());
    let last = asked.lock().unwrap().last().unwrap().clone();
    assert!(
        last.contains(&format!(
            "cursor={}",
            1_750_000_000_000_000_i64 + 39 * 1_000_000 - 5_000_000
        )),
        "{last}"
    );
    let lines = json_lines(&stdout(&starling(&[
        "--data-dir",
        data_dir,
        "sources",
        "--json",
    ])));
    let source = lines.iter().find(|line| line["type"] == "source").unwrap();
    assert_eq!(source["id"], format!("jetstream:{url}"));
    assert_eq!(source["state"], "stopped");
    let gap = lines.iter().find(|line| line["type"] == "gap").unwrap();
    assert_eq!(gap["cause"], "not_running");
    assert_eq!(gap["recovery"]["by"], "cursor");
    // And in words.
    let text = stdout(&starling(&["--data-dir", data_dir, "sources"]));
    assert!(
        text.contains("Not running") && text.contains("replayed from cursor"),
        "{text}"
    );
}

#[test]
fn follow_refuses_tokens_on_the_command_line_and_bad_urls() {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap();
    let output = starling(&["--data-dir", data_dir, "follow", "x", "--token", "secret"]);
    assert!(!output.status.success());
    let output = starling(&[
        "--data-dir",
        data_dir,
        "follow",
        "rss",
        "ws://example.org/feed",
    ]);
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("http:// or https://"), "{error}");
    let output = starling(&["--data-dir", data_dir, "follow", "x"]);
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success() && error.contains("STARLING_X_BEARER_TOKEN"),
        "{error}"
    );
}

/// A feed server answering every request with the same document.
fn feed_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || respond_feed(&mut stream));
        }
    });
    port
}

fn respond_feed(stream: &mut TcpStream) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if std::io::Read::read(stream, &mut byte).unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
    let feed = r#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Wire</title><id>urn:wire</id><updated>2025-06-15T12:00:00Z</updated><entry><id>urn:wire:1</id><title>Polling stations close in Tehran</title><link href="https://news.example.org/1"/><updated>2025-06-15T12:00:00Z</updated><summary>Counting begins across the country.</summary></entry></feed>"#;
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: application/atom+xml\r\netag: \"w1\"\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{feed}",
        feed.len()
    );
}

#[test]
fn serve_follows_configured_sources_and_reports_them() {
    let port = feed_server();
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("starling.toml");
    std::fs::write(
        &config,
        format!(
            "[[sources]]\nkind = \"rss\"\nname = \"wire\"\nurls = [\"http://127.0.0.1:{port}/atom.xml\"]\ninterval_secs = 60\nallow_private = [\"127.0.0.1:{port}\"]\n"
        ),
    )
    .unwrap();
    let server = Server::start(&[
        "--config",
        config.to_str().unwrap(),
        "--data-dir",
        data.path().to_str().unwrap(),
        "serve",
        "--addr",
        "127.0.0.1:0",
    ]);
    let deadline = Instant::now() + Duration::from_secs(60);
    let found = loop {
        let (status, body) = http(&server.address, "GET", "/api/search?q=tehran", b"");
        assert_eq!(status, 200);
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        if body["total"].as_u64().unwrap_or(0) >= 1 {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "the feed entry never became searchable: {body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(found["posts"][0]["platform"], "rss", "{found}");
    let (status, body) = http(&server.address, "GET", "/api/sources", b"");
    assert_eq!(status, 200);
    let sources: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(sources["running"], true);
    let source = &sources["sources"][0];
    assert_eq!(
        source["id"],
        format!("wire:http://127.0.0.1:{port}/atom.xml")
    );
    assert_eq!(source["connected"], true, "{sources}");
    assert_eq!(source["received"], 1);
    let (_, metrics) = http(&server.address, "GET", "/metrics", b"");
    let metrics = String::from_utf8(metrics).unwrap();
    assert!(
        metrics.contains(&format!(
            "starling_source_connected{{source=\"wire:http://127.0.0.1:{port}/atom.xml\"}} 1"
        )),
        "{metrics}"
    );
    assert!(server.interrupt().success());
}
