//! An alert as each channel takes it: Starling's JSON (signed), Slack's mrkdwn, Matrix's
//! plain and HTML bodies. Post text is hostile: each shape escapes it as its markup needs.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::engine::Alert;
use crate::rules::Format;

/// A request ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// `POST` or `PUT`.
    pub method: &'static str,
    /// Where.
    pub url: String,
    /// Headers besides `Content-Type: application/json`.
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body.
    pub body: Vec<u8>,
}

/// The HMAC-SHA256 of `timestamp.body` under `secret`, hex: what `X-Starling-Signature`
/// carries (as `sha256=...`), so that a receiver can check the alert came from this server
/// and was not replayed later.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// `text` for Slack's mrkdwn: `&`, `<` and `>` escaped, as Slack asks.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `text` for HTML.
fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A link from post data, only when it is plainly http(s) and holds nothing markup could
/// misread.
fn safe_url(url: Option<&str>) -> Option<&str> {
    url.filter(|url| {
        (url.starts_with("https://") || url.starts_with("http://"))
            && !url
                .chars()
                .any(|c| c.is_whitespace() || "<>\"'|".contains(c))
    })
}

/// The request that delivers `alert` in `format` to `url` (with `secret`, when set), at
/// `timestamp` (seconds since 1970).
pub fn render(
    alert: &Alert,
    format: Format,
    url: &str,
    secret: Option<&str>,
    timestamp: i64,
) -> Request {
    let plain = plain_text(alert);
    match format {
        Format::Json => {
            let body = serde_json::to_vec(alert).unwrap_or_default();
            let mut headers = vec![
                ("Idempotency-Key", alert.id.clone()),
                ("X-Starling-Timestamp", timestamp.to_string()),
            ];
            if let Some(secret) = secret {
                headers.push((
                    "X-Starling-Signature",
                    format!("sha256={}", signature(secret, timestamp, &body)),
                ));
            }
            Request {
                method: "POST",
                url: url.to_owned(),
                headers,
                body,
            }
        }
        Format::Slack => {
            let mut text = format!(
                "*{}*\n{}",
                slack_escape(&alert.title),
                slack_escape(&alert.reason)
            );
            for sample in &alert.samples {
                text.push_str(&format!(
                    "\n• {} ({}): {}",
                    slack_escape(&sample.author),
                    slack_escape(&sample.platform),
                    slack_escape(&sample.text)
                ));
                if let Some(url) = safe_url(sample.url.as_deref()) {
                    text.push_str(&format!(" <{url}|open>"));
                }
            }
            let body = serde_json::to_vec(&serde_json::json!({ "text": text })).unwrap_or_default();
            Request {
                method: "POST",
                url: url.to_owned(),
                headers: vec![("Idempotency-Key", alert.id.clone())],
                body,
            }
        }
        // Mail is sent by `deliver::send_email`; this is what it says.
        Format::Email => Request {
            method: "SMTP",
            url: url.to_owned(),
            headers: Vec::new(),
            body: plain.into_bytes(),
        },
        Format::Matrix => {
            let mut html = format!(
                "<strong>{}</strong><br>{}",
                html_escape(&alert.title),
                html_escape(&alert.reason).replace('\n', "<br>")
            );
            if !alert.samples.is_empty() {
                html.push_str("<ul>");
                for sample in &alert.samples {
                    html.push_str(&format!(
                        "<li>{} ({}): {}",
                        html_escape(&sample.author),
                        html_escape(&sample.platform),
                        html_escape(&sample.text)
                    ));
                    if let Some(url) = safe_url(sample.url.as_deref()) {
                        html.push_str(&format!(" <a href=\"{}\">open</a>", html_escape(url)));
                    }
                    html.push_str("</li>");
                }
                html.push_str("</ul>");
            }
            let body = serde_json::to_vec(&serde_json::json!({
                "msgtype": "m.text",
                "body": plain,
                "format": "org.matrix.custom.html",
                "formatted_body": html,
                // Mentions nobody: `@room` or a name in post text must not notify anyone.
                "m.mentions": {},
            }))
            .unwrap_or_default();
            let mut headers = Vec::new();
            if let Some(token) = secret {
                headers.push(("Authorization", format!("Bearer {token}")));
            }
            Request {
                method: "PUT",
                // The alert's id as the transaction id: Matrix drops a repeat itself.
                url: format!("{}/{}", url.trim_end_matches('/'), alert.id),
                headers,
                body,
            }
        }
    }
}

/// The alert as plain text: title, reason, samples with their links.
pub fn plain_text(alert: &Alert) -> String {
    let mut text = format!("{}\n{}", alert.title, alert.reason);
    for sample in &alert.samples {
        text.push_str(&format!(
            "\n- {} ({}): {}",
            sample.author, sample.platform, sample.text
        ));
        if let Some(url) = &sample.url {
            text.push_str(&format!(" {url}"));
        }
    }
    if !alert.sample_keys.is_empty() {
        text.push_str(&format!("\nposts: {}", alert.sample_keys.join(" ")));
    }
    text
}
