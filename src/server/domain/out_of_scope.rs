//! What a product-scoped key is told when its request collides with something in a product
//! outside its scope. Device identifiers and product names are unique in the whole
//! organization, so such a request cannot succeed; the refusal names neither the other product
//! nor the thing there, and reads the same whichever hidden product holds it. It is a 403: the
//! key's scope, not the state it can see, is why the value is not its to use (and a 409 "already
//! exists" would contradict the 404 the key gets when it then looks the thing up).

use axum::http::StatusCode;

use crate::api::ErrorCode;
use crate::server::error::ApiError;

/// Why an import row with such an identifier is refused (the row names the identifier).
pub const IDENTIFIER_REASON: &str = "this API key may not use this identifier";

fn refused(message: String) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
        .with_hint("choose another; `fleet whoami` shows the products this key is limited to")
}

/// 403 for a device identifier a scoped key may not use.
pub fn identifier(identifier: &str) -> ApiError {
    refused(format!(
        "this API key may not use the device identifier `{identifier}`"
    ))
}

/// 403 for a product name a scoped key may not use.
pub fn product_name(name: &str) -> ApiError {
    refused(format!(
        "this API key may not use the product name `{name}`"
    ))
}
