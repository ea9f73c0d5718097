//! `fleet server`'s connection flags are checked before anything starts: a trusted proxy must be
//! an address or CIDR range, a timeout a non-zero duration, from flags and environment alike.

use crate::common::cli::Cli;

#[test]
fn bad_connection_flags_are_usage_errors() {
    let cli = Cli::new();
    let run = cli
        .run(&["server", "--trusted-proxy", "proxy.local"])
        .failure(2);
    assert!(
        run.stderr
            .contains("`proxy.local` is not an IP address or CIDR range"),
        "{run:#?}"
    );
    let run = cli.run(&["server", "--header-timeout", "0s"]).failure(2);
    assert!(run.stderr.contains("a timeout of zero"), "{run:#?}");
    cli.run(&["server", "--max-connections", "0"]).failure(2);
    let run = cli.run_with_env(
        &["server"],
        &[("FLEET_TRUSTED_PROXIES", "10.0.0.0/8,nonsense")],
    );
    let run = run.failure(2);
    assert!(run.stderr.contains("`nonsense`"), "{run:#?}");
}
