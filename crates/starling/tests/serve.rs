//! `starling serve` and `starling demo` as running servers: over real sockets, through
//! schemathesis (the API against its OpenAPI description) and headless Chromium (the
//! dashboard, with hostile posts). The tools are installed by `.ci/run`; elsewhere a test
//! whose tool is missing says so and skips, and under `CI=true` it fails instead.
#![allow(
    clippy::unwrap_used,
    clippy::print_stderr,
    reason = "a test that cannot unwrap has failed, and says where; skips say why on stderr"
)]

mod common;

use common::{Server, http};

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The two heaviest tests (schemathesis, Chromium) take turns: on 2 cores, side by side, each
/// starves the other's server.
static HEAVY: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn heavy() -> std::sync::MutexGuard<'static, ()> {
    HEAVY
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn get_json(address: &str, target: &str) -> Value {
    let (status, body) = http(address, "GET", target, b"");
    assert_eq!(status, 200, "{target}: {}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
                (byte as char).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}

/// Waits until the ingest has stopped running with at least `posts` archived.
fn wait_for_posts(address: &str, posts: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let status = get_json(address, "/api/status");
        if status["posts"].as_u64().unwrap() >= posts && status["ingest"]["running"] == false {
            return status;
        }
        assert!(Instant::now() < deadline, "still importing: {status}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn serve_imports_answers_and_stops_cleanly_on_ctrl_c() {
    let scenario = common::Scenario::generate(2000, 7);
    let server = Server::start(&[
        "--data-dir",
        scenario.data_dir(),
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--import",
        scenario.files.to_str().unwrap(),
    ]);
    let address = server.address.clone();
    let status = wait_for_posts(&address, 1500);
    assert_eq!(status["auth_required"], false, "loopback needs no token");
    let found = get_json(
        &address,
        &format!("/api/search?q={}&limit=3", encode("lang:fa")),
    );
    let total = found["total"].as_u64().unwrap();
    assert!(total > 0);
    let (status, _) = http(&address, "GET", "/api/search?q=%22unclosed", b"");
    assert_eq!(status, 400);
    let exit = server.interrupt();
    assert!(exit.success(), "{exit:?}");
    // What it archived and indexed is all there for the command line.
    let lines = common::json_lines(&common::stdout(&common::starling(&[
        "--data-dir",
        scenario.data_dir(),
        "search",
        "lang:fa",
        "--limit",
        "1000000",
        "--json",
    ])));
    assert_eq!(lines.len() as u64, total);
}

#[test]
fn off_loopback_the_server_refuses_calls_without_a_token() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let token = common::stdout(&common::starling(&[
        "--data-dir",
        dir,
        "token",
        "add",
        "desk",
        "--role",
        "reader",
    ]));
    let token = token.trim();
    assert!(token.starts_with("stl_"));
    let listed = common::stdout(&common::starling(&["--data-dir", dir, "token", "list"]));
    assert!(listed.contains("desk") && listed.contains("reader") && !listed.contains(token));
    let server = Server::start(&[
        "--data-dir",
        dir,
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--require-token",
    ]);
    let (status, _) = http(&server.address, "GET", "/api/status", b"");
    assert_eq!(status, 401);
    let mut stream = TcpStream::connect(&server.address).unwrap();
    write!(
        stream,
        "GET /api/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"auth_required\":true"));
}

#[test]
fn the_api_answers_as_its_openapi_description_says() {
    let schemathesis = Command::new("schemathesis").arg("--version").output();
    if !starling_testkit::tool(
        "schemathesis (pip install schemathesis)",
        schemathesis.is_ok_and(|output| output.status.success()),
    ) {
        return;
    }
    let _heavy = heavy();
    let server = Server::start(&[
        "demo",
        "--addr",
        "127.0.0.1:0",
        "--posts",
        "3000",
        "--speed",
        "1000000000",
    ]);
    wait_for_posts(&server.address, 2000);
    let reports = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("schemathesis");
    // The query language is richer than a JSON schema: a schema-valid string may still not
    // parse, and is answered 400 with the column, as documented. So every check runs but
    // `positive_data_acceptance`, which would count those as failures.
    let output = Command::new("schemathesis")
        .args([
            "run",
            &format!("{}/api/openapi.json", server.url()),
            "--checks",
            "all",
            "--exclude-checks",
            "positive_data_acceptance",
            "--exclude-path",
            "/api/stream",
            // Rules it made would send alerts to whatever host it made up: tests talk to
            // loopback only (the router tests and tests/alerts.rs cover these routes).
            "--exclude-path-regex",
            "^/api/alerts",
            "--max-examples",
            "15",
            "--seed",
            "2009",
            // One worker: CPython 3.11's AST compiler can fail in threads ("AST constructor
            // recursion depth mismatch"), which schemathesis reports as its own error.
            "--workers",
            "1",
            "--request-timeout",
            "30",
            "--report-dir",
            reports.to_str().unwrap(),
        ])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{printed}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(printed.contains("Tested"), "{printed}");
}

