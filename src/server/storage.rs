//! Where a deployment keeps its state, chosen at start-up: the database (SQLite in the data dir
//! by default, or PostgreSQL) and the firmware blob store (`<data-dir>/blobs` by default, or an
//! S3-compatible bucket). The service and the offline tools open both through here.

use std::path::{Path, PathBuf};

use super::{DB_FILE, blobs::Blobs, store};

pub use super::blobs::s3::S3Settings;

/// The database of a deployment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Database {
    /// `<data-dir>/fleet.db`: one machine, nothing to run beside the service.
    #[default]
    Sqlite,
    /// A PostgreSQL server shared by any number of replicas.
    Postgres {
        /// `postgres://user:password@host:port/database`
        url: String,
        /// The schema to use instead of `public` (created when missing): one database can hold
        /// several deployments, as the tests' servers do.
        schema: Option<String>,
    },
}

/// The firmware blob store of a deployment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum BlobStore {
    /// `<data-dir>/blobs`
    #[default]
    Local,
    /// An S3-compatible bucket shared by any number of replicas.
    S3(S3Settings),
}

/// A deployment's database and blob store, and the data dir that holds the local ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Storage {
    pub data_dir: PathBuf,
    pub database: Database,
    pub blob_store: BlobStore,
}

impl Storage {
    /// SQLite and local blobs under `data_dir`: the zero-configuration deployment.
    pub fn local(data_dir: impl Into<PathBuf>) -> Storage {
        Storage {
            data_dir: data_dir.into(),
            database: Database::Sqlite,
            blob_store: BlobStore::Local,
        }
    }

    /// Whether the database already exists (the offline tools refuse to create one).
    pub(crate) fn database_exists(&self) -> bool {
        match &self.database {
            Database::Sqlite => self.sqlite_path().is_file(),
            Database::Postgres { .. } => true,
        }
    }

    /// Where the database is, for messages (a PostgreSQL URL without its password).
    pub fn describe_database(&self) -> String {
        match &self.database {
            Database::Sqlite => self.sqlite_path().display().to_string(),
            Database::Postgres { url, schema } => {
                let url = store::postgres::redact(url);
                match schema {
                    Some(schema) => format!("{url} (schema {schema})"),
                    None => url,
                }
            }
        }
    }

    /// Where firmware blobs are, for messages.
    pub fn describe_blobs(&self) -> String {
        match &self.blob_store {
            BlobStore::Local => self
                .data_dir
                .join(super::blobs::BLOBS_DIR)
                .display()
                .to_string(),
            BlobStore::S3(s3) => {
                let prefix = s3
                    .prefix
                    .as_deref()
                    .map(|p| format!("/{p}"))
                    .unwrap_or_default();
                let endpoint = s3.endpoint.as_deref().unwrap_or("AWS");
                format!("s3://{}{prefix} at {endpoint}", s3.bucket)
            }
        }
    }

    fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join(DB_FILE)
    }

    /// Opens (creating and migrating as needed) the database.
    pub(crate) async fn open_database(&self) -> anyhow::Result<store::Pool> {
        match &self.database {
            Database::Sqlite => store::open(&self.sqlite_path()).await,
            Database::Postgres { url, schema } => {
                store::postgres::open(url, schema.as_deref()).await
            }
        }
    }

    /// Opens the blob store (creating the local directory when missing).
    pub(crate) fn open_blobs(&self) -> anyhow::Result<Blobs> {
        match &self.blob_store {
            BlobStore::Local => Blobs::local(&self.data_dir),
            BlobStore::S3(settings) => Blobs::s3(settings),
        }
    }
}

impl From<&Path> for Storage {
    fn from(data_dir: &Path) -> Storage {
        Storage::local(data_dir)
    }
}

impl From<&PathBuf> for Storage {
    fn from(data_dir: &PathBuf) -> Storage {
        Storage::local(data_dir.as_path())
    }
}
