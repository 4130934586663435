//! The layers, checked from the source: doors (HTTP, GraphQL, the CLI) stand on the
//! application core, and nothing below the doors reaches back up to them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The doors: they parse, call the application core and render.
const DOORS: &[&str] = &["http", "graphql", "cli"];
/// Modules that import nothing else of ours.
const LEAVES: &[&str] = &["rules"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules: `src/NAME.rs` and `src/NAME/`.
fn top_level_modules() -> BTreeSet<String> {
    std::fs::read_dir(src())
        .expect("src is readable")
        .map(|e| e.expect("directory entry").path())
        .filter_map(|p| {
            let name = p.file_stem()?.to_str()?.to_string();
            (p.is_dir() || p.extension().is_some_and(|e| e == "rs")).then_some(name)
        })
        .filter(|name| name != "lib" && name != "main")
        .collect()
}

/// The top-level modules a piece of source names through `crate::`, including
/// grouped imports such as `use crate::{a, b::c}`.
fn referenced(source: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = source;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let head = part.trim().split("::").next().unwrap_or("").trim();
                if modules.contains(head) {
                    found.insert(head.to_string());
                }
            }
            continue;
        }
        let head: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if modules.contains(&head) {
            found.insert(head);
        }
    }
    found
}

/// Which top-level module imports which.
fn dependency_graph() -> BTreeMap<String, BTreeSet<String>> {
    let modules = top_level_modules();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    for file in files {
        let relative = file.strip_prefix(src()).expect("under src");
        let first = relative.components().next().expect("a path");
        let owner = Path::new(first.as_os_str())
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a file name")
            .to_string();
        if !modules.contains(&owner) {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("source is readable");
        let edges = graph.entry(owner.clone()).or_default();
        edges.extend(
            referenced(&text, &modules)
                .into_iter()
                .filter(|m| *m != owner),
        );
    }
    graph
}

fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn nothing_below_the_doors_imports_http_graphql_or_the_cli() {
    let graph = dependency_graph();
    assert!(graph.contains_key("app"), "src/app is missing: {graph:?}");
    let mut offences = Vec::new();
    for (module, imports) in &graph {
        if DOORS.contains(&module.as_str()) {
            continue;
        }
        for door in imports.iter().filter(|i| DOORS.contains(&i.as_str())) {
            offences.push(format!("{module} imports {door}"));
        }
    }
    assert!(offences.is_empty(), "layer violations: {offences:?}");
}

#[test]
fn the_rules_compiler_imports_nothing_of_ours() {
    let graph = dependency_graph();
    for leaf in LEAVES {
        let imports = graph.get(*leaf).cloned().unwrap_or_default();
        assert!(imports.is_empty(), "{leaf} imports {imports:?}");
    }
}

#[test]
fn top_level_modules_form_no_import_cycle() {
    let graph = dependency_graph();
    assert_eq!(find_cycle(&graph), None, "import graph: {graph:#?}");
}

#[test]
fn the_checker_sees_grouped_imports_and_cycles() {
    let modules: BTreeSet<String> = ["http", "store", "app"].map(String::from).into();
    let found = referenced(
        "use crate::{http::App, store};\nfn f() { crate::app::run() }",
        &modules,
    );
    assert_eq!(found, modules);
    let mut graph = BTreeMap::new();
    graph.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    graph.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert!(find_cycle(&graph).is_some());
    graph.insert("b".to_string(), BTreeSet::new());
    assert_eq!(find_cycle(&graph), None);
}

/// The web doors hold no transaction of their own: every write they cause is one
/// use case of `app`, which begins it through the write queue.
#[test]
fn the_web_doors_never_begin_a_transaction() {
    let mut offences = Vec::new();
    for door in ["http", "graphql"] {
        let mut files = Vec::new();
        rust_files(&src().join(door), &mut files);
        for file in files {
            let source = std::fs::read_to_string(&file).expect("source is readable");
            for needle in [
                "gate::",
                "WriteTxn",
                "begin_write",
                "TransactionTrait",
                ".begin()",
            ] {
                if source.contains(needle) {
                    offences.push(format!("{} names `{needle}`", file.display()));
                }
            }
        }
    }
    assert!(offences.is_empty(), "{offences:#?}");
}
