//! What an alert rule is: when it fires, where it goes, how often at most, and when to keep
//! quiet.

use serde::{Deserialize, Serialize};

/// One alert rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Its name, unique.
    pub name: String,
    /// When it fires.
    pub on: Trigger,
    /// Where its alerts go.
    pub channel: Channel,
    /// At most one alert per this many seconds; what comes in between is gathered into the
    /// next one ("and 14 more").
    #[serde(default = "default_throttle")]
    pub throttle_secs: u64,
    /// Hours (UTC) in which alerts are held, then sent as one digest when they end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<QuietHours>,
}

fn default_throttle() -> u64 {
    60
}

/// When a rule fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// Each new match of a watch (throttled).
    Match {
        /// The watch.
        watch: String,
    },
    /// A watch's matches reaching `count` within `window_secs`.
    Volume {
        /// The watch.
        watch: String,
        /// How many matches.
        count: u64,
        /// Within how many seconds (of arrival).
        window_secs: u64,
    },
    /// Something the detectors noticed: a burst, story, campaign or silence, optionally
    /// only those whose key contains some text (`#tehran`, `country:IR`).
    Detection {
        /// Which kinds (`burst`, `story`, `campaign`, `silence`); empty: all.
        #[serde(default)]
        kinds: Vec<String>,
        /// Only detections whose key contains this (case-insensitive).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key_contains: Option<String>,
        /// Only detections inside this watch: some of the posts they are about match it (a
        /// burst of `#tehran` among the posts a watch follows).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        watch: Option<String>,
    },
}

/// Where alerts go.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    /// The payload's shape.
    #[serde(default)]
    pub format: Format,
    /// The URL posted to (for Matrix: the room's send endpoint,
    /// `https://HOST/_matrix/client/v3/rooms/ROOM/send/m.room.message`, to which the alert's
    /// id is added as the transaction id).
    pub url: String,
    /// For `json`: the HMAC-SHA256 key the body is signed with; for `matrix`: the access
    /// token; for `email`: `user:password` for the SMTP server, when it asks. Never shown by
    /// `alert list` or the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// For `email`: the recipients.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    /// For `email`: the sender [default: starling@ the SMTP server's host].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

impl std::fmt::Debug for Channel {
    /// Without the secret (or a Slack webhook's secret path).
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = Rule {
            name: String::new(),
            on: Trigger::Detection {
                kinds: Vec::new(),
                key_contains: None,
                watch: None,
            },
            channel: self.clone(),
            throttle_secs: 0,
            quiet_hours: None,
        }
        .redacted()
        .channel;
        formatter
            .debug_struct("Channel")
            .field("format", &shown.format)
            .field("url", &shown.url)
            .field("secret", &shown.secret)
            .field("to", &shown.to)
            .finish_non_exhaustive()
    }
}

/// A payload shape.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Starling's own JSON, signed with HMAC-SHA256 when a secret is set.
    #[default]
    Json,
    /// A Slack-compatible incoming webhook (`text` with mrkdwn); Mattermost and Rocket.Chat
    /// take it too.
    Slack,
    /// A Matrix `m.room.message`, plain and HTML, sent with PUT and the alert's id as the
    /// transaction id (so Matrix itself drops a repeat).
    Matrix,
    /// An email over SMTP (`smtp://HOST:PORT`, upgraded with STARTTLS whenever the server
    /// offers it; `smtps://` for TLS from the start), plain text, its Message-ID the alert's
    /// id. A long throttle makes it a digest: everything in the window in one email.
    Email,
}

impl Format {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Slack => "slack",
            Format::Matrix => "matrix",
            Format::Email => "email",
        }
    }
}

/// Hours of the day (UTC) from `from` up to `until`, wrapping past midnight when `until` is
/// smaller (22 to 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// The first quiet hour, 0 to 23.
    pub from: u32,
    /// The first hour no longer quiet, 0 to 23.
    pub until: u32,
}

