//! What every bulk command shares: the selection flags, and one flow — preview (`--dry-run`
//! stops there), confirm with the count, apply in one request, then a summary on stderr and
//! the affected devices on stdout in the chosen `-o` format.

pub mod selection;

use crate::api::{BulkDevice, BulkResult, CohortId, ProductId};
use crate::client::ApiClient;
use crate::context::Context;
use crate::error::Result;
use crate::output::Resource;
use crate::prompt;

/// One bulk command's request and wording.
pub(crate) trait Operation {
    /// Sends the request, as a dry run or for real.
    async fn call(&self, client: &ApiClient, dry_run: bool) -> Result<BulkResult>;
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

/// Runs `op`: plan only with `dry_run`; else preview and confirm (unless `--yes`), apply, and
/// report. Refusals are left to the service, whose 409 lists them and changes nothing.
pub(crate) async fn execute<O: Operation>(ctx: &Context, op: &O, dry_run: bool) -> Result<()> {
    let client = ctx.client()?;
    if dry_run {
        let plan = op.call(client, true).await?;
        return print_plan(ctx, op, &plan);
    }
    if !ctx.options.yes {
        let preview = op.call(client, true).await?;
        if preview.refused == 0 {
            if preview.matched == 0 {
                ctx.printer.status(&op.nothing());
                return print_devices(ctx, &[]);
            }
            if preview.changed == 0 {
                ctx.printer.status(&all_as_requested(preview.matched));
                return print_devices(ctx, &[]);
            }
            let question = match op.caution() {
                Some(caution) => format!("{} ({caution})", op.action(preview.changed)),
                None => op.action(preview.changed),
            };
            prompt::confirm(ctx, &question)?;
        }
    }
    let result = op.call(client, false).await?;
    if result.matched == 0 {
        ctx.printer.status(&op.nothing());
    } else {
        ctx.printer.status(&op.done(&result));
    }
    print_devices(ctx, &result.devices)
}

pub(crate) fn print_plan<O: Operation>(ctx: &Context, op: &O, plan: &BulkResult) -> Result<()> {
    if plan.matched == 0 && plan.refused == 0 {
        ctx.printer.status(&op.nothing());
        return print_devices(ctx, &[]);
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
        for refusal in &plan.refusals {
            ctx.printer
                .warn(&format!("  `{}`: {}", refusal.device, refusal.reason));
        }
        let rest = plan.refused.saturating_sub(plan.refusals.len() as u64);
        if rest > 0 {
            ctx.printer.warn(&format!("  … and {rest} more"));
        }
    }
    if plan.changed > plan.devices.len() as u64 {
        ctx.printer.hint(&format!(
            "the list shows the first {} of {}",
            plan.devices.len(),
            plan.changed
        ));
    }
    print_devices(ctx, &plan.devices)
}

fn print_devices(ctx: &Context, items: &[BulkDevice]) -> Result<()> {
    let mut writer = ctx.printer.list::<BulkDevice>();
    for item in items {
        writer.push(item)?;
    }
    writer.finish()?;
    Ok(())
}

impl Resource for BulkDevice {
    fn id(&self) -> &str {
        self.id.as_str()
    }

    fn headers() -> &'static [&'static str] {
        &["IDENTIFIER", "ID", "PRODUCT", "COHORT"]
    }

    fn row(&self) -> Vec<String> {
        vec![
            self.identifier.clone(),
            self.id.to_string(),
            self.product.clone(),
            self.cohort.clone().unwrap_or_else(|| "-".to_owned()),
        ]
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        let mut row = self.row().into_iter();
        Self::headers()
            .iter()
            .map(|h| (*h, row.next().unwrap_or_default()))
            .collect()
    }
}
