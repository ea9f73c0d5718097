//! One report of everything wrong with an import file: the rows that are not rows of its shape
//! (found locally) together with what the service finds in the others (invalid values,
//! duplicates, identifiers in use), so the user fixes the file in one pass.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::import::Import;
use super::import_csv::CsvFile;
use crate::api::bulk::MAX_SELECTED;
use crate::api::{BulkListing, ImportDevices};
use crate::commands::bulk::Operation as _;
use crate::context::Context;
use crate::error::Error;

/// The error for a file with malformed rows. The well-formed rows go to the service as a dry
/// run (when one request can carry them), and its findings join the report, by line.
pub async fn malformed_file(ctx: &Context, file: &CsvFile, head: ImportDevices) -> Error {
    let mut problems: Vec<(u64, String)> = file.malformed().to_vec();
    let mut bad_rows = problems.len() as u64;
    let well_formed = file.row_count();
    let mut unchecked = None;
    if well_formed > MAX_SELECTED {
        unchecked = Some(format!(
            "the other {well_formed} rows were not checked with the service (over {MAX_SELECTED})"
        ));
    } else if well_formed > 0 {
        let client = match ctx.client() {
            Ok(client) => client,
            Err(err) => return err,
        };
        let op = Import {
            file,
            head,
            rows: 0..well_formed,
        };
        match op.call(client, true, BulkListing::Ids).await {
            Ok(plan) => {
                bad_rows += plan.refused;
                let more = plan.refused.saturating_sub(plan.refusals.len() as u64);
                let lines = lines_of(file, plan.refusals.iter().map(|r| r.device.as_str()));
                problems.extend(plan.refusals.into_iter().map(|r| {
                    let line = lines.get(&r.device).copied().unwrap_or(0);
                    (line, format!("`{}`: {}", r.device, r.reason))
                }));
                if more > 0 {
                    problems.push((0, format!("and {more} more rows naming identifiers in use")));
                }
            }
            Err(err)
                if err
                    .fields
                    .iter()
                    .any(|(field, _)| line_number(field).is_some()) =>
            {
                let found = err
                    .fields
                    .iter()
                    .filter_map(|(field, message)| Some((line_number(field)?, message.clone())));
                let before = problems.len();
                problems.extend(found);
                bad_rows += (problems.len() - before) as u64;
            }
            // The product or cohort itself is wrong, or the service is out of reach: that
            // comes first, and the malformed rows are mentioned.
            Err(err) => {
                return err.hint(format!(
                    "{} also has {} malformed {}",
                    file.name(),
                    file.malformed().len(),
                    if file.malformed().len() == 1 {
                        "row"
                    } else {
                        "rows"
                    }
                ));
            }
        }
    }
    // Problems without a line (identifiers in use, from a dry run's plan) go last.
    problems.sort_by_key(|(line, _)| if *line == 0 { u64::MAX } else { *line });
    let total = well_formed + file.malformed().len();
    let mut message = format!(
        "{}: {bad_rows} of {total} rows cannot be imported; nothing was imported",
        file.name(),
    );
    for (line, problem) in &problems {
        if *line == 0 {
            let _ = write!(message, "\n  {problem}");
        } else {
            let _ = write!(message, "\n  line {line}: {problem}");
        }
    }
    let mut err = Error::usage(message).hint("fix the rows listed and import the file again");
    if let Some(unchecked) = unchecked {
        err = err.hint(unchecked);
    }
    err
}

/// The line of each of `identifiers` in the file (the first, if one repeats).
fn lines_of<'a>(
    file: &CsvFile,
    identifiers: impl Iterator<Item = &'a str>,
) -> HashMap<String, u64> {
    let mut wanted: HashMap<String, u64> = identifiers.map(|i| (i.to_owned(), 0)).collect();
    for row in file.read(0..file.row_count()).flatten() {
        if let (Some(line), Some(slot)) = (row.line, wanted.get_mut(&row.identifier))
            && *slot == 0
        {
            *slot = line;
        }
    }
    wanted
}

/// `N` of a `line N` field.
fn line_number(field: &str) -> Option<u64> {
    field.strip_prefix("line ")?.parse().ok()
}
