//! `fleet device import --chunk-rows N`: a file too large for one request, sent as several.
//! Every chunk is checked (a dry run) before any is imported, so bad rows anywhere stop the
//! import before it starts; then the chunks are imported one by one, each in its own
//! transaction, and a failure says exactly which chunks landed (exit 5).

use std::ops::Range;

use super::import::Import;
use super::import_csv::CsvFile;
use crate::api::bulk::SAMPLE_MAX;
use crate::api::{BulkListing, BulkResult, ImportDevices};
use crate::commands::bulk::{self, Operation, devices, print_plan, print_result};
use crate::context::Context;
use crate::error::{Error, ErrorKind, Result};
use crate::prompt;

/// Adds one chunk's result to the result of the whole file; with `list: sample` the lists
/// stay a sample.
fn add(total: &mut BulkResult, part: BulkResult, list: BulkListing) {
    total.matched += part.matched;
    total.changed += part.changed;
    total.unchanged += part.unchanged;
    total.created += part.created;
    total.updated += part.updated;
    total.refused += part.refused;
    let most = if list == BulkListing::Sample {
        SAMPLE_MAX
    } else {
        usize::MAX
    };
    let room = most.saturating_sub(total.refusals.len());
    total.refusals.extend(part.refusals.into_iter().take(room));
    let room = most.saturating_sub(total.devices.len());
    total.devices.extend(part.devices.into_iter().take(room));
    total.device_ids.extend(part.device_ids);
}

pub async fn run(
    ctx: &Context,
    file: &CsvFile,
    head: ImportDevices,
    chunks: &[Range<usize>],
    dry_run: bool,
) -> Result<()> {
    let client = ctx.client()?;
    let count = chunks.len();
    let list = bulk::listing(ctx.printer.format());
    // The check before importing needs only counts and refusals, unless it is the answer.
    let check_list = if dry_run { list } else { BulkListing::Sample };
    let op = |rows: &Range<usize>| Import {
        file,
        head: head.clone(),
        rows: rows.clone(),
    };
    let whole = op(&(0..file.row_count()));
    let mut plan = BulkResult {
        dry_run: true,
        ..BulkResult::default()
    };
    for (i, rows) in chunks.iter().enumerate() {
        let checked = op(rows).call(client, true, check_list).await;
        add(
            &mut plan,
            checked.map_err(|err| partly_applied(err, file, chunks, i, 0))?,
            check_list,
        );
    }
    if dry_run {
        return print_plan(ctx, &whole, &plan);
    }
    if plan.refused > 0 {
        print_plan(ctx, &whole, &plan)?;
        return Err(Error::new(
            ErrorKind::Rejected,
            format!(
                "{} of {} would be refused; no chunk was imported",
                devices(plan.refused),
                file.name()
            ),
        ));
    }
    if plan.changed == 0 {
        ctx.printer.status(&bulk::all_as_requested(plan.matched));
        let unchanged = BulkResult {
            matched: plan.matched,
            unchanged: plan.matched,
            ..BulkResult::default()
        };
        return print_result(ctx, &unchanged);
    }
    prompt::confirm(
        ctx,
        &format!(
            "{} in {count} chunks, each in its own transaction",
            whole.action(plan.changed)
        ),
    )?;
    let mut landed = BulkResult::default();
    for (i, rows) in chunks.iter().enumerate() {
        let result = match op(rows).call(client, false, list).await {
            Ok(result) => result,
            Err(err) => {
                // What landed is still reported, so a script sees it.
                print_result(ctx, &landed)?;
                return Err(partly_applied(err, file, chunks, i, i));
            }
        };
        ctx.printer.status(&format!(
            "chunk {}/{count} ({}): {} created, {} updated, {} unchanged",
            i + 1,
            file.lines(rows),
            result.created,
            result.updated,
            result.unchanged
        ));
        add(&mut landed, result, list);
    }
    ctx.printer.status(&whole.done(&landed));
    print_result(ctx, &landed)
}

/// Chunk `failed` went wrong, when chunks before `landed` were imported and none from it on
/// (though for a connection lost after sending, chunk `failed` itself may have been).
fn partly_applied(
    err: Error,
    file: &CsvFile,
    chunks: &[Range<usize>],
    failed: usize,
    landed: usize,
) -> Error {
    let chunk = &chunks[failed];
    let detail = format!(
        "chunk {}/{} of {} ({}) failed",
        failed + 1,
        chunks.len(),
        file.name(),
        file.lines(chunk)
    );
    let mut error = if landed == 0 {
        let message = format!("{detail}, so no chunk was imported: {}", err.message);
        Error::new(err.kind, message)
    } else {
        let done = &(0..chunks[landed - 1].end);
        let which = if landed == 1 {
            "chunk 1 was".to_owned()
        } else {
            format!("chunks 1–{landed} were")
        };
        let message = format!(
            "{detail} after {which} imported ({}): {}",
            file.lines(done),
            err.message
        );
        Error::new(ErrorKind::PartlyApplied, message)
    };
    error.hints = err.hints;
    error.source = err.source;
    error.http_status = err.http_status;
    if landed == 0 {
        return error;
    }
    error.hint(
        "running the same command again is safe: rows already imported are counted as unchanged, \
         and the rest is imported",
    )
}
