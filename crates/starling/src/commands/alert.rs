//! `starling alert`: rules that send watch matches and detections to people.

use std::io::Write;

use starling_alerts::{Alerts, Channel, Format, QuietHours, Rule, Trigger};

use super::Context;
use crate::terminal::safe;

/// Flags of `starling alert`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: AlertCommand,
}

#[derive(Debug, clap::Subcommand)]
enum AlertCommand {
    /// Add a rule: on each new match of a watch (throttled), on a watch's volume, or on
    /// detections; sent to a webhook as Starling's signed JSON, Slack or Matrix.
    Add(Box<AddArgs>),
    /// List the rules (secrets hidden) and what the outbox holds.
    List {
        /// One JSON object per rule, then the outbox's counts.
        #[arg(long)]
        json: bool,
    },
    /// Remove a rule (alerts it already made are still delivered).
    Rm {
        /// Its name.
        name: String,
    },
    /// Send a test alert through a rule's channel now, and say what the receiver did.
    Test {
        /// Its name.
        name: String,
    },
}

#[derive(Debug, clap::Args)]
struct AddArgs {
    /// The rule's name.
    name: String,
    /// Alert on each new match of this watch (throttled by --throttle).
    #[arg(long, value_name = "WATCH", conflicts_with = "detection")]
    watch: Option<String>,
    /// With --watch: alert only when this many matches arrive within --window seconds.
    #[arg(long, value_name = "N", requires = "watch")]
    volume: Option<u64>,
    /// The window for --volume, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    window: u64,
    /// Alert on detections of these kinds (comma-separated: burst, story, campaign,
    /// silence; `all` for every kind).
    #[arg(long, value_name = "KINDS", value_delimiter = ',')]
    detection: Vec<String>,
    /// With --detection: only those whose key contains this (`#tehran`, `country:IR`).
    #[arg(long, value_name = "TEXT")]
    key_contains: Option<String>,
    /// With --detection: only those inside this watch (some of their posts match it).
    #[arg(long, value_name = "WATCH")]
    in_watch: Option<String>,
    /// Where to send: an http:// or https:// URL.
    #[arg(long, value_name = "URL", required_unless_present = "email")]
    webhook: Option<String>,
    /// The payload for --webhook: json (Starling's, signed with --secret), slack, or matrix
    /// (the room's send endpoint; --secret is the access token).
    #[arg(long, default_value = "json", value_parser = ["json", "slack", "matrix"])]
    format: String,
    /// Send by email to this address instead (repeat for more), through --smtp.
    #[arg(long, value_name = "ADDRESS", conflicts_with = "webhook")]
    email: Vec<String>,
    /// The SMTP server: smtp://HOST:PORT (STARTTLS whenever offered) or smtps://HOST:PORT;
    /// --secret is user:password when it asks for one.
    #[arg(long, value_name = "URL", default_value = "smtp://localhost:25")]
    smtp: String,
    /// The sender's address [default: starling@ the SMTP host].
    #[arg(long, value_name = "ADDRESS")]
    from: Option<String>,
    /// Send a digest at most every this many minutes (the same as --throttle in minutes).
    #[arg(long, value_name = "MINUTES", conflicts_with = "throttle")]
    digest: Option<u64>,
    /// The HMAC key (json) or access token (matrix). Prefer --secret-env: a command line
    /// can be seen by other users of the machine.
    #[arg(long, value_name = "SECRET", conflicts_with = "secret_env")]
    secret: Option<String>,
    /// Read the secret from this environment variable.
    #[arg(long, value_name = "VAR")]
    secret_env: Option<String>,
    /// At most one alert per this many seconds; what comes between is gathered.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    throttle: u64,
    /// Hold alerts in these hours (UTC), then send one digest: FROM-UNTIL, like 22-7.
    #[arg(long, value_name = "FROM-UNTIL", value_parser = parse_quiet)]
    quiet_hours: Option<QuietHours>,
}

fn parse_quiet(text: &str) -> Result<QuietHours, String> {
    let (from, until) = text
        .split_once('-')
        .ok_or_else(|| format!("quiet hours are FROM-UNTIL, like 22-7, not {text:?}"))?;
    let hour = |part: &str| {
        part.trim()
            .parse::<u32>()
            .ok()
            .filter(|hour| *hour < 24)
            .ok_or_else(|| format!("{part:?} is not an hour from 0 to 23"))
    };
    Ok(QuietHours {
        from: hour(from)?,
        until: hour(until)?,
    })
}

fn open(context: &Context) -> anyhow::Result<Alerts> {
    Alerts::open(&context.data_dir, context.config.alerts.clone()).map_err(|error| {
        anyhow::anyhow!(
            "{error} (while `starling serve` runs on this data folder it holds the outbox: use its API, /api/alerts)"
        )
    })
}

