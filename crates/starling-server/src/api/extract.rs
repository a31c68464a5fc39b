//! Extractors that answer a malformed request as every other error is answered: JSON with
//! the reason, never axum's plain-text rejections.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::ApiError;

/// Query parameters, `T` deserialized from the query string.
pub(super) struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Params(value))
            .map_err(|rejection| {
                ApiError::bad_request(format!("in the query string: {}", rejection.body_text()))
            })
    }
}

/// One path segment, percent-decoded.
pub(super) struct Segment(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Segment {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Segment(value))
            .map_err(|rejection| {
                ApiError::bad_request(format!("in the path: {}", rejection.body_text()))
            })
    }
}

/// A JSON object body, `T` deserialized from it (whatever the content type says).
pub(super) struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = axum::body::Bytes::from_request(request, state)
            .await
            .map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
        let fail =
            |error: serde_json::Error| ApiError::bad_request(format!("in the JSON body: {error}"));
        // An object, and nothing else: serde would also take a struct's fields as an array.
        let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(fail)?;
        if !value.is_object() {
            return Err(ApiError::bad_request("the JSON body is an object"));
        }
        serde_json::from_value(value).map(JsonBody).map_err(fail)
    }
}
