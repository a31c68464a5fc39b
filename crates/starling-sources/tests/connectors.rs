//! Every connector against servers on loopback started here, replaying real recorded
//! responses (Mastodon.py's and tweepy's cassettes) where they exist and the documented
//! protocols elsewhere, with the faults live sources meet: disconnects mid-stream, malformed
//! frames, 429 with Retry-After, stalled servers, redirects to private addresses, a slow
//! archive, a restart. After each, the connector must recover, record the gap, and lose and
//! duplicate nothing it was sent.

#![allow(clippy::unwrap_used, clippy::print_stderr, clippy::result_large_err)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use starling_pipeline::{Offset, Record, Source};
use starling_sources::{Cause, Gap, Kind, LiveSource, Options, Recovery, SourceConfig, Sources};

// ---------------------------------------------------------------- harness

/// A loopback HTTP server whose every connection is handed, with its request head, to a
/// handler that writes whatever the test wants (partial lines, pauses, an abrupt close).
struct Server {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(handler: impl Fn(usize, &str, &mut TcpStream) + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let handler = Arc::new(handler);
        let seen = Arc::clone(&requests);
        std::thread::spawn(move || {
            let connections = AtomicUsize::new(0);
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let number = connections.fetch_add(1, Ordering::SeqCst);
                let handler = Arc::clone(&handler);
                let seen = Arc::clone(&seen);
                std::thread::spawn(move || {
                    let head = read_head(&mut stream);
                    seen.lock().unwrap().push(head.clone());
                    handler(number, &head, &mut stream);
                });
            }
        });
        Server { port, requests }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn read_head(stream: &mut TcpStream) -> String {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    // A request body (rules sync) follows when a length is given.
    if let Some(length) = head
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_owned())
        })
        .and_then(|value| value.parse::<usize>().ok())
    {
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        head.push_str("\r\n");
        head.push_str(&String::from_utf8_lossy(&body));
    }
    head
}

fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, &str)], body: &[u8]) {
    let mut head = format!(
        "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

/// Starts a streamed response (no length: the body ends when the connection closes).
fn stream_head(stream: &mut TcpStream, content_type: &str) {
    let head =
        format!("HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\nconnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
}

/// What the archive side saw: the records, acknowledged as they came.
struct Collected {
    records: Arc<Mutex<Vec<Record>>>,
    thread: std::thread::JoinHandle<()>,
}

fn collect(mut live: LiveSource, delay: Duration) -> Collected {
    let records = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&records);
    let thread = std::thread::spawn(move || {
        while let Some(batch) = live.next_batch(256).unwrap() {
            // A slow archive, when asked for.
            std::thread::sleep(delay);
            let end = batch.offsets.end;
            sink.lock().unwrap().extend(batch.items);
            live.acknowledge(Offset(end)).unwrap();
        }
    });
    Collected { records, thread }
}

impl Collected {
    fn bodies(&self) -> Vec<String> {
        self.records
            .lock()
            .unwrap()
            .iter()
            .map(|record| String::from_utf8_lossy(record.bytes.as_bytes()).into_owned())
            .collect()
    }

    fn finish(self, mut sources: Sources) -> Vec<String> {
        sources.stop();
        self.thread.join().unwrap();
        let records = self.records.lock().unwrap();
        records
            .iter()
            .map(|record| String::from_utf8_lossy(record.bytes.as_bytes()).into_owned())
            .collect()
    }
}

fn wait_for(what: &str, seconds: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn options(data_dir: &Path) -> Options {
    Options {
        data_dir: Some(data_dir.to_path_buf()),
        min_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(400),
        channel: 64,
        ..Options::default()
    }
}

fn gaps(sources: &Sources) -> Vec<Gap> {
    sources.registry().gaps(1000)
}

// ---------------------------------------------------------------- data

fn yaml_cassette(path: &Path) -> serde_yaml::Value {
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A YAML cassette body: text, or `!!binary` gzip as tweepy records it.
fn body_of(response: &serde_yaml::Value) -> Option<String> {
    let body = &response["body"]["string"];
    let (text, binary) = match body {
        serde_yaml::Value::Tagged(tagged) => (tagged.value.as_str()?, true),
        other => (other.as_str()?, false),
    };
    let gzipped = response["headers"]["content-encoding"][0].as_str() == Some("gzip");
    if !binary && !gzipped {
        return Some(text.to_owned());
    }
    use base64::Engine;
    let encoded: String = text.split_whitespace().collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let mut inflated = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut inflated)
        .ok()?;
    Some(inflated)
}

/// Statuses recorded by Mastodon.py against a real server, by id, without duplicates.
fn recorded_statuses() -> Option<BTreeMap<u128, String>> {
    let dir = starling_testkit::shared_data("platforms/mastodon-py/tests/cassettes")?;
    let mut statuses = BTreeMap::new();
    for name in [
        "test_public_tl.yaml",
        "test_hashtag_tl.yaml",
        "test_status.yaml",
        "test_stream_user_local.yaml",
    ] {
        let cassette = yaml_cassette(&dir.join(name));
        for interaction in cassette["interactions"].as_sequence().into_iter().flatten() {
            let Some(body) = body_of(&interaction["response"]) else {
                continue;
            };
            let values: Vec<serde_json::Value> =
                match serde_json::from_str::<serde_json::Value>(&body) {
                    Ok(serde_json::Value::Array(items)) => items,
                    Ok(object) => vec![object],
                    Err(_) => continue,
                };
            for value in values {
                if value.get("uri").is_some() && value.get("account").is_some() {
                    let id: u128 = value["id"].as_str().unwrap().parse().unwrap();
                    statuses.insert(id, serde_json::to_string(&value).unwrap());
                }
            }
        }
    }
    Some(statuses)
}

fn uri_of(body: &str) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()?
        .get("uri")?
        .as_str()
        .map(str::to_owned)
}

// ---------------------------------------------------------------- RSS

#[test]
fn feeds_are_polled_conditionally_and_faults_become_gaps() {
    let folder = tempfile::tempdir().unwrap();
    let feed = |items: &[(u32, &str)]| {
        let mut xml =
            String::from("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>T</title>");
        for (id, date) in items {
            xml.push_str(&format!(
                "<item><guid>urn:item:{id}</guid><title>item {id}</title><pubDate>{date}</pubDate></item>"
            ));
        }
        xml + "</channel></rss>"
    };
    let first = feed(&[(1, "Mon, 01 Jan 2024 10:00:00 GMT")]);
    let second = feed(&[
        (2, "Wed, 01 Jan 2031 10:00:00 GMT"),
        (1, "Mon, 01 Jan 2024 10:00:00 GMT"),
    ]);
    let server = Server::start(move |number, head, stream| match number {
        0 => respond(
            stream,
            "200 OK",
            &[("etag", "\"v1\""), ("content-type", "application/rss+xml")],
            first.as_bytes(),
        ),
        // Conditional: nothing changed.
        1 if head.contains("if-none-match: \"v1\"") => {
            respond(stream, "304 Not Modified", &[], b"")
        }
        1 => respond(stream, "200 OK", &[], b"no validator sent"),
        2 => respond(
            stream,
            "429 Too Many Requests",
            &[("retry-after", "1")],
            b"",
        ),
        3 => respond(stream, "503 Service Unavailable", &[], b""),
        _ => respond(stream, "200 OK", &[("etag", "\"v2\"")], second.as_bytes()),
    });
    let config = SourceConfig {
        kind: Some(Kind::Rss),
        urls: vec![server.url("/feed.xml")],
        interval_secs: Some(1),
        allow_private: vec![format!("127.0.0.1:{}", server.port)],
        ..SourceConfig::default()
    };
    let (sources, live) = starling_sources::start(&[config], options(folder.path())).unwrap();
    let collected = collect(live, Duration::ZERO);
    wait_for("the feed after the faults", 20, || {
        collected.bodies().len() >= 2
    });
    let requests = server.requests();
    assert!(
        requests[1].contains("if-none-match: \"v1\""),
        "{}",
        requests[1]
    );
    assert!(
        requests[4].contains("if-none-match: \"v1\""),
        "{}",
        requests[4]
    );
    let found = gaps(&sources);
    assert_eq!(found.len(), 1, "{found:?}");
    // The 429 opened the gap; the 503 kept it open; the new document closed it, and its
    // oldest entry reaches back before the gap: nothing scrolled off.
    assert_eq!(found[0].cause, Cause::RateLimited);
    assert_eq!(
        found[0].recovery,
        Recovery::Refetched {
            complete: Some(true)
        }
    );
    let health = sources.registry().health(chrono::Utc::now());
    assert_eq!(health[0].errors, 2);
    let bodies = collected.finish(sources);
    assert_eq!(bodies.len(), 2, "one record per changed document");
    // The validators of what was stored are kept for the next start.
    let state = std::fs::read_to_string(folder.path().join("sources/state.json")).unwrap();
    assert!(state.contains("\\\"v2\\\""), "{state}");
}

#[test]
fn redirects_to_private_addresses_are_refused() {
    let folder = tempfile::tempdir().unwrap();
    // An allowed loopback server that redirects into the rest of the machine.
    let inner = Server::start(|_, _, stream| respond(stream, "200 OK", &[], b"<rss/>"));
    let inner_url = inner.url("/secret");
    let outer = Server::start(move |number, _, stream| {
        if number == 0 {
            respond(stream, "302 Found", &[("location", "/moved.xml")], b"");
        } else {
            respond(
                stream,
                "301 Moved Permanently",
                &[("location", &inner_url)],
                b"",
            );
        }
    });
    let config = SourceConfig {
        kind: Some(Kind::Rss),
        urls: vec![outer.url("/feed.xml")],
        interval_secs: Some(60),
        allow_private: vec![format!("127.0.0.1:{}", outer.port)],
        ..SourceConfig::default()
    };
    let (sources, live) = starling_sources::start(&[config], options(folder.path())).unwrap();
    let collected = collect(live, Duration::ZERO);
    wait_for("the refusal", 10, || {
        sources.registry().health(chrono::Utc::now())[0]
            .last_error
            .is_some()
    });
    let health = &sources.registry().health(chrono::Utc::now())[0];
    let error = health.last_error.clone().unwrap();
    assert!(
        error.contains("refused") && error.contains("non-public"),
        "{error}"
    );
    assert_eq!(health.open_gap.as_ref().unwrap().cause, Cause::Refused);
    // The same-host redirect was followed; the private target was never asked.
    assert!(outer.requests()[1].starts_with("GET /moved.xml"));
    assert!(inner.requests().is_empty());
    assert!(collected.finish(sources).is_empty());
}

// ---------------------------------------------------------------- Mastodon

#[test]
fn mastodon_backfills_after_a_disconnect_and_keeps_each_status_once() {
    let Some(statuses) = recorded_statuses() else {
        return;
    };
    assert!(
        statuses.len() >= 10,
        "only {} recorded statuses",
        statuses.len()
    );
    let all: Vec<(u128, String)> = statuses.into_iter().collect();
    let (before, rest) = all.split_at(4);
    let (during, after) = rest.split_at(5);
    let (before, during, after) = (before.to_vec(), during.to_vec(), after.to_vec());
    let last_before = before.last().unwrap().0;
    let event = |status: &str| format!("event: update\ndata: {status}\n\n");
    let expected: BTreeSet<String> = all.iter().filter_map(|(_, body)| uri_of(body)).collect();
    let backfill_pages = Arc::new(Mutex::new(Vec::new()));
    let pages = Arc::clone(&backfill_pages);
    let server = Server::start(move |_, head, stream| {
        let path = head
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        if path.starts_with("/api/v1/timelines/public") {
            pages.lock().unwrap().push(path.clone());
            // Paged forward from min_id, newest first within a page, as Mastodon answers.
            let min: u128 = path
                .split("min_id=")
                .nth(1)
                .unwrap()
                .split('&')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            let mut page: Vec<&String> = during
                .iter()
                .filter(|(id, _)| *id > min)
                .map(|(_, body)| body)
                .take(2)
                .collect();
            page.reverse();
            let body = format!(
                "[{}]",
                page.iter()
                    .map(|body| body.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            );
            respond(
                stream,
                "200 OK",
                &[("content-type", "application/json")],
                body.as_bytes(),
            );
            return;
        }
        stream_head(stream, "text/event-stream");
        let connection = path.clone();
        let _ = connection;
        static STREAMS: AtomicUsize = AtomicUsize::new(0);
        match STREAMS.fetch_add(1, Ordering::SeqCst) {
            0 => {
                stream.write_all(b":)\n").unwrap();
                for (_, status) in &before {
                    stream.write_all(event(status).as_bytes()).unwrap();
                }
                // A malformed event, then the connection drops in the middle of the next.
                stream
                    .write_all(b"event: update\ndata: {\"id\": \"1\", oops\n\n")
                    .unwrap();
                stream
                    .write_all(b"event: update\ndata: {\"id\":\"9")
                    .unwrap();
            }
            _ => {
                // The live stream goes on; its first status was also in the backfill.
                for (_, status) in during.iter().rev().take(1).chain(after.iter()) {
                    stream.write_all(event(status).as_bytes()).unwrap();
                }
                stream.write_all(b"event: delete\ndata: 123\n\n").unwrap();
                std::thread::sleep(Duration::from_secs(30));
            }
        }
    });
    // A second server streaming the same statuses (federation): each is kept once.
    let all_again = all.clone();
    let mirror = Server::start(move |_, _, stream| {
        stream_head(stream, "text/event-stream");
        // After the first server's backfill, so that it is the one to find those statuses.
        std::thread::sleep(Duration::from_millis(1500));
        for (_, status) in &all_again {
            stream.write_all(event(status).as_bytes()).unwrap();
        }
        std::thread::sleep(Duration::from_secs(30));
    });
    let folder = tempfile::tempdir().unwrap();
    let config = SourceConfig {
        kind: Some(Kind::Mastodon),
        urls: vec![server.url(""), mirror.url("")],
        allow_private: vec!["127.0.0.1".into()],
        ..SourceConfig::default()
    };
    let (sources, live) = starling_sources::start(&[config], options(folder.path())).unwrap();
    let collected = collect(live, Duration::ZERO);
    wait_for("every status and the delete", 20, || {
        let bodies = collected.bodies();
        bodies
            .iter()
            .filter_map(|body| uri_of(body))
            .collect::<BTreeSet<_>>()
            == expected
            && bodies.iter().any(|body| body.starts_with("event: delete"))
    });
    let found = gaps(&sources);
    let server_id = format!("mastodon:{}", server.url(""));
    let bodies = collected.finish(sources);
    let uris: Vec<String> = bodies.iter().filter_map(|body| uri_of(body)).collect();
    assert_eq!(uris.len(), expected.len(), "a status was handed on twice");
    // The malformed event went on to the decoder (which rejects it with its reason).
    assert!(bodies.iter().any(|body| body.contains("oops")));
    let gap = found.iter().find(|gap| gap.source == server_id).unwrap();
    assert_eq!(gap.cause, Cause::Disconnected);
    assert_eq!(
        gap.recovery,
        Recovery::Backfill {
            posts: 5,
            complete: true
        },
        "{found:?}"
    );
    let pages = backfill_pages.lock().unwrap().clone();
    assert!(
        pages[0].contains(&format!("min_id={last_before}")),
        "{pages:?}"
    );
}

// ---------------------------------------------------------------- Jetstream

fn jetstream_event(time_us: i64) -> String {
    format!(
        r#"{{"did":"did:plc:abc{}","time_us":{time_us},"kind":"commit","commit":{{"rev":"r{time_us}","operation":"create","collection":"app.bsky.feed.post","rkey":"k{time_us}","record":{{"$type":"app.bsky.feed.post","text":"post {time_us}","createdAt":"2024-01-01T00:00:00Z","langs":["en"]}},"cid":"c{time_us}"}}}}"#,
        time_us % 7
    )
}

/// A Jetstream-like WebSocket server: each connection is handed the cursor it asked for.
fn websocket_server(
    handler: impl Fn(usize, Option<i64>, &mut tungstenite::WebSocket<TcpStream>) + Send + Sync + 'static,
) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let uris = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&uris);
    let handler = Arc::new(handler);
    std::thread::spawn(move || {
        for (number, stream) in listener.incoming().enumerate() {
            let Ok(stream) = stream else { continue };
            let (handler, seen) = (Arc::clone(&handler), Arc::clone(&seen));
            std::thread::spawn(move || {
                let asked = Arc::new(Mutex::new(String::new()));
                let asked_in = Arc::clone(&asked);
                let accepted = tungstenite::accept_hdr(
                    stream,
                    move |request: &tungstenite::handshake::server::Request, response| {
                        let uri = request.uri().to_string();
                        *asked_in.lock().unwrap() = uri.clone();
                        if uri.contains("busy") {
                            let mut refusal =
                                tungstenite::handshake::server::ErrorResponse::new(None);
                            *refusal.status_mut() =
                                tungstenite::http::StatusCode::TOO_MANY_REQUESTS;
                            refusal
                                .headers_mut()
                                .insert("retry-after", "1".parse().unwrap());
                            return Err(refusal);
                        }
                        Ok(response)
                    },
                );
                let uri = asked.lock().unwrap().clone();
                seen.lock().unwrap().push(uri.clone());
                let Ok(mut socket) = accepted else { return };
                let cursor = uri
                    .split("cursor=")
                    .nth(1)
                    .and_then(|value| value.split('&').next()?.parse().ok());
                handler(number, cursor, &mut socket);
            });
        }
    });
    (port, uris)
}

fn time_of(body: &str) -> Option<i64> {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()?
        .get("time_us")?
        .as_i64()
}

#[test]
fn jetstream_resumes_from_its_cursor_after_faults_and_restarts() {
    // Times in microseconds a second apart, so the 5 s rewind replays five events.
    let base = 1_700_000_000_000_000_i64;
    let events: Vec<i64> = (0..120).map(|n| base + n * 1_000_000).collect();
    let all = events.clone();
    let (port, uris) = websocket_server(move |number, cursor, socket| {
        let start = cursor.map_or(0, |cursor| {
            all.iter()
                .position(|time| *time >= cursor)
                .unwrap_or(all.len())
        });
        let send = |socket: &mut tungstenite::WebSocket<TcpStream>, time: &i64| {
            socket
                .send(tungstenite::Message::text(jetstream_event(*time)))
                .is_ok()
        };
        match number {
            // Forty events, then the TCP connection drops without a close frame.
            0 => {
                for time in &all[start..40] {
                    send(socket, time);
                }
                let _ = socket.get_mut().shutdown(std::net::Shutdown::Both);
            }
            // A frame that is not JSON and a binary frame on an uncompressed stream (both
            // handed on: the decoder rejects them), then the server drops the connection.
            1 => {
                for time in &all[start..70] {
                    send(socket, time);
                }
                socket
                    .send(tungstenite::Message::text("{not json"))
                    .unwrap();
                socket
                    .send(tungstenite::Message::binary(vec![1, 2, 3]))
                    .unwrap();
                let _ = socket.get_mut().shutdown(std::net::Shutdown::Both);
            }
            // Then the server goes quiet: the idle timeout resets the connection.
            2 => {
                for time in &all[start..90] {
                    send(socket, time);
                }
                std::thread::sleep(Duration::from_secs(30));
            }
            _ => {
                for time in &all[start..] {
                    send(socket, time);
                }
                std::thread::sleep(Duration::from_secs(30));
            }
        }
    });
    let folder = tempfile::tempdir().unwrap();
    let config = SourceConfig {
        kind: Some(Kind::Jetstream),
        urls: vec![format!("ws://127.0.0.1:{port}/subscribe")],
        allow_private: vec!["127.0.0.1".into()],
        idle_timeout_secs: Some(1),
        ..SourceConfig::default()
    };
    let (sources, live) =
        starling_sources::start(std::slice::from_ref(&config), options(folder.path())).unwrap();
    let collected = collect(live, Duration::ZERO);
    wait_for("all 120 events", 30, || {
        collected
            .bodies()
            .iter()
            .filter_map(|body| time_of(body))
            .count()
            >= 120
    });
    let found = gaps(&sources);
    let bodies = collected.finish(sources);
    let times: Vec<i64> = bodies.iter().filter_map(|body| time_of(body)).collect();
    assert_eq!(times, events, "lost, repeated or out of order");
    assert!(bodies.iter().any(|body| body == "{not json"));
    assert!(bodies.iter().any(|body| body.as_bytes() == [1, 2, 3]));
    let causes: Vec<Cause> = found.iter().map(|gap| gap.cause).collect();
    assert_eq!(
        causes,
        vec![Cause::Disconnected, Cause::Disconnected, Cause::Stalled],
        "{found:?}"
    );
    for gap in &found {
        assert!(matches!(gap.recovery, Recovery::Cursor { .. }), "{gap:?}");
    }
    let asked = uris.lock().unwrap().clone();
    assert!(
        asked[0].contains("wantedCollections=app.bsky.feed.post") && !asked[0].contains("cursor=")
    );
    assert!(
        asked[1].contains(&format!("cursor={}", events[39] - 5_000_000)),
        "{asked:?}"
    );

    // A restart resumes from what was stored, and the time it was not running is a gap.
    let (sources, live) = starling_sources::start(&[config], options(folder.path())).unwrap();
    let collected = collect(live, Duration::ZERO);
    wait_for("the restart's replay", 20, || {
        !collected.bodies().is_empty()
            && sources
                .registry()
                .gaps(10)
                .iter()
                .any(|gap| gap.cause == Cause::NotRunning)
    });
    let gap = sources
        .registry()
        .gaps(10)
        .into_iter()
        .find(|gap| gap.cause == Cause::NotRunning)
        .unwrap();
    assert!(matches!(gap.recovery, Recovery::Cursor { .. }), "{gap:?}");
    let asked = uris.lock().unwrap().clone();
    assert!(
        asked
            .last()
            .unwrap()
            .contains(&format!("cursor={}", events[119] - 5_000_000)),
        "{asked:?}"
    );
    let replayed = collected.finish(sources);
    // Replayed events the archive already holds are its to drop (by key): no more than the
    // rewind.
    assert!(replayed.len() <= 6, "{}", replayed.len());
}

#[test]
fn jetstream_waits_when_refused_with_retry_after_and_reads_compressed_frames() {
    let samples: Vec<Vec<u8>> = (0..200).map(|n| jetstream_event(n).into_bytes()).collect();
    let dictionary = zstd::dict::from_samples(&samples, 4096).unwrap();
    let folder = tempfile::tempdir().unwrap();
    let dictionary_path = folder.path().join("zstd_dictionary");
    std::fs::write(&dictionary_path, &dictionary).unwrap();
    let server_dictionary = dictionary.clone();
    let (port, uris) = websocket_server(move |_, _, socket| {
        let mut compressor =
            zstd::bulk::Compressor::with_dictionary(3, &server_dictionary).unwrap();
        for n in 1000..1050 {
            let frame = compressor.compress(jetstream_event(n).as_bytes()).unwrap();
            socket.send(tungstenite::Message::binary(frame)).unwrap();
        }
        std::thread::sleep(Duration::from_secs(30));
    });
    // The first URL answers 429 with Retry-After: 1.
    let busy = SourceConfig {
        kind: Some(Kind::Jetstream),
        urls: vec![format!("ws://127.0.0.1:{port}/subscribe?busy=1")],
        allow_private: vec!["127.0.0.1".into()],
        ..SourceConfig::default()
    };
    let compressed = SourceConfig {
        kind: Some(Kind::Jetstream),
        name: Some("compressed".into()),
        urls: vec![format!("ws://127.0.0.1:{port}/subscribe")],
        allow_private: vec!["127.0.0.1".into()],
        compress: true,
        zstd_dictionary: Some(dictionary_path),
        ..SourceConfig::default()
    };
    let started = Instant::now();
    let (sources, live) =
        starling_sources::start(&[busy, compressed], options(folder.path())).unwrap();
    let collected = collect(live, Duration::ZERO);
    wait_for("50 inflated events and a second try", 20, || {
        collected.bodies().len() >= 50
            && uris
                .lock()
                .unwrap()
                .iter()
                .filter(|uri| uri.contains("busy"))
                .count()
                >= 2
    });
    // The backoff alone would have tried again after 50-100 ms.
    assert!(started.elapsed() >= Duration::from_millis(900));
    let health = sources.registry().health(chrono::Utc::now());
    let busy_health = health
        .iter()
        .find(|health| health.id.starts_with("jetstream:"))
        .unwrap();
    assert_eq!(
        busy_health.open_gap.as_ref().unwrap().cause,
        Cause::RateLimited
    );
    assert!(
        uris.lock()
            .unwrap()
            .iter()
            .any(|uri| uri.contains("compress=true"))
    );
    let bodies = collected.finish(sources);
    let times: Vec<i64> = bodies.iter().filter_map(|body| time_of(body)).collect();
    assert_eq!(times, (1000..1050).collect::<Vec<_>>());
}

#[test]
fn a_slow_archive_slows_the_connector_down_without_losing_anything() {
    const EVENTS: i64 = 5000;
    let (port, _) = websocket_server(|_, _, socket| {
        for time in 1..=EVENTS {
            if socket
                .send(tungstenite::Message::text(jetstream_event(time)))
                .is_err()
            {
                return;
            }
        }
        std::thread::sleep(Duration::from_secs(60));
    });
    let folder = tempfile::tempdir().unwrap();
    let config = SourceConfig {
        kind: Some(Kind::Jetstream),
        urls: vec![format!("ws://127.0.0.1:{port}/subscribe")],
        allow_private: vec!["127.0.0.1".into()],
        ..SourceConfig::default()
    };
    let (sources, live) = starling_sources::start(&[config], options(folder.path())).unwrap();
    // 256 records per batch at 15 ms each: the archive takes ~17,000 records/s while the
    // server could send far more; the channel holds 64.
    let collected = collect(live, Duration::from_millis(15));
    wait_for("every event through the slow archive", 60, || {
        collected.bodies().len() as i64 >= EVENTS
    });
    assert!(gaps(&sources).is_empty());
    let bodies = collected.finish(sources);
    let times: Vec<i64> = bodies.iter().filter_map(|body| time_of(body)).collect();
    assert_eq!(times, (1..=EVENTS).collect::<Vec<_>>());
}

// ---------------------------------------------------------------- X

#[test]
fn x_stream_syncs_rules_obeys_rate_limits_and_records_operational_disconnects() {
    let token = "AAAA-test-bearer-token-never-logged";
    let tweet = |id: u64| {
        format!(
            r#"{{"data":{{"id":"{id}","text":"tehran {id}","author_id":"9","created_at":"2009-06-13T12:00:00.000Z"}},"includes":{{"users":[{{"id":"9","username":"someone","name":"S"}}]}},"matching_rules":[{{"id":"1","tag":"starling:tehran"}}]}}"#
        )
    };
    let server = Server::start(move |_, head, stream| {
        let path = head
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        assert!(
            head.contains(&format!("authorization: Bearer {token}")),
            "{head}"
        );
        if path.starts_with("/2/tweets/search/stream/rules") {
            if head.starts_with("GET") {
                let rules = r#"{"data":[{"id":"10","value":"old rule","tag":"starling:gone"},{"id":"11","value":"theirs","tag":"someone else"}]}"#;
                respond(
                    stream,
                    "200 OK",
                    &[("x-rate-limit-remaining", "449")],
                    rules.as_bytes(),
                );
            } else if head.contains("\"add\"") {
                // X answers 200 and lists what it refused.
                respond(stream, "200 OK", &[], br#"{"meta":{"sent":"now","summary":{"created":0,"invalid":1}},"errors":[{"value":"tehran OR #iranelection","details":["Rules must contain a non-stopword"],"title":"UnprocessableEntity"}]}"#);
            } else {
                respond(stream, "200 OK", &[], br#"{"meta":{"sent":"now"}}"#);
            }
            return;
        }
        static STREAMS: AtomicUsize = AtomicUsize::new(0);
        match STREAMS.fetch_add(1, Ordering::SeqCst) {
            0 => {
                stream_head(stream, "application/json");
                for id in 1..=3 {
                    stream
                        .write_all(format!("{}\r\n\r\n", tweet(id)).as_bytes())
                        .unwrap();
                }
                stream
                    .write_all(br#"{"errors":[{"title":"operational-disconnect","disconnect_type":"UpstreamOperationalDisconnect","detail":"This stream has been disconnected upstream for operational reasons.","type":"https://api.twitter.com/2/problems/operational-disconnect"}]}"#)
                    .unwrap();
                stream.write_all(b"\r\n").unwrap();
            }
            1 => {
                let reset = (chrono::Utc::now().timestamp() + 1).to_string();
                respond(
                    stream,
                    "429 Too Many Requests",
                    &[
                        ("x-rate-limit-remaining", "0"),
                        ("x-rate-limit-reset", &reset),
                    ],
                    br#"{"title":"Too Many Requests"}"#,
                );
            }
            _ => {
                stream_head(stream, "application/json");
                for id in 3..=6 {
                    stream
                        .write_all(format!("{}\r\n", tweet(id)).as_bytes())
                        .unwrap();
                }
                std::thread::sleep(Duration::from_secs(30));
            }
        }
    });
    let folder = tempfile::tempdir().unwrap();
    let token_file = folder.path().join("x.token");
    std::fs::write(&token_file, token).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let mut config = SourceConfig {
        kind: Some(Kind::X),
        urls: vec![server.url("")],
        allow_private: vec!["127.0.0.1".into()],
        token_file: Some(token_file.clone()),
        ..SourceConfig::default()
    };
    let mut options = options(folder.path());
    let watches = Arc::new(Mutex::new(vec![
        ("tehran".to_owned(), "tehran OR #iranelection".to_owned()),
        ("near".to_owned(), "police NEAR/3 protest".to_owned()),
    ]));
    let shared_watches = Arc::clone(&watches);
    options.watches = Arc::new(move || Ok(shared_watches.lock().unwrap().clone()));
    options.rules_every = Duration::from_millis(200);
    #[cfg(unix)]
    {
        let refused = starling_sources::start(std::slice::from_ref(&config), options.clone())
            .err()
            .unwrap();
        assert!(refused.to_string().contains("chmod 600"), "{refused}");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    config.token_file = Some(token_file);
    let started = Instant::now();
    let (sources, live) = starling_sources::start(&[config], options).unwrap();
    let collected = collect(live, Duration::ZERO);
    wait_for("six tweets", 20, || collected.bodies().len() >= 6);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "the 429's reset was not awaited"
    );
    // A watch added while the stream is open becomes a rule without a reconnect.
    let streams_before = server
        .requests()
        .iter()
        .filter(|request| request.starts_with("GET /2/tweets/search/stream?"))
        .count();
    watches
        .lock()
        .unwrap()
        .push(("isfahan".to_owned(), "#isfahan".to_owned()));
    wait_for("the new watch's rule", 10, || {
        server
            .requests()
            .iter()
            .any(|request| request.starts_with("POST") && request.contains("starling:isfahan"))
    });
    let streams_after = server
        .requests()
        .iter()
        .filter(|request| request.starts_with("GET /2/tweets/search/stream?"))
        .count();
    assert_eq!(streams_before, streams_after, "the stream was reopened");
    let found = gaps(&sources);
    let health = sources.registry().health(chrono::Utc::now());
    let requests = server.requests();
    let bodies = collected.finish(sources);
    let ids: Vec<String> = bodies
        .iter()
        .map(|body| {
            serde_json::from_str::<serde_json::Value>(body).unwrap()["data"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5", "6"]);
    assert_eq!(found[0].cause, Cause::LimitNotice, "{found:?}");
    assert!(found[0].detail.contains("operational-disconnect"));
    assert_eq!(found[0].recovery, Recovery::None);
    // Rules: the stale Starling rule deleted, the watch added, someone else's left alone;
    // the NEAR watch is noted, not sent.
    let posts: Vec<&String> = requests
        .iter()
        .filter(|request| request.starts_with("POST"))
        .collect();
    assert!(
        posts
            .iter()
            .any(|post| post.contains(r#"{"delete":{"ids":["10"]}}"#)),
        "{posts:?}"
    );
    assert!(
        posts
            .iter()
            .any(|post| post.contains(r#""value":"tehran OR #iranelection""#)
                && post.contains("starling:tehran"))
    );
    assert!(!posts.iter().any(|post| post.contains("\"11\"")));
    assert!(
        health[0]
            .notes
            .iter()
            .any(|note| note.contains("watch near")),
        "{:?}",
        health[0].notes
    );
    assert!(
        health[0]
            .notes
            .iter()
            .any(|note| note.contains("X refused the rule") && note.contains("non-stopword")),
        "{:?}",
        health[0].notes
    );
    // The token is in no report.
    let reports = serde_json::to_string(&(&health, &found)).unwrap();
    assert!(!reports.contains(token));
}

#[test]
fn x_recent_search_replays_tweepys_recorded_response_and_resumes_from_the_newest_id() {
    let Some(dir) = starling_testkit::shared_data("platforms/twitter-v1-tweepy/cassettes") else {
        return;
    };
    let cassette = yaml_cassette(&dir.join("test_client_search_recent_tweets.yaml"));
    let recorded = body_of(&cassette["interactions"][0]["response"]).unwrap();
    let page: serde_json::Value = serde_json::from_str(&recorded).unwrap();
    let newest = page["meta"]["newest_id"].as_str().unwrap().to_owned();
    let server = Server::start(move |number, _, stream| match number {
        0 => respond(
            stream,
            "200 OK",
            &[("x-rate-limit-remaining", "449")],
            recorded.as_bytes(),
        ),
        // The second page is refused once: the next try goes on from the same token.
        1 => respond(
            stream,
            "429 Too Many Requests",
            &[("retry-after", "1")],
            b"",
        ),
        _ => respond(stream, "200 OK", &[], br#"{"meta":{"result_count":0}}"#),
    });
    let folder = tempfile::tempdir().unwrap();
    let token_file = folder.path().join("x.token");
    std::fs::write(&token_file, "search-token").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let config = SourceConfig {
        kind: Some(Kind::X),
        urls: vec![server.url("")],
        allow_private: vec!["127.0.0.1".into()],
        mode: Some("search".into()),
        query: Some("Tweepy lang:en".into()),
        interval_secs: Some(1),
        token_file: Some(token_file),
        ..SourceConfig::default()
    };
    let (sources, live) = starling_sources::start(&[config], options(folder.path())).unwrap();
    let collected = collect(live, Duration::ZERO);
    // The recorded page has a next_token: the poll reads on to the (empty) next page; the
    // next poll asks only for what is newer than the newest id.
    let next_token = page["meta"]["next_token"].as_str().unwrap().to_owned();
    wait_for("a second poll", 20, || server.requests().len() >= 4);
    let found = gaps(&sources);
    let bodies = collected.finish(sources);
    // The recorded page, then the empty page that ended the pagination, carrying the cursor.
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&bodies[0]).unwrap(),
        page
    );
    let requests = server.requests();
    assert!(requests[0].contains("query=Tweepy%20lang%3Aen") && !requests[0].contains("since_id"));
    for request in &requests[1..3] {
        assert!(
            request.contains(&format!("next_token={next_token}")) && !request.contains("since_id"),
            "{request}"
        );
    }
    assert!(
        requests[3].contains(&format!("since_id={newest}")),
        "{}",
        requests[3]
    );
    // The 429 was a gap, covered once the pagination met the previous poll.
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].cause, Cause::RateLimited);
    let posts = page["meta"]["result_count"].as_u64().unwrap();
    assert_eq!(
        found[0].recovery,
        Recovery::Backfill {
            posts,
            complete: true
        }
    );
    let state = std::fs::read_to_string(folder.path().join("sources/state.json")).unwrap();
    assert!(state.contains(&newest), "{state}");
}

#[test]
fn jetstream_steps_past_a_message_that_breaks_every_replay() {
    let base = 1_700_000_000_000_000_i64;
    let events: Vec<i64> = (0..20).map(|n| base + n * 1_000_000).collect();
    let all = events.clone();
    let (port, uris) = websocket_server(move |_, cursor, socket| {
        let cursor = cursor.unwrap_or(0);
        for (n, time) in all.iter().enumerate() {
            if *time >= cursor
                && socket
                    .send(tungstenite::Message::text(jetstream_event(*time)))
                    .is_err()
            {
                return;
            }
            // After the eleventh event, a message larger than any post (5 MiB), which the
            // connector refuses; it sits half a second after that event.
            if n == 10 && cursor <= time + 500_000 {
                let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(5 << 20));
                let _ = socket.send(tungstenite::Message::text(huge));
                std::thread::sleep(Duration::from_millis(200));
                return;
            }
        }
        std::thread::sleep(Duration::from_secs(30));
    });
    let folder = tempfile::tempdir().unwrap();
    let config = SourceConfig {
        kind: Some(Kind::Jetstream),
        urls: vec![format!("ws://127.0.0.1:{port}/subscribe")],
        allow_private: vec!["127.0.0.1".into()],
        ..SourceConfig::default()
    };
    let (sources, live) = starling_sources::start(&[config], options(folder.path())).unwrap();
    let collected = collect(live, Duration::ZERO);
    wait_for("the events after the unreadable message", 30, || {
        collected
            .bodies()
            .iter()
            .filter_map(|body| time_of(body))
            .count()
            >= 20
    });
    let found = gaps(&sources);
    let bodies = collected.finish(sources);
    let times: Vec<i64> = bodies.iter().filter_map(|body| time_of(body)).collect();
    assert_eq!(times, events);
    // Three replays broke on it; the fourth connection started a second after event 10.
    let asked = uris.lock().unwrap().clone();
    assert_eq!(asked.len(), 4, "{asked:?}");
    assert!(
        asked[3].contains(&format!("cursor={}", events[10] + 1_000_000)),
        "{asked:?}"
    );
    assert!(
        found.iter().all(|gap| gap.cause == Cause::Malformed),
        "{found:?}"
    );
    assert!(
        found.last().unwrap().detail.contains("skipped"),
        "{found:?}"
    );
    assert_eq!(found.last().unwrap().recovery, Recovery::None);
}
