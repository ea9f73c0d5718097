//! The 404s for resources named in a request: shared by the handlers and by authorization,
//! which answers them for resources outside a scoped key's products so those do not leak.

use super::error::ApiError;

/// 404 for a product; also what a scoped key gets for a product outside its scope.
pub fn unknown_product(reference: &str) -> ApiError {
    ApiError::not_found(format!("no product `{reference}`"))
        .with_hint("list products with `fleet product list --all-states`")
}

/// 404 for a device; also what a scoped key gets for a device outside its scope.
pub fn unknown_device(reference: &str) -> ApiError {
    ApiError::not_found(format!("no device `{reference}`"))
        .with_hint("list devices with `fleet device list`")
}
