//! Device-side test support: CAs and device certificates made with rcgen, a fixture that
//! registers a CA straight in the database (until the CA admin API exists), and a small mutual
//! TLS HTTP/1.1 client that keeps one connection open, so tests can tell what happens to a
//! connection that stays open.

// Shared by several test modules, each using a part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::backend;

/// Lowercase hex SHA-256 of DER bytes.
pub fn sha256_hex(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A certificate authority of a test: its certificate and the key that signs devices'.
pub struct TestCa {
    pub cert_pem: String,
    pub cert_der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        dn.push(DnType::OrganizationName, "fleet tests");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().expect("CA key");
        let cert = params.self_signed(&key).expect("self-sign the CA");
        TestCa {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A client certificate with subject CN `identifier`, valid now.
    pub fn issue(&self, identifier: &str) -> DeviceIdentity {
        self.issue_with(identifier, |_| {})
    }

    /// [`TestCa::issue`] with the parameters adjusted first (validity, say).
    pub fn issue_with(
        &self,
        identifier: &str,
        adjust: impl FnOnce(&mut CertificateParams),
    ) -> DeviceIdentity {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, identifier);
        params.distinguished_name = dn;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        set_validity(&mut params, -1, 365);
        adjust(&mut params);
        let key = KeyPair::generate().expect("device key");
        let cert = params.signed_by(&key, &self.issuer).expect("sign");
        DeviceIdentity {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            fingerprint: sha256_hex(cert.der()),
            cert_der: cert.der().clone(),
            key_der: key.serialize_der(),
        }
    }

    /// The DER of the CA's subject, as the database finds CAs by issuer.
    pub fn subject_der(&self) -> Vec<u8> {
        let (_, cert) = x509_parser::parse_x509_certificate(self.cert_der.as_ref()).expect("parse");
        cert.subject().as_raw().to_vec()
    }
}

/// Sets `params` valid from `from_days` to `to_days` days from today (midnight UTC).
pub fn set_validity(params: &mut CertificateParams, from_days: i64, to_days: i64) {
    use chrono::Datelike as _;
    let at = |days: i64| {
        let day = chrono::Utc::now().date_naive() + chrono::Duration::days(days);
        let month = u8::try_from(day.month()).expect("month");
        let date = u8::try_from(day.day()).expect("day");
        rcgen::date_time_ymd(day.year(), month, date)
    };
    params.not_before = at(from_days);
    params.not_after = at(to_days);
}

/// A device's certificate and key.
#[derive(Clone)]
pub struct DeviceIdentity {
    pub cert_pem: String,
    pub key_pem: String,
    pub fingerprint: String,
    pub cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

/// JITP settings of a fixture CA.
#[derive(Default, Clone)]
pub struct Jitp {
    pub enabled: bool,
    /// A cohort name in the CA's product.
    pub cohort: Option<String>,
    pub tags: Vec<String>,
    pub target: Option<String>,
    pub description: String,
}

/// FIXTURE, not the product's way: registers `ca` with `product` (by name) of organization
/// `default` by writing `certificate_authorities` directly, for tests that need a CA before the
/// operator-side CA API exists. Returns the CA's ID.
pub fn insert_ca_fixture(
    storage: &fleet::server::Storage,
    product: &str,
    ca: &TestCa,
    jitp: &Jitp,
) -> String {
    let id = format!("ca_{}", &sha256_hex(ca.cert_der.as_ref())[..32]);
    let subject = hex_literal(storage, &ca.subject_der());
    let q = |text: &str| format!("'{}'", text.replace('\'', "''"));
    let cohort = match &jitp.cohort {
        Some(name) => format!(
            "(SELECT c.id FROM cohorts c JOIN products p ON p.id = c.product_id \
             WHERE p.name = {} AND c.name = {})",
            q(product),
            q(name)
        ),
        None => "NULL".to_owned(),
    };
    let tags = serde_json::to_string(&jitp.tags).expect("tags");
    let target = jitp.target.as_deref().map_or("NULL".to_owned(), q);
    let now = chrono::Utc::now();
    let (before, after) = (
        now - chrono::Duration::days(1),
        now + chrono::Duration::days(3650),
    );
    let sql = format!(
        "INSERT INTO certificate_authorities (id, org_id, product_id, name, certificate_pem, \
         fingerprint, subject_der, subject, not_before, not_after, enabled, jitp_enabled, \
         jitp_cohort_id, jitp_tags, jitp_target, jitp_description, created_at, updated_at) \
         SELECT {id}, p.org_id, p.id, {name}, {pem}, {fp}, {subject}, 'CN=test', {before}, \
         {after}, TRUE, {jitp}, {cohort}, {tags}, {target}, {description}, {before}, {before} \
         FROM products p WHERE p.name = {product}",
        id = q(&id),
        name = q(&id),
        pem = q(&ca.cert_pem),
        fp = q(&sha256_hex(ca.cert_der.as_ref())),
        before = q(&before.to_rfc3339()),
        after = q(&after.to_rfc3339()),
        jitp = if jitp.enabled { "TRUE" } else { "FALSE" },
        tags = q(&tags),
        description = q(&jitp.description),
        product = q(product),
    );
    backend::execute(storage, &sql);
    id
}

/// A bytes literal of either backend.
fn hex_literal(storage: &fleet::server::Storage, bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    match storage.database {
        fleet::server::Database::Sqlite => format!("X'{hex}'"),
        _ => format!("decode('{hex}', 'hex')"),
    }
}

/// One HTTP response as the client read it.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {:?}", self.body))
    }
}

