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
        let width = terminal_size::terminal_size_of(std::io::stderr())
            .map_or(80, |(width, _)| usize::from(width.0));
        let (before, question) = question_lines(what, width);
        let term = dialoguer::console::Term::stderr();
        for line in before {
            term.write_line(&line).map_err(|err| {
                Error::failure("could not write to the terminal").with_source(err)
            })?;
        }
        Confirm::new()
            .with_prompt(question)
            .default(false)
            .wait_for_newline(true)
            .interact()
            .map_err(prompt_error)
    })
}

/// Room the prompt's answer takes after the question (` [y/N] no`).
const ANSWER_WIDTH: usize = 10;

/// The question for `what` on a terminal `width` columns wide: as one line when it fits with
/// its answer; otherwise `what` word-wrapped on lines of its own and a short question after
/// them, because the prompt redraws only the screen line it ends on, and a question that
/// wraps is left on screen in pieces.
fn question_lines(what: &str, width: usize) -> (Vec<String>, String) {
    let question = format!("{what}?");
    if question.chars().count() + ANSWER_WIDTH <= width {
        return (Vec::new(), question);
    }
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in what.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    (lines, "continue?".to_owned())
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
    fn a_question_wider_than_the_terminal_is_wrapped_above_a_short_prompt() {
        let short = "delete product `p1`";
        assert_eq!(question_lines(short, 80), (Vec::new(), format!("{short}?")));
        let long = "move 1 device to product `gateway-v2` (moved devices lose their \
                    credentials and configuration override, and must be re-provisioned)";
        let (lines, question) = question_lines(long, 80);
        assert_eq!(question, "continue?");
        assert!(lines.len() >= 2, "{lines:?}");
        assert!(lines.iter().all(|l| l.chars().count() <= 80), "{lines:?}");
        assert_eq!(lines.join(" "), long, "every word kept, in order");
        // Fits exactly with the answer's room: one line still.
        let (lines, _) = question_lines(&"x".repeat(69), 80);
        assert!(lines.is_empty());
        let (lines, _) = question_lines(&"x".repeat(70), 80);
        assert_eq!(lines, vec!["x".repeat(70)]);
    }

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
