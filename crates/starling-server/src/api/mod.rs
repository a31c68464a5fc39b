//! The HTTP routes: `/api/...` (JSON), `/api/stream` (server-sent events), `/metrics`
//! (Prometheus text) and the dashboard's files; access checked in one place ([`authorize`]).

mod alerts;
mod archive;
mod extract;
mod sources;
mod stream;
mod watches;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;

use crate::App;
use crate::auth::Role;

/// Every route of the server, over `app`.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/api/status", get(stream::status))
        .route("/api/search", get(archive::search))
        .route("/api/counts", get(archive::counts))
        .route("/api/geo", get(archive::geo))
        .route("/api/posts/{key}", get(archive::post))
        .route("/api/export", get(archive::export))
        .route(
            "/api/import",
            post(archive::import).layer(axum::extract::DefaultBodyLimit::max(archive::MAX_UPLOAD)),
        )
        .route("/api/watches", get(watches::list).post(watches::create))
        .route(
            "/api/watches/{name}",
            get(watches::one)
                .put(watches::change)
                .delete(watches::remove),
        )
        .route("/api/watches/{name}/matches", get(watches::matches))
        .route("/api/detections", get(stream::detections))
        .route("/api/bursts", get(stream::bursts))
        .route("/api/stories", get(stream::stories))
        .route("/api/stories/sizes", get(stream::story_sizes))
        .route("/api/campaigns", get(stream::campaigns))
        .route("/api/silences", get(stream::silences))
        .route("/api/accounts", get(stream::accounts))
        .route("/api/alerts", get(alerts::list).post(alerts::create))
        .route("/api/alerts/{name}", axum::routing::delete(alerts::remove))
        .route("/api/alerts/{name}/test", post(alerts::test))
        .route("/api/sources", get(sources::list))
        .route("/api/stream", get(stream::events))
        .route(
            "/api/tokens",
            get(watches::tokens_list).post(watches::add_token),
        )
        .route(
            "/api/tokens/{name}",
            axum::routing::delete(watches::remove_token),
        )
        .route("/api/openapi.json", get(crate::assets::openapi))
        .route("/metrics", get(stream::metrics))
        .route("/", get(crate::assets::index))
        .route("/assets/{file}", get(crate::assets::file))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(Arc::clone(&app), authorize))
        .layer(middleware::from_fn(secure_headers))
        .with_state(app)
}

/// An error as the API answers it: a status and `{"error": "...", "column": N}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
    column: Option<usize>,
}

impl ApiError {
    /// An error with `status`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            column: None,
        }
    }

    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    fn internal(error: impl std::fmt::Display) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
    }

    /// A query that does not parse: 400 with the column.
    fn query(error: starling_query::ParseError) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: format!("in the query: {error}"),
            column: Some(error.column),
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = axum::Json(ErrorBody {
            error: &self.message,
            column: self.column,
        });
        let mut response = (self.status, body).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<starling_store::StoreError> for ApiError {
    fn from(error: starling_store::StoreError) -> ApiError {
        ApiError::internal(error)
    }
}

/// A `limit` parameter: `default` when absent, refused outside 1 to `most`.
fn limit(given: Option<usize>, default: usize, most: usize) -> Result<usize, ApiError> {
    match given {
        None => Ok(default),
        Some(limit) if (1..=most).contains(&limit) => Ok(limit),
        Some(limit) => Err(ApiError::bad_request(format!(
            "limit is 1 to {most}, not {limit}"
        ))),
    }
}

/// Runs blocking work (the archive, the index) off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| ApiError::internal(format!("the request's work failed: {error}")))?
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route; see /api/openapi.json")
}

/// The role a request needs: none for the dashboard's files and the API description,
/// `admin` for tokens, `editor` to change anything, `reader` to read.
fn needed(method: &Method, path: &str) -> Option<Role> {
    if path == "/" || path.starts_with("/assets/") || path == "/api/openapi.json" {
        return None;
    }
    if path == "/api/tokens" || path.starts_with("/api/tokens/") {
        return Some(Role::Admin);
    }
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        Some(Role::Reader)
    } else {
        Some(Role::Editor)
    }
}

/// Whether `host` (a `Host` header's value, or an `Origin`'s authority) names this machine.
fn is_loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        // [::1]:7878
        rest.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(name, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                name
            } else {
                host
            }
        })
    };
    let name = name.to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

/// An open server (loopback, no tokens) answers only requests meant for this machine: a
/// `Host` that names it (a web page whose own name resolves to 127.0.0.1, DNS rebinding,
/// gets nothing) and no `Origin` of another site (a page elsewhere cannot post to it).
fn foreign(request: &Request) -> Option<&'static str> {
    let header = |name| {
        request
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap_or("\u{0}"))
    };
    if header(header::HOST).is_some_and(|host| !is_loopback_host(host)) {
        return Some(
            "this server is open on loopback: it answers only requests addressed to localhost",
        );
    }
    if let Some(origin) = header(header::ORIGIN) {
        let authority = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .unwrap_or("\u{0}");
        if !is_loopback_host(authority) {
            return Some(
                "this server is open on loopback: it refuses requests from other sites' pages",
            );
        }
    }
    None
}

async fn authorize(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    if matches!(app.access, crate::Access::Open)
        && let Some(refusal) = foreign(&request)
    {
        return ApiError::new(StatusCode::FORBIDDEN, refusal).into_response();
    }
    let Some(needed) = needed(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    match app.access.role(authorization) {
        Some(role) if role >= needed => next.run(request).await,
        Some(role) => ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "this token's role is {}; this needs {}",
                role.as_str(),
                needed.as_str()
            ),
        )
        .into_response(),
        None => ApiError::new(
            StatusCode::UNAUTHORIZED,
            if authorization.is_some() {
                "the token is not valid"
            } else {
                "a token is needed: Authorization: Bearer <token> (make one with starling token add)"
            },
        )
        .into_response(),
    }
}

/// Headers on every response: post text is hostile, so nothing the page did not bring
/// itself may run, load or frame it.
async fn secure_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

#[cfg(test)]
mod tests;
