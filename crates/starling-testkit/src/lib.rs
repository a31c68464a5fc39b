//! Test helpers shared by Starling's crates: above all, finding the shared third-party data.
//!
//! Real data written by other people lives outside the repository, in `../shared/data` beside
//! the checkout (or wherever `STARLING_SHARED` points). A test that needs it calls
//! [`shared_data`]: under `CI=true` a missing folder fails the test, because CI always has it;
//! elsewhere the test is skipped with a printed reason.
//!
//! ```no_run
//! let Some(dir) = starling_testkit::shared_data("platforms/twitter-v2-twarc-csv") else {
//!     return; // skipped, and the reason was printed
//! };
//! assert!(dir.is_dir());
//! ```

use std::path::{Path, PathBuf};

/// The environment variable that overrides where the shared folder is.
pub const SHARED_ENV: &str = "STARLING_SHARED";

/// The shared folder: `$STARLING_SHARED`, else `shared` beside the repository root.
pub fn shared_root() -> PathBuf {
    match std::env::var_os(SHARED_ENV) {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => workspace_root().join("..").join("shared"),
    }
}

/// The repository root (the folder holding the workspace `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    // This crate lives at `crates/starling-testkit`.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

/// `data/<relative>` inside the shared folder, when it exists.
///
/// When it does not: panics under `CI=true` (CI must run every test), otherwise prints why the
/// calling test is skipped and returns `None`.
pub fn shared_data(relative: &str) -> Option<PathBuf> {
    resolve(&shared_root(), relative, running_in_ci())
}

/// Whether a tool a test drives (a browser, a server, a checker) is installed: when it is not,
/// panics under `CI=true` (`.ci/run` installs it), otherwise prints why the calling test is
/// skipped. `present` is what the test found; `what` says what is missing and how to get it.
pub fn tool(what: &str, present: bool) -> bool {
    if !present {
        skip(
            &format!("{what} is not installed (.ci/run installs it)"),
            running_in_ci(),
        );
    }
    present
}

fn running_in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value.eq_ignore_ascii_case("true") || value == "1")
}

fn resolve(root: &Path, relative: &str, in_ci: bool) -> Option<PathBuf> {
    let path = root.join("data").join(relative);
    if path.exists() {
        return Some(path);
    }
    skip(
        &format!(
            "shared test data {} is missing (set {SHARED_ENV} to the folder that holds data/)",
            path.display()
        ),
        in_ci,
    );
    None
}

/// Fails under CI, where nothing may be skipped; elsewhere says why the test skips.
fn skip(reason: &str, in_ci: bool) {
    assert!(!in_ci, "{reason}; CI=true, so this test cannot be skipped");
    #[expect(
        clippy::print_stderr,
        reason = "the skip reason must reach whoever runs the tests"
    )]
    {
        eprintln!("skipped: {reason}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_an_existing_folder() {
        let root = std::env::temp_dir().join(format!("starling-testkit-{}", std::process::id()));
        std::fs::create_dir_all(root.join("data/langid")).unwrap();
        assert_eq!(
            resolve(&root, "langid", true),
            Some(root.join("data/langid"))
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn skips_outside_ci_when_missing() {
        assert_eq!(
            resolve(Path::new("/nonexistent-starling"), "langid", false),
            None
        );
    }

    #[test]
    #[should_panic(expected = "CI=true, so this test cannot be skipped")]
    fn fails_in_ci_when_missing() {
        resolve(Path::new("/nonexistent-starling"), "langid", true);
    }
}
