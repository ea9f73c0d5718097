//! `fleet device import`: a CSV file of devices into one product, in one request.

use std::path::PathBuf;

use clap::Args;

use crate::api::{BulkResult, ImportDevices, ImportRow};
use crate::client::ApiClient;
use crate::commands::bulk::selection::{read_source, source_name};
use crate::commands::bulk::{self, Operation, devices};
use crate::context::Context;
use crate::error::{Error, Result};

/// Import devices from a CSV file into a product, all or none. Every row is checked first and
/// all bad rows are reported with their line numbers. Importing the same file again changes
/// nothing: identical devices are skipped.
#[derive(Debug, Args)]
#[command(
    after_help = "The file has a header row. Columns: identifier (required), description, tags
(`;`-separated key:value), target, cohort (of --product; overrides --cohort). Empty cells
leave a value unset (or, with --update, as it is).

Examples:
  fleet device import factory-batch-7.csv --product indoor-sensor --dry-run
  fleet device import factory-batch-7.csv --product indoor-sensor --cohort beta --yes

An identifier that exists with other values is a conflict (exit 7, nothing imported) unless
--update is given and the device is in the same product."
)]
pub struct ImportArgs {
    /// CSV file (`-` for stdin)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Product to import into (name or ID)
    #[arg(long, short = 'P')]
    pub product: String,

    /// Cohort of that product for rows that name none
    #[arg(long, short = 'c')]
    pub cohort: Option<String>,

    /// Overwrite existing devices of the product whose values differ from the file's
    #[arg(long)]
    pub update: bool,

    /// Check the file and show what would happen; change nothing
    #[arg(long)]
    pub dry_run: bool,
}

const COLUMNS: [&str; 5] = ["identifier", "description", "tags", "target", "cohort"];

/// Reads the CSV into rows; file-level problems (no header, unknown columns, broken quoting)
/// are usage errors listing every bad line. Field values are checked by the service.
fn parse_csv(text: &str, source: &str) -> Result<Vec<ImportRow>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|err| Error::usage(format!("{source}: could not read the header row: {err}")))?
        .clone();
    let position = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    if let Some(unknown) = headers
        .iter()
        .find(|h| !COLUMNS.iter().any(|c| h.eq_ignore_ascii_case(c)))
    {
        return Err(
            Error::usage(format!("{source}: unknown column `{unknown}`"))
                .hint(format!("the columns are: {}", COLUMNS.join(", "))),
        );
    }
    let Some(identifier) = position("identifier") else {
        return Err(
            Error::usage(format!("{source}: the header has no `identifier` column"))
                .hint("the first line names the columns, e.g. `identifier,tags,target`"),
        );
    };
    let [description, tags, target, cohort] =
        ["description", "tags", "target", "cohort"].map(position);
    let mut rows = Vec::new();
    let mut bad = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                bad.push(err.to_string());
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        let cell = |index: Option<usize>| {
            index
                .and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        rows.push(ImportRow {
            line: Some(line),
            identifier: cell(Some(identifier)).unwrap_or_default(),
            description: cell(description),
            tags: cell(tags).map(|t| {
                t.split(';')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect()
            }),
            target: cell(target),
            cohort: cell(cohort),
        });
    }
    if !bad.is_empty() {
        return Err(Error::usage(format!(
            "{source} is not valid CSV:\n  {}",
            bad.join("\n  ")
        )));
    }
    Ok(rows)
}

struct Import {
    body: ImportDevices,
}

impl Operation for Import {
    async fn call(&self, client: &ApiClient, dry_run: bool) -> Result<BulkResult> {
        let body = ImportDevices {
            dry_run,
            ..self.body.clone()
        };
        client.bulk().import(&body).await
    }

    fn action(&self, count: u64) -> String {
        format!(
            "import {} into product `{}`",
            devices(count),
            self.body.product
        )
    }

    fn done(&self, result: &BulkResult) -> String {
        format!(
            "imported {} into product `{}`: {} created, {} updated, {} unchanged",
            devices(result.changed),
            self.body.product,
            result.created,
            result.updated,
            result.unchanged
        )
    }

    fn nothing(&self) -> String {
        "the file has no rows; nothing imported".to_owned()
    }
}

pub async fn run(ctx: &Context, args: ImportArgs) -> Result<()> {
    let source = source_name(&args.file);
    let rows = parse_csv(&read_source(&args.file)?, &source)?;
    let op = Import {
        body: ImportDevices {
            product: args.product,
            cohort: args.cohort,
            devices: rows,
            update: args.update,
            dry_run: false,
        },
    };
    bulk::execute(ctx, &op, args.dry_run).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_in_any_order_with_line_numbers() {
        let text = "tags,identifier,target\n\"site:a;tier:1\",sn-1,\n,sn-2,armv7\n";
        let rows = parse_csv(text, "f.csv").unwrap_or_default();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, Some(2));
        assert_eq!(rows[0].tags, Some(vec!["site:a".into(), "tier:1".into()]));
        assert_eq!(rows[0].target, None);
        assert_eq!(rows[1].identifier, "sn-2");
        assert_eq!(rows[1].tags, None);
        assert_eq!(rows[1].target.as_deref(), Some("armv7"));
    }

    #[test]
    fn unknown_column_and_missing_identifier_are_refused() {
        assert!(parse_csv("identifier,colour\nsn-1,red\n", "f").is_err());
        assert!(parse_csv("description\nx\n", "f").is_err());
    }
}
