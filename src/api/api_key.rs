//! API keys as the API shows them: never the secret, except once in [`CreatedApiKey`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ids::{ApiKeyId, OrgId, ProductId};
use super::page::{PagedQuery, push_page_pairs};

/// What a key may do. Ordered: `read` < `write` < `admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Read everything in scope; no writes.
    Read,
    /// Create and change fleet resources in scope.
    Write,
    /// Everything, including API keys (a scoped admin: keys within its own products).
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Write => "write",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "read" => Some(Role::Read),
            "write" => Some(Role::Write),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A product a key is scoped to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ScopedProduct {
    pub id: ProductId,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub name: String,
    pub role: Role,
    /// The products the key is limited to; `null` for every product of the organization.
    pub products: Option<Vec<ScopedProduct>>,
    /// The key's first characters (`fleet_` + 8), to recognise a leaked key; `null` for keys
    /// made before prefixes were recorded.
    pub prefix: Option<String>,
    pub created_at: DateTime<Utc>,
    /// ID of the key that created this one; `null` for bootstrap and offline recovery.
    pub created_by: Option<ApiKeyId>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Updated at most about once a minute.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// `POST /v1/api-keys`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    /// 1–64 characters, no surrounding blanks, no control characters and no invisible formatting
    /// characters (Unicode category Cf: bidirectional overrides and isolates, zero-width spaces
    /// and joiners, the byte-order mark, … — the pattern lists those of the Basic Multilingual
    /// Plane; the few above it, such as tag characters U+E0000–U+E007F, are refused too).
    #[cfg_attr(
        feature = "server",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = "^[^\\u0000-\\u0020\\u007F-\\u00A0\\u00AD\\u0600-\\u0605\\u061C\\u06DD\\u070F\\u0890\\u0891\\u08E2\\u1680\\u180E\\u2000-\\u200F\\u2028-\\u202F\\u205F-\\u2064\\u2066-\\u206F\\u3000\\uFEFF\\uFFF9-\\uFFFB]([^\\u0000-\\u001F\\u007F-\\u009F\\u00AD\\u0600-\\u0605\\u061C\\u06DD\\u070F\\u0890\\u0891\\u08E2\\u180E\\u200B-\\u200F\\u202A-\\u202E\\u2060-\\u2064\\u2066-\\u206F\\uFEFF\\uFFF9-\\uFFFB]*[^\\u0000-\\u0020\\u007F-\\u00A0\\u00AD\\u0600-\\u0605\\u061C\\u06DD\\u070F\\u0890\\u0891\\u08E2\\u1680\\u180E\\u2000-\\u200F\\u2028-\\u202F\\u205F-\\u2064\\u2066-\\u206F\\u3000\\uFEFF\\uFFF9-\\uFFFB])?$"
        )
    )]
    pub name: String,
    pub role: Role,
    /// Product names or IDs; absent or `null` for every product (not allowed for scoped admins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub products: Option<Vec<String>>,
    /// When the key stops working; absent for never. Must be in the future (422 otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

/// The answer to a create: the key and, this once, its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// The API key itself. Shown only in this response; the service keeps only its hash.
    pub secret: String,
}

/// `GET /v1/api-keys?revoked=&limit=&cursor=`; results in creation order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "server", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ApiKeyListQuery {
    /// Include revoked keys (default: false).
    #[serde(default)]
    pub revoked: Option<bool>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl PagedQuery for ApiKeyListQuery {
    fn set_page(&mut self, limit: Option<u32>, cursor: Option<String>) {
        self.limit = limit;
        self.cursor = cursor;
    }

    fn to_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(revoked) = self.revoked {
            pairs.push(("revoked", revoked.to_string()));
        }
        push_page_pairs(&mut pairs, self.limit, &self.cursor);
        pairs
    }
}

/// `GET /v1/whoami`: the key that made the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Whoami {
    pub key_id: ApiKeyId,
    pub key_name: String,
    pub role: Role,
    /// `null`: every product of the organization.
    pub products: Option<Vec<ScopedProduct>>,
    pub org_id: OrgId,
    pub org_name: String,
    pub expires_at: Option<DateTime<Utc>>,
}
