//! `fleet device show`: the device and, under `status`, what its check-ins and update reports
//! said (last seen, address, what it runs, update state and history).

use serde::Serialize;

use super::resources::{Resource, or_dash};
use super::table::show_time;
use crate::api::device_api::DeviceUpdate;
use crate::api::{Device, DeviceStatus};

#[derive(Debug, Serialize)]
pub struct DeviceView {
    #[serde(flatten)]
    pub device: Device,
    pub status: DeviceStatus,
}

fn update_line(update: &DeviceUpdate) -> String {
    let reason = update
        .reason
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default();
    format!(
        "{} {}{reason} at {}",
        update.release_id,
        update.state.as_str(),
        show_time(update.at)
    )
}

impl Resource for DeviceView {
    fn id(&self) -> &str {
        self.device.id.as_str()
    }

    fn headers() -> &'static [&'static str] {
        Device::headers()
    }

    fn row(&self) -> Vec<String> {
        self.device.row()
    }

    fn fields(&self) -> Vec<(&'static str, String)> {
        let s = &self.status;
        let mut fields = self.device.fields();
        let last_seen = match s.last_seen_at {
            Some(at) => format!(
                "{} ({})",
                show_time(at),
                if s.online { "online" } else { "offline" }
            ),
            None => "never".to_owned(),
        };
        let running = if s.running.is_empty() {
            "-".to_owned()
        } else {
            s.running
                .iter()
                .map(|r| format!("{}@{}", r.artifact, r.version))
                .collect::<Vec<_>>()
                .join(", ")
        };
        fields.extend([
            ("last seen", last_seen),
            ("address", or_dash(s.last_address.as_deref())),
            ("check-ins", s.check_ins.to_string()),
            ("reported target", or_dash(s.reported_target.as_deref())),
            ("running", running),
            (
                "update",
                s.update.as_ref().map_or("-".to_owned(), update_line),
            ),
        ]);
        for update in &s.history {
            fields.push(("history", update_line(update)));
        }
        fields
    }
}
