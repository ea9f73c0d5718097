//! Turning what went wrong on a device connection into CLI errors, whose kinds are exit codes:
//! a refused connection or a timeout is the network (8), a certificate the server refused —
//! by a TLS alert or a 401/403 with its reason — is authentication (4), 404 is not found (6),
//! other 4xx rejected (7), 5xx unavailable (8).

use std::error::Error as StdError;

use hyper::StatusCode;

use crate::api::ErrorBody;
use crate::error::{Error, ErrorKind};

/// The first rustls error in `err`'s cause chain, looking inside I/O errors too (whose
/// `source()` skips the error they wrap).
fn rustls_cause<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a rustls::Error> {
    let mut current = Some(err);
    while let Some(err) = current {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(tls) = rustls_cause(inner)
        {
            return Some(tls);
        }
        current = err.source();
    }
    None
}

fn io_cause<'a>(err: &'a (dyn StdError + 'static)) -> Option<&'a std::io::Error> {
    let mut current = Some(err);
    while let Some(err) = current {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        current = err.source();
    }
    None
}

/// A failure to connect, handshake or exchange a request with the device API at `at`.
pub(super) fn transport(
    identifier: &str,
    at: &str,
    err: Box<dyn StdError + Send + Sync + 'static>,
) -> Error {
    if let Some(tls) = rustls_cause(err.as_ref()) {
        return match tls {
            rustls::Error::AlertReceived(alert) => Error::new(
                ErrorKind::Auth,
                format!(
                    "the device API at {at} refused the certificate of device `{identifier}` (TLS alert: {alert:?})"
                ),
            )
            .hint("the service log says why; check that the device's CA is registered and enabled for its product (`fleet ca list`)"),
            rustls::Error::InvalidCertificate(_) | rustls::Error::General(_) => Error::new(
                ErrorKind::Auth,
                format!("device `{identifier}` does not trust the server at {at}: {tls}"),
            )
            .hint("pin the server's certificate with --server-fingerprint (printed by `fleet server --device-listen`), or name its CA with --server-ca"),
            _ => Error::new(
                ErrorKind::Unavailable,
                format!("TLS with the device API at {at} failed for device `{identifier}`: {tls}"),
            ),
        };
    }
    // EMFILE: each simulated device holds a socket, so the soft limit runs out first.
    if io_cause(err.as_ref()).and_then(std::io::Error::raw_os_error) == Some(24) {
        return Error::new(
            ErrorKind::Failure,
            format!("device `{identifier}` could not open a connection: too many open files"),
        )
        .hint("every simulated device holds one socket: raise the open-file limit, e.g. `ulimit -n 65536`, or lower --count");
    }
    let message = match io_cause(err.as_ref()).map(std::io::Error::kind) {
        Some(std::io::ErrorKind::ConnectionRefused) => {
            return Error::new(
                ErrorKind::Unavailable,
                format!("could not connect to the device API at {at}: connection refused"),
            )
            .hint("is `fleet server --device-listen ADDR` running there? --device-url names that listener, not the admin API")
            .with_source(anyhow::Error::from_boxed(err));
        }
        Some(std::io::ErrorKind::TimedOut) => {
            format!("the device API at {at} did not answer in time")
        }
        _ => format!("the connection of device `{identifier}` to the device API at {at} failed"),
    };
    Error::new(ErrorKind::Unavailable, message).with_source(anyhow::Error::from_boxed(err))
}

/// A request answered with a failing status; `body` is the answer's bytes.
pub(super) fn status(identifier: &str, what: &str, status: StatusCode, body: &[u8]) -> Error {
    let parsed = serde_json::from_slice::<ErrorBody>(body).ok();
    let reason = parsed
        .as_ref()
        .map(|b| b.message.clone())
        .unwrap_or_else(|| {
            String::from_utf8_lossy(body)
                .trim()
                .chars()
                .take(200)
                .collect()
        });
    let kind = match status.as_u16() {
        401 | 403 => ErrorKind::Auth,
        404 => ErrorKind::NotFound,
        400..=499 => ErrorKind::Rejected,
        _ => ErrorKind::Unavailable,
    };
    let detail = if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    };
    let mut err = Error::new(
        kind,
        format!(
            "{what} for device `{identifier}` failed with HTTP {}{detail}",
            status.as_u16()
        ),
    );
    err.http_status = Some(status.as_u16());
    if let Some(hint) = parsed.and_then(|b| b.hint) {
        err = err.hint(hint);
    }
    err
}

#[cfg(test)]
mod tests {
    use super::{status, transport};
    use crate::error::ErrorKind;
    use hyper::StatusCode;

    #[test]
    fn a_refused_connection_is_the_network() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let err = transport("sim-0000", "127.0.0.1:1", Box::new(io));
        assert_eq!(err.kind, ErrorKind::Unavailable);
        assert!(
            err.message.contains("connection refused"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_tls_alert_inside_an_io_error_is_a_refused_certificate() {
        let tls = rustls::Error::AlertReceived(rustls::AlertDescription::BadCertificate);
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        let err = transport("sim-0000", "127.0.0.1:1", Box::new(io));
        assert_eq!(err.kind, ErrorKind::Auth);
        assert!(
            err.message.contains("refused the certificate"),
            "{}",
            err.message
        );
    }

    #[test]
    fn a_refusal_by_status_carries_the_servers_reason() {
        let body = br#"{"code":"unauthorized","message":"certificate revoked: key compromise","fields":[]}"#;
        let err = status("sim-0000", "check-in", StatusCode::UNAUTHORIZED, body);
        assert_eq!(err.kind, ErrorKind::Auth);
        assert!(
            err.message.contains("certificate revoked: key compromise"),
            "{}",
            err.message
        );
        assert_eq!(
            status("d", "x", StatusCode::NOT_FOUND, b"").kind,
            ErrorKind::NotFound
        );
        assert_eq!(
            status("d", "x", StatusCode::BAD_GATEWAY, b"").kind,
            ErrorKind::Unavailable
        );
    }
}
