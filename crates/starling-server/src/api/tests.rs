//! The routes without sockets: each request goes through the whole router (access check,
//! headers, handler) as one `oneshot` call.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use starling_watch::Matcher;
use tower::ServiceExt;

use crate::auth::{Access, Role, Tokens};
use crate::{App, Job, Options};

struct Fixture {
    app: Arc<App>,
    _dir: tempfile::TempDir,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.app.shutdown();
    }
}

/// A server over a fresh archive holding a generated scenario of `posts` posts (none: empty).
async fn fixture(access: impl FnOnce(&std::path::Path) -> Access, posts: u64) -> Fixture {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let options = Options {
        access: access(dir.path()),
        ..Options::default()
    };
    let app = App::open(dir.path(), Matcher::default(), options).expect("the server opens");
    if posts > 0 {
        let config = starling_simulate::Config {
            posts,
            ..starling_simulate::Config::default()
        };
        let (done, finished) = tokio::sync::oneshot::channel();
        assert!(app.submit(Job::Scenario {
            generator: Box::new(starling_simulate::Generator::new(config).expect("a scenario")),
            speed: 1e12,
            done: Some(done),
        }));
        finished.await.expect("the playback ends");
        assert_eq!(app.live.stats().errors_total, 0, "{:?}", app.live.stats());
    }
    Fixture { app, _dir: dir }
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "not JSON ({error}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

async fn call(app: &Arc<App>, method: &str, uri: &str, body: &[u8], token: Option<&str>) -> Answer {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request.body(Body::from(body.to_vec())).expect("a request");
    let response = crate::router(Arc::clone(app))
        .oneshot(request)
        .await
        .expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("the body")
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

async fn get(app: &Arc<App>, uri: &str) -> Answer {
    call(app, "GET", uri, b"", None).await
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stories_are_listed_with_their_size_hour_by_hour() {
    // An empty server has none, and says so with an empty list.
    let empty = fixture(|_| Access::Open, 0).await;
    let answer = get(&empty.app, "/api/stories/sizes").await;
    assert_eq!(
        (answer.status, answer.json()),
        (StatusCode::OK, serde_json::json!([]))
    );
    drop(empty);
    let fixture = fixture(|_| Access::Open, 20_000).await;
    let app = &fixture.app;
    let stories = get(app, "/api/stories").await.json();
    let sizes = get(app, "/api/stories/sizes").await;
    assert_eq!(sizes.status, StatusCode::OK, "{}", sizes.text());
    let sizes = sizes.json();
    let sizes = sizes.as_array().expect("a list");
    assert!(
        !sizes.is_empty() && sizes.len() <= stories.as_array().expect("a list").len(),
        "{sizes:#?} {stories:#?}"
    );
    for size in sizes {
        let hourly: u64 = size["hourly"]
            .as_array()
            .expect("hours")
            .iter()
            .map(|hour| hour[1].as_u64().expect("a count"))
            .sum();
        assert_eq!(Some(hourly), size["posts"].as_u64(), "{size}");
    }
    // Newest first, and as many as asked.
    let firsts: Vec<chrono::DateTime<chrono::FixedOffset>> = sizes
        .iter()
        .map(|size| {
            chrono::DateTime::parse_from_rfc3339(size["first_seen"].as_str().expect("a time"))
                .expect("RFC 3339")
        })
        .collect();
    assert!(
        firsts.windows(2).all(|pair| pair[0] >= pair[1]),
        "{firsts:?}"
    );
    let one = get(app, "/api/stories/sizes?limit=1").await.json();
    assert_eq!(one.as_array().map(Vec::len), Some(1));
    assert_eq!(
        get(app, "/api/stories/sizes?limit=0").await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_archive_through_the_api() {
    let fixture = fixture(|_| Access::Open, 2000).await;
    let app = &fixture.app;

    let status = get(app, "/api/status").await;
    assert_eq!(status.status, StatusCode::OK);
    let archived = status.json()["posts"].as_u64().expect("posts");
    assert!(archived >= 1500, "{}", status.text());
    // Written posts count the scenario's repeated deliveries too.
    let written = status.json()["ingest"]["posts_total"]
        .as_u64()
        .expect("written");
    assert!(written >= archived, "{written} < {archived}");

    let search = get(
        app,
        &format!(
            "/api/search?q={}&facets=true&histogram=true&limit=5",
            encode("lang:fa")
        ),
    )
    .await;
    assert_eq!(search.status, StatusCode::OK, "{}", search.text());
    let found = search.json();
    let total = found["total"].as_u64().expect("total");
    assert!(total > 100 && total < archived, "{total} of {archived}");
    let posts = found["posts"].as_array().expect("posts");
    assert_eq!(posts.len(), 5);
    // lang: matches the declared or the detected language.
    assert!(
        posts
            .iter()
            .all(|post| post["lang"] == "fa" || post["declared_lang"] == "fa"),
        "{posts:?}"
    );
    let languages = found["facets"]["languages"]
        .as_array()
        .expect("a languages facet");
    assert_eq!(languages[0]["value"], "fa");
    let fa = languages[0]["posts"].as_u64().expect("a count");
    assert!(
        fa <= total && fa * 10 >= total * 9,
        "{fa} of {total} counted as Persian"
    );
    let buckets: u64 = found["histogram"]["counts"]
        .as_array()
        .expect("a histogram")
        .iter()
        .map(|bucket| bucket["posts"].as_u64().expect("a count"))
        .sum();
    assert_eq!(buckets, total);

    let broken = get(app, &format!("/api/search?q={}", encode("tehran AND ("))).await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert!(
        broken.json()["column"].as_u64().is_some(),
        "{}",
        broken.text()
    );
    assert_eq!(
        get(app, "/api/search?q=").await.status,
        StatusCode::BAD_REQUEST
    );
    let wrong = get(app, "/api/search?q=x&limit=lots").await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert!(
        wrong.json()["error"].as_str().is_some(),
        "errors are JSON too"
    );

    // A post by its key, with the record exactly as received.
    let key = posts[0]["key"].as_str().expect("a key");
    let post = get(app, &format!("/api/posts/{}", encode(key))).await;
    assert_eq!(post.status, StatusCode::OK, "{}", post.text());
    let post = post.json();
    assert_eq!(post["key"], key);
    let raw: Value = serde_json::from_str(post["raw"].as_str().expect("raw")).expect("raw JSON");
    assert!(raw.is_object());
    let missing = get(app, "/api/posts/twitter%3Anothing").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.json()["error"].as_str().is_some());

    // Counts over everything agree with the archive.
    let counts = get(app, "/api/counts").await.json();
    assert_eq!(counts["total"].as_u64(), Some(archived));
    let platforms: u64 = counts["facets"]["platforms"]
        .as_array()
        .expect("platforms")
        .iter()
        .map(|value| value["posts"].as_u64().expect("a count"))
        .sum();
    assert_eq!(platforms, archived);

    // Exports: every match, as CSV (ids as text) and as ids.
    let csv = get(
        app,
        &format!("/api/export?q={}&format=csv", encode("lang:fa")),
    )
    .await;
    assert_eq!(csv.status, StatusCode::OK);
    let mut reader = csv::Reader::from_reader(csv.body.as_slice());
    let headers = reader.headers().expect("a header").clone();
    assert_eq!(&headers[0], "key");
    assert_eq!(reader.records().count() as u64, total);
    let ids = get(
        app,
        &format!("/api/export?q={}&format=ids", encode("lang:fa")),
    )
    .await;
    assert_eq!(ids.text().lines().count() as u64, total);
    assert_eq!(
        get(app, "/api/export?q=x&format=pdf").await.status,
        StatusCode::BAD_REQUEST
    );

    let geo = get(app, "/api/geo?limit=50").await.json();
    let points = geo["points"].as_array().expect("points");
    assert!(!points.is_empty() && points.len() <= 50);
    assert!(!geo["countries"].as_array().expect("countries").is_empty());

    assert_eq!(get(app, "/api/detections").await.status, StatusCode::OK);
    assert_eq!(get(app, "/api/bursts?limit=3").await.status, StatusCode::OK);
    assert_eq!(
        get(app, "/api/detections?kind=rumour").await.status,
        StatusCode::BAD_REQUEST
    );
    let accounts = get(app, "/api/accounts?limit=5").await.json();
    let key_accounts = accounts["key"].as_array().expect("key accounts");
    assert!(
        !key_accounts.is_empty(),
        "the scenario mentions, replies and shares"
    );
    assert!(key_accounts.windows(2).all(|pair| {
        let attention = |account: &Value| {
            ["mentions", "replies", "shares"]
                .iter()
                .map(|field| account[field].as_u64().unwrap_or(0))
                .sum::<u64>()
        };
        attention(&pair[0]) >= attention(&pair[1])
    }));

    let metrics = get(app, "/metrics").await;
    assert_eq!(metrics.status, StatusCode::OK);
    assert!(
        metrics
            .text()
            .contains(&format!("starling_archive_posts {archived}")),
        "{}",
        metrics.text()
    );
    assert!(metrics.text().contains("starling_ingest_lag_seconds"));

    // The dashboard, with headers that keep hostile post text from running anywhere.
    let page = get(app, "/").await;
    assert_eq!(page.status, StatusCode::OK);
    let policy = page.headers["content-security-policy"]
        .to_str()
        .expect("text");
    assert!(policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"));
    assert_eq!(search.headers["x-content-type-options"], "nosniff");
    assert_eq!(
        get(app, "/assets/countries.json").await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(app, "/assets/../Cargo.toml").await.status,
        StatusCode::NOT_FOUND
    );
}

/// A Twitter v1.1 tweet with `text`, its hashtags in `entities` as Twitter gives them.
fn tweet(id: u64, text: &str) -> Vec<u8> {
    let chars: Vec<char> = text.chars().collect();
    let mut hashtags = Vec::new();
    for (start, _) in chars.iter().enumerate().filter(|(_, c)| **c == '#') {
        let end = (start + 1..chars.len())
            .find(|at| chars[*at] == ' ')
            .unwrap_or(chars.len());
        let tag: String = chars[start + 1..end].iter().collect();
        hashtags.push(serde_json::json!({"text": tag, "indices": [start, end]}));
    }
    serde_json::to_vec(&serde_json::json!({
        "id_str": id.to_string(), "text": text, "created_at": "Sat Jun 13 18:04:05 +0000 2009",
        "user": {"id_str": "10", "screen_name": "witness"}, "lang": "fa",
        "entities": {"hashtags": hashtags, "urls": [], "user_mentions": [], "symbols": []},
    }))
    .expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_through_the_api_match_what_arrives_next() {
    let fixture = fixture(|_| Access::Open, 0).await;
    let app = &fixture.app;
    let mut stream = app.hub.subscribe(None);

    let body = serde_json::json!({"name": "rooftops", "query": "#پشت_بام"}).to_string();
    let created = call(app, "POST", "/api/watches", body.as_bytes(), None).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.json()["matches"].as_u64(), Some(0));
    let again = call(
        app,
        "POST",
        "/api/watches",
        br#"{"name": "rooftops", "query": "x"}"#,
        None,
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let broken = call(
        app,
        "POST",
        "/api/watches",
        br#"{"name": "broken", "query": "a OR"}"#,
        None,
    )
    .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert!(broken.json()["column"].as_u64().is_some());
    let unknown = call(
        app,
        "POST",
        "/api/watches",
        br#"{"name": "x", "query": "x", "colour": 1}"#,
        None,
    )
    .await;
    assert_eq!(
        unknown.status,
        StatusCode::BAD_REQUEST,
        "unknown fields are refused"
    );

    // An upload: one post matching, one not, one broken record.
    let mut upload = tweet(1, "الله اکبر از #پشت_بام امشب");
    upload.push(b'\n');
    upload.extend(tweet(2, "nothing to see"));
    upload.extend(b"\n{\"id_str\": \"3\"}\n");
    let imported = call(app, "POST", "/api/import", &upload, None).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text());
    let summary = imported.json();
    assert_eq!(summary["imported"].as_u64(), Some(2), "{summary}");
    assert_eq!(summary["rejected"].as_u64(), Some(1), "{summary}");

    let event = tokio::time::timeout(std::time::Duration::from_secs(10), stream.live.recv())
        .await
        .expect("an event in time")
        .expect("an event");
    assert_eq!(event.kind, "match");
    let data: Value = serde_json::from_str(&event.data).expect("JSON");
    assert_eq!(data["watch"], "rooftops");
    assert_eq!(data["post"]["key"], "twitter:1");

    let matches = get(app, "/api/watches/rooftops/matches").await.json();
    assert_eq!(matches["total"].as_u64(), Some(1));
    assert_eq!(matches["matches"][0]["post"]["id"], "1");
    assert_eq!(
        get(app, "/api/watches").await.json()[0]["matches"].as_u64(),
        Some(1)
    );

    let changed = call(
        app,
        "PUT",
        "/api/watches/rooftops",
        br#"{"query": "nothing"}"#,
        None,
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    assert_eq!(changed.json()["query"], "nothing");
    let upload = tweet(4, "nothing again");
    assert_eq!(
        call(app, "POST", "/api/import", &upload, None).await.status,
        StatusCode::OK
    );
    let event = tokio::time::timeout(std::time::Duration::from_secs(10), stream.live.recv())
        .await
        .expect("an event in time")
        .expect("an event");
    assert_eq!(
        serde_json::from_str::<Value>(&event.data).expect("JSON")["post"]["key"],
        "twitter:4"
    );

    assert_eq!(
        call(app, "DELETE", "/api/watches/rooftops", b"", None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        get(app, "/api/watches/rooftops").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(app, "DELETE", "/api/watches/rooftops", b"", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(app, "POST", "/api/import", b"", None).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn off_loopback_every_call_needs_a_token_with_the_role_for_it() {
    let made = std::sync::Mutex::new(Vec::new());
    let fixture = fixture(
        |dir| {
            let tokens = Tokens::open(dir).expect("tokens");
            for (name, role) in [("r", Role::Reader), ("e", Role::Editor), ("a", Role::Admin)] {
                made.lock()
                    .expect("lock")
                    .push(tokens.add(name, role).expect("a token"));
            }
            Access::Tokens(tokens)
        },
        0,
    )
    .await;
    let app = &fixture.app;
    let made = made.into_inner().expect("tokens");
    let (reader, editor, admin) = (
        Some(made[0].as_str()),
        Some(made[1].as_str()),
        Some(made[2].as_str()),
    );

    let refused = get(app, "/api/status").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.headers["www-authenticate"], "Bearer");
    assert_eq!(get(app, "/metrics").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        get(app, "/api/stream").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(app, "GET", "/api/status", b"", Some("stl_forged"))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // The page itself holds no data.
    assert_eq!(get(app, "/").await.status, StatusCode::OK);
    assert_eq!(get(app, "/api/openapi.json").await.status, StatusCode::OK);

    assert_eq!(
        call(app, "GET", "/api/status", b"", reader).await.status,
        StatusCode::OK
    );
    let watch = br#"{"name": "w", "query": "tehran"}"#;
    assert_eq!(
        call(app, "POST", "/api/watches", watch, reader)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(app, "POST", "/api/watches", watch, editor)
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        call(app, "GET", "/api/tokens", b"", editor).await.status,
        StatusCode::FORBIDDEN
    );
    let listed = call(app, "GET", "/api/tokens", b"", admin).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.json().as_array().map(Vec::len), Some(3));
    assert!(
        made.iter()
            .all(|token| !listed.text().contains(token.as_str())),
        "tokens are never shown again"
    );
    let new = call(
        app,
        "POST",
        "/api/tokens",
        br#"{"name": "newsdesk", "role": "reader"}"#,
        admin,
    )
    .await;
    assert_eq!(new.status, StatusCode::CREATED);
    let token = new.json()["token"]
        .as_str()
        .expect("the new token")
        .to_owned();
    assert_eq!(
        call(app, "GET", "/api/status", b"", Some(&token))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        call(app, "DELETE", "/api/tokens/newsdesk", b"", admin)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(app, "GET", "/api/status", b"", Some(&token))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

/// Reads the stream's body until `wanted` events with ids have come.
async fn read_events(body: Body, wanted: usize) -> Vec<(String, String)> {
    let mut body = body;
    let mut text = String::new();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while events.len() < wanted {
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .expect("events in time")
            .expect("the stream goes on")
            .expect("a frame");
        if let Ok(data) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|line| line.strip_prefix(name))
                    .map(|value| value.trim().to_owned())
            };
            if let (Some(id), Some(kind)) = (field("id:"), field("event:")) {
                events.push((id, kind));
            }
        }
    }
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_resumes_after_the_last_event_id() {
    let fixture = fixture(|_| Access::Open, 0).await;
    let app = &fixture.app;
    let first = app.hub.publish("detection", &serde_json::json!({"n": 1}));
    app.hub.publish("detection", &serde_json::json!({"n": 2}));
    app.hub.publish("match", &serde_json::json!({"n": 3}));
    let request = Request::builder()
        .uri("/api/stream")
        .header("last-event-id", first.to_string())
        .body(Body::empty())
        .expect("a request");
    let response = crate::router(Arc::clone(app))
        .oneshot(request)
        .await
        .expect("an answer");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let streaming = tokio::spawn(read_events(response.into_body(), 3));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    app.hub.publish("match", &serde_json::json!({"n": 4}));
    let events = streaming.await.expect("the reader");
    let ids: Vec<u64> = events
        .iter()
        .map(|(id, _)| id.parse().expect("an id"))
        .collect();
    assert_eq!(
        ids,
        [first + 1, first + 2, first + 3],
        "missed ones first, then live, none twice"
    );
    assert_eq!(events[1].1, "match");
    let request = Request::builder()
        .uri("/api/stream")
        .header("last-event-id", "yesterday")
        .body(Body::empty())
        .expect("a request");
    let refused = crate::router(Arc::clone(app))
        .oneshot(request)
        .await
        .expect("an answer");
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_server_answers_only_this_machine() {
    let fixture = fixture(|_| Access::Open, 0).await;
    let app = &fixture.app;
    let ask = |host: &'static str, origin: Option<&'static str>| {
        let mut request = Request::builder().uri("/api/status").header("host", host);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let request = request.body(Body::empty()).expect("a request");
        let router = crate::router(Arc::clone(app));
        async move { router.oneshot(request).await.expect("an answer").status() }
    };
    assert_eq!(ask("127.0.0.1:7878", None).await, StatusCode::OK);
    assert_eq!(
        ask("localhost:7878", Some("http://localhost:7878")).await,
        StatusCode::OK
    );
    assert_eq!(
        ask("[::1]:7878", Some("http://127.0.0.1:7878")).await,
        StatusCode::OK
    );
    // DNS rebinding: a site's own name pointed at 127.0.0.1.
    assert_eq!(
        ask("attacker.example:7878", None).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        ask("127.0.0.1.attacker.example", None).await,
        StatusCode::FORBIDDEN
    );
    // Another site's page posting to the open server.
    assert_eq!(
        ask("127.0.0.1:7878", Some("https://attacker.example")).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        ask("127.0.0.1:7878", Some("null")).await,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_from_the_configuration_file_are_listed_and_kept() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let configured = starling_watch::WatchDef::new("configured", "tehran");
    let mut matcher = Matcher::default();
    matcher.insert(&configured).expect("a valid watch");
    let options = Options {
        config_watches: vec![configured],
        ..Options::default()
    };
    let app = App::open(dir.path(), matcher, options).expect("the server opens");
    let listed = get(&app, "/api/watches").await.json();
    assert_eq!(listed[0]["name"], "configured");
    assert_eq!(listed[0]["defined_in"], "config");
    assert_eq!(
        get(&app, "/api/watches/configured").await.status,
        StatusCode::OK
    );
    assert_eq!(
        call(
            &app,
            "PUT",
            "/api/watches/configured",
            br#"{"query": "x"}"#,
            None
        )
        .await
        .status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        call(&app, "DELETE", "/api/watches/configured", b"", None)
            .await
            .status,
        StatusCode::CONFLICT
    );
    let again = br#"{"name": "configured", "query": "x"}"#;
    assert_eq!(
        call(&app, "POST", "/api/watches", again, None).await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        get(&app, "/api/status").await.json()["watches"].as_u64(),
        Some(1)
    );
    app.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alert_rules_through_the_api_hide_their_secrets() {
    let fixture = fixture(|_| Access::Open, 0).await;
    let app = &fixture.app;
    let rule = br#"{"name": "desk", "on": {"kind": "match", "watch": "rooftops"},
        "channel": {"url": "http://127.0.0.1:9/hook", "secret": "hunter2"}, "throttle_secs": 0}"#;
    let created = call(app, "POST", "/api/alerts", rule, None).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert!(!created.text().contains("hunter2"));
    assert_eq!(
        call(app, "POST", "/api/alerts", rule, None).await.status,
        StatusCode::CONFLICT
    );
    let bad = br#"{"name": "x", "on": {"kind": "detection", "kinds": ["rumour"]}, "channel": {"url": "http://127.0.0.1:9"}}"#;
    assert_eq!(
        call(app, "POST", "/api/alerts", bad, None).await.status,
        StatusCode::BAD_REQUEST
    );
    let listed = get(app, "/api/alerts").await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(!listed.text().contains("hunter2"), "{}", listed.text());
    assert_eq!(listed.json()["rules"][0]["channel"]["secret"], "set");
    assert_eq!(listed.json()["outbox"]["pending"].as_u64(), Some(0));
    // A match now makes an alert, written to the outbox and streamed.
    let mut stream = app.hub.subscribe(None);
    let body = serde_json::json!({"name": "rooftops", "query": "#پشت_بام"}).to_string();
    call(app, "POST", "/api/watches", body.as_bytes(), None).await;
    let imported = call(app, "POST", "/api/import", &tweet(1, "از #پشت_بام"), None).await;
    assert_eq!(imported.status, StatusCode::OK);
    let mut kinds = Vec::new();
    while kinds.len() < 2 {
        let event = tokio::time::timeout(std::time::Duration::from_secs(10), stream.live.recv())
            .await
            .expect("events in time")
            .expect("an event");
        kinds.push(event.kind);
    }
    assert!(kinds.contains(&"alert"), "{kinds:?}");
    let counts = get(app, "/api/status").await.json()["alerts"].clone();
    assert_eq!(
        counts["pending"].as_u64().unwrap_or(0) + counts["delivered"].as_u64().unwrap_or(0),
        1,
        "{counts}"
    );
    let tested = call(app, "POST", "/api/alerts/desk/test", b"", None)
        .await
        .json();
    assert_eq!(tested["delivered"], false, "nothing listens on port 9");
    assert_eq!(
        call(app, "DELETE", "/api/alerts/desk", b"", None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        call(app, "DELETE", "/api/alerts/desk", b"", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[test]
fn every_api_route_is_described() {
    let spec: Value =
        serde_json::from_str(crate::assets::OPENAPI).expect("the description is JSON");
    let paths = spec["paths"].as_object().expect("paths");
    let source = include_str!("mod.rs");
    let mut routes = 0;
    for line in source.lines() {
        let Some(rest) = line.trim().strip_prefix(".route(") else {
            continue;
        };
        let rest = rest.trim_start_matches('"');
        let route = rest.split('"').next().unwrap_or_default();
        if route.is_empty() {
            // `.route(` with the path on the next line: checked by name below.
            continue;
        }
        if route == "/" || route.starts_with("/assets/") || route == "/api/openapi.json" {
            continue;
        }
        routes += 1;
        assert!(paths.contains_key(route), "{route} is not in openapi.json");
    }
    assert!(routes >= 15, "{routes} routes read from the router");
    assert!(paths.contains_key("/api/import"));
}
