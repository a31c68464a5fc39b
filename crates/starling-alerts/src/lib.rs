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
    /// A rule of that name exists.
    #[error("an alert rule called {0:?} exists; remove it first")]
    Exists(String),
}

/// Alerts as a server runs them: rules, the engine, the outbox and a delivery loop.
#[derive(Debug)]
pub struct Alerts {
    outbox: Outbox,
    engine: Mutex<Engine>,
    configured: Vec<String>,
    /// Alerts made but not yet written to the outbox (it failed): written next round.
    unsent: Mutex<Vec<Queued>>,
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
        for rule in rules.iter().chain(&configured) {
            rule.check()?;
        }
        let names = configured.iter().map(|rule| rule.name.clone()).collect();
        rules.extend(configured);
        let instance = now().timestamp_nanos_opt().unwrap_or_default() as u64;
        Ok(Alerts {
            outbox,
            engine: Mutex::new(Engine::new(rules, instance)),
            configured: names,
            unsent: Mutex::new(Vec::new()),
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
        self.save_rule(rule, false)
    }

    /// Saves and applies a new `rule`: refused when one of its name exists (checked and
    /// saved under one lock, so two at once cannot both succeed).
    pub fn add_rule(&self, rule: Rule) -> Result<(), AlertError> {
        self.save_rule(rule, true).map(|_| ())
    }

    fn save_rule(&self, rule: Rule, new: bool) -> Result<bool, AlertError> {
        rule.check()?;
        if self.configured.contains(&rule.name) {
            return Err(AlertError::Configured(rule.name));
        }
        let mut engine = self.engine();
        if new && engine.rules().any(|known| known.name == rule.name) {
            return Err(AlertError::Exists(rule.name));
        }
        let replaced = self.outbox.put_rule(&rule)?;
        engine.put(rule);
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

    /// Pairs `alerts` with their rules' channels, under the same lock that made them (a
    /// rule removed or replaced an instant later cannot drop or misroute them).
    fn queued(engine: &Engine, alerts: Vec<Alert>) -> Vec<Queued> {
        alerts
            .into_iter()
            .filter_map(|alert| {
                let channel = engine
                    .rules()
                    .find(|rule| rule.name == alert.rule)?
                    .channel
                    .clone();
                Some(Queued {
                    alert,
                    channel,
                    attempts: 0,
                    next_at_ms: 0,
                    last_error: None,
                })
            })
            .collect()
    }

    /// Writes `queued` to the outbox and wakes the delivery loop; the alerts written. When
    /// the outbox cannot be written they are kept in memory and written by the delivery
    /// loop's next round (and the error returned).
    fn enqueue(&self, queued: Vec<Queued>) -> Result<Vec<Alert>, AlertError> {
        if queued.is_empty() {
            return Ok(Vec::new());
        }
        if let Err(error) = self.outbox.enqueue(&queued) {
            self.unsent
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend(queued);
            return Err(error.into());
        }
        *self.wake.0.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.wake.1.notify_one();
        Ok(queued.into_iter().map(|queued| queued.alert).collect())
    }

    /// A new match of `watch`; the alerts it made, written to the outbox.
    pub fn on_match(&self, watch: &str, sample: &Sample) -> Result<Vec<Alert>, AlertError> {
        let queued = {
            let mut engine = self.engine();
            let due = engine.on_match(watch, sample, now());
            Alerts::queued(&engine, due)
        };
        self.enqueue(queued)
    }

    /// Something the detectors noticed; the alerts it made, written to the outbox.
    pub fn on_detection(&self, noticed: &Noticed) -> Result<Vec<Alert>, AlertError> {
        let queued = {
            let mut engine = self.engine();
            let due = engine.on_detection(noticed, now());
            Alerts::queued(&engine, due)
        };
        self.enqueue(queued)
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
            let mut queued =
                std::mem::take(&mut *self.unsent.lock().unwrap_or_else(PoisonError::into_inner));
            {
                let mut engine = self.engine();
                let due = engine.tick(now());
                queued.extend(Alerts::queued(&engine, due));
            }
            let _ = self.enqueue(queued);
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

    /// Sends every pending alert that is due; how many were delivered. A receiver that
    /// fails is not tried again in the same round, so that one dead endpoint (10 s per
    /// timeout) cannot hold up every other channel.
    pub fn deliver_due(&self, agent: &ureq::Agent) -> Result<usize, AlertError> {
        let mut delivered = 0;
        let now_ms = now().timestamp_millis();
        let mut failing: std::collections::HashSet<String> = std::collections::HashSet::new();
        for mut queued in self.outbox.due(now_ms, 100)? {
            if self.stop.load(Ordering::Relaxed) {
                break;
            }
            if failing.contains(&queued.channel.url) {
                continue;
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
                    failing.insert(queued.channel.url.clone());
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
