//! Opaque, type-prefixed, time-ordered resource IDs (`prd_…`, `coh_…`, `dev_…`, `org_…`).
//!
//! The body is a UUIDv7 in lowercase hex, so IDs sort by creation time as plain strings; that
//! order is what keyset pagination walks.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Length of the hex body after the prefix and underscore.
const BODY_LEN: usize = 32;

/// True when `s` has the shape of an ID with `prefix` (so it is looked up as an ID, not a name).
pub fn has_id_shape(prefix: &str, s: &str) -> bool {
    s.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|body| {
            body.len() == BODY_LEN
                && body
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
}

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $prefix:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A fresh ID, later than every ID made before it by this process.
            pub fn generate() -> Self {
                $name(format!("{}_{}", $prefix, uuid::Uuid::now_v7().simple()))
            }

            /// `Some` when `s` is shaped like this kind of ID.
            pub fn parse(s: &str) -> Option<Self> {
                has_id_shape($prefix, s).then(|| $name(s.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                $name::parse(&s).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "`{s}` is not a {} ID (expected `{}_` followed by 32 hex digits)",
                        $prefix, $prefix
                    ))
                })
            }
        }

        #[cfg(feature = "server")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some(concat!("^", $prefix, "_[0-9a-f]{32}$")))
                    .into()
            }
        }

        #[cfg(feature = "server")]
        impl utoipa::ToSchema for $name {}
    };
}

id_type!(
    /// A product's ID.
    ProductId,
    "prd"
);
id_type!(
    /// A cohort's ID.
    CohortId,
    "coh"
);
id_type!(
    /// A device's ID.
    DeviceId,
    "dev"
);
id_type!(
    /// An audit event's ID.
    EventId,
    "evt"
);
id_type!(
    /// An API key's ID (not the key itself, which is a secret).
    ApiKeyId,
    "key"
);
id_type!(
    /// A firmware artifact's ID.
    ArtifactId,
    "art"
);
id_type!(
    /// An artifact version's ID.
    VersionId,
    "ver"
);
id_type!(
    /// A firmware binary's ID.
    BinaryId,
    "bin"
);
id_type!(
    /// A signing key's ID.
    SigningKeyId,
    "sgk"
);
id_type!(
    /// A bundle's ID.
    BundleId,
    "bnd"
);
id_type!(
    /// A release's ID.
    ReleaseId,
    "rel"
);
id_type!(
    /// An organization's (tenant's) ID.
    OrgId,
    "org"
);
id_type!(
    /// A product's certificate authority's ID.
    CaId,
    "ca"
);
id_type!(
    /// A device certificate's ID (registered, issued or provisioned just in time).
    DeviceCertId,
    "dcr"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_round_trip_and_sort_by_creation() {
        let first = ProductId::generate();
        let second = ProductId::generate();
        assert!(first < second, "{first} should sort before {second}");
        assert_eq!(ProductId::parse(first.as_str()), Some(first.clone()));
        assert!(first.as_str().starts_with("prd_"));
    }

    #[test]
    fn names_are_not_ids() {
        assert_eq!(ProductId::parse("indoor-sensor"), None);
        assert_eq!(ProductId::parse("prd_short"), None);
        assert_eq!(ProductId::parse(CohortId::generate().as_str()), None);
        assert_eq!(ProductId::parse("prd_"), None);
    }
}
