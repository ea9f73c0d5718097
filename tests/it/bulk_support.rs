//! Helpers for the bulk tests: a server with two products, and direct reads of its database
//! (device state and audit events) to prove what changed and what did not.

use crate::common::backend;
use crate::common::cli::Cli;
use crate::common::server::TestServer;

/// A server and CLI with products `p1` (cohort `a`) and `p2` (cohort `beta`), and `count`
/// devices `sn-000000`… in `p1`.
pub fn setup_with(server: TestServer, count: usize) -> (TestServer, Cli) {
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "p1"]).success();
    cli.run(&["product", "create", "p2"]).success();
    cli.run(&["cohort", "create", "a", "--product", "p1"])
        .success();
    cli.run(&["cohort", "create", "beta", "--product", "p2"])
        .success();
    if count > 0 {
        server.seed_devices("p1", "sn", count);
    }
    (server, cli)
}

pub fn setup(count: usize) -> (TestServer, Cli) {
    setup_with(TestServer::start(), count)
}

/// Rows of `sql` against the server's database (SQLite or PostgreSQL, as the run uses); every
/// column must be TEXT (CAST the rest).
pub fn rows(server: &TestServer, sql: &str) -> Vec<Vec<Option<String>>> {
    backend::rows(&server.storage, sql)
}

/// Runs the writing statement `sql` on the server's database, behind the service's back: for
/// states the API cannot make (chosen timestamps).
#[allow(dead_code)]
pub fn execute(server: &TestServer, sql: &str) {
    backend::execute(&server.storage, sql);
}

/// Every device's product, cohort, revision, provisioning flag and update time.
pub fn devices(server: &TestServer) -> Vec<Vec<Option<String>>> {
    rows(
        server,
        "SELECT identifier, product_id, cohort_id, CAST(revision AS TEXT), \
         CAST(needs_provisioning AS TEXT), CAST(updated_at AS TEXT) FROM device_records ORDER BY identifier",
    )
}

/// How many devices have an audit entry with `action`: their own event, or a bulk operation's
/// event naming them in `event_devices`.
pub fn event_count(server: &TestServer, action: &str) -> usize {
    let found = rows(
        server,
        &format!(
            "SELECT CAST((SELECT COUNT(*) FROM events WHERE action = '{action}' \
             AND resource_id IS NOT NULL) + (SELECT COUNT(*) FROM event_devices ed \
             JOIN events e ON e.id = ed.event_id WHERE e.action = '{action}') AS TEXT)"
        ),
    );
    found[0][0]
        .as_deref()
        .and_then(|n| n.parse().ok())
        .expect("count")
}

/// The events `fleet event list` shows for `device` (a device's history) with `action`.
pub fn device_events(cli: &Cli, device: &str, action: &str) -> Vec<serde_json::Value> {
    let id = cli
        .run(&["device", "show", device, "-o", "id"])
        .success()
        .stdout;
    let listed = cli
        .run(&[
            "event",
            "list",
            "--resource",
            id.trim(),
            "--action",
            action,
            "-o",
            "json",
        ])
        .success()
        .json();
    listed.as_array().cloned().unwrap_or_default()
}

/// The identifiers `sn-000000`… the seeding created.
pub fn seeded(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|n| format!("sn-{n:06}")).collect()
}
