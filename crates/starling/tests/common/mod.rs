//! What the binary's tests share: running `starling`, reading what it printed, and a
//! generated scenario imported into a fresh data folder.
#![allow(dead_code, reason = "each test file uses the part it needs")]

use std::path::PathBuf;
use std::process::{Command, Output};

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
