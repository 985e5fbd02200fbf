//! The house rules that a machine can check, as pure functions over one file's path and text:
//! `tests/tidy.rs` walks the repository and applies them, so `cargo test` fails on a broken
//! rule and names the file and line. Nothing here reads files or knows the repository's layout.
//!
//! The rules (see `/work/shared/docs/style.md` and issue 11, "Fences"):
//! - every `.rs` file opens with a `//!` comment saying what it is for;
//! - no ignored test, and no `should_panic` test, without its reason on the same line;
//! - no `anyhow` in a library crate's `[dependencies]` (binaries and dev-dependencies may);
//! - no `json!` literals in the admin routes (typed wire types instead);
//! - no real-time sleep in test code unless the line, or the line above it, says why with a
//!   `// real time: <reason>` comment; tokio sleeps under paused time are not real time;
//! - no import cycle between the modules of a crate ([`layers`]).

pub mod layers;

use std::fmt;

/// One broken rule: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, as the caller named it (relative to the repository root).
    pub path: String,
    /// The line, counting from 1.
    pub line: usize,
    /// What is wrong there.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)
    }
}

fn problem(path: &str, line: usize, message: impl Into<String>) -> Problem {
    Problem {
        path: path.to_owned(),
        line,
        message: message.into(),
    }
}

/// Every `.rs` file's first line starts with `//!`.
pub fn module_comment(path: &str, text: &str) -> Vec<Problem> {
    match text.lines().next() {
        Some(first) if first.starts_with("//!") => Vec::new(),
        _ => vec![problem(
            path,
            1,
            "the file must open with a `//!` comment saying what it is for",
        )],
    }
}

/// The attribute opening that marks an ignored test; split so this file does not match itself.
const IGNORE: &str = concat!("#[", "ignore");
/// The attribute opening of a test that expects a panic.
const SHOULD_PANIC: &str = concat!("#[", "should_panic");

/// No ignored test and no `should_panic` test without a reason on the same line:
/// `#[ignore = "why"]`, `#[should_panic(expected = "what")]`.
pub fn test_attributes(path: &str, text: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let code = line.trim_start();
        if let Some(rest) = code.strip_prefix(IGNORE) {
            if !rest.trim_start().starts_with("= \"") {
                problems.push(problem(
                    path,
                    i + 1,
                    "an ignored test must say why on the same line: `#[ignore = \"reason\"]`",
                ));
            }
        }
        if let Some(rest) = code.strip_prefix(SHOULD_PANIC) {
            if !rest.contains("expected = \"") {
                problems.push(problem(
                    path,
                    i + 1,
                    "a should_panic test must name the panic on the same line: \
                     `#[should_panic(expected = \"message\")]`",
                ));
            }
        }
    }
    problems
}

/// Whether a crate is a library: it has `src/lib.rs` or a `[lib]` section.
pub fn is_library(manifest: &str, has_lib_rs: bool) -> bool {
    has_lib_rs || manifest.lines().any(|l| l.trim() == "[lib]")
}

/// The lines (1-based) of a manifest that put `dependency` among the normal dependencies
/// (`[dependencies]`, `[dependencies.<name>]`, `[target.'…'.dependencies]`); dev- and
/// build-dependencies do not count.
pub fn normal_dependency_lines(manifest: &str, dependency: &str) -> Vec<usize> {
    let mut section = String::new();
    let mut lines = Vec::new();
    for (i, line) in manifest.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(header) = trimmed.strip_prefix('[') {
            section = header.trim_end_matches(']').trim().to_owned();
            if section == format!("dependencies.{dependency}") {
                lines.push(i + 1);
            }
            continue;
        }
        let normal = section == "dependencies"
            || (section.starts_with("target.") && section.ends_with(".dependencies"));
        let key = trimmed
            .split(['=', '.', ' '])
            .next()
            .unwrap_or_default()
            .trim_matches('"');
        if normal && key == dependency {
            lines.push(i + 1);
        }
    }
    lines
}

/// The lines (1-based) that build a `json!` literal, comment lines aside.
pub fn json_literal_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let code = line.trim_start();
            !code.starts_with("//") && code.contains(concat!("json", "!"))
        })
        .map(|(i, _)| i + 1)
        .collect()
}

