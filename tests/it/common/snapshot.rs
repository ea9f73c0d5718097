//! insta settings shared by the snapshot tests: what varies between runs (IDs, timestamps,
//! durations, temporary directories, the test server's port) is replaced by fixed placeholders,
//! IDs by ones of the same width so tables keep their alignment.

/// Settings with the filters; keep the guard of `bind_to_scope` alive while asserting.
pub fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    for (pattern, replacement) in [
        (
            r"\b([a-z]{3})_[0-9a-f]{32}\b",
            "${1}_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        ),
        (
            r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
            "YYYY-MM-DDTHH:MM:SSZ",
        ),
        // Tables show times to the minute.
        (r"\b\d{4}-\d\d-\d\d \d\d:\d\d\b", "YYYY-MM-DD HH:MM"),
        (r"\(\d+ ms\)", "(N ms)"),
        (r"/[^\s\]`']*\.tmp[A-Za-z0-9]{6}", "[tempdir]"),
    ] {
        settings.add_filter(pattern, replacement);
    }
    settings
}

/// [`settings`], also hiding the port of `url` (a test server's, or a dead one's).
pub fn settings_for(url: &str) -> insta::Settings {
    let mut settings = settings();
    // The URL is `http://127.0.0.1:<port>`: its dots are the only regex syntax in it.
    settings.add_filter(&url.replace('.', r"\."), "http://127.0.0.1:PORT");
    settings
}
