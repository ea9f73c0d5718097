//! `fleet simulate --first N`: simulated devices numbered from N, so runs over separate number
//! ranges provision separate devices (how a benchmark builds a large fleet in waves).

use crate::simulate::{ca_dir, service_with_jitp, simulate};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_wave_from_first_n_provisions_new_devices_beside_the_first() {
    let ca = ca_dir("waves");
    let api = service_with_jitp(ca.path()).await;
    let ca_path = ca.path().to_str().expect("utf-8 path");
    let wave = |first: &str| {
        simulate(
            &api.server,
            &[
                "-q",
                "--ca",
                ca_path,
                "--first",
                first,
                "--count",
                "2",
                "--check-ins-only",
                "--duration",
                "100ms",
                "-o",
                "json",
            ],
        )
        .success()
        .json()
    };
    let first = wave("0");
    assert_eq!(first["provisioned"], 2, "{first}");
    let second = wave("9999");
    assert_eq!(second["provisioned"], 2, "{second}");
    assert_eq!(second["refused"], 0, "{second}");
    // Four devices: the second wave's numbers (9999, 10000) are new identifiers, not the first's.
    let mut names = api.names("/v1/devices?product=sensor", "identifier").await;
    names.sort();
    assert_eq!(names, ["sim-0000", "sim-0001", "sim-10000", "sim-9999"]);
}

#[test]
fn first_needs_a_ca_to_number_from() {
    let run = crate::common::cli::Cli::new().run(&[
        "simulate",
        "--device-url",
        "https://127.0.0.1:9",
        "--insecure",
        "--certs",
        ".",
        "--first",
        "10",
    ]);
    let run = run.failure(2);
    assert!(run.stderr.contains("--first"), "{}", run.stderr);
    assert!(run.stderr.contains("--ca"), "{}", run.stderr);
}