/// For each line, whether it is test code: every line of a file under a `tests/` folder, and the
/// lines of `#[cfg(test)]` modules elsewhere (found by counting braces from the `mod` line).
pub fn test_code_lines(path: &str, text: &str) -> Vec<bool> {
    let lines: Vec<&str> = text.lines().collect();
    if path.split('/').any(|part| part == "tests") {
        return vec![true; lines.len()];
    }
    let mut in_test = vec![false; lines.len()];
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() != "#[cfg(test)]" {
            i += 1;
            continue;
        }
        // The item the attribute applies to, past any further attributes.
        let mut j = i + 1;
        while j < lines.len() && lines[j].trim_start().starts_with("#[") {
            j += 1;
        }
        let is_inline_module = lines.get(j).is_some_and(|l| {
            let l = l.trim_start();
            (l.starts_with("mod ") || l.starts_with("pub mod ") || l.starts_with("pub(crate) mod "))
                && l.trim_end().ends_with('{')
        });
        if !is_inline_module {
            i = j;
            continue;
        }
        let mut depth = 0i64;
        let mut k = j;
        while k < lines.len() {
            in_test[k] = true;
            depth += brace_balance(lines[k]);
            if depth <= 0 && k > j {
                break;
            }
            k += 1;
        }
        i = k + 1;
    }
    in_test
}

/// `{` minus `}` on a line, not counting those in `'{'` and `'}'` character literals or after a
/// `//` comment. String contents are counted: Rust's format strings keep them balanced.
fn brace_balance(line: &str) -> i64 {
    let code = line.split("//").next().unwrap_or_default();
    let code = code.replace("'{'", "").replace("'}'", "");
    code.chars()
        .map(|c| match c {
            '{' => 1,
            '}' => -1,
            _ => 0,
        })
        .sum()
}

/// The marker a deliberate real-time wait carries, on its line or the line above.
pub const REAL_TIME: &str = "// real time:";

/// Real-time sleeps in test code (`std::thread::sleep`, `tokio::time::sleep` and
/// `sleep_until`, or a bare `sleep(` that a `use` brought in) without a `// real time: <reason>`
/// comment on the line or the line above. A tokio sleep is not real time when its test runs on
/// paused time (`#[tokio::test(start_paused = true)]` or `tokio::time::pause()` before it).
pub fn real_time_sleeps(path: &str, text: &str) -> Vec<Problem> {
    let lines: Vec<&str> = text.lines().collect();
    let in_test = test_code_lines(path, text);
    let bare_imported = lines
        .iter()
        .any(|l| l.trim_start().starts_with("use ") && l.contains("sleep"));
    let mut problems = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !in_test[i] {
            continue;
        }
        let code = line.split("//").next().unwrap_or_default();
        let thread = code.contains("thread::sleep(");
        let tokio = code.contains("time::sleep(") || code.contains("time::sleep_until(");
        let bare = bare_imported && !thread && !tokio && calls_bare_sleep(code);
        if !(thread || tokio || bare) {
            continue;
        }
        let reason_here = has_reason(line) || (i > 0 && has_reason(lines[i - 1]));
        if reason_here || (tokio && on_paused_time(&lines[..i])) {
            continue;
        }
        problems.push(problem(
            path,
            i + 1,
            "a test sleeps in real time: use paused tokio time or the injected clock, or say why \
             it must wait in real time with `// real time: <reason>` on this line or the line above",
        ));
    }
    problems
}

fn has_reason(line: &str) -> bool {
    line.find(REAL_TIME)
        .is_some_and(|at| !line[at + REAL_TIME.len()..].trim().is_empty())
}

/// A call of `sleep(` or `sleep_until(` not qualified by a path and not a method call.
fn calls_bare_sleep(code: &str) -> bool {
    ["sleep(", "sleep_until("].iter().any(|call| {
        code.match_indices(call).any(|(at, _)| {
            let before = code[..at].chars().next_back();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':' || c == '.')
        })
    })
}

