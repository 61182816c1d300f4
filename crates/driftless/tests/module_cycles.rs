//! No import cycles between the modules of the crate: a module may use its ancestors and its
//! descendants, but two modules that are neither may not reach each other through `use`s or
//! `crate::`/`super::` paths. Test modules (`#[cfg(test)]` and after) are not counted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Module path (`app::list`, `""` for the crate root) of each source file's text.
fn modules(src: &Path) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src)?.with_extension("");
            let mut parts: Vec<String> = relative
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if matches!(
                parts.last().map(String::as_str),
                Some("mod" | "main" | "lib")
            ) {
                parts.pop();
            }
            let text = std::fs::read_to_string(&path)?;
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            out.insert(parts.join("::"), code.to_owned());
        }
    }
    Ok(out)
}

/// The paths a text names after `crate::` or `super::`, `use` groups (`{a, b::c}`) expanded,
/// each as written (`super::list::destination`).
fn paths(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    for start in [0usize]
        .into_iter()
        .chain(text.match_indices("crate::").map(|(i, _)| i))
        .chain(text.match_indices("super::").map(|(i, _)| i))
    {
        if !(text[start..].starts_with("crate::") || text[start..].starts_with("super::")) {
            continue;
        }
        let before = start.checked_sub(1).map(|i| bytes[i]);
        if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b':') {
            continue;
        }
        expand(&text[start..], &mut found);
    }
    found
}

/// Reads one path at the start of `text`, expanding a brace group, into `found`.
fn expand(text: &str, found: &mut Vec<String>) {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(text.len());
    let head = &text[..end];
    if head.ends_with("::") && text[end..].starts_with('{') {
        let group = &text[end + 1..];
        let (mut depth, mut item_start) = (0usize, 0usize);
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    push_item(head, &group[item_start..i], found);
                    return;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    push_item(head, &group[item_start..i], found);
                    item_start = i + 1;
                }
                _ => {}
            }
        }
    } else {
        found.push(head.trim_end_matches("::").to_owned());
    }
}

fn push_item(head: &str, item: &str, found: &mut Vec<String>) {
    let item = item.trim();
    if !item.is_empty() {
        expand(&format!("{head}{item}"), found);
    }
}

/// The module a path written in module `from` names: the longest known module prefix.
fn target(from: &str, path: &str, known: &BTreeSet<String>) -> Option<String> {
    let mut base: Vec<&str> = from.split("::").filter(|p| !p.is_empty()).collect();
    let mut rest = path.split("::").peekable();
    match rest.next()? {
        "crate" => base.clear(),
        "super" => {
            base.pop();
            while rest.peek() == Some(&"super") {
                rest.next();
                base.pop();
            }
        }
        _ => return None,
    }
    let mut best = base.join("::");
    for part in rest {
        base.push(part);
        let candidate = base.join("::");
        if known.contains(&candidate) {
            best = candidate;
        } else {
            break;
        }
    }
    Some(best)
}

fn related(a: &str, b: &str) -> bool {
    let within = |outer: &str, inner: &str| {
        outer.is_empty() || inner == outer || inner.starts_with(&format!("{outer}::"))
    };
    within(a, b) || within(b, a)
}

/// The edges between unrelated modules.
fn graph(files: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    let known: BTreeSet<String> = files.keys().cloned().collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, text) in files {
        for path in paths(text) {
            if let Some(to) = target(module, &path, &known)
                && !related(module, &to)
            {
                edges.entry(module.clone()).or_default().insert(to);
            }
        }
    }
    edges
}

/// A cycle of the graph, as the modules on it, if there is one.
fn cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        on_path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = on_path.iter().position(|n| n == node) {
            let mut found = on_path[i..].to_vec();
            found.push(node.to_owned());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        on_path.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, edges, on_path, done) {
                return Some(found);
            }
        }
        on_path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|node| visit(node, edges, &mut Vec::new(), &mut done))
}

#[test]
fn the_checker_finds_a_cycle_between_siblings_and_ignores_parents() {
    let files: BTreeMap<String, String> = [
        ("", "mod app;"),
        ("app", "mod list; mod summary; use list::run;"),
        (
            "app::list",
            "use super::Apps;\nuse super::summary::{health_word, sync_word};",
        ),
        (
            "app::summary",
            "use super::{output::NONE, list::destination};",
        ),
        ("app::output", "use crate::app::Apps;"),
    ]
    .into_iter()
    .map(|(m, t)| (m.to_owned(), t.to_owned()))
    .collect();
    let edges = graph(&files);
    assert_eq!(
        cycle(&edges),
        Some(vec![
            "app::list".to_owned(),
            "app::summary".to_owned(),
            "app::list".to_owned()
        ])
    );
    let mut fixed = files.clone();
    fixed.insert(
        "app::summary".to_owned(),
        "use super::output::NONE;".to_owned(),
    );
    assert_eq!(cycle(&graph(&fixed)), None);
}

#[test]
fn the_modules_of_the_cli_form_no_import_cycle() -> Result {
    let files = modules(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))?;
    assert!(files.contains_key("app::list") && files.contains_key(""));
    let edges = graph(&files);
    assert!(
        edges
            .get("app::list")
            .is_some_and(|to| to.contains("app::summary")),
        "the checker sees list's use of summary: {edges:?}"
    );
    assert_eq!(cycle(&edges), None, "import cycle; edges: {edges:?}");
    Ok(())
}

#[test]
fn the_modules_of_every_crate_of_the_workspace_form_no_import_cycle() -> Result {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut checked = 0;
    for entry in std::fs::read_dir(&crates)? {
        let src = entry?.path().join("src");
        if !src.is_dir() {
            continue;
        }
        let files = modules(&src)?;
        let edges = graph(&files);
        assert_eq!(cycle(&edges), None, "import cycle in {}", src.display());
        checked += 1;
    }
    assert!(
        checked >= 12,
        "only {checked} crates found under {}",
        crates.display()
    );
    Ok(())
}
