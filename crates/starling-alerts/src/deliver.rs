//! Sending: one request per alert, retried with backoff until its receiver takes it (2xx),
//! or refuses it for good (a 4xx other than 408 and 429).

use std::time::Duration;

use crate::message::Request;

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    /// The receiver took it.
    Delivered,
    /// Try again (after the receiver's Retry-After, when it gave one).
    Retry {
        /// Why.
        error: String,
        /// The receiver's Retry-After.
        after: Option<Duration>,
    },
    /// The receiver refused it for good.
    Refused {
        /// Its answer.
        error: String,
    },
}

/// An HTTP agent for deliveries: 10 s per attempt, statuses as answers (not errors).
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .http_status_as_error(false)
        .user_agent("starling-alerts")
        .build()
        .into()
}

/// Sends `request` once.
pub fn send(agent: &ureq::Agent, request: &Request) -> Attempt {
    let result = if request.method == "PUT" {
        let mut builder = agent.put(&request.url).content_type("application/json");
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        builder.send(&request.body[..])
    } else {
        let mut builder = agent.post(&request.url).content_type("application/json");
        for (name, value) in &request.headers {
            builder = builder.header(*name, value);
        }
        builder.send(&request.body[..])
    };
    match result {
        Ok(response) => {
            let status = response.status().as_u16();
            if (200..300).contains(&status) {
                Attempt::Delivered
            } else if status == 408 || status == 429 || status >= 500 {
                let after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|value| value.to_str().ok())
                    .and_then(|value| value.trim().parse::<u64>().ok())
                    .map(|seconds| Duration::from_secs(seconds.min(3600)));
                Attempt::Retry {
                    error: format!("the receiver answered {status}"),
                    after,
                }
            } else {
                Attempt::Refused {
                    error: format!("the receiver answered {status}"),
                }
            }
        }
        Err(error) => Attempt::Retry {
            error: error.to_string(),
            after: None,
        },
    }
}

/// `smtp://HOST:PORT` or `smtps://HOST:PORT` (port 25 and 465 when left out): the host,
/// the port, and whether TLS starts at once.
pub fn smtp_address(url: &str) -> Option<(String, u16, bool)> {
    let (rest, wrapped) = match url.strip_prefix("smtps://") {
        Some(rest) => (rest, true),
        None => (url.strip_prefix("smtp://")?, false),
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().ok()?),
        None => (rest, if wrapped { 465 } else { 25 }),
    };
    (!host.is_empty() && !host.contains('/')).then(|| (host.to_owned(), port, wrapped))
}

/// Sends `alert` as an email through `channel` once.
pub fn send_email(channel: &crate::Channel, alert: &crate::Alert) -> Attempt {
    use lettre::Transport;
    use lettre::transport::smtp::client::{Tls, TlsParameters};
    let Some((host, port, wrapped)) = smtp_address(&channel.url) else {
        return Attempt::Refused {
            error: format!("{:?} is not smtp://HOST:PORT", channel.url),
        };
    };
    let refused = |error: String| Attempt::Refused { error };
    let from = channel
        .from
        .clone()
        .unwrap_or_else(|| format!("starling@{host}"));
    let mut builder = lettre::Message::builder()
        .subject(format!("[Starling] {}", alert.title))
        .message_id(Some(format!("<{}@starling>", alert.id)))
        .header(lettre::message::header::ContentType::TEXT_PLAIN);
    match from.parse() {
        Ok(from) => builder = builder.from(from),
        Err(error) => return refused(format!("from {from:?}: {error}")),
    }
    for to in &channel.to {
        match to.parse() {
            Ok(to) => builder = builder.to(to),
            Err(error) => return refused(format!("to {to:?}: {error}")),
        }
    }
    let message = match builder.body(crate::message::plain_text(alert)) {
        Ok(message) => message,
        Err(error) => return refused(error.to_string()),
    };
    let parameters = match TlsParameters::new(host.clone()) {
        Ok(parameters) => parameters,
        Err(error) => return refused(error.to_string()),
    };
    let mut transport = lettre::SmtpTransport::builder_dangerous(&host)
        .port(port)
        .timeout(Some(Duration::from_secs(10)))
        // STARTTLS whenever the server offers it (and then its certificate must hold).
        .tls(if wrapped {
            Tls::Wrapper(parameters)
        } else {
            Tls::Opportunistic(parameters)
        });
    if let Some((user, password)) = channel
        .secret
        .as_deref()
        .and_then(|secret| secret.split_once(':'))
    {
        transport =
            transport.credentials(lettre::transport::smtp::authentication::Credentials::new(
                user.to_owned(),
                password.to_owned(),
            ));
    }
    match transport.build().send(&message) {
        Ok(_) => Attempt::Delivered,
        Err(error) if error.is_permanent() => Attempt::Refused {
            error: error.to_string(),
        },
        Err(error) => Attempt::Retry {
            error: error.to_string(),
            after: None,
        },
    }
}

/// How long to wait after `failures` failed attempts: 1, 2, 4, … seconds, at most 10
/// minutes, spread by up to a fifth (from `seed`) so that retries do not come in step.
pub fn backoff(failures: u32, seed: u64) -> Duration {
    let base = 2u64
        .saturating_pow(failures.saturating_sub(1).min(10))
        .min(600) as f64;
    let spread = (seed % 1000) as f64 / 1000.0 * 0.2;
    Duration::from_secs_f64(base * (1.0 + spread))
}
