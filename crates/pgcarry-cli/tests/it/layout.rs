//! The library's house rules, checked on its source: every import arrow points down (no two
//! sibling modules use each other, directly or round a loop, at any level of the tree), and no
//! function of the library runs over 150 lines. Test code (`#[cfg(test)]` modules and
//! `*tests.rs` files) is left out of both.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path below the crate root: `["carry", "execute", "load"]`.
type ModPath = Vec<String>;

fn library_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../pgcarry/src")
}

/// Every library source file with its module path and its non-test text.
fn library_files() -> Vec<(ModPath, PathBuf, String)> {
    let root = library_src();
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read the library's source folder") {
            let path = entry.expect("a folder entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !name.ends_with(".rs") || name.ends_with("tests.rs") {
                continue;
            }
            let rel = path.strip_prefix(&root).expect("below the root");
            let mut module: ModPath = rel
                .with_extension("")
                .iter()
                .map(|s| s.to_string_lossy().into_owned())
                .collect();
            if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
                module.pop();
            }
            let text = std::fs::read_to_string(&path).expect("read a source file");
            out.push((module, path, without_tests(&text)));
        }
    }
    out.sort();
    out
}

/// The text before a file's inline `#[cfg(test)] mod … {` (test modules come last by habit and
/// are checked here), with `#[cfg(test)] mod x;` lines dropped.
fn without_tests(text: &str) -> String {
    let mut kept = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]" {
            match lines.peek() {
                Some(next) if next.trim_end().ends_with(';') => {
                    lines.next();
                    continue;
                }
                _ => break,
            }
        }
        kept.push_str(line);
        kept.push('\n');
    }
    kept
}

/// The module paths a file's text names: `crate::a::b`, `super::x`, `self::y`, with grouped
/// imports (`use crate::{a::{b, c}, d}`) expanded. Each path is cut at its last segment, which
/// may be an item rather than a module; callers only compare prefixes.
fn referenced_paths(module: &ModPath, is_dir_module: bool, text: &str) -> Vec<ModPath> {
    let bytes: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word = i == 0 || !(bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_');
        let rest: String = bytes[i..bytes.len().min(i + 7)].iter().collect();
        let base: Option<ModPath> = if !starts_word {
            None
        } else if rest.starts_with("crate::") {
            i += "crate::".len();
            Some(Vec::new())
        } else if rest.starts_with("super::") || rest.starts_with("self::") {
            // `self` of a folder module is the folder; of a file, the file.
            let mut base = module.clone();
            if !is_dir_module || rest.starts_with("super::") {
                base.pop();
            }
            if rest.starts_with("self::") {
                if !is_dir_module {
                    base = module.clone();
                }
                i += "self::".len();
            } else {
                i += "super::".len();
                while bytes[i..].iter().collect::<String>().starts_with("super::") {
                    base.pop();
                    i += "super::".len();
                }
            }
            Some(base)
        } else {
            None
        };
        match base {
            Some(base) => {
                let (paths, end) = use_tree(&bytes, i, base);
                out.extend(paths);
                i = end.max(i + 1);
            }
            None => i += 1,
        }
    }
    out
}

/// Parses a use tree (`a::b`, `a::{b, c::d}`, `*`) from `at`; returns the full paths and the end.
fn use_tree(s: &[char], mut at: usize, mut prefix: ModPath) -> (Vec<ModPath>, usize) {
    loop {
        while at < s.len() && s[at].is_whitespace() {
            at += 1;
        }
        if at < s.len() && s[at] == '{' {
            let mut all = Vec::new();
            at += 1;
            loop {
                while at < s.len() && (s[at].is_whitespace() || s[at] == ',') {
                    at += 1;
                }
                if at >= s.len() || s[at] == '}' {
                    return (all, at + 1);
                }
                let (paths, end) = use_tree(s, at, prefix.clone());
                all.extend(paths);
                at = end.max(at + 1);
                // Skip `as name` and anything up to the next separator.
                while at < s.len() && s[at] != ',' && s[at] != '}' {
                    at += 1;
                }
            }
        }
        let start = at;
        while at < s.len() && (s[at].is_alphanumeric() || s[at] == '_') {
            at += 1;
        }
        if start == at {
            return (vec![prefix], at);
        }
        let segment: String = s[start..at].iter().collect();
        if segment != "self" {
            prefix.push(segment);
        }
        if s.get(at) == Some(&':') && s.get(at + 1) == Some(&':') {
            at += 2;
        } else {
            return (vec![prefix], at);
        }
    }
}

/// For every module with children: the edges between its children (`a → b`: something in
/// `a`'s subtree names something in `b`'s), with one file that makes each edge.
type SiblingEdges = BTreeMap<ModPath, BTreeMap<(String, String), PathBuf>>;

