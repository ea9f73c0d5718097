//! Downloads the offer sends elsewhere: an absolute, short-lived URL of the object store, fetched
//! with one shared plain HTTPS client (no client certificate: the URL is the credential).

use futures_util::StreamExt as _;
use sha2::{Digest, Sha256};

use super::connection::Download;
use crate::error::{Error, ErrorKind, Result};

/// Fetches `url`, hashing the bytes as they arrive.
pub async fn download_url(client: &reqwest::Client, url: &str) -> Result<Download> {
    let failed = |err: reqwest::Error| {
        Error::new(
            ErrorKind::Unavailable,
            "could not download the offered binary from its object-store URL",
        )
        .with_source(err)
    };
    let response = client.get(url).send().await.map_err(failed)?;
    let status = response.status();
    if !status.is_success() {
        let kind = if status.as_u16() == 404 || status.as_u16() == 403 {
            ErrorKind::NotFound
        } else {
            ErrorKind::Unavailable
        };
        return Err(Error::new(
            kind,
            format!(
                "the object store answered the offered binary's URL with HTTP {}",
                status.as_u16()
            ),
        )
        .hint("presigned URLs are short-lived: check in again for a fresh one"));
    }
    let announced_sha256 = response
        .headers()
        .get(crate::api::device_api::SHA256_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase());
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(failed)?;
        size += chunk.len() as u64;
        hasher.update(&chunk);
    }
    Ok(Download {
        size,
        sha256: hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        announced_sha256,
    })
}