/// One TLS connection to the device API; requests on it reuse it (HTTP/1.1 keep-alive).
pub struct DeviceConn {
    stream: TlsStream<TcpStream>,
    buffer: Vec<u8>,
}

/// Opens a TLS connection to `addr`, presenting `identity` when given; the server must show
/// the certificate whose SHA-256 is `server_fingerprint`.
pub async fn connect(
    addr: SocketAddr,
    server_fingerprint: &str,
    identity: Option<&DeviceIdentity>,
) -> std::io::Result<DeviceConn> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned {
            fingerprint: server_fingerprint.to_owned(),
            algorithms: provider.signature_verification_algorithms,
        }));
    let config = match identity {
        Some(identity) => builder
            .with_client_auth_cert(
                vec![identity.cert_der.clone()],
                PrivateKeyDer::try_from(identity.key_der.clone()).expect("device key"),
            )
            .expect("client cert"),
        None => builder.with_no_client_auth(),
    };
    let tcp = TcpStream::connect(addr).await?;
    let stream = TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").expect("name"), tcp)
        .await?;
    Ok(DeviceConn {
        stream,
        buffer: Vec::new(),
    })
}

impl DeviceConn {
    pub async fn get(&mut self, path: &str) -> std::io::Result<Answer> {
        self.request("GET", path, &[], "").await
    }

    /// Sends one request and reads its response; an error when the server closed the
    /// connection instead.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> std::io::Result<Answer> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nhost: localhost\r\ncontent-length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        self.stream.write_all(head.as_bytes()).await?;
        self.stream.write_all(body.as_bytes()).await?;
        self.stream.flush().await?;
        let head_end = loop {
            if let Some(at) = find(&self.buffer, b"\r\n\r\n") {
                break at;
            }
            self.fill().await?;
        };
        let head = String::from_utf8_lossy(&self.buffer[..head_end]).into_owned();
        self.buffer.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status code");
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        while self.buffer.len() < length {
            self.fill().await?;
        }
        let body = String::from_utf8_lossy(&self.buffer[..length]).into_owned();
        self.buffer.drain(..length);
        Ok(Answer {
            status,
            headers,
            body,
        })
    }

    async fn fill(&mut self) -> std::io::Result<()> {
        let mut chunk = [0u8; 8192];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        self.buffer.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Trusts exactly the server certificate with this SHA-256, as a device pinning the
/// fingerprint `fleet server` printed would.
#[derive(Debug)]
struct Pinned {
    fingerprint: String,
    algorithms: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl rustls::client::danger::ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if sha256_hex(end_entity.as_ref()) == self.fingerprint {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "server certificate fingerprint mismatch".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The events of `action` (e.g. `device.refused`) through the CLI, oldest first.
pub fn events(server: &super::server::TestServer, action: &str) -> Vec<serde_json::Value> {
    super::cli::Cli::against(server)
        .run(&["event", "list", "--action", action, "-o", "json"])
        .success()
        .json()
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The `device.refused` events whose reason is `reason`.
pub fn refusals(server: &super::server::TestServer, reason: &str) -> Vec<serde_json::Value> {
    events(server, "device.refused")
        .into_iter()
        .filter(|event| event["details"]["reason"] == reason)
        .collect()
}

/// A PEM certificate URL-escaped as nginx's `$ssl_client_escaped_cert` sends it.
pub fn escaped_pem(pem: &str) -> String {
    pem.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The device API's address and pinned fingerprint of a test server started with devices.
pub fn endpoint(server: &super::server::TestServer) -> (SocketAddr, String) {
    (
        server
            .device_addr
            .expect("the server has a device listener"),
        server
            .device_fingerprint
            .clone()
            .expect("the server has a device certificate"),
    )
}

/// Pings the device API on a new connection as `identity`.
pub async fn ping_as(
    server: &super::server::TestServer,
    identity: Option<&DeviceIdentity>,
) -> Answer {
    let (addr, fingerprint) = endpoint(server);
    let mut conn = connect(addr, &fingerprint, identity)
        .await
        .expect("connect");
    conn.get(fleet::api::device_api::PING_PATH)
        .await
        .expect("ping")
}

/// A replica with the device API, serving the deployment of `data_dir` in this run.
pub struct DeviceReplica {
    pub url: String,
    pub device_addr: SocketAddr,
    pub fingerprint: String,
    /// The admin key, when this replica bootstrapped the database.
    pub api_key: Option<String>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Starts a replica (admin and device API on 127.0.0.1:0) in the caller's runtime; replicas
/// of one `data_dir` share its database and its self-signed device certificate.
pub async fn start_replica(data_dir: &std::path::Path) -> DeviceReplica {
    let mut config = fleet::server::ServerConfig::new(data_dir);
    config.device_tls = Some(fleet::server::DeviceTls::SelfSigned);
    backend::apply(&mut config);
    let (server, api_key) = fleet::server::Server::open(config)
        .await
        .expect("open a replica");
    let bind = || tokio::net::TcpListener::bind("127.0.0.1:0");
    let admin = bind().await.expect("bind");
    let devices = bind().await.expect("bind");
    let url = format!("http://{}", admin.local_addr().expect("addr"));
    let device_addr = devices.local_addr().expect("addr");
    let fingerprint = server
        .device_tls_fingerprint()
        .expect("device TLS")
        .to_owned();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server.serve_with_devices(admin, Some(devices), async {
        let _ = stopped.await;
    }));
    DeviceReplica {
        url,
        device_addr,
        fingerprint,
        api_key,
        _stop: stop,
    }
}
