//! No import cycles between the kiosk's modules: each top-level module (and each module inside
//! a module directory) may use the ones below it, never back up. A cycle means two rooms that
//! cannot be understood, tested or moved apart; this finds one from the `use` lines and paths
//! (`crate::x`, `super::x`) of the sources, so it cannot drift from the code.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

/// The module path of a source file: `src/modes/run.rs` -> ["modes", "run"].
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|l| l == "mod" || l == "lib" || l == "main") {
        parts.pop();
    }
    parts
}

/// Identifiers that follow `prefix` in `text` (`crate::` -> `session`, `effects`, ...).
fn after(text: &str, prefix: &str) -> Vec<String> {
    text.match_indices(prefix)
        .filter_map(|(i, _)| {
            let rest = &text[i + prefix.len()..];
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            (!name.is_empty()).then_some(name)
        })
        .collect()
}

/// Edges between sibling modules at every level: (parent path, from, to).
fn edges(src: &Path) -> BTreeMap<Vec<String>, BTreeSet<(String, String)>> {
    let mut out: BTreeMap<Vec<String>, BTreeSet<(String, String)>> = BTreeMap::new();
    for file in rust_files(src) {
        let text = std::fs::read_to_string(&file).unwrap();
        // Unit tests may reach anywhere.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        // Comments name modules without using them (a map of the crate, a "see also").
        let text: String =
            text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
        let text = text.as_str();
        let me = module_of(src, &file);
        if me.is_empty() {
            continue; // lib.rs / main.rs: the root
        }
        let mut targets: Vec<Vec<String>> = Vec::new();
        for m in after(text, "crate::") {
            targets.push(vec![m]);
        }
        // `super::x` is a sibling of this module (`modes/run.rs` -> `modes::x`; `modes/mod.rs`
        // -> the crate's `x`).
        for m in after(text, "super::") {
            let mut t = me[..me.len() - 1].to_vec();
            t.push(m);
            targets.push(t);
        }
        for t in targets {
            // The edge sits at the first level where the two paths part.
            let common = me.iter().zip(&t).take_while(|(a, b)| a == b).count();
            if common < me.len() && common < t.len() {
                out.entry(me[..common].to_vec()).or_default().insert((me[common].clone(), t[common].clone()));
            }
        }
    }
    out
}

fn cycle(graph: &BTreeSet<(String, String)>) -> Option<Vec<String>> {
    let nodes: BTreeSet<&String> = graph.iter().flat_map(|(a, b)| [a, b]).collect();
    fn visit<'a>(
        n: &'a String,
        graph: &'a BTreeSet<(String, String)>,
        path: &mut Vec<&'a String>,
        done: &mut BTreeSet<&'a String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| *p == n) {
            return Some(path[i..].iter().map(|s| s.to_string()).chain([n.clone()]).collect());
        }
        if done.contains(n) {
            return None;
        }
        path.push(n);
        for (_, to) in graph.iter().filter(|(from, _)| from == n) {
            if let Some(c) = visit(to, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n);
        None
    }
    let mut done = BTreeSet::new();
    nodes.into_iter().find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_kiosk_modules_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let all = edges(&src);
    assert!(all.get(&Vec::new()).is_some_and(|g| g.len() > 10), "the top level was read: {all:?}");
    for (level, graph) in &all {
        if let Some(c) = cycle(graph) {
            panic!("import cycle among the modules of kiosk::{}: {}", level.join("::"), c.join(" -> "));
        }
    }
}

#[test]
fn the_checker_finds_a_cycle() {
    let g: BTreeSet<(String, String)> = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]
        .iter()
        .map(|(x, y)| (x.to_string(), y.to_string()))
        .collect();
    assert_eq!(cycle(&g), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
    let dag: BTreeSet<(String, String)> =
        [("a", "b"), ("b", "c")].iter().map(|(x, y)| (x.to_string(), y.to_string())).collect();
    assert_eq!(cycle(&dag), None);
}
