//! An S3-compatible bucket as the firmware blob store: its settings (`s3://BUCKET[/PREFIX]`,
//! endpoint, region, static credentials, addressing style) and the `object_store` client built
//! from them. Credentials are static only (flags or `AWS_*` variables the caller read): the
//! service never asks instance metadata, container or web-identity endpoints for them.

use std::fmt;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;

use super::{Blobs, Multipart, Presigner};

/// Smallest part S3 accepts in a multipart upload, but for the last one.
pub const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;
/// The region when none is given (what S3-compatible servers without regions expect).
pub const DEFAULT_REGION: &str = "us-east-1";

/// Where and how to reach the bucket.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    pub bucket: String,
    /// Key prefix inside the bucket (no leading or trailing `/`), so one bucket can hold
    /// several deployments.
    pub prefix: Option<String>,
    /// `https://host[:port]` of an S3-compatible server; AWS's own endpoint when `None`.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    /// `endpoint/bucket/key` instead of `bucket.endpoint/key` (MinIO, moto, most self-hosted
    /// servers).
    pub path_style: bool,
    /// Plain `http://` to the endpoint: only for a test server on this machine.
    pub allow_http: bool,
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("path_style", &self.path_style)
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

/// A bucket and an optional prefix from `s3://BUCKET[/PREFIX]`; the message says what is wrong.
pub fn parse_location(url: &str) -> Result<(String, Option<String>), String> {
    let Some(rest) = url.strip_prefix("s3://") else {
        return Err(format!("`{url}` is not an s3://BUCKET[/PREFIX] URL"));
    };
    let (bucket, prefix) = match rest.split_once('/') {
        Some((bucket, prefix)) => (bucket, prefix.trim_matches('/')),
        None => (rest, ""),
    };
    check_bucket_name(bucket).map_err(|why| format!("`{url}`: {why}"))?;
    if prefix.split('/').any(|part| part == "." || part == "..")
        || prefix.contains("//")
        || prefix.chars().any(char::is_control)
    {
        return Err(format!(
            "`{url}`: the prefix `{prefix}` has an empty, `.` or `..` segment or a control character"
        ));
    }
    let prefix = (!prefix.is_empty()).then(|| prefix.to_owned());
    Ok((bucket.to_owned(), prefix))
}

/// S3's bucket naming rules: 3 to 63 lowercase letters, digits, `.` and `-`, starting and
/// ending with a letter or digit.
fn check_bucket_name(bucket: &str) -> Result<(), String> {
    if bucket.is_empty() {
        return Err("the bucket name is missing".to_owned());
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-';
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !(3..=63).contains(&bucket.len())
        || !bucket.chars().all(allowed)
        || !edge(bucket.chars().next())
        || !edge(bucket.chars().last())
    {
        return Err(format!(
            "`{bucket}` is not a bucket name (3 to 63 lowercase letters, digits, `.` and `-`)"
        ));
    }
    Ok(())
}

/// Whether `endpoint` is a plain-http URL of this machine (a test server such as moto).
pub fn is_loopback_http(endpoint: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(endpoint) else {
        return false;
    };
    url.scheme() == "http"
        && match url.host_str() {
            Some("localhost") => true,
            Some(host) => host
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback()),
            None => false,
        }
}

