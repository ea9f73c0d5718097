//! `PUT /v1/binaries/{binary}/parts/{number}`: the part's checksum header and its body stream,
//! handed to `domain::firmware::upload`, which checks and stores the bytes as they arrive.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;

use crate::api::ReceivedPart;
use crate::api::firmware::{
    PART_CRC32C_HEADER, PART_SHA256_HEADER, validate_crc32c, validate_sha256,
};
use crate::server::auth::Principal;
use crate::server::domain::firmware::upload::{self, PartChecksum};
use crate::server::error::{ApiError, ApiResult};
use crate::server::extract::ApiPath;
use crate::server::state::AppState;

/// Upload one part (raw bytes) with its SHA-256 in `x-fleet-part-sha256` or its CRC32C in
/// `x-fleet-part-crc32c` (one of the two). Sending a part again replaces it. 422 when the length
/// or checksum is wrong; nothing is stored then.
#[utoipa::path(put, path = "/v1/binaries/{binary}/parts/{number}", operation_id = "uploadBinaryPart", tag = "firmware",
    params(("binary" = String, Path, description = "Binary ID"),
        ("number" = u64, Path, description = "Part number, from 1"),
        ("x-fleet-part-sha256" = Option<String>, Header, description = "Lowercase hex SHA-256 of the part (or send x-fleet-part-crc32c)"),
        ("x-fleet-part-crc32c" = Option<String>, Header, description = "CRC32C (Castagnoli) of the part as 8 lowercase hex digits (or send x-fleet-part-sha256); the whole file's SHA-256 is verified on completion")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = ReceivedPart)))]
pub async fn put_part(
    State(state): State<AppState>,
    principal: Principal,
    ApiPath((binary, number)): ApiPath<(String, u64)>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Json<ReceivedPart>> {
    let declared = checksum(&headers)?;
    let (pool, firmware) = (&state.pool, &state.firmware);
    let part = (binary.as_str(), number);
    let bytes = body.into_data_stream();
    let received = upload::put_part(pool, firmware, &principal, part, &declared, bytes).await?;
    Ok(Json(received))
}

/// The part's checksum from exactly one of its two headers.
fn checksum(headers: &HeaderMap) -> ApiResult<PartChecksum> {
    let value = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap_or_default().trim().to_ascii_lowercase())
    };
    match (value(PART_SHA256_HEADER), value(PART_CRC32C_HEADER)) {
        (Some(sha256), None) => match validate_sha256(&sha256) {
            Ok(()) => Ok(PartChecksum::Sha256(sha256)),
            Err(message) => Err(ApiError::bad_request(format!(
                "header `{PART_SHA256_HEADER}` must carry the part's SHA-256: {message}"
            ))),
        },
        (None, Some(crc)) => match validate_crc32c(&crc)
            .and_then(|()| u32::from_str_radix(&crc, 16).map_err(|err| err.to_string()))
        {
            Ok(crc) => Ok(PartChecksum::Crc32c(crc)),
            Err(message) => Err(ApiError::bad_request(format!(
                "header `{PART_CRC32C_HEADER}` must carry the part's CRC32C: {message}"
            ))),
        },
        (Some(_), Some(_)) => Err(ApiError::invalid_field(
            PART_CRC32C_HEADER,
            format!("send one of `{PART_SHA256_HEADER}` and `{PART_CRC32C_HEADER}`, not both"),
        )),
        // Each header is optional on its own; exactly one of them is a rule between the two,
        // so breaking it is an invalid field (422), not a malformed request.
        (None, None) => Err(ApiError::invalid_field(
            PART_SHA256_HEADER,
            format!(
                "send the part's SHA-256 in `{PART_SHA256_HEADER}` (or its CRC32C in \
                 `{PART_CRC32C_HEADER}`)"
            ),
        )),
    }
}
