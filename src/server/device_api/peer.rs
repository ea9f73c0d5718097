//! A device connection's client certificate, as its TLS handshake left it, and the identity
//! resolved from it: resolved once per connection, then reused while the auth epoch says
//! nothing that identity rests on has changed.

use std::sync::{Mutex, MutexGuard};

use rustls::pki_types::CertificateDer;
use sha2::{Digest as _, Sha256};

use super::principal::DevicePrincipal;
use crate::server::hex::hex;

/// Attached to every request of a device connection by its handshake.
pub struct PeerCertificate {
    /// The client's chain, leaf first; empty when the client sent none.
    pub chain: Vec<CertificateDer<'static>>,
    /// Lowercase hex SHA-256 of the leaf's DER.
    pub fingerprint: Option<String>,
    /// The device this connection was admitted as, and the epoch it was resolved under.
    resolved: Mutex<Option<(i64, DevicePrincipal)>>,
}

impl PeerCertificate {
    pub fn from_handshake(chain: Vec<CertificateDer<'static>>) -> Self {
        let fingerprint = chain.first().map(|leaf| fingerprint(leaf.as_ref()));
        PeerCertificate {
            chain,
            fingerprint,
            resolved: Mutex::new(None),
        }
    }

    /// The device this connection was admitted as, if that was under `epoch`.
    pub fn resolved_under(&self, epoch: i64) -> Option<DevicePrincipal> {
        match &*self.lock() {
            Some((at, principal)) if *at == epoch => Some(principal.clone()),
            _ => None,
        }
    }

    pub fn remember(&self, epoch: i64, principal: &DevicePrincipal) {
        *self.lock() = Some((epoch, principal.clone()));
    }

    fn lock(&self) -> MutexGuard<'_, Option<(i64, DevicePrincipal)>> {
        self.resolved
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Lowercase hex SHA-256 of a certificate's DER: the fingerprint the database keys on.
pub fn fingerprint(der: &[u8]) -> String {
    hex(&Sha256::digest(der))
}
