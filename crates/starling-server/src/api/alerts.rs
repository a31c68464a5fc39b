//! Alert rules through the API: list (secrets hidden), create, remove, test; and what the
//! outbox holds.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use starling_alerts::{AlertError, OutboxCounts, Rule};

use super::extract::{JsonBody, Segment};
use super::{ApiError, blocking};
use crate::App;

#[derive(Serialize)]
pub(super) struct RuleBody {
    #[serde(flatten)]
    rule: Rule,
    /// `archive` or `config`.
    defined_in: &'static str,
}

#[derive(Serialize)]
pub(super) struct AlertsBody {
    rules: Vec<RuleBody>,
    outbox: OutboxCounts,
}

fn refused(error: AlertError) -> ApiError {
    match error {
        AlertError::Rule(error) => ApiError::bad_request(error.to_string()),
        AlertError::Configured(_) | AlertError::Exists(_) => {
            ApiError::new(StatusCode::CONFLICT, error.to_string())
        }
        AlertError::Unknown(_) => ApiError::not_found(error.to_string()),
        AlertError::Outbox(error) => ApiError::internal(error),
    }
}

pub(super) async fn list(State(app): State<Arc<App>>) -> Result<Json<AlertsBody>, ApiError> {
    blocking(move || {
        let rules = app
            .alerts
            .rules()
            .into_iter()
            .map(|(rule, configured)| RuleBody {
                rule,
                defined_in: if configured { "config" } else { "archive" },
            })
            .collect();
        Ok(Json(AlertsBody {
            rules,
            outbox: app.alerts.counts().map_err(refused)?,
        }))
    })
    .await
}

pub(super) async fn create(
    State(app): State<Arc<App>>,
    JsonBody(rule): JsonBody<Rule>,
) -> Result<Response, ApiError> {
    blocking(move || {
        let shown = rule.redacted();
        app.alerts.add_rule(rule).map_err(refused)?;
        Ok((
            StatusCode::CREATED,
            Json(RuleBody {
                rule: shown,
                defined_in: "archive",
            }),
        )
            .into_response())
    })
    .await
}

pub(super) async fn remove(
    State(app): State<Arc<App>>,
    Segment(name): Segment,
) -> Result<StatusCode, ApiError> {
    blocking(move || {
        app.alerts.remove_rule(&name).map_err(refused)?;
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

#[derive(Serialize)]
pub(super) struct TestBody {
    delivered: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub(super) async fn test(
    State(app): State<Arc<App>>,
    Segment(name): Segment,
) -> Result<Json<TestBody>, ApiError> {
    blocking(move || {
        let attempt = app.alerts.test(&name).map_err(refused)?;
        Ok(Json(match attempt {
            starling_alerts::deliver::Attempt::Delivered => TestBody {
                delivered: true,
                error: None,
            },
            starling_alerts::deliver::Attempt::Retry { error, .. }
            | starling_alerts::deliver::Attempt::Refused { error } => TestBody {
                delivered: false,
                error: Some(error),
            },
        }))
    })
    .await
}
