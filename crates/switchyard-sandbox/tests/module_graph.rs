//! The crate's shape, read from its source: the shared HTTP helpers (`src/http/`) import no other
//! module of the crate, the modules import each other without a loop, and no source file grows
//! past 800 lines.
//!
//! A module here is a top-level module of the library (`src/<name>.rs` or `src/<name>/…`, its
//! submodules included); an import is any `crate::<module>` path outside comments.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The module every other one may use and that uses none.
const BOTTOM: &str = "http";
/// Longest source file, in lines.
const MAX_LINES: usize = 800;

type Graph = BTreeMap<String, BTreeSet<String>>;

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("reading src") {
            let path = entry.expect("reading src").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The top-level module a file belongs to; `None` for the crate roots (`lib.rs`, `main.rs`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).expect("a file under src");
    let first = rel.components().next()?.as_os_str().to_str()?.to_owned();
    if rel.components().count() > 1 {
        return Some(first);
    }
    let name = first.strip_suffix(".rs")?;
    (name != "lib" && name != "main").then(|| name.to_owned())
}

/// The code of a file without its comments (`//`, `///`, `//!` lines and trailing `// …`), so a
/// doc link such as [`crate::runtime`] is not an import.
fn code_only(text: &str) -> String {
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with("//") {
                ""
            } else {
                // A `//` inside a string literal (a URL) is kept: only `// ` after code counts.
                line.split(" // ").next().unwrap_or(line)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first segment of every `crate::…` path in `code`, including each branch of a
/// `crate::{a, b::c}` group.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let bytes = code.as_bytes();
    let mut at = 0;
    while let Some(found) = code[at..].find("crate::") {
        let start = at + found;
        at = start + "crate::".len();
        let preceded_by_ident = start > 0
            && (bytes[start - 1].is_ascii_alphanumeric()
                || bytes[start - 1] == b'_'
                || bytes[start - 1] == b'$');
        if preceded_by_ident {
            continue; // `switchyard_crate::`, `$crate::`
        }
        if code[at..].starts_with('{') {
            // Top-level items of the group: split on commas at brace depth 1.
            let mut depth = 0;
            let mut item = String::new();
            for c in code[at..].chars() {
                match c {
                    '{' => {
                        depth += 1;
                        if depth == 1 {
                            continue;
                        }
                    }
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            out.extend(first_ident(&item));
                            break;
                        }
                    }
                    ',' if depth == 1 => {
                        out.extend(first_ident(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
        } else {
            out.extend(first_ident(&code[at..]));
        }
    }
    out
}

fn first_ident(s: &str) -> Option<String> {
    let ident: String = s
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!ident.is_empty()).then_some(ident)
}

/// The crate's modules and, for each, the modules it imports; plus every use of an item of the
/// crate root itself (`crate::Discovery`: the root sits above every module).
fn read_graph() -> (Graph, Vec<String>) {
    let src = src_dir();
    let files = rust_files(&src);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(&src, f)).collect();
    let mut graph: Graph = modules
        .iter()
        .map(|m| (m.clone(), BTreeSet::new()))
        .collect();
    let mut root_uses = Vec::new();
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        let text = std::fs::read_to_string(file).expect("reading a source file");
        let code = code_only(&text);
        let rel = file.strip_prefix(&src).unwrap().display().to_string();
        for target in crate_paths(&code) {
            if modules.contains(&target) {
                if target != module {
                    graph.get_mut(&module).unwrap().insert(target);
                }
            } else {
                root_uses.push(format!("{rel} uses crate::{target}"));
            }
        }
        // `use super::…` at the top of a file of its own (src/<name>.rs) is the crate root too.
        if !rel.contains('/') {
            for line in code.lines() {
                if line.starts_with("use super::") || line.starts_with("pub use super::") {
                    root_uses.push(format!("{rel}: {line}"));
                }
            }
        }
    }
    (graph, root_uses)
}

/// One loop of `graph` (`a → b → a`), if there is any.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    fn visit(
        node: &str,
        graph: &Graph,
        marks: &mut BTreeMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        marks.insert(node.to_owned(), Mark::Open);
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            match marks.get(next.as_str()).copied().unwrap_or(Mark::New) {
                Mark::Open => {
                    let from = path.iter().position(|p| p == next).unwrap();
                    let mut cycle = path[from..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(c) = visit(next, graph, marks, path) {
                        return Some(c);
                    }
                }
                Mark::Done => {}
            }
        }
        path.pop();
        marks.insert(node.to_owned(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if marks.get(node).copied().unwrap_or(Mark::New) == Mark::New {
            if let Some(c) = visit(node, graph, &mut marks, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

fn describe(graph: &Graph) -> String {
    graph
        .iter()
        .map(|(m, uses)| {
            let uses: Vec<&str> = uses.iter().map(String::as_str).collect();
            format!("  {m} → {}", uses.join(", "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_http_helpers_import_no_other_module() {
    let (graph, _) = read_graph();
    let uses = graph
        .get(BOTTOM)
        .unwrap_or_else(|| panic!("src/{BOTTOM}/ is missing: the shared HTTP helpers live there"));
    assert!(
        uses.is_empty(),
        "src/{BOTTOM}/ is the bottom of the crate and must not import {uses:?}: move what it \
         needs into it, or the code that needs those modules out of it.\n{}",
        describe(&graph)
    );
}

#[test]
fn the_modules_import_each_other_without_a_loop() {
    let (graph, root_uses) = read_graph();
    assert!(graph.len() > 10, "too few modules found: {graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "import loop between the sandbox's modules: {}. Move what both sides need into a \
             module below them (src/{BOTTOM}/ for HTTP helpers, src/state.rs for shared state).\n{}",
            cycle.join(" → "),
            describe(&graph)
        );
    }
    assert!(
        root_uses.is_empty(),
        "the crate root (lib.rs) sits above every module, so no module may use its items: {root_uses:#?}"
    );
}

#[test]
fn no_source_file_is_longer_than_800_lines() {
    let src = src_dir();
    let long: Vec<String> = rust_files(&src)
        .into_iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(&f)
                .expect("reading")
                .lines()
                .count();
            (lines > MAX_LINES).then(|| format!("{} ({lines} lines)", f.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these by concern (keep their paths with `pub use`): {long:?}"
    );
}

// The reader and the loop finder themselves, on made-up input: these checks can fail.

#[test]
fn paths_are_read_from_code_and_groups_not_from_comments() {
    let code = code_only(
        "//! See [`crate::runtime`].\n\
         use crate::{http::json_error, state::{AppState, Rehearsals}, store};\n\
         let x = crate::faults::apply(); // crate::seed in a comment\n\
         let y = \"http://a//b\"; $crate::not_ours();\n",
    );
    let paths = crate_paths(&code);
    let expected: BTreeSet<String> = ["http", "state", "store", "faults"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(paths, expected);
}

#[test]
fn a_loop_is_found_and_named() {
    let graph = |edges: &[(&str, &str)]| {
        let mut g = Graph::new();
        for (a, b) in edges {
            g.entry((*a).to_owned())
                .or_default()
                .insert((*b).to_owned());
            g.entry((*b).to_owned()).or_default();
        }
        g
    };
    let acyclic = graph(&[
        ("server", "cloudflare"),
        ("cloudflare", "http"),
        ("server", "http"),
    ]);
    assert_eq!(find_cycle(&acyclic), None);
    let looped = graph(&[("a", "b"), ("b", "c"), ("c", "a"), ("c", "http")]);
    let cycle = find_cycle(&looped).expect("a → b → c → a");
    assert_eq!(cycle.first(), cycle.last());
    assert_eq!(cycle.len(), 4);
}
