//! `fleet firmware pull --out FILE` never replaces an existing file unless `--force`.

use crate::firmware_support::{PART, content, setup};

#[test]
fn pull_refuses_an_existing_file_without_force() {
    let fw = setup();
    let bytes = content(2 * PART + 7, 11);
    let file = fw.file("app.img", &bytes);
    fw.push(&file, "p1", "1.0", &[]).success();
    let out = fw.file("existing.img", b"precious");
    let out_s = out.to_str().expect("utf-8");
    let pull = |extra: &[&str]| {
        let mut args = vec![
            "firmware",
            "pull",
            "-P",
            "p1",
            "-a",
            "app",
            "--version",
            "1.0",
            "-t",
            "armv7",
            "--out",
            out_s,
        ];
        args.extend_from_slice(extra);
        fw.cli.run(&args)
    };

    let run = pull(&[]).failure(2);
    assert!(
        run.stderr.contains(&format!("`{out_s}` already exists")),
        "{run:#?}"
    );
    assert!(run.stderr.contains("--force"), "{run:#?}");
    assert_eq!(std::fs::read(&out).expect("out"), b"precious");
    let leftovers = std::fs::read_dir(fw.dir.path()).expect("dir").count();
    assert_eq!(leftovers, 2, "no temporary file is left behind");

    pull(&["--force"]).success();
    assert_eq!(std::fs::read(&out).expect("out"), bytes);
}