/// Post texts taken from feedparser's sanitizer tests: the HTML each file carries in its
/// content, description or title elements, unescaped, as an attacker would post it.
fn hostile_payloads(folder: &Path) -> Vec<String> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            [
                "script",
                "javascript",
                "onclick",
                "onabort",
                "onerror",
                "onload",
                "iframe",
                "object",
                "embed",
                "style",
                "applet",
                "meta",
            ]
            .iter()
            .any(|bad| name.contains(bad))
        })
        .collect();
    names.sort();
    let mut payloads = Vec::new();
    for path in names {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for tag in [
            "content",
            "description",
            "summary",
            "title",
            "content:encoded",
        ] {
            let open = format!("<{tag}");
            let Some(start) = text.find(&open) else {
                continue;
            };
            let Some(body_start) = text[start..].find('>').map(|at| start + at + 1) else {
                continue;
            };
            let Some(end) = text[body_start..].find(&format!("</{tag}>")) else {
                continue;
            };
            let raw = &text[body_start..body_start + end];
            let unescaped = raw
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&amp;", "&");
            if unescaped.contains('<') {
                payloads.push(unescaped);
                break;
            }
        }
    }
    payloads
}

/// A feed server whose one entry carries a hostile title, on a thread of its own.
fn feed_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                if stream.read(&mut byte).unwrap_or(0) == 0 {
                    break;
                }
                head.push(byte[0]);
            }
            let feed = r#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Wire</title><id>urn:wire</id><updated>2026-06-12T12:00:00Z</updated><entry><id>urn:wire:1</id><title>&lt;img src=x onerror=alert(1)&gt; wire</title><link href="https://news.example.org/1"/><updated>2026-06-12T12:00:00Z</updated></entry></feed>"#;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/atom+xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{feed}",
                feed.len()
            );
        }
    });
    port
}

#[test]
fn the_dashboard_works_in_a_real_browser_and_never_runs_post_text() {
    let browser_tests =
        starling_testkit::workspace_root().join("crates/starling-server/tests/browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !starling_testkit::tool("Chromium", Path::new(&chromium).exists())
        || !starling_testkit::tool(
            "playwright-core (npm ci in crates/starling-server/tests/browser)",
            browser_tests.join("node_modules/playwright-core").is_dir(),
        )
    {
        return;
    }
    let Some(sanitize) =
        starling_testkit::shared_data("feeds/feedparser/tests/wellformed/sanitize")
    else {
        return;
    };
    let _heavy = heavy();
    let payloads = hostile_payloads(&sanitize);
    assert!(payloads.len() >= 20, "{} payloads", payloads.len());

    // Two live sources beside the scenario: a feed that answers, and one whose server is
    // down (an open gap, shown in the Sources panel).
    let feed = feed_server();
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("starling.toml");
    std::fs::write(
        &config,
        format!(
            "[[sources]]\nkind = \"rss\"\nname = \"wire\"\nurls = [\"http://127.0.0.1:{feed}/atom.xml\", \"http://127.0.0.1:9/down.xml\"]\nallow_private = [\"127.0.0.1\"]\n"
        ),
    )
    .unwrap();
    // Enough posts, slowly enough, that they are still arriving when the browser looks.
    let server = Server::start(&[
        "--config",
        config.to_str().unwrap(),
        "demo",
        "--addr",
        "127.0.0.1:0",
        "--posts",
        "100000",
        "--speed",
        "240",
    ]);
    let address = server.address.clone();
    let watch = serde_json::json!({"name": "hostile <script>alert('watch')</script>", "query": "from:hostile"});
    let (status, body) = http(
        &address,
        "POST",
        "/api/watches",
        watch.to_string().as_bytes(),
    );
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    // Hostile posts: the payload as the text, and as the author's display name.
    let mut upload = Vec::new();
    for (n, payload) in payloads.iter().enumerate() {
        let tweet = serde_json::json!({
            "id_str": (7_000_000 + n).to_string(),
            "text": format!("{payload} xss"),
            "created_at": "Fri Jun 12 12:00:00 +0000 2026",
            "user": {"id_str": "666", "screen_name": "hostile", "name": payload, "location": payload},
            "entities": {"hashtags": [], "urls": [{"url": "javascript:alert(1)", "expanded_url": "javascript:alert(document.cookie)", "indices": [0, 1]}], "user_mentions": [], "symbols": []},
        });
        upload.extend(serde_json::to_vec(&tweet).unwrap());
        upload.push(b'\n');
    }
    let (status, body) = http(&address, "POST", "/api/import", &upload);
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let summary: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        summary["imported"].as_u64(),
        Some(payloads.len() as u64),
        "{summary}"
    );

    let screenshots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard-screenshots");
    let output = Command::new("node")
        .arg("dashboard.mjs")
        .current_dir(&browser_tests)
        .env("STARLING_URL", server.url())
        .env("SCREENSHOTS", &screenshots)
        .env("CHROMIUM", &chromium)
        .env("SEARCH_QUERY", "lang:fa")
        .env("HOSTILE_QUERY", "from:hostile")
        .env("EXPECT_SOURCES", "2")
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the browser test failed:\n{printed}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: Value = serde_json::from_str(printed.lines().last().unwrap()).unwrap();
    assert_eq!(summary["ok"], true);
    assert!(
        summary["hostile_posts"].as_u64().unwrap() >= 10,
        "{summary}"
    );
    assert!(screenshots.join("hostile.png").exists());
    eprintln!("screenshots in {}", screenshots.display());
}
