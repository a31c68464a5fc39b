//! Watches (list, create, change, delete, their matches) and tokens through the API.

use std::sync::{Arc, PoisonError};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use starling_store::views::PostView;
use starling_watch::{WatchDef, WatchError};

use super::extract::{JsonBody, Params, Segment};
use super::{ApiError, blocking, limit};
use crate::App;
use crate::auth::{Access, Role, TokenEntry};

#[derive(Serialize)]
pub(super) struct WatchBody {
    #[serde(flatten)]
    watch: WatchDef,
    /// `archive` (saved through the API or `starling watch add`) or `config` (the
    /// configuration file's, which the API cannot change).
    defined_in: &'static str,
    /// Matches recorded in the archive.
    matches: u64,
}

/// Every watch with where it is defined: the archive's, then the configuration file's,
/// which win on a shared name.
fn all(app: &App) -> Result<Vec<(WatchDef, &'static str)>, ApiError> {
    let mut watches: std::collections::BTreeMap<String, (WatchDef, &'static str)> = app
        .store
        .watches()?
        .into_iter()
        .map(|watch| (watch.name.clone(), (watch, "archive")))
        .collect();
    for watch in &app.config_watches {
        watches.insert(watch.name.clone(), (watch.clone(), "config"));
    }
    Ok(watches.into_values().collect())
}

/// Refuses to change a watch the configuration file defines.
fn not_configured(app: &App, name: &str) -> Result<(), ApiError> {
    if app.config_watches.iter().any(|watch| watch.name == name) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("the watch {name:?} is defined in the configuration file: change it there"),
        ));
    }
    Ok(())
}

fn refused(error: WatchError) -> ApiError {
    match error {
        WatchError::Query { error, .. } => ApiError::query(error),
        other => ApiError::bad_request(other.to_string()),
    }
}

fn body(app: &App, (watch, defined_in): (WatchDef, &'static str)) -> Result<WatchBody, ApiError> {
    let (_, matches) = app.store.matches_of(&watch.name, 0)?;
    Ok(WatchBody {
        watch,
        defined_in,
        matches,
    })
}

pub(super) async fn list(State(app): State<Arc<App>>) -> Result<Json<Vec<WatchBody>>, ApiError> {
    blocking(move || {
        let mut all_bodies = Vec::new();
        for watch in all(&app)? {
            all_bodies.push(body(&app, watch)?);
        }
        Ok(Json(all_bodies))
    })
    .await
}

pub(super) async fn one(
    State(app): State<Arc<App>>,
    Segment(name): Segment,
) -> Result<Json<WatchBody>, ApiError> {
    blocking(move || {
        let watch = find(&app, &name)?;
        Ok(Json(body(&app, watch)?))
    })
    .await
}

fn find(app: &App, name: &str) -> Result<(WatchDef, &'static str), ApiError> {
    all(app)?
        .into_iter()
        .find(|(watch, _)| watch.name == name)
        .ok_or_else(|| ApiError::not_found(format!("no watch called {name:?}")))
}

/// A watch as created: `name` and `query`, optionally `owner`, `tags`, `active`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewWatch {
    name: String,
    query: String,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    active: Option<bool>,
}

/// Held while a watch is checked, saved and handed to the matcher, so that two requests
/// changing watches at once cannot interleave (both creating one name, or the archive and the
/// matcher keeping different queries).
static CHANGES: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn changing() -> std::sync::MutexGuard<'static, ()> {
    CHANGES.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Saves `watch` and matches with it from the next batch on.
fn save(app: &App, watch: &WatchDef) -> Result<(), ApiError> {
    watch.compile().map_err(refused)?;
    app.store.put_watch(watch)?;
    app.watches
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(watch)
        .map_err(refused)?;
    Ok(())
}

pub(super) async fn create(
    State(app): State<Arc<App>>,
    JsonBody(new): JsonBody<NewWatch>,
) -> Result<Response, ApiError> {
    blocking(move || {
        let watch = WatchDef {
            name: new.name,
            query: new.query,
            owner: new.owner,
            tags: new.tags,
            active: new.active.unwrap_or(true),
        };
        watch.compile().map_err(refused)?;
        let _changing = changing();
        not_configured(&app, &watch.name)?;
        if app
            .store
            .watches()?
            .iter()
            .any(|existing| existing.name == watch.name)
        {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("a watch called {:?} exists; change it with PUT", watch.name),
            ));
        }
        save(&app, &watch)?;
        Ok((StatusCode::CREATED, Json(body(&app, (watch, "archive"))?)).into_response())
    })
    .await
}

