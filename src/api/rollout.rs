//! Rollout control on the wire: a release's schedule (`1%,10%@1h,100%@24h`), its state
//! (active, halted, completed), its guard (halt on a failure rate), and the texts both sides
//! parse: the schedule, percentages and rates.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One step of a schedule: the rollout percentage it sets, and how long after the previous
/// step applied it may apply (0 for the first step, which applies when the release is made).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RolloutStep {
    #[cfg_attr(feature = "server", schema(minimum = 1, maximum = 100))]
    pub percent: u8,
    /// Seconds after the previous step applied.
    pub after_s: u64,
}

/// Where a release's rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RolloutState {
    /// Offered at its rollout percentage; a schedule still has steps to take (or there is none).
    Active,
    /// Offered to no new device (devices mid-update may finish), by its guard or by a person,
    /// until resumed.
    Halted,
    /// Its schedule took its last step.
    Completed,
}

impl RolloutState {
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutState::Active => "active",
            RolloutState::Halted => "halted",
            RolloutState::Completed => "completed",
        }
    }

    pub fn parse(text: &str) -> Option<RolloutState> {
        match text {
            "active" => Some(RolloutState::Active),
            "halted" => Some(RolloutState::Halted),
            "completed" => Some(RolloutState::Completed),
            _ => None,
        }
    }
}

impl std::fmt::Display for RolloutState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The guard of a release: the service halts the release when more than
/// `halt_on_failure_rate` percent of its final reports are failures (`failed` or
/// `rolled_back`), once there are at least `min_reports` of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct RolloutGuard {
    /// Percent, 0–100 (0: any failure halts).
    pub halt_on_failure_rate: f64,
    pub min_reports: u64,
    /// Devices with a final report counted by the guard: since the release was made, or since
    /// it was last resumed.
    pub final_reports: u64,
    /// Of those, devices whose final report is a failure.
    pub failed_reports: u64,
}

/// What `POST …/releases/{release}/promote` does: the next step of the schedule, or
/// `to_percent` (above the current percentage) now.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PromoteRelease {
    /// Jump to this percentage (the schedule continues from the first step above it).
    #[cfg_attr(feature = "server", schema(minimum = 1, maximum = 100))]
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::whole::optional"
    )]
    pub to_percent: Option<u8>,
}

/// Default `min_reports` of a guard.
pub const DEFAULT_MIN_REPORTS: u64 = 20;

/// A percentage as text: `10%` or `10`, 0–100.
pub fn parse_percent(text: &str) -> Result<u8, String> {
    let number = text.trim().strip_suffix('%').unwrap_or(text.trim()).trim();
    match number.parse::<u8>() {
        Ok(p) if p <= 100 => Ok(p),
        _ => Err(format!("`{text}` is not a percentage from 0% to 100%")),
    }
}

/// A rate as text: `5%`, `2.5%` or `5`, 0–100.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let number = text.trim().strip_suffix('%').unwrap_or(text.trim()).trim();
    match number.parse::<f64>() {
        Ok(r) if r.is_finite() && (0.0..=100.0).contains(&r) => Ok(r),
        _ => Err(format!("`{text}` is not a rate from 0% to 100%")),
    }
}

/// Longest schedule text read, in characters (the OpenAPI `maxLength` of `schedule` repeats
/// it: utoipa takes only a literal).
pub const MAX_SCHEDULE_CHARS: usize = 1024;

