//! How configurations print: the document as indented JSON for people (what they edit and
//! compare), the API object for `-o json`/`ndjson`, and the revision for `-o id`; revisions
//! and diffs as tables.

use serde::Serialize;

use super::table::{table_time, write_table};
use super::{OutputFormat, Printer, json_error};
use crate::api::config::{ChangeKind, Config, ConfigDiff, ConfigRevisionPage, ConfigSchema};
use crate::error::Error;

impl Printer {
    fn api_object<T: Serialize>(&self, value: &T) -> Result<Option<String>, Error> {
        Ok(match self.format {
            OutputFormat::Json => {
                Some(serde_json::to_string_pretty(value).map_err(json_error)? + "\n")
            }
            OutputFormat::Ndjson => Some(serde_json::to_string(value).map_err(json_error)? + "\n"),
            _ => None,
        })
    }

    /// A configuration document: for people its JSON alone, with what it is on stderr.
    pub fn config(&self, config: &Config) -> Result<(), Error> {
        if let Some(text) = self.api_object(config)? {
            return self.raw(text.as_bytes());
        }
        if self.format == OutputFormat::Id {
            let revision = config.effective_revision.unwrap_or(config.revision);
            return self.raw(format!("{revision}\n").as_bytes());
        }
        let text = serde_json::to_string_pretty(&config.document).map_err(json_error)? + "\n";
        self.status(&describe(config));
        self.raw(text.as_bytes())
    }

    /// A page of revisions, newest first.
    pub fn config_revisions(&self, page: &ConfigRevisionPage) -> Result<(), Error> {
        match self.format {
            OutputFormat::Json => {
                let text = serde_json::to_string_pretty(&page.data).map_err(json_error)? + "\n";
                return self.raw(text.as_bytes());
            }
            OutputFormat::Ndjson => {
                let mut text = String::new();
                for revision in &page.data {
                    text += &(serde_json::to_string(revision).map_err(json_error)? + "\n");
                }
                return self.raw(text.as_bytes());
            }
            OutputFormat::Id => {
                let text: String = page
                    .data
                    .iter()
                    .map(|r| format!("{}\n", r.revision))
                    .collect();
                return self.raw(text.as_bytes());
            }
            OutputFormat::Table | OutputFormat::Wide => {}
        }
        let rows = page
            .data
            .iter()
            .map(|r| {
                vec![
                    r.revision.to_string(),
                    table_time(r.created_at),
                    r.key_name.clone().unwrap_or_else(|| "-".into()),
                    if r.message.is_empty() {
                        "-".into()
                    } else {
                        r.message.clone()
                    },
                ]
            })
            .collect();
        let headers = ["REVISION", "CREATED", "BY", "MESSAGE"];
        let text = write_table(&headers, rows, true, &mut Vec::new(), self.table);
        self.raw(text.as_bytes())
    }

    /// The changes between two revisions: `+ path value`, `- path value`, `~ path old -> new`.
    pub fn config_diff(&self, diff: &ConfigDiff) -> Result<(), Error> {
        if let Some(text) = self.api_object(diff)? {
            return self.raw(text.as_bytes());
        }
        if self.format == OutputFormat::Id {
            return self.raw(format!("{}\n", diff.to).as_bytes());
        }
        let show = |v: &Option<serde_json::Value>| {
            v.as_ref()
                .map_or_else(|| "-".to_owned(), serde_json::Value::to_string)
        };
        let mut text = String::new();
        for change in &diff.changes {
            let line = match change.change {
                ChangeKind::Added => format!("+ {} {}", change.path, show(&change.new)),
                ChangeKind::Removed => format!("- {} {}", change.path, show(&change.old)),
                ChangeKind::Changed => format!(
                    "~ {} {} -> {}",
                    change.path,
                    show(&change.old),
                    show(&change.new)
                ),
            };
            text += &super::escape::visible(&line);
            text.push('\n');
        }
        self.status(&format!(
            "revision {} -> {}: {}",
            diff.from,
            diff.to,
            super::wording::count_of(diff.changes.len() as u64, "change", "changes")
        ));
        self.raw(text.as_bytes())
    }

    /// A product's configuration schema: for people the schema alone.
    pub fn config_schema(&self, schema: &ConfigSchema) -> Result<(), Error> {
        if let Some(text) = self.api_object(schema)? {
            return self.raw(text.as_bytes());
        }
        if self.format == OutputFormat::Id {
            return self.raw(format!("{}\n", schema.revision).as_bytes());
        }
        match &schema.schema {
            Some(value) => {
                self.status(&format!(
                    "configuration schema of product `{}`, revision {}",
                    schema.product, schema.revision
                ));
                let text = serde_json::to_string_pretty(value).map_err(json_error)? + "\n";
                self.raw(text.as_bytes())
            }
            None => {
                self.status(&format!(
                    "product `{}` has no configuration schema: any JSON object is accepted",
                    schema.product
                ));
                Ok(())
            }
        }
    }
}

/// "product `p`, revision 3, by ci at 2026-03-01 12:00" and the like.
pub fn describe(config: &Config) -> String {
    let what = match (&config.device, &config.cohort) {
        (Some(device), _) => format!("device `{device}`"),
        (None, Some(cohort)) => format!("cohort `{cohort}` of product `{}`", config.product),
        (None, None) => format!("product `{}`", config.product),
    };
    let mut text = if config.effective {
        format!("effective configuration of {what}")
    } else {
        format!("configuration of {what}, revision {}", config.revision)
    };
    if let Some(revision) = config.effective_revision {
        text += &format!(" (devices report revision {revision})");
    }
    if !config.effective {
        if let (Some(at), Some(by)) = (config.updated_at, &config.updated_by) {
            text += &format!(", by {by} at {}", table_time(at));
        }
    }
    text
}
