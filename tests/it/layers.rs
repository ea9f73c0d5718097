//! The layers of ARCHITECTURE.md, checked: each rule names the source files it governs and the
//! paths those files must not name. `use` statements and inline paths both count, so moving an
//! import into a function body does not get around a rule.

use std::path::{Path, PathBuf};

struct Rule {
    /// Files under `src/` this rule governs: a directory (`server/store/`) or one file.
    governs: &'static str,
    /// Files under `governs` the rule leaves alone.
    except: &'static [&'static str],
    /// Paths the governed files must not contain (matched as text, after comments are dropped).
    forbidden: &'static [&'static str],
    why: &'static str,
}

const RULES: &[Rule] = &[
    Rule {
        governs: "api/",
        except: &[],
        forbidden: &[
            "crate::client",
            "crate::commands",
            "crate::config",
            "crate::context",
            "crate::output",
            "crate::server",
            "crate::cli",
            "crate::app",
        ],
        why: "wire types are shared by client and service and depend on nothing of either",
    },
    Rule {
        governs: "error.rs",
        except: &[],
        forbidden: &["crate::"],
        why: "the error type is the bottom layer",
    },
    Rule {
        governs: "output/",
        except: &[],
        forbidden: &[
            "crate::cli",
            "crate::app",
            "crate::commands",
            "crate::context",
            "crate::client",
            "crate::config",
            "crate::server",
        ],
        why: "output takes plain values: it renders, it does not parse flags or call the service",
    },
    Rule {
        governs: "client/",
        except: &[],
        forbidden: &[
            "crate::cli",
            "crate::app",
            "crate::commands",
            "crate::context",
            "crate::output",
            "crate::config",
            "crate::server",
        ],
        why: "the client speaks HTTP and reports through tracing, never through the printer",
    },
    Rule {
        governs: "simulate/",
        except: &[],
        forbidden: &[
            "crate::cli",
            "crate::app",
            "crate::commands",
            "crate::context",
            "crate::output",
            "crate::config",
            "crate::server",
        ],
        why: "the simulated fleet drives the device client and returns figures; the command renders them",
    },
    Rule {
        governs: "config/",
        except: &[],
        forbidden: &[
            "crate::cli",
            "crate::app",
            "crate::commands",
            "crate::context",
            "crate::output",
            "crate::client",
            "crate::server",
        ],
        why: "config reads and writes files and returns its own types",
    },
    Rule {
        governs: "pki/",
        except: &[],
        forbidden: &[
            "crate::cli",
            "crate::app",
            "crate::commands",
            "crate::context",
            "crate::output",
            "crate::client",
            "crate::config",
            "crate::server",
        ],
        why: "the local PKI makes and writes certificates; the commands and the simulator call it",
    },
    Rule {
        governs: "context.rs",
        except: &[],
        forbidden: &[
            "crate::cli",
            "crate::app",
            "crate::commands",
            "crate::server",
        ],
        why: "the context is built from plain options by app.rs",
    },
    Rule {
        governs: "commands/",
        except: &[],
        forbidden: &["crate::cli", "crate::app"],
        why: "commands receive their args and a context; the flag tree sits above them",
    },
    Rule {
        governs: "commands/",
        except: &[
            "commands/server.rs",
            "commands/server_keys.rs",
            "commands/server_migrate.rs",
            "commands/server_blobs.rs",
        ],
        forbidden: &["crate::server"],
        why: "only `fleet server` itself may reach into the service",
    },
    Rule {
        governs: "server/",
        except: &[],
        forbidden: &[
            "crate::cli",
            "crate::app",
            "crate::commands",
            "crate::context",
            "crate::client",
            "crate::output",
            "crate::config",
        ],
        why: "the service uses only the wire types of the CLI side",
    },
    Rule {
        governs: "server/store/",
        except: &[],
        forbidden: &[
            "server::domain",
            "server::handlers",
            "server::routes",
            "server::router",
            "server::authz",
            "server::auth::",
            "axum",
        ],
        why: "the store is SQL over api types; it knows nothing of HTTP or the rules above it",
    },
    Rule {
        governs: "server/domain/",
        except: &[],
        forbidden: &[
            "server::handlers",
            "server::routes",
            "server::router",
            "server::extract",
            "axum::extract",
            "axum::Json",
            "axum::response",
        ],
        why: "the domain takes typed inputs; extracting and shaping HTTP is the handlers' job",
    },
    Rule {
        governs: "server/handlers/",
        except: &[],
        forbidden: &["server::store", "store::"],
        why: "handlers are HTTP adapters: every read and write goes through the domain",
    },
    Rule {
        governs: "server/state.rs",
        except: &[],
        forbidden: &["handlers", "server::routes"],
        why: "state is built before any handler exists",
    },
    Rule {
        governs: "server/authz.rs",
        except: &[],
        forbidden: &["handlers"],
        why: "authorization applies declared rules; it does not call into handlers",
    },
];

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).expect("read src dir");
    for entry in entries {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's shipped code: without `//` comments, so prose that names a layer is not an
/// import, and without its unit tests (by convention the file's last item, after
/// `#[cfg(test)]`), which may compare both sides of a boundary.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read source file");
    text.lines()
        .take_while(|line| line.trim() != "#[cfg(test)]")
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether `code` contains `path` as a whole path segment (`crate::cli` is not `crate::client`).
fn names(code: &str, path: &str) -> bool {
    code.match_indices(path).any(|(at, _)| {
        let before = code[..at].chars().next_back();
        let after = code[at + path.len()..].chars().next();
        let is_ident = |c: char| c.is_alphanumeric() || c == '_';
        let starts_clean = path.starts_with("crate::") || !before.is_some_and(is_ident);
        let ends_clean = path.ends_with("::") || !after.is_some_and(is_ident);
        starts_clean && ends_clean
    })
}

/// Every `(file, forbidden path, rule)` breach in the tree.
fn breaches() -> Vec<String> {
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut found = Vec::new();
    for file in &files {
        let relative = file
            .strip_prefix(&src)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/");
        let code = code_of(file);
        for rule in RULES {
            let governed = if rule.governs.ends_with('/') {
                relative.starts_with(rule.governs)
            } else {
                relative == rule.governs
            };
            if !governed || rule.except.contains(&relative.as_str()) {
                continue;
            }
            for forbidden in rule.forbidden {
                if names(&code, forbidden) {
                    found.push(format!("src/{relative} names `{forbidden}`: {}", rule.why));
                }
            }
        }
    }
    found
}

#[test]
fn every_module_imports_only_the_layers_below_it() {
    let found = breaches();
    assert!(
        found.is_empty(),
        "layer rules broken (see ARCHITECTURE.md):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_rules_govern_files_that_exist() {
    // A rule whose directory was renamed away would pass forever; make it fail instead.
    let src = src_dir();
    for rule in RULES {
        let path = src.join(rule.governs.trim_end_matches('/'));
        assert!(path.exists(), "rule governs missing src/{}", rule.governs);
        for except in rule.except {
            assert!(
                src.join(except).exists(),
                "rule excepts missing src/{except}"
            );
        }
    }
}
