//! `fleet server --blob-store s3://…`: a bad location or missing credentials are usage errors
//! with a hint before anything starts; plain http is refused except to this machine; and a
//! bucket the server cannot list stops the start instead of failing the first upload.

use crate::common::cli::Cli;

const CREDENTIALS: [(&str, &str); 2] = [
    ("AWS_ACCESS_KEY_ID", "fleet-test"),
    ("AWS_SECRET_ACCESS_KEY", "fleet-test"),
];

#[test]
fn a_blob_store_that_is_not_an_s3_url_is_a_usage_error_with_a_hint() {
    let cli = Cli::new();
    for (url, why) in [
        ("fw-bucket", "is not an s3://BUCKET[/PREFIX] URL"),
        ("s3://Fw_Bucket/prod", "is not a bucket name"),
        ("s3://fw-bucket/a/../b", "`..` segment"),
    ] {
        let run = cli.run_with_env(&["server", "--blob-store", url], &CREDENTIALS);
        let run = run.failure(2);
        assert!(run.stderr.contains(why), "{url}: {run:#?}");
        assert!(
            run.stderr.contains("hint: use --blob-store s3://BUCKET"),
            "{run:#?}"
        );
    }
    let run = cli.run_with_env(&["server"], &[("FLEET_BLOB_STORE", "gs://fw-bucket")]);
    assert!(run.failure(2).stderr.contains("`gs://fw-bucket`"));
}

#[test]
fn an_s3_blob_store_without_credentials_says_which_variables_to_set() {
    let cli = Cli::new();
    let data = tempfile::tempdir().expect("tempdir");
    let dir = data.path().to_str().expect("utf-8");
    let args = [
        "server",
        "--data-dir",
        dir,
        "--blob-store",
        "s3://fw-bucket",
    ];
    for env in [&[][..], &[("AWS_ACCESS_KEY_ID", "AKID")][..]] {
        let run = cli.run_with_env(&args, env).failure(2);
        assert!(
            run.stderr.contains("needs credentials for the bucket"),
            "{run:#?}"
        );
        assert!(
            run.stderr
                .contains("hint: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
                && run.stderr.contains("does not read instance metadata"),
            "{run:#?}"
        );
    }
    assert!(
        std::fs::read_dir(data.path())
            .expect("dir")
            .next()
            .is_none(),
        "nothing was created before the flags were checked"
    );
}

#[test]
fn plain_http_is_refused_unless_the_endpoint_is_this_machine() {
    let cli = Cli::new();
    let data = tempfile::tempdir().expect("tempdir");
    let dir = data.path().to_str().expect("utf-8");
    let args = [
        "server",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        dir,
        "--no-profile",
        "--blob-store",
        "s3://fw-bucket",
        "--s3-path-style",
        "--s3-endpoint",
        "http://192.0.2.7:9000",
    ];
    let run = cli.run_with_env(&args, &CREDENTIALS).failure(1);
    assert!(run.stderr.contains("is plain http"), "{run:#?}");
    assert!(run.stderr.contains("hint: use https"), "{run:#?}");
}

#[test]
fn a_bucket_the_server_cannot_list_stops_the_start() {
    let Ok(endpoint) = std::env::var(crate::common::backend::S3_ENDPOINT_VAR) else {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: a_bucket_the_server_cannot_list_stops_the_start needs an S3 test server \
             ({} is not set)",
            crate::common::backend::S3_ENDPOINT_VAR
        );
        return;
    };
    let cli = Cli::new();
    let data = tempfile::tempdir().expect("tempdir");
    let dir = data.path().to_str().expect("utf-8");
    let args = [
        "server",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        dir,
        "--no-profile",
        "--blob-store",
        "s3://no-such-bucket-here/x",
        "--s3-path-style",
        "--s3-endpoint",
        &endpoint,
    ];
    let run = cli.run_with_env(&args, &CREDENTIALS).failure(1);
    assert!(
        run.stderr
            .contains("could not list the firmware bucket s3://no-such-bucket-here/x")
            && run.stderr.contains("check that the bucket exists"),
        "{run:#?}"
    );
}
