//! The live sources: each connector's health and the gaps recorded.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use starling_sources::{Gap, Health};

use super::extract::Params;
use super::{ApiError, blocking, limit};
use crate::App;

#[derive(Deserialize)]
pub(super) struct SourcesParams {
    #[serde(default)]
    gaps: Option<usize>,
}

#[derive(Serialize)]
pub(super) struct SourcesBody {
    /// Whether this server runs the connectors (`false`: the figures are those a previous
    /// run, or `starling follow`, left in the data folder).
    running: bool,
    sources: Vec<Health>,
    gaps: Vec<Gap>,
}

pub(super) async fn list(
    State(app): State<Arc<App>>,
    Params(params): Params<SourcesParams>,
) -> Result<Json<SourcesBody>, ApiError> {
    let wanted = limit(params.gaps, 100, 1000)?;
    blocking(move || {
        if let Some(registry) = app.sources.get() {
            return Ok(Json(SourcesBody {
                running: true,
                sources: registry.health(chrono::Utc::now()),
                gaps: registry.gaps(wanted),
            }));
        }
        let folder = app.data_dir.join("sources");
        let snapshot =
            starling_sources::health::read_snapshot(&folder).map_err(ApiError::internal)?;
        let gaps = starling_sources::health::read_gaps(
            &folder.join(starling_sources::health::GAPS_FILE),
            wanted,
        )
        .map_err(ApiError::internal)?;
        let mut sources = snapshot
            .map(|snapshot| snapshot.sources)
            .unwrap_or_default();
        for health in &mut sources {
            health.connected = false;
            health.state = starling_sources::State::Stopped;
        }
        Ok(Json(SourcesBody {
            running: false,
            sources,
            gaps,
        }))
    })
    .await
}
