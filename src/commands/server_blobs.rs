//! `fleet server`'s firmware storage flags: `--blob-store s3://BUCKET[/PREFIX]` and how to reach
//! the bucket, turned into the service's `BlobStore`. Credentials come only from these flags or
//! the usual `AWS_*` variables; the service never asks instance metadata for them.

use clap::Args;

use crate::error::{Error, Result};
use crate::server::BlobStore;
use crate::server::S3Settings;
use crate::server::s3 as settings;

#[derive(Debug, Default, Args)]
pub struct BlobStoreArgs {
    /// Keep firmware binaries in an S3-compatible bucket instead of <DIR>/blobs, e.g.
    /// s3://fleet-firmware/prod; every replica of one deployment uses the same bucket
    #[arg(long, env = "FLEET_BLOB_STORE", value_name = "s3://BUCKET[/PREFIX]")]
    pub blob_store: Option<String>,

    /// S3-compatible server instead of AWS, e.g. https://minio.example.net:9000 (plain http
    /// only to 127.0.0.1, for test servers)
    #[arg(
        long,
        env = "AWS_ENDPOINT_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub s3_endpoint: Option<String>,

    /// Region of the bucket [default: $AWS_DEFAULT_REGION, else us-east-1]
    #[arg(
        long,
        env = "AWS_REGION",
        value_name = "REGION",
        hide_env_values = true
    )]
    pub s3_region: Option<String>,

    /// Path-style requests (ENDPOINT/BUCKET/KEY), as MinIO, moto and most self-hosted servers
    /// want; without it, virtual-hosted style (BUCKET.ENDPOINT/KEY)
    #[arg(long, env = "FLEET_S3_PATH_STYLE", hide_env_values = true,
          value_parser = clap::builder::BoolishValueParser::new())]
    pub s3_path_style: bool,

    /// Access key ID of the bucket's credentials
    #[arg(
        long,
        env = "AWS_ACCESS_KEY_ID",
        value_name = "ID",
        hide_env_values = true
    )]
    pub s3_access_key_id: Option<String>,

    /// Secret access key (prefer the variable: a flag shows in the process list)
    #[arg(
        long,
        env = "AWS_SECRET_ACCESS_KEY",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub s3_secret_access_key: Option<String>,

    /// Session token of temporary credentials
    #[arg(
        long,
        env = "AWS_SESSION_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub s3_session_token: Option<String>,
}

impl BlobStoreArgs {
    /// The blob store these flags name: `<DIR>/blobs` without `--blob-store`.
    pub fn blob_store(self) -> Result<BlobStore> {
        let Some(url) = self.blob_store.filter(|url| !url.is_empty()) else {
            return Ok(BlobStore::Local);
        };
        let (bucket, prefix) = settings::parse_location(&url).map_err(|why| {
            Error::usage(format!("invalid --blob-store: {why}")).hint(
                "use --blob-store s3://BUCKET or s3://BUCKET/PREFIX, e.g. s3://fleet-firmware/prod",
            )
        })?;
        let nonempty = |v: Option<String>| v.filter(|v| !v.is_empty());
        let (Some(access_key_id), Some(secret_access_key)) = (
            nonempty(self.s3_access_key_id),
            nonempty(self.s3_secret_access_key),
        ) else {
            return Err(Error::usage(format!(
                "--blob-store {url} needs credentials for the bucket"
            ))
            .hint(
                "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for \
                 temporary ones); the service does not read instance metadata",
            ));
        };
        let endpoint = nonempty(self.s3_endpoint).map(|e| e.trim_end_matches('/').to_owned());
        if let Some(endpoint) = &endpoint {
            let scheme_ok = endpoint.starts_with("https://") || endpoint.starts_with("http://");
            if !scheme_ok || reqwest::Url::parse(endpoint).is_err() {
                return Err(Error::usage(format!("invalid --s3-endpoint `{endpoint}`"))
                    .hint("give the server's URL, e.g. https://minio.example.net:9000"));
            }
        }
        let region = nonempty(self.s3_region)
            .or_else(|| nonempty(std::env::var("AWS_DEFAULT_REGION").ok()))
            .unwrap_or_else(|| settings::DEFAULT_REGION.to_owned());
        let allow_http = endpoint.as_deref().is_some_and(settings::is_loopback_http);
        Ok(BlobStore::S3(S3Settings {
            bucket,
            prefix,
            endpoint,
            region,
            access_key_id,
            secret_access_key,
            session_token: nonempty(self.s3_session_token),
            path_style: self.s3_path_style,
            allow_http,
        }))
    }
}
