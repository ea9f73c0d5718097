//! `fleet simulate`: builds the simulated fleet from the flags, runs it on its own multi-thread
//! runtime with a live status line, and prints the summary. The fleet itself is
//! [`crate::simulate`].

mod args;
mod summary;

pub use args::SimulateArgs;

use crate::client::device::{DeviceTls, Endpoint, ServerTrust, parse_fingerprint};
use crate::context::Context;
use crate::error::{Error, Result, io_error};
use crate::output::OutputFormat;
use crate::simulate::{self, Counters, Load, Plan, Simulation};
use summary::{SummaryView, live_line};

pub fn run(ctx: &Context, args: SimulateArgs) -> Result<()> {
    let printer = &ctx.printer;
    if printer.format() == OutputFormat::Id {
        return Err(Error::usage("a simulation has no ID to print")
            .hint("use `-o table` (the default) or `-o json`"));
    }
    let endpoint = Endpoint::parse(&args.device_url)?;
    let trust = trust(&args)?;
    if matches!(trust, ServerTrust::Insecure) {
        printer.warn("--insecure: the device API's certificate is not checked; anyone on the path can answer as the server");
    }
    let tls = DeviceTls::new(&trust)?;
    let count = args.count.map(|n| n as usize);
    let first = args.first as usize;
    let identities = match (&args.ca, &args.certs) {
        (Some(ca), _) => {
            let count = count.ok_or_else(|| Error::usage("--ca needs --count N"))?;
            printer.status(&format!(
                "issuing {count} device certificates under `{}`",
                ca.display()
            ));
            simulate::issue_identities(ca, first, count)?
        }
        (None, Some(dir)) => simulate::load_identities(dir, count)?,
        (None, None) => return Err(Error::usage("give --ca DIR or --certs DIR")),
    };
    let load = (args.check_ins_only || args.ping).then_some(Load {
        check_ins: args.check_ins_only,
        ping: args.ping,
    });
    let plan = Plan {
        count: identities.len(),
        first,
        interval: args.interval,
        duration: args.duration,
        fail_rate: args.fail_rate,
        seed: args.seed,
        target: args.target,
        running: args.running,
        concurrency: args.concurrency as usize,
        until_settled: args.until_settled,
        load,
    };
    let devices = identities.len() as u64;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| Error::failure("could not start the async runtime").with_source(err))?;
    let summary = runtime.block_on(async {
        let simulation = Simulation::new(plan, endpoint, &tls, identities)?;
        let live = tokio::spawn(show_live(
            ctx.printer.live_line(),
            simulation.counters(),
            devices,
        ));
        let interrupt = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        let result = simulation.run(interrupt).await;
        live.abort();
        result
    });
    printer.live_line().finish();
    let summary = summary?;
    printer.show(&SummaryView(summary))
}

async fn show_live(
    line: crate::output::LiveLine,
    counters: std::sync::Arc<Counters>,
    devices: u64,
) {
    let Some(every) = line.every() else { return };
    let mut ticker = tokio::time::interval(every);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        line.show(&live_line(&counters.snapshot(), devices));
    }
}

fn trust(args: &SimulateArgs) -> Result<ServerTrust> {
    if let Some(pin) = &args.server_fingerprint {
        return Ok(ServerTrust::Fingerprint(parse_fingerprint(pin)?));
    }
    if let Some(path) = &args.server_ca {
        let pem = std::fs::read_to_string(path).map_err(|e| io_error("read", path, e))?;
        return ServerTrust::ca_from_pem(&pem, &path.display().to_string());
    }
    if args.insecure {
        return Ok(ServerTrust::Insecure);
    }
    Err(Error::usage("say how to trust the device API's certificate")
        .hint("give --server-fingerprint SHA256 (printed by `fleet server`), --server-ca PEM, or --insecure for development"))
}
