//! Dispatch from the parsed command line to one command's `run`, and the one place errors are
//! rendered and turned into an exit code.

pub mod api_key;
pub mod bulk;
pub mod bundle;
pub mod cohort;
pub mod completions;
pub mod device;
pub mod event;
pub mod firmware;
pub mod product;
pub mod profile;
pub mod release;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "server")]
pub mod server_keys;
pub mod signing_key;
pub mod whoami;

use clap::Args;

use crate::cli::{Command, GlobalArgs};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::output::{self, Printer};

/// Runs a parsed command line; errors are printed here, once, on stderr.
pub fn run(cli: crate::Cli) -> u8 {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let printer = Printer::new(&cli.global, no_color);
    match dispatch(cli.command, cli.global, &printer) {
        Ok(()) => 0,
        // The reader of stdout went away (`| head`): it has what it wanted.
        Err(err) if output::is_broken_pipe(&err) => 0,
        Err(err) => {
            printer.error(&err);
            err.exit_code()
        }
    }
}

fn dispatch(command: Command, global: GlobalArgs, printer: &Printer) -> Result<()> {
    if let Command::Completions(args) = command {
        return completions::run(printer, args);
    }
    let ctx = Context::new(global, printer.clone())?;
    match command {
        Command::Profile(cmd) => profile::run(&ctx, cmd),
        Command::Product(cmd) => block_on(product::run(&ctx, cmd)),
        Command::Cohort(cmd) => block_on(cohort::run(&ctx, cmd)),
        Command::Device(cmd) => block_on(device::run(&ctx, cmd)),
        Command::ApiKey(cmd) => block_on(api_key::run(&ctx, cmd)),
        Command::Event(cmd) => block_on(event::run(&ctx, cmd)),
        Command::Firmware(cmd) => block_on(firmware::run(&ctx, cmd)),
        Command::SigningKey(cmd) => block_on(signing_key::run(&ctx, cmd)),
        Command::Bundle(cmd) => block_on(bundle::run(&ctx, cmd)),
        Command::Release(cmd) => block_on(release::run(&ctx, cmd)),
        Command::Whoami(args) => block_on(whoami::run(&ctx, args)),
        // Sync: the service builds its own multi-thread runtime.
        #[cfg(feature = "server")]
        Command::Server(args) => server::run(&ctx, args),
        Command::Completions(_) => Ok(()),
    }
}

/// Runs a client command. One worker thread besides the caller's: list paging fetches and
/// parses the next page there while this thread prints the current one.
fn block_on<F: Future<Output = Result<()>>>(future: F) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|err| Error::failure("could not start the async runtime").with_source(err))?;
    runtime.block_on(future)
}

/// `--limit` / `--all`, shared by every list command.
#[derive(Debug, Clone, Args)]
pub struct PageArgs {
    /// Print at most N items
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: u64,

    /// Print every item, following pages to the end (streams; memory stays flat)
    #[arg(long, conflicts_with = "limit")]
    pub all: bool,
}

impl PageArgs {
    /// The most items to print; `None` for everything.
    pub fn max(&self) -> Option<u64> {
        (!self.all).then_some(self.limit)
    }
}
