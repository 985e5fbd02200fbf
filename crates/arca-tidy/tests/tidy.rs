//! The tidy test: walks the repository's Rust sources (`crates/`, `fuzz/`, `docs/examples/rust`,
//! never a `target/` folder) and manifests, and fails on any broken house rule, naming the file
//! and line. The rules themselves are `arca_tidy`'s functions; this file only finds the files and
//! holds the temporary allow-lists, which may only shrink (an entry that is no longer needed
//! fails too, so it gets removed).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use arca_tidy::Problem;

/// Library crates that still list `anyhow` in `[dependencies]`. Issue 11: the server's start-up
/// errors become a thiserror enum, then this list is emptied. Never add to it.
const ANYHOW_ALLOWED: &[&str] = &[];

/// Admin route files that still build `json!` literals: none since the admin API's bodies are
/// `arca_proto::admin` types. Never add to it.
const ADMIN_JSON_ALLOWED: &[&str] = &[];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The repository's `.rs` files under the folders the rules cover, as (relative path, text).
fn rust_files() -> Vec<(String, String)> {
    let root = root();
    let mut files = Vec::new();
    for top in ["crates", "fuzz", "docs/examples/rust"] {
        walk(&root.join(top), &mut files);
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: cannot read: {e}", path.display()));
            let relative = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (relative, text)
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy();
        if path.is_dir() {
            // Build output, and libFuzzer's own folders of inputs.
            if !(name == "target"
                || name.starts_with('.')
                || name == "artifacts"
                || name == "corpus")
            {
                walk(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

fn fail_on(problems: Vec<Problem>, what: &str) {
    if !problems.is_empty() {
        let listed: Vec<String> = problems.iter().map(ToString::to_string).collect();
        panic!("{what}:\n{}", listed.join("\n"));
    }
}

/// Runs a per-file check over every Rust file of the workspace and fails on what it finds.
fn check_rust_files(check: fn(&str, &str) -> Vec<Problem>, what: &str) {
    let problems = rust_files()
        .iter()
        .flat_map(|(path, text)| check(path, text))
        .collect();
    fail_on(problems, what);
}

#[test]
fn the_walk_finds_the_repository_sources() {
    let files = rust_files();
    let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    for expected in [
        "crates/arca-tidy/tests/tidy.rs",
        "crates/arca-server/src/lib.rs",
        "fuzz/src/lib.rs",
        "docs/examples/rust/src/main.rs",
    ] {
        assert!(paths.contains(&expected), "the walk missed {expected}");
    }
    assert!(!paths
        .iter()
        .any(|p| p.split('/').any(|part| part == "target")));
}

#[test]
fn every_rust_file_opens_with_a_module_comment() {
    check_rust_files(
        arca_tidy::module_comment,
        "files without a `//!` module comment",
    );
}

#[test]
fn ignored_and_should_panic_tests_say_why() {
    check_rust_files(
        arca_tidy::test_attributes,
        "test attributes without their reason",
    );
}

#[test]
fn tests_do_not_sleep_in_real_time_without_a_reason() {
    check_rust_files(arca_tidy::real_time_sleeps, "real-time sleeps in tests");
}

#[test]
fn library_crates_do_not_depend_on_anyhow() {
    let crates = root().join("crates");
    let mut problems = Vec::new();
    let mut still_needed = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(&crates)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for dir in entries {
        let Ok(manifest) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
            continue;
        };
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if !arca_tidy::is_library(&manifest, dir.join("src/lib.rs").exists()) {
            continue;
        }
        let lines = arca_tidy::normal_dependency_lines(&manifest, "anyhow");
        if ANYHOW_ALLOWED.contains(&name.as_str()) {
            if !lines.is_empty() {
                still_needed.push(name);
            }
            continue;
        }
        for line in lines {
            problems.push(Problem {
                path: format!("crates/{name}/Cargo.toml"),
                line,
                message: "a library crate must not depend on anyhow: give it a thiserror enum \
                          (anyhow is for binaries and tests)"
                    .into(),
            });
        }
    }
    for allowed in ANYHOW_ALLOWED {
        if !still_needed.iter().any(|n| n == allowed) {
            problems.push(Problem {
                path: "crates/arca-tidy/tests/tidy.rs".into(),
                line: 1,
                message: format!("{allowed} no longer needs its ANYHOW_ALLOWED entry: remove it"),
            });
        }
    }
    fail_on(problems, "anyhow in library crates");
}

#[test]
fn admin_routes_build_no_json_literals() {
    let mut problems = Vec::new();
    let mut offenders = Vec::new();
    for (path, text) in rust_files() {
        if !path.starts_with("crates/arca-server/src/admin/") {
            continue;
        }
        let lines = arca_tidy::json_literal_lines(&text);
        if lines.is_empty() {
            continue;
        }
        offenders.push(path.clone());
        if ADMIN_JSON_ALLOWED.contains(&path.as_str()) {
            continue;
        }
        for line in lines {
            problems.push(Problem {
                path: path.clone(),
                line,
                message: "an admin route builds a `json!` literal: use the typed wire types of \
                          arca-proto"
                    .into(),
            });
        }
    }
    for allowed in ADMIN_JSON_ALLOWED {
        if !offenders.iter().any(|o| o == allowed) {
            problems.push(Problem {
                path: "crates/arca-tidy/tests/tidy.rs".into(),
                line: 1,
                message: format!(
                    "{allowed} builds no json! literal any more: remove it from ADMIN_JSON_ALLOWED"
                ),
            });
        }
    }
    fail_on(problems, "json! literals in the admin routes");
}

#[test]
fn no_crate_has_an_import_cycle_between_its_modules() {
    let mut found = Vec::new();
    let mut crates: Vec<_> = std::fs::read_dir(root().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    crates.sort();
    for dir in crates {
        let src = dir.join("src");
        if !src.is_dir() {
            continue;
        }
        let mut files = Vec::new();
        walk(&src, &mut files);
        let modules: std::collections::BTreeMap<String, String> = files
            .iter()
            .map(|path| {
                let relative = path
                    .strip_prefix(&src)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                (
                    arca_tidy::layers::module_path(&relative),
                    std::fs::read_to_string(path).unwrap(),
                )
            })
            .collect();
        for cycle in arca_tidy::layers::cycles(&arca_tidy::layers::dependencies(&modules)) {
            found.push(format!("{}: {}", dir.display(), cycle.join(" <-> ")));
        }
    }
    assert!(found.is_empty(), "import cycles:\n{}", found.join("\n"));
}

/// Each crate links one integration-test binary: at most one `tests/*.rs` file or one
/// `tests/<dir>/main.rs`, whose modules are the test files.
#[test]
fn each_crate_has_one_integration_test_binary() {
    let mut problems = Vec::new();
    for entry in std::fs::read_dir(root().join("crates")).unwrap() {
        let tests = entry.unwrap().path().join("tests");
        let Ok(entries) = std::fs::read_dir(&tests) else {
            continue;
        };
        let binaries: Vec<String> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "rs") || p.join("main.rs").is_file())
            .map(|p| p.display().to_string())
            .collect();
        if binaries.len() > 1 {
            problems.push(format!("{}: {}", tests.display(), binaries.join(", ")));
        }
    }
    assert!(
        problems.is_empty(),
        "crates with more than one integration-test binary (make them modules of tests/it/main.rs):\n{}",
        problems.join("\n")
    );
}
