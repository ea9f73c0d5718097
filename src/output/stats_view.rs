//! The statistics screen of `fleet product stats`, `fleet cohort stats` and `fleet release
//! status`: aligned numbers, bar charts of versions and update states, and a sparkline of
//! check-ins, within the given width (at most 80 columns). A pure function of the figures, the
//! width and whether to colour; `-o json` prints the API object instead.

use std::fmt::Write as _;

use super::bars::bar;
use super::escape::visible;
use super::sparkline::sparkline;
use crate::api::Stats;
use crate::api::stats::{ArtifactVersions, ReleaseUpdates};

/// The widest screen drawn, and the narrowest.
pub const MAX_WIDTH: usize = 80;
const MIN_WIDTH: usize = 60;
/// Columns of the labels of bar rows, and of their counts.
const LABEL: usize = 16;
const COUNT: usize = 9;
/// Versions drawn per artifact; the rest are summed into one row.
const SHOWN_VERSIONS: usize = 8;
/// Where values start after a section's name.
const INDENT: usize = 13;

const BOLD: &str = "1";
const DIM: &str = "2";
const RED: &str = "31";
const GREEN: &str = "32";
const YELLOW: &str = "33";
const BLUE: &str = "34";
const CYAN: &str = "36";

struct Screen {
    out: String,
    width: usize,
    color: bool,
}

