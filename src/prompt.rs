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
/// for the user; without a terminal the action is refused (exit 3).
pub fn confirm(ctx: &Context, what: &str) -> Result<()> {
    if ctx.options.yes {
        return Ok(());
    }
    if !can_prompt(ctx) {
        return Err(Error::cancelled(format!("{what} needs confirmation"))
            .hint("pass --yes to confirm without a terminal"));
    }
    let confirmed = Confirm::new()
        .with_prompt(format!("{what}?"))
        .default(false)
        .interact()
        .map_err(prompt_error)?;
    if confirmed {
        Ok(())
    } else {
        Err(Error::cancelled(format!("did not {what}")))
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
