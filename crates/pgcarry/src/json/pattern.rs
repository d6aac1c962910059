//! Path patterns: which one-document-per-file files form a collection, and which path
//! segments become columns. `--config` patterns (`data/{user_id}/{id}.json`) are matched
//! first; the rest are inferred: a directory segment is a capture when its siblings vary (or
//! it holds a digit, like an id), a file name is fixed when it repeats across directories
//! (`usage.json` in every user's directory) and a capture otherwise.

use super::JsonError;
use super::store::{Capture, Collection, Kind, SourceFile};
use crate::model::config::Config;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Literal(String),
    Any,
    Capture {
        prefix: String,
        name: String,
        suffix: String,
    },
}

fn parse(pattern: &str) -> Result<Vec<Seg>, String> {
    pattern
        .trim_matches('/')
        .split('/')
        .map(|s| {
            if s == "*" {
                return Ok(Seg::Any);
            }
            match (s.find('{'), s.find('}')) {
                (None, None) => Ok(Seg::Literal(s.to_string())),
                (Some(a), Some(b)) if a < b && s[b + 1..].find(['{', '}']).is_none() => {
                    Ok(Seg::Capture {
                        prefix: s[..a].to_string(),
                        name: s[a + 1..b].to_string(),
                        suffix: s[b + 1..].to_string(),
                    })
                }
                _ => Err(format!(
                    "pattern {pattern:?}: segment {s:?} must hold at most one {{name}}"
                )),
            }
        })
        .collect()
}

/// The captured values when `rel` matches `pattern`.
fn matches(pattern: &[Seg], rel: &str) -> Option<Vec<String>> {
    let parts: Vec<&str> = rel.split('/').collect();
    if parts.len() != pattern.len() {
        return None;
    }
    let mut out = Vec::new();
    for (seg, part) in pattern.iter().zip(parts) {
        match seg {
            Seg::Any => {}
            Seg::Literal(l) if l == part => {}
            Seg::Literal(_) => return None,
            Seg::Capture { prefix, suffix, .. } => {
                let inner = part
                    .strip_prefix(prefix.as_str())?
                    .strip_suffix(suffix.as_str())?;
                if inner.is_empty() {
                    return None;
                }
                out.push(inner.to_string());
            }
        }
    }
    Some(out)
}

fn has_digit(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
}

/// Groups one-document files into collections: configured patterns, then inferred ones.
pub fn group(files: Vec<SourceFile>, config: &Config) -> Result<Vec<Collection>, JsonError> {
    let mut configured = Vec::new();
    for (name, c) in &config.collections {
        let segs = parse(&c.pattern).map_err(|e| {
            JsonError::Config(format!("{}: collections.{name}: {e}", config.source_name()))
        })?;
        let mut pattern = Vec::new();
        let mut captures = Vec::new();
        for s in &segs {
            pattern.push(match s {
                Seg::Literal(l) => l.clone(),
                Seg::Any => "*".into(),
                Seg::Capture {
                    prefix,
                    name,
                    suffix,
                } => {
                    captures.push(Capture {
                        name: name.clone(),
                        inferred: false,
                    });
                    format!("{prefix}{{{}}}{suffix}", captures.len() - 1)
                }
            });
        }
        configured.push((
            segs,
            Collection {
                name: name.clone(),
                kind: Kind::Documents,
                pattern: pattern.join("/"),
                captures,
                files: Vec::new(),
            },
        ));
    }
    // The most specific pattern first: `data/{user}/usage.json` before `data/{user}/{id}.json`.
    configured.sort_by_key(|(segs, _)| {
        let literal: usize = segs
            .iter()
            .map(|s| match s {
                Seg::Literal(l) => l.len(),
                Seg::Any => 0,
                Seg::Capture { prefix, suffix, .. } => prefix.len() + suffix.len(),
            })
            .sum();
        std::cmp::Reverse(literal)
    });
    let mut rest = Vec::new();
    'file: for mut f in files {
        for (segs, c) in &mut configured {
            if let Some(values) = matches(segs, &f.rel) {
                f.captures = values;
                c.files.push(f);
                continue 'file;
            }
        }
        rest.push(f);
    }
    let mut out: Vec<Collection> = configured.into_iter().map(|(_, c)| c).collect();
    out.extend(infer(rest));
    Ok(out)
}

fn split(rel: &str) -> (Vec<&str>, &str) {
    let mut parts: Vec<&str> = rel.split('/').collect();
    let name = parts.pop().unwrap_or("");
    (parts, name)
}

