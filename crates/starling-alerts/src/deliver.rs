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

/// How long to wait after `failures` failed attempts: 1, 2, 4, … seconds, at most 10
/// minutes, spread by up to a fifth (from `seed`) so that retries do not come in step.
pub fn backoff(failures: u32, seed: u64) -> Duration {
    let base = 2u64
        .saturating_pow(failures.saturating_sub(1).min(10))
        .min(600) as f64;
    let spread = (seed % 1000) as f64 / 1000.0 * 0.2;
    Duration::from_secs_f64(base * (1.0 + spread))
}
