//! Free text in tables: characters that do not show (bidirectional overrides, zero-width
//! characters, control characters) are printed as visible escapes, so a description cannot
//! reorder or fake what is around it; `-o json` prints the stored value exactly.

use crate::common::cli::Cli;
use crate::common::server::TestServer;

const DESCRIPTION: &str = "evil\u{202e}txt.exe\u{200b}\nrevision  99";

#[test]
fn tables_escape_invisible_characters_and_json_keeps_them() {
    let server = TestServer::start();
    let cli = Cli::against(&server);
    cli.run(&["product", "create", "p", "-d", DESCRIPTION])
        .success();
    cli.run(&[
        "device",
        "create",
        "sn-1",
        "--product",
        "p",
        "-d",
        DESCRIPTION,
    ])
    .success();

    for noun in ["product", "device"] {
        let id = if noun == "product" { "p" } else { "sn-1" };
        let shown = cli.run(&[noun, "show", id]).success();
        let line = shown
            .stdout
            .lines()
            .find(|l| l.starts_with("description"))
            .expect("a description line");
        assert!(
            line.ends_with("evil\\u{202e}txt.exe\\u{200b}\\nrevision  99"),
            "{noun}: {line:?}"
        );
        assert!(!shown.stdout.contains('\u{202e}'), "{shown:#?}");
        assert!(!shown.stdout.contains('\u{200b}'), "{shown:#?}");
        // The newline did not start a line of its own that looks like a field.
        assert!(
            !shown.stdout.lines().any(|l| l.starts_with("revision  99")),
            "{shown:#?}"
        );

        let json = cli.run(&[noun, "show", id, "-o", "json"]).success();
        assert_eq!(json.json()["description"], DESCRIPTION, "{noun}");
    }
}