fn stem_ext(name: &str) -> (&str, &str) {
    match name.find('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    }
}

/// One file's place in an inferred pattern.
struct Placed {
    /// `data/{0}/{1}.json`.
    pattern: String,
    /// The collection's name when the file name is fixed (`usage`).
    fixed_stem: Option<String>,
    /// Capture names (`dir2`, `name`) and values, in path order.
    names: Vec<String>,
    values: Vec<String>,
}

/// Infers patterns for files no configured pattern claimed.
fn infer(files: Vec<SourceFile>) -> Vec<Collection> {
    let mut children: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    let mut stem_dirs: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut dir_stems: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for f in &files {
        let (dirs, name) = split(&f.rel);
        for i in 0..dirs.len() {
            children
                .entry(dirs[..i].join("/"))
                .or_default()
                .insert(dirs[i]);
        }
        let (stem, _) = stem_ext(name);
        stem_dirs.entry(stem).or_default().insert(dirs.join("/"));
        dir_stems.entry(dirs.join("/")).or_default().push(stem);
    }
    let place = |f: &SourceFile| -> Placed {
        let (dirs, name) = split(&f.rel);
        let (stem, ext) = stem_ext(name);
        let dir = dirs.join("/");
        let mut segs = Vec::new();
        let (mut names, mut values) = (Vec::new(), Vec::new());
        for (i, d) in dirs.iter().enumerate() {
            let siblings = children.get(&dirs[..i].join("/")).map_or(0, BTreeSet::len);
            if siblings >= 2 || has_digit(d) {
                segs.push(format!("{{{}}}", values.len()));
                names.push(format!("dir{}", i + 1));
                values.push((*d).to_string());
            } else {
                segs.push((*d).to_string());
            }
        }
        let in_dir = dir_stems.get(&dir);
        let repeats = stem_dirs.get(stem).is_some_and(|d| d.len() >= 2);
        let among_ids = !has_digit(stem) && in_dir.is_some_and(|s| s.iter().any(|x| has_digit(x)));
        // A lone document with a word for a name (`settings.json`) names its collection.
        let lone = !has_digit(stem) && values.is_empty() && in_dir.is_some_and(|s| s.len() == 1);
        let fixed_stem = if repeats || among_ids || lone {
            segs.push(name.to_string());
            Some(stem.to_string())
        } else {
            segs.push(format!("{{{}}}{ext}", values.len()));
            names.push("name".into());
            values.push(stem.to_string());
            None
        };
        Placed {
            pattern: segs.join("/"),
            fixed_stem,
            names,
            values,
        }
    };
    let placed: Vec<Placed> = files.iter().map(place).collect();
    let mut groups: Vec<Collection> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for (f, p) in files.into_iter().zip(placed) {
        let i = *index.entry(p.pattern.clone()).or_insert_with(|| {
            let literal_dir = p
                .pattern
                .split('/')
                .rev()
                .skip(1)
                .find(|s| !s.contains('{'))
                .map(str::to_string);
            groups.push(Collection {
                name: p
                    .fixed_stem
                    .clone()
                    .or(literal_dir)
                    .unwrap_or_else(|| "documents".into()),
                kind: Kind::Documents,
                pattern: p.pattern.clone(),
                captures: p
                    .names
                    .iter()
                    .map(|n| Capture {
                        name: n.clone(),
                        inferred: true,
                    })
                    .collect(),
                files: Vec::new(),
            });
            groups.len() - 1
        });
        groups[i].files.push(SourceFile {
            captures: p.values,
            ..f
        });
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(rel: &str) -> SourceFile {
        SourceFile {
            rel: rel.into(),
            path: rel.into(),
            hash: 0,
            captures: Vec::new(),
        }
    }

    #[test]
    fn json_patterns_are_inferred() {
        let files = ["data/7/a1.json", "data/7/usage.json", "data/8/b2.json"];
        let groups = infer(files.iter().map(|f| file(f)).collect());
        let got: Vec<_> = groups
            .iter()
            .map(|g| (g.name.as_str(), g.pattern.as_str(), g.files.len()))
            .collect();
        assert_eq!(
            got,
            [
                ("data", "data/{0}/{1}.json", 2),
                ("usage", "data/{0}/usage.json", 1)
            ]
        );
        assert_eq!(groups[0].files[1].captures, ["8", "b2"]);
        assert_eq!(groups[0].captures[0].name, "dir2");
    }

    #[test]
    fn json_configured_patterns_come_first() {
        let mut config = Config::default();
        config.collections.insert(
            "conversations".into(),
            crate::model::config::CollectionConfig {
                pattern: "data/{user_id}/conv-{id}.json".into(),
            },
        );
        let files = vec![file("data/u/conv-1.json"), file("data/u/other.json")];
        let groups = group(files, &config).unwrap();
        assert_eq!(groups[0].name, "conversations");
        assert_eq!(groups[0].files[0].captures, ["u", "1"]);
        assert_eq!(groups[0].pattern, "data/{0}/conv-{1}.json");
        assert_eq!(groups[1].files[0].rel, "data/u/other.json");
        assert!(matches(&parse("a/*/{x}.json").unwrap(), "a/b/c.json").is_some());
        assert!(parse("{a}{b}").is_err());
    }
}
