//! The configuration file: TOML, every key documented, unknown keys rejected with their line
//! and column so a typo never passes silently.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Deserialize;

/// Everything the configuration file can set. Command-line flags override it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where Starling keeps its data (overridden by `--data-dir`).
    pub data_dir: Option<PathBuf>,
    /// Defaults for `starling simulate`.
    #[serde(default)]
    pub simulate: ScenarioDefaults,
    /// Defaults for `starling demo`.
    #[serde(default)]
    pub demo: ScenarioDefaults,
    /// Watches (`[[watches]]` with `name`, `query`, and optionally `owner`, `tags`, `active`),
    /// matched beside those saved with `starling watch add`; a name here wins.
    #[serde(default)]
    pub watches: Vec<starling_watch::WatchDef>,
    /// Alert rules (`[[alerts]]` with `name`, `on`, `channel`, and optionally
    /// `throttle_secs`, `quiet_hours`), beside those saved with `starling alert add`; a name
    /// here wins.
    #[serde(default)]
    pub alerts: Vec<starling_alerts::Rule>,
    /// Live sources (`[[sources]]` with `kind` and `urls`, and the kind's settings), started
    /// by `starling serve`.
    #[serde(default)]
    pub sources: Vec<starling_sources::SourceConfig>,
}

/// Scenario settings shared by `simulate` and `demo`; each unset key keeps its default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioDefaults {
    /// The seed: the same seed gives the same scenario, byte for byte.
    pub seed: Option<u64>,
    /// How many posts.
    pub posts: Option<u64>,
    /// How many hours the scenario spans.
    pub hours: Option<u32>,
    /// When it starts: a TOML date-time or an RFC 3339 string, with an offset.
    #[serde(default, deserialize_with = "time")]
    pub start: Option<chrono::DateTime<chrono::Utc>>,
}

/// A time written either as a TOML offset date-time or as an RFC 3339 string.
fn time<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Native(toml::value::Datetime),
        Text(String),
    }
    let text = match Written::deserialize(deserializer)? {
        Written::Native(time) => time.to_string(),
        Written::Text(text) => text,
    };
    chrono::DateTime::parse_from_rfc3339(&text)
        .map(|time| Some(time.with_timezone(&chrono::Utc)))
        .map_err(|error| serde::de::Error::custom(format!("expected an RFC 3339 time with an offset, like 2026-06-12T00:00:00Z, not {text:?} ({error})")))
}

impl Config {
    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the configuration file {}", path.display()))?;
        Config::parse(&text)
            .with_context(|| format!("in the configuration file {}", path.display()))
    }

    /// Parses configuration text; errors say the line and column.
    pub fn parse(text: &str) -> anyhow::Result<Config> {
        toml::from_str(text).map_err(|error| {
            let message = error.message().to_owned();
            match error.span() {
                Some(span) => {
                    let (line, column) = line_and_column(text, span.start);
                    anyhow::anyhow!("line {line}, column {column}: {message}")
                }
                None => anyhow::anyhow!("{message}"),
            }
        })
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_key() {
        let config = Config::parse(
            "data_dir = \"/tmp/s\"\n[simulate]\nseed = 7\nposts = 5000\nhours = 48\nstart = 2026-01-01T00:00:00Z\n[demo]\nposts = 2000\n",
        )
        .unwrap();
        assert_eq!(config.data_dir, Some(PathBuf::from("/tmp/s")));
        assert_eq!(config.simulate.seed, Some(7));
        assert_eq!(config.simulate.hours, Some(48));
        assert_eq!(
            config.simulate.start.unwrap().to_rfc3339(),
            "2026-01-01T00:00:00+00:00"
        );
        assert_eq!(config.demo.posts, Some(2000));
        assert_eq!(config.demo.seed, None);
        let quoted = Config::parse("[demo]\nstart = \"2026-01-01T03:30:00+03:30\"\n").unwrap();
        assert_eq!(
            quoted.demo.start.unwrap().to_rfc3339(),
            "2026-01-01T00:00:00+00:00"
        );
    }

    #[test]
    fn times_without_an_offset_are_errors() {
        let error = Config::parse("[demo]\nstart = 2026-01-01T00:00:00\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("line 2, column 9: expected an RFC 3339 time with an offset"),
            "{error}"
        );
    }

    #[test]
    fn unknown_keys_are_errors_with_line_and_column() {
        let error = Config::parse("[simulate]\nseed = 1\n  postz = 3\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("line 3, column 3: unknown field `postz`"),
            "{error}"
        );
    }

    #[test]
    fn wrong_types_are_errors_with_line_and_column() {
        let error = Config::parse("[demo]\nposts = \"many\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("line 2, column 9: invalid type"),
            "{error}"
        );
    }
}
