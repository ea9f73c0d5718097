//! Laying out list tables for people: columns sized to fit the terminal, long cells cut with
//! `…`, invisible characters escaped, timestamps to the minute, and colour for the header and
//! for states when colour is on.

use std::borrow::Cow;
use std::io::{self, IsTerminal};

use chrono::{DateTime, Utc};

use super::ColorChoice;
use super::escape::visible;

/// Spaces between two columns.
const GAP: usize = 2;
/// Width assumed for a terminal that does not say how wide it is.
const DEFAULT_TERMINAL_WIDTH: usize = 80;
/// A cut column keeps at least this many characters (or its header's width, if wider), so a
/// very narrow terminal wraps rather than showing nothing but `…`.
const MIN_CUT_WIDTH: usize = 8;

/// Columns never cut: a time or state missing its end is worse than a wrapped line.
/// An ID is shown in a table only where nothing else names the row (a release, a binary), and
/// a cut one is of no use to `show` or `update`: it stays whole too.
const WHOLE_COLUMNS: &[&str] = &[
    "TIME", "ACTION", "CREATED", "EXPIRES", "RESULT", "STATE", "ID",
];

const BOLD: &str = "1";
const RED: &str = "31";
const YELLOW: &str = "33";
const GREEN: &str = "32";

/// How tables are drawn on stdout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableLayout {
    /// Cut rows to this many characters; `None` never cuts.
    pub max_width: Option<usize>,
    /// Colour the header and state cells.
    pub color: bool,
}

impl TableLayout {
    /// The layout for this process's stdout: see [`table_width`]; colour per `--color`, where
    /// `auto` means only on a terminal, and `NO_COLOR` (`no_color`) always wins.
    pub fn for_stdout(color: ColorChoice, no_color: bool) -> TableLayout {
        let terminal = io::stdout().is_terminal();
        let columns = std::env::var("COLUMNS").ok();
        TableLayout {
            max_width: table_width(columns.as_deref(), terminal, || {
                terminal_size::terminal_size().map(|(width, _)| usize::from(width.0))
            }),
            color: color.enabled_on(terminal, no_color),
        }
    }
}

/// How wide tables may be. `COLUMNS`, when it is a number, wins: the user said so. Otherwise a
/// terminal's own width (80 when it does not say). Not a terminal and no `COLUMNS`: no limit,
/// because whoever reads a pipe (`less -S`, `grep`, a file) wants whole values, and a cut
/// cell there would lose data silently.
pub fn table_width(
    columns: Option<&str>,
    stdout_is_terminal: bool,
    measure: impl FnOnce() -> Option<usize>,
) -> Option<usize> {
    if let Some(columns) = columns.and_then(|c| c.trim().parse::<usize>().ok())
        && columns > 0
    {
        return Some(columns);
    }
    stdout_is_terminal.then(|| {
        measure()
            .filter(|w| *w > 0)
            .unwrap_or(DEFAULT_TERMINAL_WIDTH)
    })
}

/// A timestamp as tables show it, `2026-12-01 03:04` (UTC); JSON keeps the exact time.
pub fn table_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// A timestamp as `show` views give it: RFC 3339 to the second, `2026-12-01T03:04:05Z` (still
/// what `--since` and scripts parse; the microseconds stay in JSON).
pub fn show_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Renders rows as aligned columns, cells escaped (see [`visible`]) and cut to fit
/// `layout.max_width`. `widths` carries the natural column widths between chunks of one list
/// so later chunks line up with the first; it is updated with this chunk's widths.
pub fn write_table(
    headers: &[&str],
    rows: Vec<Vec<String>>,
    with_header: bool,
    widths: &mut Vec<usize>,
    layout: TableLayout,
) -> String {
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|row| row.into_iter().map(escaped).collect())
        .collect();
    widths.resize(headers.len(), 0);
    for (i, header) in headers.iter().enumerate() {
        widths[i] = widths[i].max(header.chars().count());
    }
    for row in &rows {
        for (i, cell) in row.iter().enumerate().take(widths.len()) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let fitted = match layout.max_width {
        Some(max) => fit(widths, headers, max),
        None => widths.clone(),
    };
    let mut text = String::new();
    if with_header {
        let cells = headers.iter().map(|h| (*h).to_owned()).collect();
        push_line(&mut text, cells, &fitted, |_, _| {
            layout.color.then_some(BOLD)
        });
    }
    for row in rows {
        push_line(&mut text, row, &fitted, |column, cell| {
            layout
                .color
                .then(|| state_color(headers.get(column).copied().unwrap_or(""), cell))
                .flatten()
        });
    }
    text
}

fn escaped(cell: String) -> String {
    match visible(&cell) {
        Cow::Borrowed(_) => cell,
        Cow::Owned(escaped) => escaped,
    }
}

/// Column widths that fit in `max` characters: the widest column gives up one character at a
/// time, none below its floor (see [`MIN_CUT_WIDTH`]). If even the floors do not fit, the line
/// is left long and the terminal wraps it.
fn fit(natural: &[usize], headers: &[&str], max: usize) -> Vec<usize> {
    let floor = |i: usize| {
        let header = headers.get(i).copied().unwrap_or("");
        if WHOLE_COLUMNS.contains(&header) {
            natural[i]
        } else {
            natural[i].min(header.chars().count().max(MIN_CUT_WIDTH))
        }
    };
    let gaps = GAP * natural.len().saturating_sub(1);
    let mut widths = natural.to_vec();
    while widths.iter().sum::<usize>() + gaps > max {
        let widest = (0..widths.len())
            .filter(|&i| widths[i] > floor(i))
            .max_by_key(|&i| (widths[i], std::cmp::Reverse(i)));
        match widest {
            Some(i) => widths[i] -= 1,
            None => break,
        }
    }
    widths
}

