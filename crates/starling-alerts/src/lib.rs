//! Alerts that reach people. [`rules`] says when a rule fires and where it sends; the
//! [`engine`] turns matches and detections into alerts that say why, throttled, without
//! repeats, held through quiet hours; the [`outbox`] writes each alert to disk before it is
//! sent; [`deliver`] sends it (Starling's signed JSON, Slack, Matrix; [`message`]) and retries
//! with backoff until the receiver takes it. [`Alerts`] is all of it together, as a server
//! runs it.
//!
//! Delivery is at least once, and each alert carries an id (the `Idempotency-Key` header, the
//! Matrix transaction id) that stays the same on every attempt, so that a receiver that
//! drops repeated ids sees each alert exactly once, crashes and restarts included.
//!
//! A rule's channel is a webhook (Starling's signed JSON, Slack or Matrix) or email over
//! SMTP (STARTTLS whenever offered); a long throttle makes an email rule a digest.

pub mod deliver;
pub mod engine;
pub mod message;
pub mod outbox;
pub mod rules;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

pub use engine::{Alert, Engine, Noticed, Sample};
pub use outbox::{Outbox, OutboxCounts, OutboxError, Queued};
pub use rules::{Channel, Format, QuietHours, Rule, RuleError, Trigger};

/// Why alerts could not be set up or changed.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    /// The outbox failed.
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// A rule is not valid.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// The rule is the configuration file's.
    #[error("the alert rule {0:?} is defined in the configuration file: change it there")]
    Configured(String),
    /// No such rule.
    #[error("no alert rule called {0:?}")]
    Unknown(String),
}

/// Alerts as a server runs them: rules, the engine, the outbox and a delivery loop.
#[derive(Debug)]
pub struct Alerts {
    outbox: Outbox,
    engine: Mutex<Engine>,
    configured: Vec<String>,
    wake: (Mutex<bool>, Condvar),
    stop: AtomicBool,
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

impl Alerts {
    /// Opens the outbox in `data_dir` with its saved rules and `configured` ones (the
    /// configuration file's, which win on a shared name).
    pub fn open(data_dir: &Path, configured: Vec<Rule>) -> Result<Alerts, AlertError> {
        let outbox = Outbox::open(data_dir)?;
        let mut rules: Vec<Rule> = outbox
            .rules()?
            .into_iter()
            .filter(|rule| !configured.iter().any(|own| own.name == rule.name))
            .collect();
        for rule in &configured {
            rule.check()?;
        }
        let names = configured.iter().map(|rule| rule.name.clone()).collect();
        rules.extend(configured);
        let instance = now().timestamp_nanos_opt().unwrap_or_default() as u64;
        Ok(Alerts {
            outbox,
            engine: Mutex::new(Engine::new(rules, instance)),
            configured: names,
            wake: (Mutex::new(false), Condvar::new()),
            stop: AtomicBool::new(false),
        })
    }

    fn engine(&self) -> std::sync::MutexGuard<'_, Engine> {
        self.engine.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The rules, secrets hidden, and whether each is the configuration file's.
    pub fn rules(&self) -> Vec<(Rule, bool)> {
        self.engine()
            .rules()
            .map(|rule| (rule.redacted(), self.configured.contains(&rule.name)))
            .collect()
    }

    /// Saves and applies `rule` (replacing one of its name); whether it replaced one.
    pub fn put_rule(&self, rule: Rule) -> Result<bool, AlertError> {
        rule.check()?;
        if self.configured.contains(&rule.name) {
            return Err(AlertError::Configured(rule.name));
        }
        let replaced = self.outbox.put_rule(&rule)?;
        self.engine().put(rule);
        Ok(replaced)
    }

    /// Removes the rule called `name`.
    pub fn remove_rule(&self, name: &str) -> Result<(), AlertError> {
        if self.configured.iter().any(|own| own == name) {
            return Err(AlertError::Configured(name.to_owned()));
        }
        if !self.outbox.remove_rule(name)? {
            return Err(AlertError::Unknown(name.to_owned()));
        }
        self.engine().remove(name);
        Ok(())
    }

    /// What the outbox holds.
    pub fn counts(&self) -> Result<OutboxCounts, AlertError> {
        Ok(self.outbox.counts()?)
    }

    /// Writes `alerts` to the outbox (with their rules' channels) and wakes the delivery
    /// loop; the alerts written.
    fn enqueue(&self, alerts: Vec<Alert>) -> Result<Vec<Alert>, AlertError> {
        if alerts.is_empty() {
            return Ok(alerts);
        }
        let queued: Vec<Queued> = {
            let engine = self.engine();
            alerts
                .iter()
                .filter_map(|alert| {
                    let rule = engine.rules().find(|rule| rule.name == alert.rule)?;
                    Some(Queued {
                        alert: alert.clone(),
                        channel: rule.channel.clone(),
                        attempts: 0,
                        next_at_ms: 0,
                        last_error: None,
                    })
                })
                .collect()
        };
        self.outbox.enqueue(&queued)?;
        *self.wake.0.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.wake.1.notify_one();
        Ok(alerts)
    }

