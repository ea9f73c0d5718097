//! How `fleet simulate` shows its figures: the live status line and the final summary (a
//! label/value table, or the summary object with `-o json`).

use serde::Serialize;

use crate::output::Resource;
use crate::simulate::{Rate, Snapshot, Stop, Summary};

/// The live line: counts so far.
pub fn live_line(s: &Snapshot, devices: u64) -> String {
    let mut line = format!(
        "provisioned {}/{devices} · check-ins {} · updating {} · succeeded {} · failed {} · errors {}",
        s.provisioned, s.check_ins, s.updating, s.succeeded, s.failed, s.errors
    );
    if s.pings > 0 {
        line.push_str(&format!(" · pings {}", s.pings));
    }
    line
}

fn rate_text(rate: &Rate, unit: &str) -> String {
    format!(
        "{} {unit} in {:.1} s ({:.0}/s) · p50 {:.2} ms · p99 {:.2} ms",
        rate.requests, rate.seconds, rate.per_s, rate.latency_ms.p50, rate.latency_ms.p99
    )
}

fn stop_text(stop: Stop) -> &'static str {
    match stop {
        Stop::Duration => "--duration reached",
        Stop::Settled => "every device settled",
        Stop::Interrupted => "interrupted",
        Stop::NoDeviceGotThrough => "no device could check in",
    }
}

/// The summary as `Printer::show` prints it.
#[derive(Serialize)]
#[serde(transparent)]
pub struct SummaryView(pub Summary);

impl Resource for SummaryView {
    fn id(&self) -> &str {
        ""
    }

    fn headers() -> &'static [&'static str] {
        &[]
    }

    fn row(&self) -> Vec<String> {
        Vec::new()
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        let s = &self.0;
        let mut fields = vec![
            ("devices", s.devices.to_string()),
            ("stopped", stop_text(s.stopped_by).to_owned()),
            ("elapsed", format!("{:.1} s", s.elapsed_s)),
            ("provisioned", s.provisioned.to_string()),
            ("refused", s.refused.to_string()),
            ("check-ins", rate_text(&s.check_ins, "check-ins")),
            ("downloading", s.states.downloading.to_string()),
            ("installing", s.states.installing.to_string()),
            ("succeeded", s.states.succeeded.to_string()),
            ("failed", s.states.failed.to_string()),
        ];
        for (reason, count) in &s.failure_reasons {
            fields.push(("  reason", format!("{count} × {reason}")));
        }
        for (revision, count) in &s.configs {
            fields.push(("config", format!("{count} × revision {revision}")));
        }
        if let Some(n) = s.config_check_ins {
            fields.push(("config applied", format!("within {n} check-ins")));
        }
        if s.config_pending > 0 {
            fields.push(("config pending", s.config_pending.to_string()));
        }
        fields.push(("errors", s.errors.to_string()));
        if let Some(first) = &s.first_error {
            fields.push(("first error", first.clone()));
        }
        if let Some(load) = &s.load {
            fields.push(("provisioning", rate_text(&load.provisioning, "devices")));
            if let Some(rate) = &load.check_ins {
                fields.push(("check-in load", rate_text(rate, "check-ins")));
            }
            if let Some(rate) = &load.ping {
                fields.push(("ping load", rate_text(rate, "pings")));
            }
            if let (Some(check_ins), Some(ping)) = (&load.check_ins, &load.ping)
                && ping.per_s > 0.0
            {
                fields.push((
                    "check-ins/ping",
                    format!("{:.2}", check_ins.per_s / ping.per_s),
                ));
            }
        }
        fields
    }
}
