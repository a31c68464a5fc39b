//! Alerts as a user meets them: rules added, listed and tested from the command line against
//! a webhook receiver on loopback; and alerts pending when the server is killed (-9),
//! delivered once each after it restarts.
#![allow(
    clippy::unwrap_used,
    reason = "a test that cannot unwrap has failed, and says where"
)]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Server, http, starling, stdout};

/// What the receiver saw of one request.
#[derive(Debug, Clone)]
struct Received {
    key: String,
    timestamp: String,
    signature: String,
    body: Vec<u8>,
}

/// A webhook receiver on `listener`, answering 200 to everything.
fn receive(listener: TcpListener) -> Arc<Mutex<Vec<Received>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = BTreeMap::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
                }
            }
            let length = headers
                .get("content-length")
                .and_then(|value| value.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let header = |name: &str| headers.get(name).cloned().unwrap_or_default();
            record.lock().unwrap().push(Received {
                key: header("idempotency-key"),
                timestamp: header("x-starling-timestamp"),
                signature: header("x-starling-signature"),
                body,
            });
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    seen
}

#[test]
fn alert_rules_from_the_command_line_reach_a_real_receiver() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen = receive(listener);
    let added = std::process::Command::new(env!("CARGO_BIN_EXE_starling"))
        .args([
            "--data-dir",
            dir,
            "alert",
            "add",
            "desk",
            "--watch",
            "rooftops",
            "--webhook",
            &url,
            "--secret-env",
            "DESK_SECRET",
        ])
        .env("DESK_SECRET", "hunter2")
        .output()
        .unwrap();
    stdout(&added);
    let listed = stdout(&starling(&["--data-dir", dir, "alert", "list"]));
    assert!(
        listed.contains("desk") && listed.contains("each match of rooftops"),
        "{listed}"
    );
    assert!(!listed.contains("hunter2"), "secrets are never shown");
    let listed = stdout(&starling(&["--data-dir", dir, "alert", "list", "--json"]));
    assert!(listed.contains("\"secret\":\"set\"") && !listed.contains("hunter2"));
    let again = starling(&[
        "--data-dir",
        dir,
        "alert",
        "add",
        "desk",
        "--watch",
        "x",
        "--webhook",
        &url,
    ]);
    assert!(!again.status.success());
    let tested = stdout(&starling(&["--data-dir", dir, "alert", "test", "desk"]));
    assert!(tested.contains("delivered"), "{tested}");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].key.starts_with("test-"));
    assert!(seen[0].signature.starts_with("sha256=") && seen[0].signature.len() == 71);
    let body: serde_json::Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(body["rule"], "desk");
    let bad = starling(&[
        "--data-dir",
        dir,
        "alert",
        "add",
        "x",
        "--watch",
        "w",
        "--webhook",
        "ftp://nowhere",
    ]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("http:// or https://"));
    stdout(&starling(&["--data-dir", dir, "alert", "rm", "desk"]));
    assert!(!stdout(&starling(&["--data-dir", dir, "alert", "list"])).contains("desk "));
}

fn status(address: &str) -> serde_json::Value {
    let (code, body) = http(address, "GET", "/api/status", b"");
    assert_eq!(code, 200);
    serde_json::from_slice(&body).unwrap()
}

#[test]
fn alerts_pending_at_a_crash_are_all_delivered_once_after_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    // The receiver's port, taken and let go: it refuses connections until the receiver starts.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/hook");
    stdout(&starling(&[
        "--data-dir",
        dir,
        "watch",
        "add",
        "tehran",
        "tehran",
    ]));
    stdout(&starling(&[
        "--data-dir",
        dir,
        "alert",
        "add",
        "each",
        "--watch",
        "tehran",
        "--webhook",
        &url,
        "--secret",
        "k",
        "--throttle",
        "0",
    ]));

    let server = Server::start(&["--data-dir", dir, "serve", "--addr", "127.0.0.1:0"]);
    let mut upload = Vec::new();
    let posts = 20;
    for n in 0..posts {
        let tweet = serde_json::json!({
            "id_str": (1000 + n).to_string(), "text": format!("crowds in tehran, report {n}"),
            "created_at": "Fri Jun 12 12:00:00 +0000 2026",
            "user": {"id_str": "5", "screen_name": "witness"},
        });
        upload.extend(serde_json::to_vec(&tweet).unwrap());
        upload.push(b'\n');
    }
    let (code, body) = http(&server.address, "POST", "/api/import", &upload);
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
    // Every match made an alert, written down, and none could be sent.
    let deadline = Instant::now() + Duration::from_secs(30);
    while status(&server.address)["alerts"]["pending"].as_u64() != Some(posts) {
        assert!(Instant::now() < deadline, "{}", status(&server.address));
        std::thread::sleep(Duration::from_millis(100));
    }
    server.crash();

    let seen = receive(TcpListener::bind(("127.0.0.1", port)).unwrap());
    let server = Server::start(&["--data-dir", dir, "serve", "--addr", "127.0.0.1:0"]);
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let now = status(&server.address);
        if now["alerts"]["delivered"].as_u64() == Some(posts) {
            assert_eq!(now["alerts"]["pending"].as_u64(), Some(0));
            break;
        }
        assert!(Instant::now() < deadline, "not all delivered: {now}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let seen = seen.lock().unwrap().clone();
    let keys: std::collections::BTreeSet<&str> = seen.iter().map(|got| got.key.as_str()).collect();
    assert_eq!(keys.len() as u64, posts, "one alert per match");
    assert_eq!(seen.len() as u64, posts, "none twice");
    let mut texts = std::collections::BTreeSet::new();
    for got in &seen {
        let body: serde_json::Value = serde_json::from_slice(&got.body).unwrap();
        assert_eq!(body["id"], got.key.as_str());
        assert!(
            body["reason"]
                .as_str()
                .unwrap()
                .contains("matched the watch tehran")
        );
        texts.insert(body["samples"][0]["text"].as_str().unwrap().to_owned());
        assert!(got.signature.starts_with("sha256=") && !got.timestamp.is_empty());
    }
    assert_eq!(texts.len() as u64, posts, "each alert names its own post");
    server.interrupt();
}

