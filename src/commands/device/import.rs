//! `fleet device import`: a CSV file of devices into one product, in one request (or, when
//! asked, in chunks of rows, one request and one transaction each).

use std::ops::Range;
use std::path::PathBuf;

use clap::Args;

use super::import_chunks;
use super::import_csv::CsvFile;
use super::import_report;
use crate::api::bulk::MAX_SELECTED;
use crate::api::{BulkListing, BulkResult, ImportDevices};
use crate::client::ApiClient;
use crate::commands::bulk::{self, Operation, devices};
use crate::context::Context;
use crate::error::{Error, Result};

/// Import devices from a CSV file into a product, all or none. Every row is checked first and
/// all bad rows are reported with their line numbers. Importing the same file again changes
/// nothing: identical devices are skipped.
#[derive(Debug, Args)]
#[command(
    after_help = "The file has a header row. Columns: identifier (required), description,
tags (`;`-separated key:value), target, cohort (of --product; overrides
--cohort). Empty cells leave a value unset (or, with --update, as it is).

Examples:
  fleet device import factory-batch-7.csv --product indoor-sensor --dry-run
  fleet device import factory-batch-7.csv -P indoor-sensor --cohort beta --yes
  fleet device import all-factories.csv -P indoor-sensor --chunk-rows 50000 -y

An identifier that exists with other values is a conflict (exit 7, nothing
imported) unless --update is given and the device is in the same product.

One request takes at most 100000 rows and the service's body limit
(64 MiB by default). For a larger file, split it (keeping the header line
in each part), or pass --chunk-rows N: every chunk is then checked (a dry
run) before any is imported, but each is imported in its own transaction,
so a failure part way (exit 5) leaves the earlier chunks imported; running
the same command again is safe and imports the rest."
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

    /// Send at most N rows per request, each chunk imported in its own transaction (not all or
    /// nothing; see below)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=MAX_SELECTED as u64))]
    pub chunk_rows: Option<u64>,
}

/// One import request: the settings, and which rows of the file it carries.
pub(super) struct Import<'a> {
    pub file: &'a CsvFile,
    pub head: ImportDevices,
    pub rows: Range<usize>,
}

impl Operation for Import<'_> {
    async fn call(
        &self,
        client: &ApiClient,
        dry_run: bool,
        list: BulkListing,
    ) -> Result<BulkResult> {
        let head = ImportDevices {
            dry_run,
            list,
            ..self.head.clone()
        };
        client
            .bulk()
            .import(&head, || self.file.read(self.rows.clone()))
            .await
            .map_err(|err| split_hint(err, self.file, self.rows.len()))
    }

    fn action(&self, count: u64) -> String {
        format!(
            "import {} into product `{}`",
            devices(count),
            self.head.product
        )
    }

    fn done(&self, result: &BulkResult) -> String {
        format!(
            "imported {} into product `{}`: {} created, {} updated, {} unchanged",
            devices(result.changed),
            self.head.product,
            result.created,
            result.updated,
            result.unchanged
        )
    }

    fn nothing(&self) -> String {
        "the file has no rows; nothing imported".to_owned()
    }
}

/// How to split `file` into parts of at most `rows` rows, each with the header line.
fn split_advice(file: &CsvFile, rows: usize) -> String {
    let name = file.name();
    let shown = if name == "stdin" { "FILE.csv" } else { name };
    format!(
        "split {name} into files of at most {rows} rows, each starting with the header line, e.g. \
         `tail -n +2 {shown} | split -l {rows} - part- && for p in part-??; do {{ head -n 1 {shown}; \
         cat $p; }} > $p.csv; done` (rows with line breaks inside quotes need a CSV-aware tool), \
         or pass --chunk-rows {rows} to import it in chunks, each in its own transaction"
    )
}

/// A 413 (the body is over the service's limit) gets the advice to split, at half the rows.
fn split_hint(err: Error, file: &CsvFile, rows: usize) -> Error {
    if err.http_status == Some(413) {
        err.hint(split_advice(file, rows.div_ceil(2).max(1)))
    } else {
        err
    }
}

pub async fn run(ctx: &Context, args: ImportArgs) -> Result<()> {
    let file = CsvFile::open(&args.file)?;
    let total = file.row_count();
    if args.chunk_rows.is_none() && total > MAX_SELECTED {
        return Err(Error::usage(format!(
            "{} has {total} rows; one import takes at most {MAX_SELECTED}",
            file.name()
        ))
        .hint(split_advice(&file, MAX_SELECTED)));
    }
    let head = ImportDevices {
        product: args.product,
        cohort: args.cohort,
        devices: Vec::new(),
        update: args.update,
        dry_run: false,
        list: BulkListing::default(),
    };
    if !file.malformed().is_empty() {
        return Err(import_report::malformed_file(ctx, &file, head).await);
    }
    let chunk = args
        .chunk_rows
        .map_or(MAX_SELECTED, |n| usize::try_from(n).unwrap_or(MAX_SELECTED));
    if total <= chunk {
        let op = Import {
            file: &file,
            head,
            rows: 0..total,
        };
        return bulk::execute(ctx, &op, args.dry_run).await;
    }
    let chunks: Vec<Range<usize>> = (0..total)
        .step_by(chunk)
        .map(|start| start..total.min(start + chunk))
        .collect();
    import_chunks::run(ctx, &file, head, &chunks, args.dry_run).await
}