impl QuietHours {
    /// Whether `hour` (0 to 23) is quiet.
    pub fn contains(self, hour: u32) -> bool {
        if self.from <= self.until {
            (self.from..self.until).contains(&hour)
        } else {
            hour >= self.from || hour < self.until
        }
    }
}

/// The longest throttle or window a rule may have: a year.
pub const LONGEST_SECS: u64 = 366 * 86_400;

/// Why a rule was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("alert rule {name:?}: {reason}")]
pub struct RuleError {
    /// The rule.
    pub name: String,
    /// Why.
    pub reason: String,
}

impl Rule {
    /// Checks what serde cannot: names, URLs, numbers, kinds.
    pub fn check(&self) -> Result<(), RuleError> {
        let fail = |reason: String| {
            Err(RuleError {
                name: self.name.clone(),
                reason,
            })
        };
        let length = self.name.chars().count();
        if length == 0 || length > 200 || self.name.chars().any(char::is_control) {
            return fail("names are 1 to 200 characters, without control characters".into());
        }
        let url = self.channel.url.as_str();
        if self.channel.format == Format::Email {
            if crate::deliver::smtp_address(url).is_none() {
                return fail(format!(
                    "an email channel's URL is smtp://HOST:PORT or smtps://HOST:PORT, not {url:?}"
                ));
            }
            if self.channel.to.is_empty() {
                return fail("an email channel needs recipients (to)".into());
            }
            for address in self.channel.to.iter().chain(&self.channel.from) {
                if address.parse::<lettre::Address>().is_err() {
                    return fail(format!("{address:?} is not an email address"));
                }
            }
        } else {
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            match rest {
                Some(rest) if !rest.is_empty() && !rest.starts_with('/') => {}
                _ => {
                    return fail(format!(
                        "the channel URL is http:// or https://, not {url:?}"
                    ));
                }
            }
        }
        if self.channel.format == Format::Matrix && self.channel.secret.is_none() {
            return fail("a Matrix channel needs its access token as the secret".into());
        }
        match &self.on {
            Trigger::Match { watch } | Trigger::Volume { watch, .. } if watch.is_empty() => {
                return fail("name the watch".into());
            }
            Trigger::Volume {
                count, window_secs, ..
            } if *count == 0 || *window_secs == 0 => {
                return fail("a volume needs a count and a window above 0".into());
            }
            Trigger::Detection { kinds, .. } => {
                if let Some(kind) = kinds.iter().find(|kind| {
                    !["burst", "story", "campaign", "silence"].contains(&kind.as_str())
                }) {
                    return fail(format!(
                        "detections are burst, story, campaign or silence, not {kind:?}"
                    ));
                }
            }
            _ => {}
        }
        let window = match &self.on {
            Trigger::Volume { window_secs, .. } => *window_secs,
            _ => 0,
        };
        if self.throttle_secs > LONGEST_SECS || window > LONGEST_SECS {
            return fail(format!(
                "throttles and windows are at most {LONGEST_SECS} seconds (a year)"
            ));
        }
        if let Some(quiet) = self.quiet_hours
            && (quiet.from > 23 || quiet.until > 23 || quiet.from == quiet.until)
        {
            return fail("quiet hours are two different hours from 0 to 23".into());
        }
        Ok(())
    }

    /// The rule as shown: its secret replaced by `"set"`, and a Slack webhook's path (which
    /// is its secret) by `…`.
    pub fn redacted(&self) -> Rule {
        let mut shown = self.clone();
        if shown.channel.secret.is_some() {
            shown.channel.secret = Some("set".into());
        }
        if shown.channel.format == Format::Slack
            && let Some(scheme_end) = shown.channel.url.find("://")
            && let Some(path) = shown.channel.url[scheme_end + 3..].find('/')
        {
            shown.channel.url.truncate(scheme_end + 3 + path);
            shown.channel.url.push_str("/…");
        }
        shown
    }
}
