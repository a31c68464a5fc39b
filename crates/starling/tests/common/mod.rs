//! What the binary's tests share: running `starling`, reading what it printed, and a
//! generated scenario imported into a fresh data folder.
#![allow(dead_code, reason = "each test file uses the part it needs")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs the `starling` binary with `args`.
pub fn starling(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_starling"))
        .args(args)
        .output()
        .unwrap()
}

/// What a successful run printed (a failed one fails the test, with its standard error).
pub fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Each line as JSON.
pub fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// A generated scenario written to files, its ground truth moved out of the folder so that an
/// import takes only posts.
pub struct Scenario {
    /// Holds everything; removed when dropped.
    pub temp: tempfile::TempDir,
    /// The scenario's files.
    pub files: PathBuf,
    /// A data folder, empty until something imports.
    pub data: PathBuf,
    /// `ground-truth.json`.
    pub truth: serde_json::Value,
}

impl Scenario {
    /// Generates `posts` posts with `seed`.
    pub fn generate(posts: u64, seed: u64) -> Scenario {
        let temp = tempfile::tempdir().unwrap();
        let files = temp.path().join("scenario");
        let data = temp.path().join("data");
        stdout(&starling(&[
            "simulate",
            "--posts",
            &posts.to_string(),
            "--seed",
            &seed.to_string(),
            "--out",
            files.to_str().unwrap(),
        ]));
        let truth_path = files.join("ground-truth.json");
        let truth = serde_json::from_slice(&std::fs::read(&truth_path).unwrap()).unwrap();
        std::fs::remove_file(&truth_path).unwrap();
        Scenario {
            temp,
            files,
            data,
            truth,
        }
    }

    /// The data folder, as an argument.
    pub fn data_dir(&self) -> &str {
        self.data.to_str().unwrap()
    }

    /// Imports the scenario's files.
    pub fn import(&self) {
        stdout(&starling(&[
            "--data-dir",
            self.data_dir(),
            "import",
            self.files.to_str().unwrap(),
        ]));
    }
}

/// A running `starling` server, killed when dropped.
pub struct Server {
    child: Child,
    /// Where it listens, `HOST:PORT`.
    pub address: String,
}

impl Server {
    /// Starts `starling ARGS` (a `serve` or `demo` listening on port 0) and reads the address
    /// it printed.
    pub fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_starling"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let address = loop {
            let line = lines
                .next()
                .expect("the server says where it listens")
                .unwrap();
            if let Some(rest) = line.split("http://").nth(1) {
                break rest.split('/').next().unwrap().to_owned();
            }
        };
        // Keep draining what it prints, so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Server { child, address }
    }

    /// `http://HOST:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Asks the server to stop as Ctrl-C does, and waits for it.
    pub fn interrupt(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop on Ctrl-C"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request over a fresh connection: the status and the body (chunks joined).
pub fn http(address: &str, method: &str, target: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    write!(
        stream,
        "{method} {target} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let split = answer
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .expect("headers");
    let head = String::from_utf8_lossy(&answer[..split]).to_lowercase();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let mut rest = &answer[split + 4..];
    if !head.contains("transfer-encoding: chunked") {
        return (status, rest.to_vec());
    }
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap().trim(), 16)
                .unwrap();
        rest = &rest[line_end + 2..];
        if size == 0 {
            return (status, body);
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

impl Server {
    /// Kills the server as a crash would (SIGKILL), and waits for it.
    pub fn crash(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}