fn sibling_edges() -> SiblingEdges {
    let files = library_files();
    let modules: BTreeSet<ModPath> = files.iter().map(|(m, _, _)| m.clone()).collect();
    let mut edges = SiblingEdges::new();
    for (module, path, text) in &files {
        let is_dir = path
            .file_name()
            .is_some_and(|n| n == "mod.rs" || n == "lib.rs");
        for target in referenced_paths(module, is_dir, text) {
            // The deepest module that is a prefix of the target.
            let Some(target) = (0..=target.len())
                .rev()
                .map(|n| target[..n].to_vec())
                .find(|p| modules.contains(p))
            else {
                continue;
            };
            // The common parent, and the two children of it that the edge joins.
            let common = module
                .iter()
                .zip(&target)
                .take_while(|(a, b)| a == b)
                .count();
            if common >= module.len() || common >= target.len() {
                continue; // a module naming its own descendants or ancestors
            }
            let parent = module[..common].to_vec();
            let key = (module[common].clone(), target[common].clone());
            edges
                .entry(parent)
                .or_default()
                .entry(key)
                .or_insert_with(|| path.clone());
        }
    }
    edges
}

/// A loop among one parent's children, if there is one.
fn find_loop(edges: &BTreeMap<(String, String), PathBuf>) -> Option<Vec<String>> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in edges.keys() {
        next.entry(a).or_default().push(b);
    }
    fn visit<'a>(
        node: &'a str,
        next: &BTreeMap<&'a str, Vec<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = path[at..].iter().map(|s| s.to_string()).collect();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for n in next.get(node).into_iter().flatten() {
            if let Some(c) = visit(n, next, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for start in next.keys() {
        if let Some(c) = visit(start, &next, &mut Vec::new(), &mut done) {
            return Some(c);
        }
    }
    None
}

#[test]
fn library_modules_import_downwards_only() {
    let edges = sibling_edges();
    assert!(
        edges.contains_key(&Vec::new()),
        "no edges between top-level modules found: the source reader is broken"
    );
    let mut loops = Vec::new();
    for (parent, e) in &edges {
        if let Some(cycle) = find_loop(e) {
            let files: Vec<String> = cycle
                .windows(2)
                .map(|w| {
                    let file = &e[&(w[0].clone(), w[1].clone())];
                    format!("  {} → {} (e.g. {})", w[0], w[1], file.display())
                })
                .collect();
            loops.push(format!(
                "in crate::{}:\n{}",
                parent.join("::"),
                files.join("\n")
            ));
        }
    }
    assert!(loops.is_empty(), "import loops:\n{}", loops.join("\n"));
}

#[test]
fn the_vocabulary_imports_nothing_above_it() {
    let edges = sibling_edges();
    let top = &edges[&Vec::new()];
    for bottom in ["model", "formats", "work"] {
        let up: Vec<&String> = top
            .keys()
            .filter(|(a, b)| a == bottom && !["model", "formats", "work"].contains(&b.as_str()))
            .map(|(_, b)| b)
            .collect();
        assert!(up.is_empty(), "{bottom} imports {up:?}");
    }
}
/// Each function's name, file, first line and length in lines, by brace counting over the text
/// with strings, characters and comments blanked.
fn function_lengths() -> Vec<(usize, String, PathBuf, usize)> {
    let mut out = Vec::new();
    for (_, path, text) in library_files() {
        let lines: Vec<String> = text.lines().map(code_only).collect();
        for (i, line) in lines.iter().enumerate() {
            let Some(name) = fn_name(line) else { continue };
            let mut depth = 0i64;
            let mut opened = false;
            for (j, l) in lines.iter().enumerate().skip(i) {
                if !opened && depth == 0 && l.trim_end().ends_with(';') {
                    break; // a declaration without a body
                }
                for c in l.chars() {
                    match c {
                        '{' => {
                            depth += 1;
                            opened = true;
                        }
                        '}' => depth -= 1,
                        _ => {}
                    }
                }
                if opened && depth <= 0 {
                    out.push((j - i + 1, name.clone(), path.clone(), i + 1));
                    break;
                }
            }
        }
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.0));
    out
}

fn fn_name(line: &str) -> Option<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "fn")?;
    let modifiers = [
        "pub",
        "pub(crate)",
        "pub(super)",
        "const",
        "unsafe",
        "async",
        "extern",
    ];
    if !words[..at].iter().all(|w| modifiers.contains(w)) {
        return None;
    }
    let name = words.get(at + 1)?;
    Some(name.split(['(', '<']).next().unwrap_or(name).to_string())
}

/// A line with its string and character literals emptied and its comment cut (good enough for
/// counting braces in rustfmt-formatted code; multi-line strings hold no braces we count).
fn code_only(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => break,
            '"' => {
                while let Some(d) = chars.next() {
                    match d {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                out.push_str("\"\"");
            }
            '\'' => {
                // A char literal ('x', '\n', '{') or a lifetime ('a).
                let rest: String = chars.clone().take(3).collect();
                let mut it = rest.chars();
                match (it.next(), it.next(), it.next()) {
                    (Some('\\'), _, _) => {
                        for d in chars.by_ref() {
                            if d == '\'' {
                                break;
                            }
                        }
                    }
                    (Some(_), Some('\''), _) => {
                        chars.next();
                        chars.next();
                    }
                    _ => out.push(c),
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[test]
fn no_library_function_runs_over_150_lines() {
    let lengths = function_lengths();
    assert!(
        lengths.len() > 100,
        "too few functions found: the reader is broken"
    );
    let long: Vec<String> = lengths
        .iter()
        .filter(|(n, ..)| *n > 150)
        .map(|(n, name, path, line)| format!("{n} lines: {name} at {}:{line}", path.display()))
        .collect();
    assert!(
        long.is_empty(),
        "functions over 150 lines:\n{}",
        long.join("\n")
    );
}