    /// A new match of `watch`; the alerts it made, written to the outbox.
    pub fn on_match(&self, watch: &str, sample: &Sample) -> Result<Vec<Alert>, AlertError> {
        let due = self.engine().on_match(watch, sample, now());
        self.enqueue(due)
    }

    /// Something the detectors noticed; the alerts it made, written to the outbox.
    pub fn on_detection(&self, noticed: &Noticed) -> Result<Vec<Alert>, AlertError> {
        let due = self.engine().on_detection(noticed, now());
        self.enqueue(due)
    }

    /// Sends a test alert through the rule called `name` now, outside the outbox.
    pub fn test(&self, name: &str) -> Result<deliver::Attempt, AlertError> {
        let channel = self
            .engine()
            .rules()
            .find(|rule| rule.name == name)
            .map(|rule| rule.channel.clone())
            .ok_or_else(|| AlertError::Unknown(name.to_owned()))?;
        Ok(test_channel(name, &channel))
    }

    /// Delivers until [`Alerts::stop`]: every second (or when woken) the engine's due alerts
    /// are written out, then every pending alert due is sent; on failure it is written back
    /// with its next attempt's time.
    pub fn run(&self) {
        let agent = deliver::agent();
        while !self.stop.load(Ordering::Relaxed) {
            let due = self.engine().tick(now());
            let _ = self.enqueue(due);
            let _ = self.deliver_due(&agent);
            let (lock, condvar) = &self.wake;
            let mut woken = lock.lock().unwrap_or_else(PoisonError::into_inner);
            if !*woken {
                woken = condvar
                    .wait_timeout(woken, Duration::from_millis(250))
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            *woken = false;
        }
    }

    /// Sends every pending alert that is due; how many were delivered.
    pub fn deliver_due(&self, agent: &ureq::Agent) -> Result<usize, AlertError> {
        let mut delivered = 0;
        let now_ms = now().timestamp_millis();
        for mut queued in self.outbox.due(now_ms, 100)? {
            if self.stop.load(Ordering::Relaxed) {
                break;
            }
            let attempt = if queued.channel.format == Format::Email {
                deliver::send_email(&queued.channel, &queued.alert)
            } else {
                let request = message::render(
                    &queued.alert,
                    queued.channel.format,
                    &queued.channel.url,
                    queued.channel.secret.as_deref(),
                    now().timestamp(),
                );
                deliver::send(agent, &request)
            };
            match attempt {
                deliver::Attempt::Delivered => {
                    self.outbox
                        .delivered(&queued.alert.id, now().timestamp_millis())?;
                    delivered += 1;
                }
                deliver::Attempt::Retry { error, after } => {
                    queued.attempts += 1;
                    let seed = queued.alert.id.bytes().map(u64::from).sum::<u64>();
                    let wait = after.unwrap_or_else(|| deliver::backoff(queued.attempts, seed));
                    queued.next_at_ms = now().timestamp_millis() + wait.as_millis() as i64;
                    queued.last_error = Some(error);
                    self.outbox.retry(&queued)?;
                }
                deliver::Attempt::Refused { error } => {
                    queued.attempts += 1;
                    queued.last_error = Some(error);
                    self.outbox.failed(&queued)?;
                }
            }
        }
        Ok(delivered)
    }

    /// Ends [`Alerts::run`] (what is pending stays in the outbox for the next run).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.wake.1.notify_all();
    }
}

/// Sends a test alert to `channel` now.
pub fn test_channel(rule: &str, channel: &Channel) -> deliver::Attempt {
    let at = now();
    let alert = Alert {
        id: format!("test-{}", at.timestamp_nanos_opt().unwrap_or_default()),
        rule: rule.to_owned(),
        created_at: at,
        title: format!("Test alert from Starling's rule {rule}"),
        reason: "Sent by `starling alert test` to check the channel.".into(),
        count: 0,
        score: None,
        samples: Vec::new(),
        sample_keys: Vec::new(),
    };
    if channel.format == Format::Email {
        return deliver::send_email(channel, &alert);
    }
    let request = message::render(
        &alert,
        channel.format,
        &channel.url,
        channel.secret.as_deref(),
        at.timestamp(),
    );
    deliver::send(&deliver::agent(), &request)
}

#[cfg(test)]
mod tests;
