//! Lists printed from the service's own JSON text, item by item, without decoding the items:
//! `json` re-indents each item into the array exactly as serde's pretty printer writes it,
//! `ndjson` writes it compact. Strings are copied as the service escaped them.

use std::io::{self, BufWriter, Write};
use std::pin::pin;

use futures_util::{Stream, StreamExt};
use serde_json::value::RawValue;

use super::{OutputFormat, Printer, write_error};
use crate::error::Error;

impl Printer {
    /// Prints every item of `stream` (JSON text of each) in `json` or `ndjson` format and
    /// returns how many were printed. Other formats need the decoded items: use
    /// [`Printer::print_stream`].
    pub async fn print_raw_stream<S>(&self, stream: S) -> Result<u64, Error>
    where
        S: Stream<Item = Result<Box<RawValue>, Error>>,
    {
        let pretty = match self.format() {
            OutputFormat::Json => true,
            OutputFormat::Ndjson => false,
            other => {
                return Err(Error::failure(format!(
                    "the {other:?} format cannot be printed from JSON text"
                )));
            }
        };
        let mut stream = pin!(stream);
        let mut out = BufWriter::with_capacity(64 * 1024, io::stdout());
        let mut text = Vec::with_capacity(1024);
        let mut count: u64 = 0;
        while let Some(item) = stream.next().await {
            let item = item?;
            text.clear();
            if pretty {
                text.extend_from_slice(if count == 0 { b"[\n  " } else { b",\n  " });
                reformat(item.get().as_bytes(), Some(1), &mut text);
            } else {
                reformat(item.get().as_bytes(), None, &mut text);
                text.push(b'\n');
            }
            out.write_all(&text).map_err(write_error)?;
            count += 1;
        }
        if pretty {
            let end: &[u8] = if count == 0 { b"[]\n" } else { b"\n]\n" };
            out.write_all(end).map_err(write_error)?;
        }
        out.flush().map_err(write_error)?;
        Ok(count)
    }
}

/// Writes the JSON value `json` (valid JSON: it was parsed as a value) to `out`: compact with
/// `depth` `None`, else pretty as serde_json's `PrettyFormatter` with two-space indents, nested
/// `depth` levels deep (the first line is not indented; later ones are).
fn reformat(json: &[u8], depth: Option<usize>, out: &mut Vec<u8>) {
    let mut level = depth.unwrap_or(0);
    let newline = |out: &mut Vec<u8>, level: usize| {
        out.push(b'\n');
        out.resize(out.len() + 2 * level, b' ');
    };
    let mut i = 0;
    while i < json.len() {
        let byte = json[i];
        match byte {
            b'"' => {
                // Copied to its closing quote; `\"` and `\\` never end it.
                let start = i;
                i += 1;
                while i < json.len() && json[i] != b'"' {
                    i += if json[i] == b'\\' { 2 } else { 1 };
                }
                out.extend_from_slice(&json[start..(i + 1).min(json.len())]);
            }
            b'{' | b'[' => {
                let close = if byte == b'{' { b'}' } else { b']' };
                let next = i + 1 + whitespace(&json[i + 1..]);
                if json.get(next) == Some(&close) {
                    out.extend_from_slice(&[byte, close]);
                    i = next;
                } else {
                    out.push(byte);
                    if depth.is_some() {
                        level += 1;
                        newline(out, level);
                    }
                }
            }
            b'}' | b']' => {
                if depth.is_some() {
                    level = level.saturating_sub(1);
                    newline(out, level);
                }
                out.push(byte);
            }
            b',' => {
                out.push(b',');
                if depth.is_some() {
                    newline(out, level);
                }
            }
            b':' => {
                out.extend_from_slice(if depth.is_some() { b": " } else { b":" });
            }
            b' ' | b'\n' | b'\r' | b'\t' => {}
            _ => out.push(byte),
        }
        i += 1;
    }
}

fn whitespace(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `ListWriter` prints for one item of a JSON list: serde's pretty text, indented once.
    fn serde_pretty_item(value: &serde_json::Value) -> String {
        let text = serde_json::to_string_pretty(value).expect("pretty");
        text.replace('\n', "\n  ")
    }

    #[test]
    fn pretty_and_compact_equal_serde_for_every_shape() {
        let samples = [
            // Keys in order and numbers in serde's spelling, as `Value` writes them back.
            r#"{"id":"dev_1","meta":{},"n":-15,"nested":{"a":[1,2,{"b":null,"c":[]}],"d":{"e":true}},"revision":7,"s":"q\"uo{te}[,]: \\ \\\" tab\t nl\n ü 🚀 \u0001","tags":[]}"#,
            r#"{ "last" : false , "spaced" : [ 1 , { } , [ ] , "x" ] }"#,
            r#"{"backslash_end":"\\","empty_string":""}"#,
            "[]",
            "{}",
            r#""plain""#,
            "12",
        ];
        for sample in samples {
            let value: serde_json::Value = serde_json::from_str(sample).expect("sample is JSON");
            let mut pretty = Vec::new();
            reformat(sample.as_bytes(), Some(1), &mut pretty);
            // serde re-escapes strings; the samples use its escapes, so the texts match.
            let expected = serde_pretty_item(&value);
            assert_eq!(
                String::from_utf8(pretty).expect("utf-8"),
                expected,
                "{sample}"
            );
            let mut compact = Vec::new();
            reformat(sample.as_bytes(), None, &mut compact);
            assert_eq!(
                String::from_utf8(compact).expect("utf-8"),
                serde_json::to_string(&value).expect("compact"),
                "{sample}"
            );
        }
    }

    #[test]
    fn a_device_prints_as_the_decoded_device_does() {
        let text = r#"{"id":"dev_01a2330a59ea767690ad795e0ee945c4","identifier":"rich","product_id":"prd_01a2330a59ea767690ad795e0ee945c5","product":"sensor","cohort_id":null,"cohort":null,"description":"quote \" back\\slash\ttab\nnewline ünïcode 🚀 </script>","tags":["a/b:c=d","site:berlin"],"target":"aarch64-unknown-linux-gnu","quarantined":true,"needs_provisioning":false,"created_at":"2024-01-02T03:04:05.000123Z","updated_at":"2024-01-02T03:04:05.120Z","revision":3}"#;
        let device: crate::api::Device = serde_json::from_str(text).expect("a device");
        let mut pretty = Vec::new();
        reformat(text.as_bytes(), Some(1), &mut pretty);
        let expected = serde_json::to_string_pretty(&device)
            .expect("pretty")
            .replace('\n', "\n  ");
        assert_eq!(String::from_utf8(pretty).expect("utf-8"), expected);
    }
}
