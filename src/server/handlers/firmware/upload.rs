//! `PUT /v1/binaries/{binary}/parts/{number}`: the part's digest header and its body stream,
//! handed to `domain::firmware::upload`, which hashes and stores the bytes as they arrive.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;

use crate::api::ReceivedPart;
use crate::api::firmware::{PART_SHA256_HEADER, validate_sha256};
use crate::server::auth::Principal;
use crate::server::domain::firmware::upload;
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::ApiPath;
use crate::server::state::AppState;

/// Upload one part (raw bytes) with its SHA-256 in `x-fleet-part-sha256`. Sending a part again
/// replaces it. 422 when the length or digest is wrong; nothing is stored then.
#[utoipa::path(put, path = "/v1/binaries/{binary}/parts/{number}", operation_id = "uploadBinaryPart", tag = "firmware",
    params(("binary" = String, Path, description = "Binary ID"),
        ("number" = u64, Path, description = "Part number, from 1"),
        ("x-fleet-part-sha256" = String, Header, description = "Lowercase hex SHA-256 of the part")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = ReceivedPart)))]
pub async fn put_part(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((binary, number)): ApiPath<(String, u64)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<ReceivedPart>> {
    let declared = headers
        .get(PART_SHA256_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or_default()
        .to_ascii_lowercase();
    if let Err(message) = validate_sha256(&declared) {
        return Err(ApiError::bad_request(format!(
            "header `{PART_SHA256_HEADER}` must carry the part's SHA-256: {message}"
        )));
    }
    let (pool, firmware) = (&state.pool, &state.firmware);
    let part = (binary.as_str(), number);
    let bytes = body.into_data_stream();
    let received = upload::put_part(pool, firmware, &principal, part, &declared, bytes).await?;
    Ok(Json(received))
}
