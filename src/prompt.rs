//! Questions to the person at the terminal (dialoguer, on stderr). Prompts happen only when
//! stdin and stderr are terminals and `--no-input` is not set; otherwise commands fail with a
//! hint instead of hanging a script.

use std::io::IsTerminal;

use dialoguer::{Confirm, Password};

use crate::context::Context;
use crate::error::{Error, Result};

/// Whether a person can be asked.
pub fn can_prompt(ctx: &Context) -> bool {
    !ctx.options.no_input && std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Asks before a destructive action; `what` reads like "delete product `x`". `--yes` answers
/// for the user; without a terminal the action is refused (exit 3). The answer is read up to
/// Enter, so a stray key press never decides and the Enter never reaches the shell. Run the
/// checks that can fail before asking.
pub fn confirm(ctx: &Context, what: &str) -> Result<()> {
    decide(what, ctx.options.yes, can_prompt(ctx), || {
        Confirm::new()
            .with_prompt(format!("{what}?"))
            .default(false)
            .wait_for_newline(true)
            .interact()
            .map_err(prompt_error)
    })
}

/// The decision of [`confirm`], with the question as a function so it can be answered
/// without a terminal.
fn decide(what: &str, yes: bool, terminal: bool, ask: impl FnOnce() -> Result<bool>) -> Result<()> {
    if yes {
        return Ok(());
    }
    if !terminal {
        return Err(Error::cancelled(format!("{what} needs confirmation"))
            .hint("pass --yes to confirm without a terminal"));
    }
    if ask()? {
        Ok(())
    } else {
        Err(Error::declined())
    }
}

/// Reads a secret without echoing it.
pub fn password(ctx: &Context, prompt: &str) -> Result<String> {
    if !can_prompt(ctx) {
        return Err(Error::usage(format!(
            "{prompt} is needed and there is no terminal to ask"
        )));
    }
    Password::new()
        .with_prompt(prompt)
        .interact()
        .map_err(prompt_error)
}

fn prompt_error(err: dialoguer::Error) -> Error {
    // Ctrl-C and a closed terminal both end up here.
    Error::cancelled("the prompt was interrupted").with_source(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{OutputFormat, Printer};

    #[test]
    fn no_is_a_plain_cancelled_with_exit_3() {
        let err = decide("delete product `p1`", false, true, || Ok(false)).expect_err("no cancels");
        assert_eq!(err.exit_code(), 3);
        let text = Printer::new(OutputFormat::Table, false, false).render_error(&err);
        assert_eq!(text, "cancelled\n");
    }

    #[test]
    fn yes_and_no_terminal_never_ask() {
        let never = || -> Result<bool> { Err(Error::failure("asked")) };
        decide("delete it", true, true, never).expect("--yes confirms");
        let err = decide("delete it", false, false, never).expect_err("no terminal");
        assert_eq!(err.exit_code(), 3);
        assert_eq!(err.message, "delete it needs confirmation");
        decide("delete it", false, true, || Ok(true)).expect("yes proceeds");
    }
}
