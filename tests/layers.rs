//! The crate's modules form layers (see `src/lib.rs`; the command line is the crate `cli/` above
//! them all, training the crate `train/` above that): no module imports one of a higher layer,
//! and the import graph of the top-level modules and of the container's modules has no cycle.
//! Read from the source, so a new upward `use` fails here before review.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level modules by layer, lowest first.
const LAYERS: &[&[&str]] = &[
    &["consts", "error", "text", "pixels", "progress"],
    &["format"],
    &["render"],
    &["io", "reader", "sheet"],
];

fn layer(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|l| l.contains(&module))
        .unwrap_or_else(|| panic!("module {module} is in no layer of tests/layers.rs"))
}

/// Every `.rs` file under `dir`, with its path relative to `src/`.
fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path
                .strip_prefix(src())
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, std::fs::read_to_string(&path).unwrap()));
        }
    }
}

fn src() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The module paths (`format::model`, `render`) a source names through `crate::`, comments
/// left out; each is cut to `depth` segments.
fn imports(source: &str, depth: usize) -> BTreeSet<String> {
    let code: String = source
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // use crate::{a, b::c, d::{e, f}}: the first segment of each item
            let end = group.find(';').unwrap_or(group.len());
            let mut level = 0;
            let mut item_start = true;
            for (i, ch) in group[..end].char_indices() {
                match ch {
                    '{' => level += 1,
                    '}' => level -= 1,
                    ',' if level == 0 => item_start = true,
                    c if item_start && c.is_alphabetic() && level == 0 => {
                        let name: String = group[i..]
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                            .collect();
                        found.insert(cut(&name, depth));
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                .collect();
            found.insert(cut(&name, depth));
        }
    }
    found.retain(|m| m.chars().next().is_some_and(char::is_lowercase));
    found
}

/// The first `depth` lower-case segments of a path (`format::model::ModelShape` -> `format::model`).
fn cut(path: &str, depth: usize) -> String {
    path.split("::")
        .filter(|s| !s.is_empty())
        .take(depth)
        .take_while(|s| s.chars().next().is_some_and(char::is_lowercase))
        .collect::<Vec<_>>()
        .join("::")
}

/// The module a file defines, to `depth` segments (`format/model.rs` -> `format::model`).
fn module_of(file: &str, depth: usize) -> String {
    let path = file
        .trim_end_matches(".rs")
        .trim_end_matches("/mod")
        .replace('/', "::");
    cut(&path, depth)
}

/// A cycle in `graph`, if any (depth-first search).
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(k) = path.iter().position(|p| p == n) {
            return Some(path[k..].to_vec());
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, g, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

fn graph(depth: usize, within: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    sources(&src(), &mut files);
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, text) in files
        .iter()
        .filter(|(f, _)| f != "lib.rs" && f.starts_with(within))
    {
        let from = module_of(file, depth);
        let to = imports(text, depth)
            .into_iter()
            .filter(|m| *m != from && m.starts_with(within));
        let to: Vec<String> = to.collect();
        g.entry(from).or_default().extend(to);
    }
    g
}

#[test]
fn no_module_imports_a_higher_layer_and_there_are_no_cycles() {
    let top = graph(1, "");
    assert!(top.len() >= 10, "found the modules: {top:?}");
    for (from, tos) in &top {
        for to in tos {
            assert!(
                layer(to) <= layer(from),
                "{from} (layer {}) imports {to} (layer {})",
                layer(from),
                layer(to)
            );
        }
    }
    assert_eq!(cycle(&top), None, "{top:?}");
    let container = graph(2, "format");
    assert!(container.len() >= 6, "{container:?}");
    assert_eq!(cycle(&container), None, "{container:?}");
}

#[test]
fn the_import_reader_sees_grouped_and_nested_uses() {
    let src = "use crate::{a, b::c, d::{e, f}};\n// crate::comment\nlet x = crate::g::h(1);";
    let found: Vec<String> = imports(src, 1).into_iter().collect();
    assert_eq!(found, ["a", "b", "d", "g"]);
    let g: BTreeMap<String, BTreeSet<String>> = [("a", "b"), ("b", "c"), ("c", "a")]
        .iter()
        .map(|(x, y)| (x.to_string(), BTreeSet::from([y.to_string()])))
        .collect();
    assert!(cycle(&g).is_some());
}
