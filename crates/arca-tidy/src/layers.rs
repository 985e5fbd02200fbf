//! Import cycles between the modules of one crate, found from the text of its files: a module
//! depends on another when it names it through `crate::` or `super::` outside comments and test
//! modules. A module naming its own submodules (`mod x;` and paths without `crate::`) does not
//! count, so a parent that dispatches to its children is no cycle; siblings that call each other
//! are. Pure: the caller reads the files.

use std::collections::{BTreeMap, BTreeSet};

/// The module path of a source file relative to its crate's `src/` (`access/mod.rs` ->
/// `access`, `identity/keys.rs` -> `identity::keys`, `lib.rs` -> ``).
pub fn module_path(relative: &str) -> String {
    let trimmed = relative.strip_suffix(".rs").unwrap_or(relative);
    let mut parts: Vec<&str> = trimmed.split('/').collect();
    if parts
        .last()
        .is_some_and(|p| *p == "mod" || *p == "lib" || *p == "main")
    {
        parts.pop();
    }
    parts.join("::")
}

/// The code of a file that counts: no comment lines and no `mod tests` at its end.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths after each `prefix` in `text` that is not the tail of a longer name.
fn paths_after<'t>(text: &'t str, prefix: &str) -> Vec<&'t str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(prefix) {
        let before = rest[..i].chars().next_back();
        let tail = &rest[i + prefix.len()..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(tail.len());
        if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.push(tail[..end].trim_end_matches(':'));
        }
        rest = &tail[end..];
    }
    out
}

/// The longest known module that `path` starts with.
fn resolve<'m>(modules: &'m BTreeMap<String, String>, path: &str) -> Option<&'m str> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find_map(|m| modules.get_key_value(&m).map(|(k, _)| k.as_str()))
}

/// Which modules each module depends on. `modules` maps module paths to file texts.
pub fn dependencies(modules: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut edges = BTreeMap::new();
    for (module, text) in modules {
        let code = code(text);
        let mut targets = BTreeSet::new();
        for path in paths_after(&code, "crate::") {
            targets.extend(resolve(modules, path).map(str::to_owned));
        }
        let parent = module.rsplit_once("::").map_or("", |(p, _)| p);
        for path in paths_after(&code, "super::") {
            let full = if parent.is_empty() {
                path.to_owned()
            } else {
                format!("{parent}::{path}")
            };
            targets.extend(resolve(modules, &full).map(str::to_owned));
        }
        targets.remove(module);
        targets.remove("");
        // A child naming its parent (`super::helper`) is no cycle: the parent's own naming of
        // the child is not counted.
        if !parent.is_empty() {
            targets.remove(parent);
        }
        edges.insert(module.clone(), targets);
    }
    edges
}

/// The groups of modules that depend on each other in a circle, each sorted.
pub fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let reach = |from: &str| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(m) = stack.pop() {
            for next in edges.get(&m).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> =
        edges.keys().map(|m| (m, reach(m))).collect();
    let mut found: Vec<Vec<String>> = Vec::new();
    for (m, r) in &reaches {
        if !r.contains(*m) || found.iter().any(|c| c.contains(*m)) {
            continue;
        }
        found.push(
            reaches
                .iter()
                .filter(|(o, ro)| r.contains(**o) && ro.contains(*m))
                .map(|(o, _)| (*o).clone())
                .collect(),
        );
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modules(files: &[(&str, &str)]) -> BTreeMap<String, String> {
        files
            .iter()
            .map(|(path, text)| (module_path(path), (*text).to_owned()))
            .collect()
    }

    #[test]
    fn module_paths_follow_the_files() {
        assert_eq!(module_path("lib.rs"), "");
        assert_eq!(module_path("access/mod.rs"), "access");
        assert_eq!(module_path("identity/keys.rs"), "identity::keys");
    }

    #[test]
    fn a_circle_through_crate_paths_is_found_and_a_line_is_not() {
        let files = modules(&[
            ("lib.rs", "pub mod a; pub mod b; pub mod c;"),
            ("a.rs", "use crate::b::Thing;"),
            ("b.rs", "fn f() { crate::c::g() }"),
            ("c.rs", "use crate::a::X;"),
        ]);
        assert_eq!(cycles(&dependencies(&files)), [["a", "b", "c"]]);
        let line = modules(&[
            ("a.rs", "use crate::b::Thing;"),
            ("b.rs", "use crate::c::Thing;"),
            ("c.rs", "// crate::a is only named in a comment\nfn g() {}"),
        ]);
        assert!(cycles(&dependencies(&line)).is_empty());
    }

    #[test]
    fn siblings_through_super_are_a_circle_but_a_parent_and_its_child_are_not() {
        let siblings = modules(&[
            ("admin/mod.rs", "mod roles; mod principals; fn helper() {}"),
            ("admin/roles.rs", "fn f() { super::principals::load() }"),
            (
                "admin/principals.rs",
                "fn g() { super::roles::check(); super::helper() }",
            ),
        ]);
        assert_eq!(
            cycles(&dependencies(&siblings)),
            [["admin::principals", "admin::roles"]]
        );
        let family = modules(&[
            (
                "admin/mod.rs",
                "mod roles; fn helper() {} fn route() { roles::f() }",
            ),
            ("admin/roles.rs", "fn f() { super::helper() }"),
        ]);
        assert!(cycles(&dependencies(&family)).is_empty());
    }

    #[test]
    fn test_modules_do_not_count() {
        let files = modules(&[
            ("a.rs", "use crate::b::X;"),
            (
                "b.rs",
                "fn f() {}\n#[cfg(test)]\nmod tests {\n    use crate::a::Y;\n}\n",
            ),
        ]);
        assert!(cycles(&dependencies(&files)).is_empty());
    }
}
