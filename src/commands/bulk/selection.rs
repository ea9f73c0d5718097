//! How every bulk command picks devices: names as arguments, `--from-file` (plain lines or
//! NDJSON from `fleet device list -o ndjson`), or filters the service resolves.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::api::Selection;
use crate::error::{Error, Result, io_error};

/// The selection flags, flattened into each bulk command. A product filter, where a command
/// has one, is its own flag: `cohort assign` uses `--product` for the cohort's product.
#[derive(Debug, Args)]
#[command(next_help_heading = "Selecting devices")]
pub struct SelectionArgs {
    /// Devices by identifier or ID
    #[arg(value_name = "DEVICE")]
    pub devices: Vec<String>,

    /// Read devices from FILE (`-` for stdin): one identifier or ID per line, or NDJSON objects
    /// with an `id` or `identifier` field
    #[arg(long, value_name = "FILE")]
    pub from_file: Option<PathBuf>,

    /// Only devices in this cohort (ID, or name within the product)
    #[arg(long, short = 'c')]
    pub cohort: Option<String>,

    /// Only devices in no cohort
    #[arg(long, conflicts_with = "cohort")]
    pub no_cohort: bool,

    /// Only devices with this `key:value` tag (repeatable; all must match)
    #[arg(long = "tag", short = 't', value_name = "KEY:VALUE")]
    pub tags: Vec<String>,

    /// Only devices with this hardware target
    #[arg(long)]
    pub target: Option<String>,
}

impl SelectionArgs {
    /// The selection to send; reads `--from-file`. `product` is the command's product filter.
    pub fn into_selection(self, product: Option<String>) -> Result<Selection> {
        let named = !self.devices.is_empty() || self.from_file.is_some();
        let filtered = product.is_some()
            || self.cohort.is_some()
            || self.no_cohort
            || !self.tags.is_empty()
            || self.target.is_some();
        if named && filtered {
            return Err(Error::usage(
                "name devices (arguments or --from-file) or filter them, not both",
            )
            .hint("to narrow a named list, filter it first: `fleet device list … -o id`"));
        }
        if !named && !filtered {
            return Err(Error::usage("no devices selected").hint(
                "name devices, pass --from-file FILE, or filter with --cohort, --no-cohort, --tag or --target",
            ));
        }
        if !named {
            return Ok(Selection {
                devices: None,
                product,
                cohort: self.cohort,
                no_cohort: self.no_cohort,
                tag: self.tags,
                target: self.target,
            });
        }
        let mut devices = self.devices;
        if let Some(path) = &self.from_file {
            devices.extend(parse_refs(&read_source(path)?, &source_name(path))?);
        }
        Ok(Selection {
            devices: Some(devices),
            ..Selection::default()
        })
    }
}

/// The whole of FILE, or of stdin for `-`.
pub fn read_source(path: &Path) -> Result<String> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|err| Error::failure("could not read stdin").with_source(err))?;
        return Ok(text);
    }
    std::fs::read_to_string(path).map_err(|err| io_error("read", path, err))
}

pub fn source_name(path: &Path) -> String {
    if path == Path::new("-") {
        "stdin".to_owned()
    } else {
        path.display().to_string()
    }
}

/// Device references from a file: one per line, blank lines and `#` comments skipped; a line
/// starting with `{` is a JSON object whose `id` (else `identifier`) is taken.
pub fn parse_refs(text: &str, source: &str) -> Result<Vec<String>> {
    let mut refs = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !line.starts_with('{') {
            refs.push(line.to_owned());
            continue;
        }
        let bad = |why: &str| {
            Error::usage(format!("{source}, line {}: {why}", index + 1)).hint(
                "give one identifier or ID per line, or JSON objects with `id` or `identifier`",
            )
        };
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|err| bad(&format!("not valid JSON ({err})")))?;
        let reference = ["id", "identifier"]
            .iter()
            .find_map(|key| value.get(key).and_then(|v| v.as_str()))
            .ok_or_else(|| bad("the object has no `id` or `identifier` string"))?;
        refs.push(reference.to_owned());
    }
    Ok(refs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_and_ndjson_mix() {
        let text = "sn-1\n\n# comment\n  sn-2  \n{\"id\":\"dev_x\",\"identifier\":\"sn-3\"}\n{\"identifier\":\"sn-4\"}\n";
        let refs = parse_refs(text, "f").unwrap_or_default();
        assert_eq!(refs, ["sn-1", "sn-2", "dev_x", "sn-4"]);
    }

    #[test]
    fn bad_json_names_the_line() {
        let err = parse_refs("sn-1\n{\"name\":\"x\"}\n", "devices.txt").err();
        let message = err.map(|e| e.message).unwrap_or_default();
        assert!(message.contains("devices.txt, line 2"), "{message}");
    }

    #[test]
    fn names_and_filters_exclude_each_other() {
        let args = SelectionArgs {
            devices: vec!["sn-1".into()],
            from_file: None,
            cohort: None,
            no_cohort: false,
            tags: vec!["site:x".into()],
            target: None,
        };
        assert!(args.into_selection(None).is_err());
    }
}
