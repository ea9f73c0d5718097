//! What every bulk command shares: the selection flags, and one flow — preview (`--dry-run`
//! stops there), confirm with the count, apply in one request, then a summary on stderr and
//! the result on stdout in the chosen `-o` format: the whole result object (`json`), the
//! affected devices one per line (`ndjson`) or their IDs (`id`), or a preview table.

pub mod selection;

use crate::api::{BulkListing, BulkResult, CohortId, Device, ProductId};
use crate::client::ApiClient;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::output::OutputFormat;
use crate::prompt;

/// One bulk command's request and wording.
pub(crate) trait Operation {
    /// Sends the request, as a dry run or for real, asking for the devices per `list`.
    async fn call(
        &self,
        client: &ApiClient,
        dry_run: bool,
        list: BulkListing,
    ) -> Result<BulkResult>;
    /// What the command does to `count` devices, e.g. "move 3 devices to product `gw`".
    fn action(&self, count: u64) -> String;
    /// The line printed after applying.
    fn done(&self, result: &BulkResult) -> String;
    /// Said when nothing was selected.
    fn nothing(&self) -> String {
        "no devices matched the selection; nothing changed".to_owned()
    }
    /// Added to the confirmation question.
    fn caution(&self) -> Option<&'static str> {
        None
    }
}

pub use crate::output::wording::devices;
use crate::output::wording::is_or_are;

/// "all 3 devices are already as requested", "the device is already as requested".
pub(crate) fn all_as_requested(matched: u64) -> String {
    if matched == 1 {
        "the device is already as requested; nothing changed".to_owned()
    } else {
        format!(
            "all {} {} already as requested; nothing changed",
            devices(matched),
            is_or_are(matched)
        )
    }
}

/// The product's name when the user gave its ID (`prd_…`), for messages; otherwise, or when it
/// cannot be looked up (the operation itself then says why), the text as given.
pub(crate) async fn product_name(ctx: &Context, given: &str) -> String {
    if ProductId::parse(given).is_none() {
        return given.to_owned();
    }
    match ctx.client() {
        Ok(client) => client
            .products()
            .get(given)
            .await
            .map_or_else(|_| given.to_owned(), |product| product.name),
        Err(_) => given.to_owned(),
    }
}

/// [`product_name`] for a cohort of `product`.
pub(crate) async fn cohort_name(ctx: &Context, product: &str, given: &str) -> String {
    if CohortId::parse(given).is_none() {
        return given.to_owned();
    }
    match ctx.client() {
        Ok(client) => client
            .cohorts()
            .get(product, given)
            .await
            .map_or_else(|_| given.to_owned(), |cohort| cohort.name),
        Err(_) => given.to_owned(),
    }
}

/// What the answer must list for the output format: every device for `json` and `ndjson`,
/// only IDs for `id`, a preview for tables (people read the counts; the rest is a hint away).
pub(crate) fn listing(format: OutputFormat) -> BulkListing {
    match format {
        OutputFormat::Json | OutputFormat::Ndjson => BulkListing::Devices,
        OutputFormat::Id => BulkListing::Ids,
        OutputFormat::Table | OutputFormat::Wide => BulkListing::Sample,
    }
}

/// Runs `op`: plan only with `dry_run`; else preview and confirm (unless `--yes`), apply, and
/// report. Refusals are left to the service, whose 409 lists them and changes nothing.
pub(crate) async fn execute<O: Operation>(ctx: &Context, op: &O, dry_run: bool) -> Result<()> {
    let client = ctx.client()?;
    let list = listing(ctx.printer.format());
    if dry_run {
        let plan = op.call(client, true, list).await?;
        return print_plan(ctx, op, &plan);
    }
    if !ctx.options.yes {
        let preview = op.call(client, true, BulkListing::Sample).await?;
        if preview.refused == 0 && preview.changed == 0 {
            // Nothing would change, so applying would answer exactly this.
            let result = BulkResult {
                matched: preview.matched,
                unchanged: preview.matched,
                ..BulkResult::default()
            };
            if preview.matched == 0 {
                ctx.printer.status(&op.nothing());
            } else {
                ctx.printer.status(&all_as_requested(preview.matched));
            }
            return print_result(ctx, &result);
        }
        if preview.refused == 0 {
            let question = match op.caution() {
                Some(caution) => format!("{} ({caution})", op.action(preview.changed)),
                None => op.action(preview.changed),
            };
            prompt::confirm(ctx, &question)?;
        }
    }
    let result = op.call(client, false, list).await?;
    if result.matched == 0 {
        ctx.printer.status(&op.nothing());
    } else {
        ctx.printer.status(&op.done(&result));
    }
    print_result(ctx, &result)
}

/// A dry run's plan: the summary on stderr, then the result on stdout.
pub(crate) fn print_plan<O: Operation>(ctx: &Context, op: &O, plan: &BulkResult) -> Result<()> {
    if plan.matched == 0 && plan.refused == 0 {
        ctx.printer.status(&op.nothing());
        return print_result(ctx, plan);
    }
    let mut line = format!(
        "dry run: {} matched; would {}",
        devices(plan.matched),
        op.action(plan.changed)
    );
    if plan.unchanged > 0 {
        line.push_str(&format!(
            "; {} {} already as requested",
            devices(plan.unchanged),
            is_or_are(plan.unchanged)
        ));
    }
    ctx.printer.status(&format!("{line}; nothing was changed"));
    if let Some(caution) = op.caution().filter(|_| plan.changed > 0) {
        ctx.printer.status(&format!("note: {caution}"));
    }
    if plan.refused > 0 {
        ctx.printer.warn(&format!(
            "{} would be refused, so the whole operation would be refused:",
            devices(plan.refused)
        ));
        for refusal in plan.refusals.iter().take(crate::api::bulk::SAMPLE_MAX) {
            ctx.printer
                .warn(&format!("  `{}`: {}", refusal.device, refusal.reason));
        }
        let shown = plan.refusals.len().min(crate::api::bulk::SAMPLE_MAX);
        let rest = plan.refused.saturating_sub(shown as u64);
        if rest > 0 {
            ctx.printer.warn(&format!("  … and {rest} more"));
        }
    }
    print_result(ctx, plan)
}

/// The result on stdout: `json` the whole object; `ndjson` each device on a line (as `device
/// list -o ndjson` prints them, so they can feed `--from-file`); `id` each device's ID; a
/// table the devices the answer carries (a preview, with a hint when there are more).
pub(crate) fn print_result(ctx: &Context, result: &BulkResult) -> Result<()> {
    match ctx.printer.format() {
        OutputFormat::Json => {
            let mut text = serde_json::to_vec_pretty(result)
                .map_err(|err| Error::failure("could not encode JSON output").with_source(err))?;
            text.push(b'\n');
            ctx.printer.raw(&text)
        }
        OutputFormat::Id => {
            let mut text = String::new();
            let listed = result.device_ids.iter().map(|id| id.as_str());
            let listed = listed.chain(result.devices.iter().map(|d| d.id.as_str()));
            for id in listed {
                text.push_str(id);
                text.push('\n');
            }
            ctx.printer.raw(text.as_bytes())
        }
        format => {
            let listed = result.devices.len() as u64;
            if format.is_table() && listed > 0 && result.changed > listed {
                ctx.printer.hint(&format!(
                    "the list shows the first {} of {}; `-o json` or `-o id` lists them all",
                    result.devices.len(),
                    result.changed
                ));
            }
            let mut writer = ctx.printer.list::<Device>();
            for device in &result.devices {
                writer.push(device)?;
            }
            writer.finish()?;
            Ok(())
        }
    }
}
