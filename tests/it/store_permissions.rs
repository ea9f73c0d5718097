//! The service keeps its files private whatever the umask: `fleet server`, started under
//! `umask 000` on a fresh data dir, makes the dir 0700 and the database, its WAL files and every
//! firmware blob 0600 (their directories 0700).

use std::io::{BufRead as _, BufReader};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::common::cli::Cli;

/// `fleet server` under `umask 000`, with the sealed environment of `cli` (so its first start
/// writes the `local` profile there). Returns the child once it listens.
fn start_permissive(cli: &Cli, data_dir: &Path) -> Child {
    let fleet = cli.std_command();
    let mut command = Command::new("sh");
    command
        .env_clear()
        .envs(
            fleet
                .get_envs()
                .filter_map(|(key, value)| value.map(|value| (key, value))),
        )
        .args(["-c", "umask 000; exec \"$0\" \"$@\""])
        .arg(fleet.get_program())
        .args(["server", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("start fleet server");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    loop {
        let line = lines
            .next()
            .expect("the server said where it listens before exiting")
            .expect("stderr line");
        if line.contains("listening on ") {
            break;
        }
    }
    // Keep draining stderr so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    child
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Every file and directory under `dir`.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("dir entry").path();
        out.push(path.clone());
        if path.is_dir() {
            walk(&path, out);
        }
    }
}

#[test]
fn data_dir_database_and_blobs_are_private_under_a_permissive_umask() {
    // The server started here keeps its database in the data dir: the file modes of SQLite's
    // files are what is checked.
    if !crate::common::backend::sqlite_only(
        "data_dir_database_and_blobs_are_private_under_a_permissive_umask: SQLite's file modes",
    ) {
        return;
    }
    let cli = Cli::new();
    let parent = tempfile::tempdir().expect("temp dir");
    let data_dir = parent.path().join("data");
    let mut server = start_permissive(&cli, &data_dir);

    // Writes make the WAL files; a push makes blob directories and files.
    cli.run(&["product", "create", "p"]).success();
    let firmware = parent.path().join("app.img");
    std::fs::write(&firmware, vec![5u8; 4096]).expect("write firmware");
    let firmware = firmware.to_str().expect("utf-8 path");
    cli.run(&[
        "firmware",
        "push",
        firmware,
        "-P",
        "p",
        "-a",
        "app",
        "--version",
        "1.0",
        "-t",
        "armv7",
    ])
    .success();

    let db = data_dir.join(fleet::server::DB_FILE);
    let mut checked = vec![(data_dir.clone(), 0o700)];
    for file in [
        db.clone(),
        db.with_extension("db-wal"),
        db.with_extension("db-shm"),
    ] {
        checked.push((file, 0o600));
    }
    let mut blobs = Vec::new();
    walk(&data_dir.join("blobs"), &mut blobs);
    assert!(
        blobs.iter().any(|path| path.is_file()),
        "the push stored blobs: {blobs:?}"
    );
    checked.push((data_dir.join("blobs"), 0o700));
    for path in blobs {
        let expected = if path.is_dir() { 0o700 } else { 0o600 };
        checked.push((path, expected));
    }
    let wrong: Vec<String> = checked
        .iter()
        .filter(|(path, expected)| mode(path) != *expected)
        .map(|(path, expected)| format!("{} is {:o}, not {expected:o}", path.display(), mode(path)))
        .collect();

    let _ = server.kill();
    let _ = server.wait();
    assert!(wrong.is_empty(), "{wrong:#?}");
}