/// An SMTP server on loopback (aiosmtpd, from PyPI) storing what it receives in `maildir`.
struct Smtp {
    child: std::process::Child,
    port: u16,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn smtp(maildir: &std::path::Path) -> Option<Smtp> {
    smtp_with(maildir, &[])
}

/// [`smtp`] with more aiosmtpd flags (`--tlscert`, `--tlskey`: STARTTLS offered).
fn smtp_with(maildir: &std::path::Path, flags: &[&str]) -> Option<Smtp> {
    let present = std::process::Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .output()
        .is_ok_and(|output| output.status.success());
    if !starling_testkit::tool("aiosmtpd (pip install aiosmtpd)", present) {
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new("python3")
        .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
        .args(flags)
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(maildir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "aiosmtpd did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(Smtp { child, port })
}

/// The messages in a maildir's `new/`.
fn mail(maildir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(maildir.join("new"))
        .map(|entries| {
            entries
                .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn alerts_by_email_reach_a_real_smtp_server() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let maildir = data.path().join("maildir");
    let Some(server) = smtp(&maildir) else {
        return;
    };
    let url = format!("smtp://127.0.0.1:{}", server.port);
    stdout(&starling(&[
        "--data-dir",
        dir,
        "watch",
        "add",
        "tehran",
        "tehran",
    ]));
    stdout(&starling(&[
        "--data-dir",
        dir,
        "alert",
        "add",
        "desk",
        "--watch",
        "tehran",
        "--email",
        "desk@newsroom.example",
        "--smtp",
        &url,
        "--from",
        "starling@newsroom.example",
        "--digest",
        "0",
    ]));
    let bad = starling(&[
        "--data-dir",
        dir,
        "alert",
        "add",
        "x",
        "--watch",
        "w",
        "--email",
        "not an address",
        "--smtp",
        &url,
    ]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not an email address"));
    assert!(stdout(&starling(&["--data-dir", dir, "alert", "test", "desk"])).contains("delivered"));

    let running = Server::start(&["--data-dir", dir, "serve", "--addr", "127.0.0.1:0"]);
    let tweet = serde_json::json!({
        "id_str": "77", "text": "crowds in tehran <script>alert(1)</script>",
        "created_at": "Fri Jun 12 12:00:00 +0000 2026", "user": {"id_str": "5", "screen_name": "witness"},
    });
    let (code, _) = http(
        &running.address,
        "POST",
        "/api/import",
        tweet.to_string().as_bytes(),
    );
    assert_eq!(code, 200);
    let deadline = Instant::now() + Duration::from_secs(30);
    while mail(&maildir).len() < 2 {
        assert!(Instant::now() < deadline, "{:?}", mail(&maildir));
        std::thread::sleep(Duration::from_millis(100));
    }
    running.interrupt();
    let messages = mail(&maildir);
    assert_eq!(messages.len(), 2);
    let test = messages
        .iter()
        .find(|text| text.contains("Test alert"))
        .unwrap();
    assert!(
        test.contains("To: desk@newsroom.example")
            && test.contains("From: starling@newsroom.example")
    );
    let matched = messages
        .iter()
        .find(|text| text.contains("New match"))
        .unwrap();
    assert!(
        matched.contains("Subject: [Starling] New match for watch tehran"),
        "{matched}"
    );
    assert!(matched.contains("matched the watch tehran"));
    assert!(
        matched.contains("witness (twitter): crowds in tehran"),
        "{matched}"
    );
    assert!(matched.contains("Message-ID: <"), "{matched}");
}

#[test]
fn mail_is_never_sent_in_clear_to_a_server_offering_starttls_we_cannot_trust() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let (key, certificate) = (data.path().join("key.pem"), data.path().join("cert.pem"));
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&certificate)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let maildir = data.path().join("maildir");
    let Some(server) = smtp_with(
        &maildir,
        &[
            "--tlscert",
            certificate.to_str().unwrap(),
            "--tlskey",
            key.to_str().unwrap(),
        ],
    ) else {
        return;
    };
    let url = format!("smtp://127.0.0.1:{}", server.port);
    stdout(&starling(&[
        "--data-dir",
        dir,
        "alert",
        "add",
        "desk",
        "--watch",
        "w",
        "--email",
        "desk@newsroom.example",
        "--smtp",
        &url,
    ]));
    // The server offers STARTTLS with a certificate no authority vouches for: the mail is
    // not sent, neither encrypted to an unknown party nor in clear.
    let tested = starling(&["--data-dir", dir, "alert", "test", "desk"]);
    assert!(!tested.status.success());
    let error = String::from_utf8_lossy(&tested.stderr).to_lowercase();
    assert!(error.contains("not delivered"), "{error}");
    assert!(mail(&maildir).is_empty());
}