/// A change to a watch: each field given replaces the one it had.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WatchChange {
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    active: Option<bool>,
}

pub(super) async fn change(
    State(app): State<Arc<App>>,
    Segment(name): Segment,
    JsonBody(change): JsonBody<WatchChange>,
) -> Result<Json<WatchBody>, ApiError> {
    blocking(move || {
        let _changing = changing();
        not_configured(&app, &name)?;
        let (mut watch, _) = find(&app, &name)?;
        if let Some(query) = change.query {
            watch.query = query;
        }
        if let Some(owner) = change.owner {
            watch.owner = Some(owner);
        }
        if let Some(tags) = change.tags {
            watch.tags = tags;
        }
        if let Some(active) = change.active {
            watch.active = active;
        }
        save(&app, &watch)?;
        Ok(Json(body(&app, (watch, "archive"))?))
    })
    .await
}

pub(super) async fn remove(
    State(app): State<Arc<App>>,
    Segment(name): Segment,
) -> Result<StatusCode, ApiError> {
    blocking(move || {
        let _changing = changing();
        not_configured(&app, &name)?;
        if !app.store.remove_watch(&name)? {
            return Err(ApiError::not_found(format!("no watch called {name:?}")));
        }
        app.watches
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&name);
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

#[derive(Debug, Deserialize)]
pub(super) struct MatchParams {
    #[serde(default)]
    limit: Option<usize>,
}

#[derive(Serialize)]
pub(super) struct MatchBody<'a> {
    matched_at: starling_model::Timestamp,
    post: PostView<'a>,
}

#[derive(Serialize)]
pub(super) struct MatchesBody<'a> {
    watch: &'a str,
    total: u64,
    matches: Vec<MatchBody<'a>>,
}

pub(super) async fn matches(
    State(app): State<Arc<App>>,
    Segment(name): Segment,
    Params(params): Params<MatchParams>,
) -> Result<Response, ApiError> {
    let limit = limit(params.limit, 50, 1000)?;
    blocking(move || {
        find(&app, &name)?;
        let (found, total) = app.store.matches_of(&name, limit)?;
        let mut posts = Vec::with_capacity(found.len());
        for found in found {
            if let Some(post) = app.store.get(&found.key)? {
                let status = app.store.status(&found.key)?;
                posts.push((found.matched_at, post, status));
            }
        }
        let matches = posts
            .iter()
            .map(|(matched_at, post, status)| MatchBody {
                matched_at: *matched_at,
                post: PostView::new(post, status.clone()),
            })
            .collect();
        Ok(Json(MatchesBody {
            watch: &name,
            total,
            matches,
        })
        .into_response())
    })
    .await
}

fn token_store(app: &App) -> Result<&crate::auth::Tokens, ApiError> {
    match &app.access {
        Access::Tokens(tokens) => Ok(tokens),
        Access::Open => Err(ApiError::new(
            StatusCode::CONFLICT,
            "this server is bound to loopback and open to anyone who can connect: it takes no tokens (start it with --require-token to use them)",
        )),
    }
}

pub(super) async fn tokens_list(
    State(app): State<Arc<App>>,
) -> Result<Json<Vec<TokenEntry>>, ApiError> {
    Ok(Json(token_store(&app)?.list()))
}

/// A token to make.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewToken {
    name: String,
    role: Role,
}

#[derive(Serialize)]
pub(super) struct NewTokenBody {
    name: String,
    role: Role,
    /// Shown once: only its hash is kept.
    token: String,
}

pub(super) async fn add_token(
    State(app): State<Arc<App>>,
    JsonBody(new): JsonBody<NewToken>,
) -> Result<Response, ApiError> {
    blocking(move || {
        let token = token_store(&app)?
            .add(&new.name, new.role)
            .map_err(|error| match error {
                crate::auth::TokenError::Exists(_) => {
                    ApiError::new(StatusCode::CONFLICT, error.to_string())
                }
                crate::auth::TokenError::Name(_) => ApiError::bad_request(error.to_string()),
                other => ApiError::internal(other),
            })?;
        Ok((
            StatusCode::CREATED,
            Json(NewTokenBody {
                name: new.name,
                role: new.role,
                token,
            }),
        )
            .into_response())
    })
    .await
}

pub(super) async fn remove_token(
    State(app): State<Arc<App>>,
    Segment(name): Segment,
) -> Result<StatusCode, ApiError> {
    blocking(move || {
        if token_store(&app)?
            .remove(&name)
            .map_err(ApiError::internal)?
        {
            Ok(StatusCode::NO_CONTENT)
        } else {
            Err(ApiError::not_found(format!("no token called {name:?}")))
        }
    })
    .await
}