/// Whether the test that `before` ends inside runs on paused tokio time: its nearest
/// `#[tokio::test` attribute asks for `start_paused = true`, or it pauses the clock before.
fn on_paused_time(before: &[&str]) -> bool {
    let Some(start) = before
        .iter()
        .rposition(|l| l.trim_start().starts_with("#[tokio::test"))
    else {
        return false;
    };
    before[start].contains("start_paused = true")
        || before[start..].iter().any(|l| l.contains("time::pause()"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_a_module_comment_is_named_at_line_one() {
        assert!(module_comment("a.rs", "//! What it is for.\nfn f() {}\n").is_empty());
        let found = module_comment("a.rs", "// Not a module comment.\n");
        assert_eq!(found, vec![problem("a.rs", 1, found[0].message.clone())]);
        assert_eq!(module_comment("empty.rs", "").len(), 1);
    }

    #[test]
    fn ignore_and_should_panic_need_their_reason_on_the_line() {
        let bad = format!("#[test]\n{IGNORE}]\nfn a() {{}}\n    {SHOULD_PANIC}]\nfn b() {{}}\n");
        let lines: Vec<usize> = test_attributes("t.rs", &bad)
            .iter()
            .map(|p| p.line)
            .collect();
        assert_eq!(lines, vec![2, 4]);
        let good =
            format!("{IGNORE} = \"needs a network\"]\n{SHOULD_PANIC}(expected = \"boom\")]\n");
        assert!(test_attributes("t.rs", &good).is_empty());
        let no_expected = format!("{SHOULD_PANIC}(\"boom\")]\n");
        assert_eq!(test_attributes("t.rs", &no_expected).len(), 1);
    }

    #[test]
    fn only_normal_dependencies_count() {
        let manifest = "[package]\nname = \"x\"\n\n[dependencies]\nanyhow.workspace = true\n\
                        serde = \"1\"\n\n[dev-dependencies]\nanyhow = \"1\"\n\n\
                        [target.'cfg(unix)'.dependencies]\nanyhow = { version = \"1\" }\n\
                        [dependencies.anyhow]\nversion = \"1\"\n";
        assert_eq!(normal_dependency_lines(manifest, "anyhow"), vec![5, 12, 13]);
        assert!(normal_dependency_lines(manifest, "anyhow-like").is_empty());
        assert!(is_library("[lib]\npath = \"x.rs\"\n", false));
        assert!(!is_library("[[bin]]\nname = \"x\"\n", false));
    }

    #[test]
    fn json_literals_are_found_outside_comments() {
        let text =
            "// json!({}) in a comment\nlet v = serde_json::json!({\"a\": 1});\nlet w = 1;\n";
        assert_eq!(json_literal_lines(text), vec![2]);
    }

    #[test]
    fn cfg_test_modules_are_test_code_and_the_rest_is_not() {
        let text = "fn f() {\n    let s = format!(\"{x}\");\n}\n#[cfg(test)]\nmod test_keys;\n\
                    #[cfg(test)]\nmod tests {\n    fn g() {\n        let c = '{';\n    }\n}\nfn h() {}\n";
        let lines = test_code_lines("src/a.rs", text);
        let test_lines: Vec<usize> = (0..lines.len())
            .filter(|i| lines[*i])
            .map(|i| i + 1)
            .collect();
        assert_eq!(test_lines, vec![7, 8, 9, 10, 11]);
        assert!(test_code_lines("crates/x/tests/a.rs", "fn f() {}\n")[0]);
    }

    /// Test text with `TOKIO_SLEEP` and `THREAD_SLEEP` standing for the calls, so this file's
    /// own lines do not hold them.
    fn with_sleeps(text: &str) -> String {
        text.replace("TOKIO_SLEEP", concat!("tokio::time::", "sleep"))
            .replace("THREAD_SLEEP", concat!("std::thread::", "sleep"))
    }

    #[test]
    fn real_time_sleeps_need_a_reason_or_paused_time() {
        let text = with_sleeps(
            "#[tokio::test]\nasync fn a() {\n    TOKIO_SLEEP(d).await;\n}\n\
             #[tokio::test(start_paused = true)]\nasync fn b() {\n    TOKIO_SLEEP(d).await;\n}\n\
             #[tokio::test]\nasync fn c() {\n    tokio::time::pause();\n    TOKIO_SLEEP(d).await;\n}\n\
             #[test]\nfn d() {\n    THREAD_SLEEP(d);\n    // real time: a real process starts\n    \
             THREAD_SLEEP(d);\n    THREAD_SLEEP(d); // real time:\n}\n",
        );
        let lines: Vec<usize> = real_time_sleeps("crates/x/tests/t.rs", &text)
            .iter()
            .map(|p| p.line)
            .collect();
        assert_eq!(lines, vec![3, 16, 19]);
        // Outside test code, sleeping is the code's business.
        let src = with_sleeps("fn f() { THREAD_SLEEP(d); }\n");
        assert!(real_time_sleeps("crates/x/src/a.rs", &src).is_empty());
        let bare = with_sleeps(
            "use TOKIO_SLEEP;\n#[tokio::test]\nasync fn e() {\n    sleep(d).await;\n    x.sleep(d);\n}\n",
        );
        let lines: Vec<usize> = real_time_sleeps("tests/t.rs", &bare)
            .iter()
            .map(|p| p.line)
            .collect();
        assert_eq!(lines, vec![4]);
    }
}
