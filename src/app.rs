//! From a parsed command line to an exit code: turns the global flags into the printer, the
//! `-v` log and the command context, dispatches to one command, and renders its error, once,
//! on stderr.

use clap::CommandFactory;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::commands::{
    api_key, bundle, ca, cohort, completions, config, device, event, firmware, product, profile,
    release, signing_key, simulate, whoami,
};
use crate::context::{Context, Options};
use crate::error::{Error, Result};
use crate::output::{self, Printer, TableLayout};

/// Runs a parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> u8 {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let global = cli.global;
    let color = global.color.enabled(no_color);
    let printer = Printer::new(global.output, color, global.quiet)
        .with_table_layout(TableLayout::for_stdout(global.color, no_color));
    match dispatch(cli.command, global, color, &printer) {
        Ok(()) => 0,
        // The reader of stdout went away (`| head`): it has what it wanted.
        Err(err) if output::is_broken_pipe(&err) => 0,
        Err(err) => {
            printer.error(&err);
            err.exit_code()
        }
    }
}

fn dispatch(command: Command, global: GlobalArgs, color: bool, printer: &Printer) -> Result<()> {
    if let Command::Completions(args) = command {
        return completions::run(printer, args, Cli::command());
    }
    // `fleet server` installs its own log subscriber.
    #[cfg(feature = "server")]
    let serving = matches!(command, Command::Server(_));
    #[cfg(not(feature = "server"))]
    let serving = false;
    if !serving {
        output::request_log::install(global.verbose, color);
    }
    let ctx = Context::new(options(global), printer.clone())?;
    match command {
        Command::Profile(cmd) => profile::run(&ctx, cmd),
        Command::Product(cmd) => block_on(product::run(&ctx, cmd)),
        Command::Cohort(cmd) => block_on(cohort::run(&ctx, cmd)),
        Command::Device(cmd) => block_on(device::run(&ctx, cmd)),
        Command::Config(cmd) => block_on(config::run(&ctx, cmd)),
        Command::Ca(cmd) => block_on(ca::run(&ctx, cmd)),
        Command::ApiKey(cmd) => block_on(api_key::run(&ctx, cmd)),
        Command::Event(cmd) => block_on(event::run(&ctx, cmd)),
        // Whole binaries, several parts at once: firmware keeps the worker thread its transfer
        // figures (bench/firmware.sh) were measured with.
        Command::Firmware(cmd) => block_on_threads(firmware::run(&ctx, cmd)),
        Command::SigningKey(cmd) => block_on(signing_key::run(&ctx, cmd)),
        Command::Bundle(cmd) => block_on(bundle::run(&ctx, cmd)),
        Command::Release(cmd) => block_on(release::run(&ctx, cmd)),
        Command::Whoami(args) => block_on(whoami::run(&ctx, args)),
        // Sync: the simulated fleet builds its own multi-thread runtime.
        Command::Simulate(args) => simulate::run(&ctx, args),
        // Sync: the service builds its own multi-thread runtime.
        #[cfg(feature = "server")]
        Command::Server(args) => crate::commands::server::run(&ctx, *args),
        Command::Completions(_) => Ok(()),
    }
}

/// The global flags commands act on; the output ones went to the printer.
fn options(global: GlobalArgs) -> Options {
    Options {
        profile: global.profile,
        api_url: global.api_url,
        api_key: global.api_key,
        yes: global.yes,
        no_input: global.no_input,
        config_dir: global.config_dir,
    }
}

/// Runs a client command on this thread alone. Most commands are a request or two, and a
/// second thread cost more than the rest of such a run: starting it, its allocator arena, and
/// handing every readiness event between the two (`fleet product list` used 5.4 ms of CPU with
/// one, 3.8 ms without; issue 15). Whole lists still fetch on a thread of their own
/// (`client::paging`).
fn block_on<F: Future<Output = Result<()>>>(future: F) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(runtime_error)?;
    runtime.block_on(future)
}

/// Runs a client command with one worker thread besides the caller's.
fn block_on_threads<F: Future<Output = Result<()>>>(future: F) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(runtime_error)?;
    runtime.block_on(future)
}

fn runtime_error(err: std::io::Error) -> Error {
    Error::failure("could not start the async runtime").with_source(err)
}
