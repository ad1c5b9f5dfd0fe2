//! The layering of `src/` (docs/architecture.md): each top-level module may use only
//! modules of its own layer or below, and modules of one layer form no cycle.
//! Reads the sources, so an upward `use crate::…` fails here naming file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layers from the bottom up. A module not listed here fails the test: place it.
const LAYERS: &[&[&str]] = &[
    // vocabulary: shared types, errors, secret redaction, the crash hook
    &["vocab", "error", "redact", "crash"],
    // one folder per engine behind a trait
    &["db"],
    // models and algorithms
    &["schema", "data", "ledger", "runbook", "testkit", "checks"],
    &["steps"],
    &["engine"],
    // front-ends
    &["cli", "tui", "logging"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// One reference from a file of module `from` to module `to`.
#[derive(Debug, Clone)]
struct Edge {
    from: String,
    to: String,
    file: String,
    line: usize,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every `crate::X` path in the text (including `use crate::{X, Y::z}` groups),
/// skipping comments.
fn crate_refs(text: &str) -> Vec<(usize, String)> {
    let mut refs = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or("");
        let mut rest = line;
        while let Some(pos) = rest.find("crate::") {
            let before = &rest[..pos];
            // `$crate::` and identifiers ending in "crate" are not the crate root.
            let boundary = before
                .chars()
                .last()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '$'));
            let after = &rest[pos + "crate::".len()..];
            if boundary {
                if let Some(group) = after.strip_prefix('{') {
                    let end = group.find('}').unwrap_or(group.len());
                    for item in group[..end].split(',') {
                        let name: String = item
                            .trim()
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        if !name.is_empty() {
                            refs.push((i + 1, name));
                        }
                    }
                } else {
                    let name: String = after
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() {
                        refs.push((i + 1, name));
                    }
                }
            }
            rest = after;
        }
    }
    refs
}

fn edges(src: &Path) -> (Vec<Edge>, Vec<String>) {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut edges = Vec::new();
    let mut unplaced = BTreeSet::new();
    for f in files {
        let rel = f.strip_prefix(src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        let module = first.trim_end_matches(".rs").to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        if layer_of(&module).is_none() {
            unplaced.insert(module.clone());
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for (line, to) in crate_refs(&text) {
            if to == module || to == "self" || to == "super" {
                continue;
            }
            // Re-exports at the crate root (`crate::Result`) are the vocabulary's.
            if to.chars().next().is_some_and(|c| c.is_uppercase()) {
                continue;
            }
            edges.push(Edge {
                from: module.clone(),
                to,
                file: format!("src/{}", rel.display()),
                line,
            });
        }
    }
    (edges, unplaced.into_iter().collect())
}

/// Upward references and same-layer cycles, one message each.
fn violations(edges: &[Edge]) -> Vec<String> {
    let mut bad = Vec::new();
    let mut peers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for e in edges {
        let (Some(lf), Some(lt)) = (layer_of(&e.from), layer_of(&e.to)) else {
            bad.push(format!(
                "{}:{}: `{}` uses `crate::{}`, which is not a placed module",
                e.file, e.line, e.from, e.to
            ));
            continue;
        };
        if lt > lf {
            bad.push(format!(
                "{}:{}: `{}` (layer {lf}) uses `crate::{}` (layer {lt}): an upward import",
                e.file, e.line, e.from, e.to
            ));
        } else if lt == lf {
            peers
                .entry(e.from.clone())
                .or_default()
                .insert(e.to.clone());
        }
    }
    // A cycle among peers: a module that reaches itself.
    for start in peers.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&String> = peers[start].iter().collect();
        while let Some(m) = stack.pop() {
            if m == start {
                let e = edges
                    .iter()
                    .find(|e| &e.from == start && peers[start].contains(&e.to))
                    .unwrap();
                bad.push(format!(
                    "{}:{}: `{start}` is in a cycle of same-layer modules through `{}`",
                    e.file, e.line, e.to
                ));
                break;
            }
            if seen.insert(m.clone())
                && let Some(next) = peers.get(m)
            {
                stack.extend(next.iter());
            }
        }
    }
    bad
}

#[test]
fn no_module_imports_from_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (edges, unplaced) = edges(&src);
    assert!(
        unplaced.is_empty(),
        "top-level modules with no layer in tests/it/architecture.rs: {unplaced:?}"
    );
    assert!(edges.len() > 100, "the scan found too few references");
    let bad = violations(&edges);
    assert!(bad.is_empty(), "layering violations:\n{}", bad.join("\n"));
}

#[test]
fn an_upward_import_is_named_with_file_and_line() {
    // The checker itself: a planted upward import in a copy of one file is caught.
    let text = "//! doc\nuse crate::error::Result;\nuse crate::{vocab, engine::Engine};\n";
    let refs = crate_refs(text);
    let planted: Vec<Edge> = refs
        .into_iter()
        .map(|(line, to)| Edge {
            from: "data".into(),
            to,
            file: "src/data/diff.rs".into(),
            line,
        })
        .collect();
    let bad = violations(&planted);
    assert_eq!(
        bad,
        vec![
            "src/data/diff.rs:3: `data` (layer 2) uses `crate::engine` (layer 4): an upward import"
                .to_string()
        ]
    );
    // A cycle between peers is named too.
    let cycle = vec![
        Edge {
            from: "schema".into(),
            to: "data".into(),
            file: "src/schema/a.rs".into(),
            line: 1,
        },
        Edge {
            from: "data".into(),
            to: "schema".into(),
            file: "src/data/b.rs".into(),
            line: 2,
        },
    ];
    assert_eq!(violations(&cycle).len(), 2);
}