pub fn run(context: &Context, args: Args, stdout: &mut dyn Write) -> anyhow::Result<()> {
    match args.command {
        AlertCommand::Add(add) => {
            let on = match (&add.watch, add.volume) {
                (Some(watch), None) => Trigger::Match {
                    watch: watch.clone(),
                },
                (Some(watch), Some(count)) => Trigger::Volume {
                    watch: watch.clone(),
                    count,
                    window_secs: add.window,
                },
                (None, _) if !add.detection.is_empty() => Trigger::Detection {
                    kinds: add
                        .detection
                        .iter()
                        .filter(|kind| kind.as_str() != "all")
                        .cloned()
                        .collect(),
                    key_contains: add.key_contains.clone(),
                    watch: add.in_watch.clone(),
                },
                (None, _) => anyhow::bail!("say when it fires: --watch WATCH or --detection KINDS"),
            };
            let secret = match (&add.secret, &add.secret_env) {
                (Some(secret), _) => Some(secret.clone()),
                (None, Some(name)) => Some(std::env::var(name).map_err(|_| {
                    anyhow::anyhow!("--secret-env {name}: that environment variable is not set")
                })?),
                (None, None) => None,
            };
            let format = match add.format.as_str() {
                _ if !add.email.is_empty() => Format::Email,
                "slack" => Format::Slack,
                "matrix" => Format::Matrix,
                _ => Format::Json,
            };
            let url = match &add.webhook {
                Some(url) => url.clone(),
                None => add.smtp.clone(),
            };
            let rule = Rule {
                name: add.name.clone(),
                on,
                channel: Channel {
                    format,
                    url,
                    secret,
                    to: add.email.clone(),
                    from: add.from.clone(),
                },
                throttle_secs: match add.digest {
                    None => add.throttle,
                    Some(minutes) => minutes
                        .checked_mul(60)
                        .ok_or_else(|| anyhow::anyhow!("--digest {minutes} minutes is too long"))?,
                },
                quiet_hours: add.quiet_hours,
            };
            open(context)?.add_rule(rule)?;
            writeln!(stdout, "alert rule {:?} added", safe(&add.name))?;
        }
        AlertCommand::List { json } => {
            let alerts = open(context)?;
            for (rule, configured) in alerts.rules() {
                if json {
                    let mut value = serde_json::to_value(&rule)?;
                    value["defined_in"] =
                        serde_json::json!(if configured { "config" } else { "archive" });
                    crate::terminal::json_line(stdout, &value)?;
                    continue;
                }
                let on = match &rule.on {
                    Trigger::Match { watch } => format!("each match of {watch}"),
                    Trigger::Volume {
                        watch,
                        count,
                        window_secs,
                    } => format!("{count} matches of {watch} in {window_secs} s"),
                    Trigger::Detection {
                        kinds,
                        key_contains,
                        watch,
                    } => format!(
                        "detections: {}{}{}",
                        if kinds.is_empty() {
                            "all".to_owned()
                        } else {
                            kinds.join(",")
                        },
                        key_contains
                            .as_ref()
                            .map(|part| format!(" with {part:?}"))
                            .unwrap_or_default(),
                        watch
                            .as_ref()
                            .map(|watch| format!(" in {watch}"))
                            .unwrap_or_default()
                    ),
                };
                writeln!(
                    stdout,
                    "{:<20} {:<40} {} {} (every {} s at most){}",
                    safe(&rule.name),
                    safe(&on),
                    rule.channel.format.as_str(),
                    safe(&rule.channel.url),
                    rule.throttle_secs,
                    if configured { " [config]" } else { "" }
                )?;
            }
            let counts = alerts.counts()?;
            if json {
                crate::terminal::json_line(stdout, &serde_json::json!({"outbox": counts}))?;
            } else {
                writeln!(
                    stdout,
                    "outbox: {} pending, {} delivered, {} refused",
                    counts.pending, counts.delivered, counts.failed
                )?;
            }
        }
        AlertCommand::Rm { name } => {
            open(context)?.remove_rule(&name)?;
            writeln!(stdout, "alert rule {:?} removed", safe(&name))?;
        }
        AlertCommand::Test { name } => match open(context)?.test(&name)? {
            starling_alerts::deliver::Attempt::Delivered => {
                writeln!(stdout, "delivered: the receiver took the test alert")?;
            }
            starling_alerts::deliver::Attempt::Retry { error, .. }
            | starling_alerts::deliver::Attempt::Refused { error } => {
                anyhow::bail!("not delivered: {error}");
            }
        },
    }
    Ok(())
}