/// `cell` in at most `width` characters, ending in `…` when cut.
fn cut(cell: &str, width: usize) -> Cow<'_, str> {
    if cell.chars().count() <= width {
        return Cow::Borrowed(cell);
    }
    let mut out: String = cell.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    Cow::Owned(out)
}

fn push_line(
    text: &mut String,
    cells: Vec<String>,
    widths: &[usize],
    color: impl Fn(usize, &str) -> Option<&'static str>,
) {
    let mut line = String::new();
    for (i, (cell, width)) in cells.iter().zip(widths).enumerate() {
        if i > 0 {
            line.push_str(&" ".repeat(GAP));
        }
        let shown = cut(cell, *width);
        let pad = width.saturating_sub(shown.chars().count());
        match color(i, cell) {
            Some(sgr) => line.push_str(&format!("\x1b[{sgr}m{shown}\x1b[0m")),
            None => line.push_str(&shown),
        }
        line.push_str(&" ".repeat(pad));
    }
    text.push_str(line.trim_end());
    text.push('\n');
}

/// The colour of a state worth noticing at a glance; plain values get none.
fn state_color(header: &str, cell: &str) -> Option<&'static str> {
    match (header, cell) {
        ("QUARANTINED" | "ARCHIVED" | "PROVISIONING", "yes") => Some(YELLOW),
        ("RESULT" | "STATE", "denied" | "failed" | "revoked" | "expired") => Some(RED),
        ("STATE", "pending" | "uploading") => Some(YELLOW),
        ("RESULT" | "STATE", "ok" | "allowed" | "active" | "ready") => Some(GREEN),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_never_cut_to_fit() {
        let id = "rel_01a23b1c2d3e4f5a6b7c8d9e0f";
        let widths = fit(&[id.len(), 40], &["ID", "BUNDLE"], 50);
        assert_eq!(widths[0], id.len(), "the ID stays whole");
        assert!(widths.iter().sum::<usize>() + GAP <= 50, "{widths:?}");
    }

    fn plain(max_width: Option<usize>) -> TableLayout {
        TableLayout {
            max_width,
            color: false,
        }
    }

    #[test]
    fn table_chunks_share_column_widths() {
        let mut widths = Vec::new();
        let first = write_table(
            &["NAME", "ID"],
            vec![vec!["a-long-name".into(), "1".into()]],
            true,
            &mut widths,
            plain(None),
        );
        let second = write_table(
            &["NAME", "ID"],
            vec![vec!["b".into(), "2".into()]],
            false,
            &mut widths,
            plain(None),
        );
        assert_eq!(first, "NAME         ID\na-long-name  1\n");
        assert_eq!(second, "b            2\n");
    }

    #[test]
    fn the_widest_column_is_cut_to_fit() {
        let mut widths = Vec::new();
        let rows = vec![vec![
            "short".into(),
            "a-rather-long-value-here".into(),
            "x".into(),
        ]];
        let text = write_table(&["A", "B", "C"], rows, true, &mut widths, plain(Some(20)));
        assert_eq!(text, "A      B           C\nshort  a-rather-…  x\n");
        assert!(text.lines().all(|line| line.chars().count() <= 20));
    }

    #[test]
    fn columns_keep_a_floor_when_nothing_fits() {
        let widths = fit(&[20, 20], &["NAME", "DESCRIPTION"], 10);
        assert_eq!(widths, vec![8, 11]);
        let widths = fit(&[16, 30], &["TIME", "RESOURCE"], 30);
        assert_eq!(widths, vec![16, 12], "times are never cut");
    }

    #[test]
    fn colour_wraps_header_and_states_without_moving_columns() {
        let mut widths = Vec::new();
        let layout = TableLayout {
            max_width: None,
            color: true,
        };
        let rows = vec![vec!["sn-1".into(), "yes".into(), "x".into()]];
        let text = write_table(
            &["ID", "QUARANTINED", "TAGS"],
            rows,
            true,
            &mut widths,
            layout,
        );
        assert_eq!(
            text,
            "\x1b[1mID\x1b[0m    \x1b[1mQUARANTINED\x1b[0m  \x1b[1mTAGS\x1b[0m\n\
             sn-1  \x1b[33myes\x1b[0m          x\n"
        );
    }

    #[test]
    fn width_comes_from_columns_then_the_terminal_and_never_a_pipe() {
        assert_eq!(table_width(Some("100"), false, || None), Some(100));
        assert_eq!(table_width(Some("100"), true, || Some(60)), Some(100));
        assert_eq!(table_width(Some("wide"), true, || Some(60)), Some(60));
        assert_eq!(table_width(None, true, || None), Some(80));
        assert_eq!(table_width(None, false, || Some(60)), None);
        assert_eq!(table_width(Some("0"), false, || None), None);
    }

    #[test]
    fn times_show_to_the_minute() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T03:04:59Z")
            .map(|t| t.with_timezone(&Utc))
            .expect("valid time");
        assert_eq!(table_time(at), "2026-12-01 03:04");
    }
}