impl Screen {
    fn paint(&self, text: &str, sgr: &str) -> String {
        if self.color && !text.is_empty() {
            format!("\x1b[{sgr}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn line(&mut self, text: &str) {
        self.out.push_str(text.trim_end());
        self.out.push('\n');
    }

    /// A section's first line: its name in bold, then `text`.
    fn section(&mut self, name: &str, text: &str) {
        let name = self.paint(&format!("{name:<INDENT$}"), BOLD);
        self.line(&format!("{name}{text}"));
    }

    /// A continuation line of a section.
    fn more(&mut self, text: &str) {
        self.line(&format!("{:INDENT$}{text}", ""));
    }

    /// Continuation lines holding `items` joined by ` · `, wrapped between items to fit.
    fn items(&mut self, items: &[String]) {
        let room = self.width.saturating_sub(INDENT);
        let mut line = String::new();
        for item in items {
            let joined = line.chars().count() + 3 + item.chars().count();
            if !line.is_empty() && joined > room {
                self.more(&std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push_str(" · ");
            }
            line.push_str(item);
        }
        if !line.is_empty() {
            self.more(&line);
        }
    }

    /// `  label  count  bar  share`: the bar of `value` out of `full`, in `sgr`.
    fn bar_row(&mut self, label: &str, value: u64, full: u64, sgr: &str) {
        let bar_width = self
            .width
            .saturating_sub(2 + LABEL + 1 + COUNT + 2 + 2 + 6)
            .max(4);
        let drawn = self.paint(&bar(value, full, bar_width), sgr);
        let share = if full == 0 {
            String::new()
        } else {
            percent(value as f64 / full as f64)
        };
        let label = fit(label, LABEL);
        self.line(&format!(
            "  {label} {count:>COUNT$}  {drawn}  {share:>6}",
            count = number(value)
        ));
    }
}

/// `text` made visible (see [`visible`]) and cut to `width` characters with `…`, padded.
fn fit(text: &str, width: usize) -> String {
    let text = visible(text);
    let count = text.chars().count();
    if count <= width {
        format!("{text}{:pad$}", "", pad = width - count)
    } else {
        let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// `1234567` as `1,234,567`.
pub fn number(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A share 0–1 as `66.7%`.
fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// Milliseconds as a short duration: `850ms`, `12.3s`, `4m05s`, `2h10m`, `3d04h`.
pub fn duration(ms: u64) -> String {
    let s = ms / 1000;
    match ms {
        0..1_000 => format!("{ms}ms"),
        1_000..60_000 => format!("{:.1}s", ms as f64 / 1000.0),
        60_000..3_600_000 if s % 60 == 0 => format!("{}m", s / 60),
        60_000..3_600_000 => format!("{}m{:02}s", s / 60, s % 60),
        3_600_000..86_400_000 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// The whole screen for `stats`, `width` columns wide at most (clamped to 60–80).
pub fn render(stats: &Stats, width: usize, color: bool) -> String {
    let mut s = Screen {
        out: String::new(),
        width: width.clamp(MIN_WIDTH, MAX_WIDTH),
        color,
    };
    title(&mut s, stats);
    devices(&mut s, stats);
    connection(&mut s, stats);
    for artifact in &stats.firmware {
        firmware(&mut s, artifact, stats.devices.total);
    }
    if stats.firmware.is_empty() {
        s.line("");
        s.section("Firmware", "no device reported what it runs");
    }
    for release in &stats.updates {
        updates(&mut s, release);
    }
    if stats.updates.is_empty() {
        s.line("");
        s.section("Updates", "no release");
    }
    if let Some(config) = &stats.config {
        s.line("");
        let text = format!(
            "{} run the latest configuration, {} pending, {} failed to apply it",
            number(config.latest),
            number(config.pending),
            number(config.failed)
        );
        s.section("Configuration", &text);
    }
    s.out
}

fn title(s: &mut Screen, stats: &Stats) {
    let scope = &stats.scope;
    let what = match (&scope.release_id, &scope.cohort) {
        (Some(release), _) => format!("{} · release {release}", visible(&scope.product)),
        (None, Some(cohort)) => format!("{} · cohort {}", visible(&scope.product), visible(cohort)),
        (None, None) => format!("{} · product", visible(&scope.product)),
    };
    let at = stats
        .generated_at
        .format("%Y-%m-%d %H:%M:%S UTC")
        .to_string();
    let room = s.width.saturating_sub(at.chars().count() + 2);
    let what = fit(&what, room);
    let line = format!("{}  {}", s.paint(&what, BOLD), s.paint(&at, DIM));
    s.line(&line);
}

fn devices(s: &mut Screen, stats: &Stats) {
    let d = &stats.devices;
    s.line("");
    let mut extra = Vec::new();
    if stats.scope.cohort.is_none() {
        extra.push(format!("{} without cohort", number(d.without_cohort)));
    }
    extra.push(format!("{} quarantined", number(d.quarantined)));
    extra.push(format!(
        "{} need provisioning",
        number(d.needs_provisioning)
    ));
    s.section("Devices", &format!("{} total", number(d.total)));
    s.items(&extra);
    if stats.scope.cohort.is_none() {
        for cohort in &d.per_cohort {
            s.bar_row(&cohort.cohort, cohort.devices, d.total, BLUE);
        }
        if d.without_cohort > 0 {
            s.bar_row("(no cohort)", d.without_cohort, d.total, DIM);
        }
    }
}

fn connection(s: &mut Screen, stats: &Stats) {
    let c = &stats.connection;
    s.line("");
    let within = duration(c.online_within_s.saturating_mul(1000));
    let online = s.paint(&number(c.online), GREEN);
    s.section(
        "Connection",
        &format!("{online} online (seen within {within})"),
    );
    s.items(&[
        format!("{} in the last hour", number(c.seen_last_hour)),
        format!("{} in 24 h", number(c.seen_last_24h)),
        format!("{} in 7 days", number(c.seen_last_7d)),
        format!("{} never seen", number(c.never_seen)),
    ]);
    let total: u64 = c.check_ins_per_hour.iter().sum();
    let peak = c.check_ins_per_hour.iter().copied().max().unwrap_or(0);
    let line = s.paint(&sparkline(&c.check_ins_per_hour), CYAN);
    s.section("Check-ins", &format!("{line}  {} in 24 h", number(total)));
    let hours = c.check_ins_per_hour.len();
    let axis = format!("-{hours}h{:>pad$}", "now", pad = hours.saturating_sub(4));
    let axis = s.paint(&axis, DIM);
    s.more(&format!("{axis}  peak {}/h", number(peak)));
}

fn firmware(s: &mut Screen, artifact: &ArtifactVersions, total: u64) {
    s.line("");
    let name = fit(&artifact.artifact, s.width.saturating_sub(INDENT));
    s.section("Firmware", name.trim_end());
    let mut other = artifact.other_versions;
    for (i, version) in artifact.versions.iter().enumerate() {
        if i < SHOWN_VERSIONS {
            let sgr = if i == 0 { GREEN } else { CYAN };
            s.bar_row(&version.version, version.devices, total, sgr);
        } else {
            other += version.devices;
        }
    }
    if other > 0 {
        s.bar_row("(other)", other, total, CYAN);
    }
    if artifact.unknown > 0 {
        s.bar_row("(unknown)", artifact.unknown, total, DIM);
    }
}

fn updates(s: &mut Screen, u: &ReleaseUpdates) {
    s.line("");
    let head = format!(
        "{} → {} · {}",
        u.release_id,
        visible(&u.cohort),
        visible(&u.bundle)
    );
    s.section("Release", fit(&head, s.width - INDENT).trim_end());
    let rate = u.success_rate.map_or("-".to_owned(), percent);
    let median = u
        .median_offer_to_success_ms
        .map_or("-".to_owned(), duration);
    let mut items = vec![format!("rollout {}%", u.rollout_percent)];
    if u.required {
        items.push("required".to_owned());
    }
    items.extend([
        format!("{} offered", number(u.offered)),
        format!("success rate {rate}"),
        format!("median to success {median}"),
    ]);
    s.items(&items);
    let rows = [
        ("pending", u.pending, DIM),
        ("downloading", u.downloading, BLUE),
        ("installing", u.installing, CYAN),
        ("succeeded", u.succeeded, GREEN),
        ("failed", u.failed, RED),
        ("rolled back", u.rolled_back, YELLOW),
    ];
    for (label, value, sgr) in rows {
        s.bar_row(label, value, u.offered, sgr);
    }
    if !u.failure_reasons.is_empty() {
        s.line("  top failure reasons");
        let room = s.width.saturating_sub(2 + LABEL + 1 + COUNT + 2);
        for reason in &u.failure_reasons {
            let count = s.paint(&format!("{:>COUNT$}", number(reason.devices)), RED);
            let text = fit(&reason.reason, room);
            let _ = write!(s.out, "  {:LABEL$} {count}  {}", "", text.trim_end());
            s.out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone as _, Utc};

    use super::*;
    use crate::api::stats::{
        CohortCount, Connection, DeviceCounts, FailureReason, StatsScope, VersionCount,
    };
    use crate::api::{CohortId, ProductId, ReleaseId};

    fn id<T>(parse: fn(&str) -> Option<T>, text: &str) -> T {
        parse(text).expect("a valid ID")
    }

    fn example() -> Stats {
        let at = Utc
            .with_ymd_and_hms(2026, 3, 1, 12, 30, 5)
            .single()
            .expect("time");
        let canary = id(CohortId::parse, "coh_0190a1b2c3d4e5f60718293a4b5c6d7e");
        let field = id(CohortId::parse, "coh_0190a1b2c3d4e5f60718293a4b5c6d7f");
        let version = |v: &str, devices: u64| VersionCount {
            version: v.into(),
            devices,
            share: devices as f64 / 1204.0,
        };
        Stats {
            scope: StatsScope {
                product_id: id(ProductId::parse, "prd_0190a1b2c3d4e5f60718293a4b5c6d7e"),
                product: "indoor-sensor".into(),
                cohort_id: None,
                cohort: None,
                release_id: None,
            },
            generated_at: at,
            devices: DeviceCounts {
                total: 1204,
                without_cohort: 17,
                quarantined: 3,
                needs_provisioning: 1,
                per_cohort: vec![
                    CohortCount {
                        cohort_id: canary.clone(),
                        cohort: "canary".into(),
                        devices: 120,
                    },
                    CohortCount {
                        cohort_id: field,
                        cohort: "field-with-a-rather-long-name".into(),
                        devices: 1067,
                    },
                ],
            },
            connection: Connection {
                online_within_s: 900,
                online: 1100,
                seen_last_hour: 1150,
                seen_last_24h: 1180,
                seen_last_7d: 1190,
                never_seen: 14,
                check_ins_since: at,
                check_ins_per_hour: (0..24)
                    .map(|h| if h == 5 { 0 } else { 3000 + h * 250 })
                    .collect(),
            },
            firmware: vec![ArtifactVersions {
                artifact: "app".into(),
                versions: vec![version("1.1.0", 900), version("1.0.0", 280)],
                other_versions: 0,
                unknown: 24,
            }],
            updates: vec![ReleaseUpdates {
                release_id: id(ReleaseId::parse, "rel_0190a1b2c3d4e5f60718293a4b5c6d7e"),
                cohort_id: canary,
                cohort: "canary".into(),
                bundle: "app-1.1.0".into(),
                rollout_percent: 50,
                required: false,
                offered: 120,
                pending: 4,
                downloading: 2,
                installing: 1,
                succeeded: 100,
                failed: 12,
                rolled_back: 1,
                success_rate: Some(100.0 / 113.0),
                failure_reasons: vec![
                    FailureReason {
                        reason: "digest mismatch: the download is not what the offer named".into(),
                        devices: 9,
                    },
                    FailureReason {
                        reason: "no space left on device".into(),
                        devices: 4,
                    },
                ],
                median_offer_to_success_ms: Some(83_250),
            }],
            config: None,
        }
    }

    #[test]
    fn the_screen_at_80_columns_plain() {
        let screen = render(&example(), 80, false);
        for line in screen.lines() {
            assert!(line.chars().count() <= 80, "{line:?}");
        }
        assert!(!screen.contains('\x1b'));
        insta::assert_snapshot!(screen);
    }

    #[test]
    fn the_screen_at_80_columns_in_colour() {
        let screen = render(&example(), 80, true);
        assert!(screen.contains("\x1b[32m"), "{screen}");
        insta::assert_snapshot!(screen);
    }

    #[test]
    fn a_narrow_terminal_and_an_empty_scope_still_fit() {
        let mut stats = example();
        stats.firmware.clear();
        stats.updates.clear();
        stats.scope.cohort = Some("canary".into());
        let screen = render(&stats, 60, false);
        for line in screen.lines() {
            assert!(line.chars().count() <= 60, "{line:?}");
        }
        assert!(screen.contains("no release"), "{screen}");
        assert!(screen.contains("indoor-sensor · cohort canary"), "{screen}");
    }

    #[test]
    fn numbers_and_durations_read_short() {
        assert_eq!(number(0), "0");
        assert_eq!(number(999), "999");
        assert_eq!(number(1000), "1,000");
        assert_eq!(number(1_234_567), "1,234,567");
        assert_eq!(duration(850), "850ms");
        assert_eq!(duration(12_340), "12.3s");
        assert_eq!(duration(245_000), "4m05s");
        assert_eq!(duration(900_000), "15m");
        assert_eq!(duration(7_800_000), "2h10m");
        assert_eq!(duration(273_600_000), "3d04h");
    }
}