impl Blobs {
    /// The bucket of `settings`. Makes no request: a wrong bucket or credentials show on the
    /// first read or write (`Blobs::check` asks at start-up).
    pub fn s3(settings: &S3Settings) -> anyhow::Result<Blobs> {
        let bucket = &settings.bucket;
        check_bucket_name(bucket).map_err(anyhow::Error::msg)?;
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(&settings.region)
            .with_access_key_id(&settings.access_key_id)
            .with_secret_access_key(&settings.secret_access_key)
            .with_virtual_hosted_style_request(!settings.path_style)
            .with_allow_http(settings.allow_http);
        if let Some(token) = &settings.session_token {
            builder = builder.with_token(token);
        }
        if let Some(endpoint) = &settings.endpoint {
            let url = reqwest::Url::parse(endpoint)
                .with_context(|| format!("the S3 endpoint `{endpoint}` is not a URL"))?;
            if url.scheme() == "http" && !settings.allow_http {
                bail!(
                    "the S3 endpoint `{endpoint}` is plain http; firmware and credentials would \
                     cross the network unencrypted (hint: use https; plain http is accepted only \
                     for a test server on 127.0.0.1)"
                );
            }
            let endpoint = if settings.path_style {
                endpoint.trim_end_matches('/').to_owned()
            } else {
                virtual_hosted(&url, bucket)?
            };
            builder = builder.with_endpoint(endpoint);
        }
        let s3 = builder
            .build()
            .with_context(|| format!("could not set up the S3 client for bucket `{bucket}`"))?;
        let prefix = settings.prefix.as_deref().map(ObjectPath::from);
        let store: Arc<dyn ObjectStore> = match &prefix {
            Some(prefix) => Arc::new(PrefixStore::new(s3.clone(), prefix.clone())),
            None => Arc::new(s3.clone()),
        };
        let s3 = Arc::new(s3);
        Ok(Blobs {
            store,
            local: None,
            multipart: Some(Multipart {
                store: s3.clone(),
                prefix: prefix.clone(),
                min_part: MIN_PART_BYTES,
            }),
            write_chunk: MIN_PART_BYTES as usize,
            presigner: Some(Presigner { signer: s3, prefix }),
        })
    }
}

/// `scheme://BUCKET.host[:port]` for virtual-hosted addressing on a custom endpoint.
fn virtual_hosted(url: &reqwest::Url, bucket: &str) -> anyhow::Result<String> {
    let Some(host) = url.host_str() else {
        bail!("the S3 endpoint `{url}` has no host");
    };
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    Ok(format!("{}://{bucket}.{host}{port}", url.scheme()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_into_bucket_and_prefix() {
        assert_eq!(
            parse_location("s3://fw-bucket"),
            Ok(("fw-bucket".into(), None))
        );
        assert_eq!(
            parse_location("s3://fw-bucket/prod/eu/"),
            Ok(("fw-bucket".into(), Some("prod/eu".into())))
        );
        for bad in [
            "fw-bucket",
            "http://fw-bucket",
            "s3://",
            "s3://Fw_Bucket",
            "s3://a/../b",
        ] {
            assert!(parse_location(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_loopback_http_counts_as_a_test_server() {
        assert!(is_loopback_http("http://127.0.0.1:9000"));
        assert!(is_loopback_http("http://localhost:9000/"));
        assert!(!is_loopback_http("http://10.0.0.5:9000"));
        assert!(!is_loopback_http("https://127.0.0.1:9000"));
    }

    #[test]
    fn plain_http_elsewhere_is_refused_and_secrets_stay_out_of_debug() {
        let settings = S3Settings {
            bucket: "fw-bucket".into(),
            prefix: None,
            endpoint: Some("http://10.0.0.5:9000".into()),
            region: DEFAULT_REGION.into(),
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "very-secret".into(),
            session_token: Some("token-secret".into()),
            path_style: true,
            allow_http: false,
        };
        let err = Blobs::s3(&settings).expect_err("plain http refused");
        assert!(format!("{err:#}").contains("hint: use https"), "{err:#}");
        let shown = format!("{settings:?}");
        assert!(!shown.contains("very-secret") && !shown.contains("token-secret"));
    }

    #[test]
    fn virtual_hosted_endpoints_carry_the_bucket() {
        let url = reqwest::Url::parse("https://s3.example.net:8443/").expect("url");
        assert_eq!(
            virtual_hosted(&url, "fw").expect("endpoint"),
            "https://fw.s3.example.net:8443"
        );
    }
}