/// A schedule: comma-separated steps `PERCENT%[@WAIT]` (`1%,10%@1h,50%@6h,100%@24h`). The
/// first step applies at once, so it takes no wait; percentages are 1–100 and strictly
/// increasing; waits are durations (`30m`, `6h`, `2d`), each from when the previous step applied.
pub fn parse_schedule(text: &str) -> Result<Vec<RolloutStep>, String> {
    if text.chars().count() > MAX_SCHEDULE_CHARS {
        return Err(format!(
            "the schedule is longer than {MAX_SCHEDULE_CHARS} characters"
        ));
    }
    if text.trim().is_empty() {
        return Err("the schedule is empty: give steps like `1%,10%@1h,100%@24h`".into());
    }
    let mut steps: Vec<RolloutStep> = Vec::new();
    for (i, part) in text.split(',').enumerate() {
        let part = part.trim();
        let (percent, wait) = match part.split_once('@') {
            Some((percent, wait)) => (percent, Some(wait.trim())),
            None => (part, None),
        };
        let number = i + 1;
        let percent = parse_percent(percent).map_err(|e| format!("step {number}: {e}"))?;
        if percent == 0 {
            return Err(format!(
                "step {number}: a step must reach some devices (1% to 100%), got 0%"
            ));
        }
        let after = match wait {
            None => Duration::ZERO,
            Some(wait) => humantime::parse_duration(wait).map_err(|e| {
                format!("step {number} (`{part}`): `{wait}` is not a wait like 30m, 6h or 2d ({e})")
            })?,
        };
        if i == 0 && !after.is_zero() {
            return Err(format!(
                "step 1 (`{part}`) applies when the release is made: give it no @wait"
            ));
        }
        if let Some(previous) = steps.last() {
            if percent <= previous.percent {
                return Err(format!(
                    "step {number} ({percent}%) must be above step {i} ({}%): steps only grow",
                    previous.percent
                ));
            }
        }
        steps.push(RolloutStep {
            percent,
            after_s: after.as_secs(),
        });
    }
    Ok(steps)
}

/// A schedule as [`parse_schedule`] reads it.
pub fn format_schedule(steps: &[RolloutStep]) -> String {
    steps
        .iter()
        .map(|s| {
            if s.after_s == 0 {
                format!("{}%", s.percent)
            } else {
                let wait = humantime::format_duration(Duration::from_secs(s.after_s));
                format!("{}%@{}", s.percent, wait.to_string().replace(' ', ""))
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedule_reads_and_writes_back() {
        let steps = parse_schedule("1%,10%@1h,50%@6h,100%@24h").expect("schedule");
        assert_eq!(
            steps,
            [
                RolloutStep {
                    percent: 1,
                    after_s: 0
                },
                RolloutStep {
                    percent: 10,
                    after_s: 3600
                },
                RolloutStep {
                    percent: 50,
                    after_s: 6 * 3600
                },
                RolloutStep {
                    percent: 100,
                    after_s: 24 * 3600
                },
            ]
        );
        assert_eq!(format_schedule(&steps), "1%,10%@1h,50%@6h,100%@1day");
        assert_eq!(
            parse_schedule(&format_schedule(&steps)).expect("again"),
            steps
        );
    }

    #[test]
    fn bad_schedules_say_which_step_and_why() {
        let cases = [
            ("", "empty"),
            ("10%,5%@1h", "must be above step 1"),
            ("10%,10%@1h", "must be above step 1"),
            ("0%,10%@1h", "1% to 100%"),
            ("10%,101%@1h", "0% to 100%"),
            ("10%,50%@soon", "is not a wait"),
            ("10%@1h,50%@2h", "give it no @wait"),
            ("10%,,50%", "step 2"),
        ];
        for (text, expected) in cases {
            let err = parse_schedule(text).expect_err(text);
            assert!(err.contains(expected), "{text}: {err}");
        }
        let padded = format!("10%,{}50%@1h", " ".repeat(MAX_SCHEDULE_CHARS));
        let err = parse_schedule(&padded).expect_err("padded");
        assert!(err.contains("longer than 1024"), "{err}");
        let fits = format!("10%,{}50%@1h", " ".repeat(MAX_SCHEDULE_CHARS - 10));
        assert!(parse_schedule(&fits).is_ok());
    }

    #[test]
    fn rates_and_percentages_take_an_optional_percent_sign() {
        assert_eq!(parse_rate("5%"), Ok(5.0));
        assert_eq!(parse_rate("2.5"), Ok(2.5));
        assert!(parse_rate("101%").is_err());
        assert!(parse_rate("-1").is_err());
        assert!(parse_rate("NaN").is_err());
        assert_eq!(parse_percent("50%"), Ok(50));
        assert!(parse_percent("50.5%").is_err());
    }
}
