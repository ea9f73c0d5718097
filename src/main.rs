//! The `fleet` binary: parse the command line, run it, exit with the code its outcome maps to.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    if fleet::help::asks_only_version(std::env::args_os()) {
        // A closed stdout is not an error here either.
        let _ = std::io::stdout().write_all(fleet::help::VERSION_LINE.as_bytes());
        return ExitCode::SUCCESS;
    }
    ExitCode::from(fleet::run(fleet::help::parse()))
}
