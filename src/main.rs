//! The `fleet` binary: parse the command line, run it, exit with the code its outcome maps to.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(fleet::run(fleet::help::parse()))
}
