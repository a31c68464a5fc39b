//! The dashboard's files, built into the binary (nothing is fetched from elsewhere), and the
//! API's description.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::App;

/// Each file: its name, content type, and contents.
const FILES: [(&str, &str, &str); 4] = [
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../assets/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../assets/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../assets/app.css"),
    ),
    (
        "countries.json",
        "application/json",
        include_str!("../assets/countries.json"),
    ),
];

/// The OpenAPI 3.1 description of the API.
pub const OPENAPI: &str = include_str!("openapi.json");

fn serve(app: &App, name: &str) -> Response {
    let Some((name, content_type, built_in)) =
        FILES.iter().find(|(file, _, _)| *file == name).copied()
    else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    // Working on the dashboard: the files on disk, read on each request.
    let body = match &app.assets_dir {
        Some(folder) => match std::fs::read_to_string(folder.join(name)) {
            Ok(text) => text,
            Err(error) => {
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("{}: {error}", folder.join(name).display()),
                )
                    .into_response();
            }
        },
        None => built_in.to_owned(),
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        body,
    )
        .into_response()
}

pub(crate) async fn index(State(app): State<Arc<App>>) -> Response {
    serve(&app, "index.html")
}

pub(crate) async fn file(State(app): State<Arc<App>>, Path(file): Path<String>) -> Response {
    serve(&app, &file)
}

pub(crate) async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        OPENAPI,
    )
        .into_response()
}
