//! Tidy checks over the workspace's sources, in the style of rust-analyzer's `tidy`: each
//! rule is an absence (no import cycle, no import up the layers, no long function...),
//! and a failure names the file, the line and the rule (ARCHITECTURE.md, "Layers of
//! xtask").

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The crates whose `src/` files may not import each other in a cycle.
const CRATES: [&str; 4] = ["xtask", "kconfig", "rootfs", "init"];

/// The longest function xtask may have, in lines from `fn` to its closing brace.
const MAX_FUNCTION_LINES: usize = 80;

/// The layers of xtask, bottom first: a file imports only from a lower layer, or from
/// its own group of files (the same folder of a layer; each stage is a group of its own).
const LAYERS: [(&str, &[&str]); 8] = [
    (
        "leaves",
        &[
            "board", "layout", "fetched", "render", "elf", "uimage", "dtb",
        ],
    ),
    ("engine", &["engine"]),
    ("kbuild", &["kbuild"]),
    ("host", &["host"]),
    ("qemu", &["qemu"]),
    ("stages", &["stages"]),
    ("commands", &["commands"]),
    ("main", &[""]),
];

#[test]
fn no_import_cycles_between_files_of_any_crate() {
    let mut failures = String::new();
    for name in CRATES {
        let krate = Crate::read(name);
        for cycle in krate.cycles() {
            writeln!(failures, "import cycle: {}", cycle.join(" <-> ")).unwrap();
            for from in &cycle {
                for (to, at) in &krate.files[from].imports {
                    if cycle.contains(to) {
                        writeln!(failures, "    {at}").unwrap();
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{failures}");
}

#[test]
fn xtask_imports_point_down_its_layers() {
    let krate = Crate::read("xtask");
    let mut failures = String::new();
    for (from, file) in &krate.files {
        let Some(from_layer) = layer_of(&file.module) else {
            writeln!(
                failures,
                "{from}: in no layer: add its top module to LAYERS in xtask/tests/it/tidy.rs \
                 and to ARCHITECTURE.md"
            )
            .unwrap();
            continue;
        };
        for (to, at) in &file.imports {
            let to_module = &krate.files[to].module;
            let to_layer = layer_of(to_module).unwrap_or(usize::MAX);
            let same_group = group_of(&file.module) == group_of(to_module);
            if to_layer < from_layer || (to_layer == from_layer && same_group) {
                continue;
            }
            let why = if from_layer == to_layer && LAYERS[from_layer].0 == "stages" {
                "a stage never imports another stage (pass data through its outputs on disk \
                 or a returned value)"
                    .to_string()
            } else if from_layer == to_layer {
                format!(
                    "{} files import only their own folder",
                    LAYERS[from_layer].0
                )
            } else {
                format!(
                    "{} may not import {}, a layer above it",
                    LAYERS[from_layer].0,
                    LAYERS.get(to_layer).map_or("?", |l| l.0)
                )
            };
            writeln!(failures, "{at}\n    {why}").unwrap();
        }
    }
    assert!(failures.is_empty(), "\n{failures}");
}

#[test]
fn xtask_functions_are_at_most_80_lines() {
    let krate = Crate::read("xtask");
    let mut failures = String::new();
    for (path, file) in &krate.files {
        for (line, name, length) in functions(&file.lines) {
            if length > MAX_FUNCTION_LINES {
                writeln!(
                    failures,
                    "{path}:{line}: fn {name} is {length} lines (at most {MAX_FUNCTION_LINES}: \
                     split it)"
                )
                .unwrap();
            }
        }
    }
    assert!(failures.is_empty(), "\n{failures}");
}

#[test]
fn xtask_public_items_have_a_doc_comment() {
    let krate = Crate::read("xtask");
    let mut failures = String::new();
    for (path, file) in &krate.files {
        for (i, line) in file.lines.iter().enumerate() {
            let code = line.trim_start();
            let public = code.starts_with("pub ") || code.starts_with("pub(");
            let item = public && !code.contains(" mod ") && !code.contains(" use ");
            if !item || !is_item(code) {
                continue;
            }
            let documented = file.lines[..i]
                .iter()
                .rev()
                .map(|l| l.trim_start())
                .find(|l| !l.starts_with("#["))
                .is_some_and(|l| l.starts_with("///"));
            if !documented {
                writeln!(failures, "{path}:{}: {}", i + 1, code).unwrap();
            }
        }
    }
    assert!(
        failures.is_empty(),
        "public items without a one-line doc comment:\n{failures}"
    );
}

#[test]
fn no_dead_code_allowances() {
    let mut failures = String::new();
    for name in ["xtask", "kconfig", "rootfs"] {
        for dir in ["src", "tests", "benches"] {
            for path in rust_files(&workspace().join(name).join(dir)) {
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, line) in text.lines().enumerate() {
                    if line.contains(concat!("allow(", "dead_code"))
                        && !line.trim_start().starts_with("//")
                    {
                        writeln!(failures, "{}:{}: {}", shown(&path), i + 1, line.trim()).unwrap();
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "dead code is deleted or used, not allowed:\n{failures}"
    );
}

/// The workspace root.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A path relative to the workspace, for messages.
fn shown(path: &Path) -> String {
    path.strip_prefix(workspace())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The files of one crate's `src/` and which of them each imports.
struct Crate {
    /// By path relative to the workspace.
    files: BTreeMap<String, SourceFile>,
}

/// One file of a crate.
struct SourceFile {
    /// Its module path (`["engine", "stage"]`; empty for `main.rs`/`lib.rs`).
    module: Vec<String>,
    /// Its lines.
    lines: Vec<String>,
    /// Each file it imports, with the first line that does, as `path:line: text`.
    imports: BTreeMap<String, String>,
}

impl Crate {
    fn read(name: &str) -> Crate {
        let src = workspace().join(name).join("src");
        let mut files = BTreeMap::new();
        for path in rust_files(&src) {
            let text = std::fs::read_to_string(&path).unwrap();
            let module = module_of(&src, &path);
            let lines: Vec<String> = text.lines().map(str::to_string).collect();
            let mut imports = BTreeMap::new();
            for (line, target) in paths(&lines) {
                let Some(to) = resolve(&src, &module, &target) else {
                    continue;
                };
                let to_module = module_of(&src, &to);
                if to == path || module.starts_with(&to_module) {
                    // Itself, or an ancestor (the parent module as a facade).
                    continue;
                }
                imports.entry(shown(&to)).or_insert_with(|| {
                    format!("{}:{}: {}", shown(&path), line + 1, lines[line].trim())
                });
            }
            files.insert(
                shown(&path),
                SourceFile {
                    module,
                    lines,
                    imports,
                },
            );
        }
        Crate { files }
    }

    /// The import cycles: strongly connected sets of two files or more, each sorted.
    fn cycles(&self) -> Vec<Vec<String>> {
        let names: Vec<&String> = self.files.keys().collect();
        let reach = |from: &String| -> BTreeSet<String> {
            let mut seen = BTreeSet::new();
            let mut todo = vec![from.clone()];
            while let Some(file) = todo.pop() {
                for to in self.files[&file].imports.keys() {
                    if seen.insert(to.clone()) {
                        todo.push(to.clone());
                    }
                }
            }
            seen
        };
        let reached: BTreeMap<&String, BTreeSet<String>> =
            names.iter().map(|n| (*n, reach(n))).collect();
        let mut cycles: Vec<Vec<String>> = Vec::new();
        for name in &names {
            let cycle: Vec<String> = names
                .iter()
                .filter(|other| {
                    *other == name
                        || (reached[*name].contains(**other) && reached[**other].contains(*name))
                })
                .map(|n| n.to_string())
                .collect();
            if cycle.len() > 1 && !cycles.contains(&cycle) {
                cycles.push(cycle);
            }
        }
        cycles
    }
}

/// The module path of a file under `src`.
fn module_of(src: &Path, path: &Path) -> Vec<String> {
    let relative = path.strip_prefix(src).unwrap().with_extension("");
    let mut module: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if module == ["main"] || module == ["lib"] || module.last().is_some_and(|m| m == "mod") {
        module.pop();
    }
    module
}

/// The file that defines the longest prefix of the module path `target`.
fn resolve(src: &Path, module: &[String], target: &Path) -> Option<PathBuf> {
    let mut segments: Vec<String> = Vec::new();
    let mut parts = target.iter().map(|p| p.to_string_lossy().into_owned());
    match parts.next()?.as_str() {
        "crate" => {}
        "self" => segments.extend(module.iter().cloned()),
        "super" => segments.extend(module[..module.len().saturating_sub(1)].iter().cloned()),
        _ => return None,
    }
    for part in parts {
        if part == "super" {
            segments.pop();
        } else {
            segments.push(part);
        }
    }
    for n in (0..=segments.len()).rev() {
        let prefix = &segments[..n];
        if prefix.is_empty() {
            return ["main.rs", "lib.rs"]
                .iter()
                .map(|f| src.join(f))
                .find(|f| f.exists());
        }
        let base = prefix.iter().fold(src.to_path_buf(), |p, s| p.join(s));
        for candidate in [base.with_extension("rs"), base.join("mod.rs")] {
            if candidate.exists() {
                return Some(candidate);
            }
        }
    }
    None
}

/// Every `crate::`, `super::` or `self::` path in a file's code with the line it is on,
/// use groups expanded, as a relative path (`crate/engine/Stage`). Not counted: comments,
/// `mod x;` lines, `pub use` re-exports (a facade), and the test module at the end.
fn paths(lines: &[String]) -> Vec<(usize, PathBuf)> {
    let mut code: Vec<String> = Vec::new();
    let mut in_reexport = false;
    for line in lines {
        let text = line.split("//").next().unwrap_or("").to_string();
        let trimmed = text.trim_start();
        if trimmed.starts_with("#[cfg(test)]") && next_is_module(lines, code.len()) {
            break;
        }
        let starts_reexport =
            trimmed.starts_with("pub use ") || trimmed.starts_with("pub(crate) use ");
        let is_mod = (trimmed.starts_with("mod ") || trimmed.starts_with("pub mod "))
            && trimmed.ends_with(';');
        if starts_reexport {
            in_reexport = true;
        }
        if in_reexport || is_mod {
            code.push(String::new());
        } else {
            code.push(text.clone());
        }
        if in_reexport && text.contains(';') {
            in_reexport = false;
        }
    }
    let joined = code.join("\n");
    let line_at = |offset: usize| joined[..offset].matches('\n').count();
    let mut found = Vec::new();
    let bytes = joined.as_bytes();
    for head in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(at) = joined[from..].find(head) {
            let start = from + at;
            from = start + head.len();
            let word_start = start == 0
                || !(bytes[start - 1].is_ascii_alphanumeric()
                    || bytes[start - 1] == b'_'
                    || bytes[start - 1] == b':');
            if !word_start {
                continue;
            }
            let root = PathBuf::from(&head[..head.len() - 2]);
            let mut trees = Vec::new();
            use_tree(&joined[from..], root, &mut trees);
            for tree in trees {
                found.push((line_at(start), tree));
            }
        }
    }
    found
}

/// Whether the line after `at` (a `#[cfg(test)]`) opens a module: the test module.
fn next_is_module(lines: &[String], at: usize) -> bool {
    lines.get(at + 1).is_some_and(|l| {
        let l = l.trim_start();
        l.starts_with("mod ") || l.starts_with("pub mod ")
    })
}

/// Reads the path after `prefix::` in `text`, expanding `{a, b::c}` groups into `out`.
/// Returns how many bytes it read.
fn use_tree(text: &str, prefix: PathBuf, out: &mut Vec<PathBuf>) -> usize {
    let mut path = prefix;
    let mut at = 0;
    loop {
        let rest = &text[at..];
        let skipped = rest.len() - rest.trim_start().len();
        at += skipped;
        let rest = &text[at..];
        if let Some(group) = rest.strip_prefix('{') {
            at += 1;
            let mut inner = 0;
            loop {
                let item = &group[inner..];
                let item_trimmed = item.trim_start();
                inner += item.len() - item_trimmed.len();
                if item_trimmed.starts_with('}') {
                    inner += 1;
                    break;
                }
                if item_trimmed.is_empty() {
                    break;
                }
                if let Some(after_self) = item_trimmed.strip_prefix("self") {
                    if !after_self.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
                        out.push(path.clone());
                        inner += 4;
                    }
                }
                inner += use_tree(&group[inner..], path.clone(), out);
                let item = &group[inner..];
                let item_trimmed = item.trim_start();
                inner += item.len() - item_trimmed.len();
                if item_trimmed.starts_with(',') {
                    inner += 1;
                }
            }
            return at + inner;
        }
        let ident: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if ident.is_empty() {
            if path.components().count() > 1 {
                out.push(path);
            }
            return at;
        }
        path.push(&ident);
        at += ident.len();
        if text[at..].starts_with("::") {
            at += 2;
        } else {
            out.push(path);
            // Skip an `as alias`.
            let rest = text[at..].trim_start();
            if let Some(alias) = rest.strip_prefix("as ") {
                let skipped = text[at..].len() - rest.len() + 3;
                let name: usize = alias
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .map(char::len_utf8)
                    .sum();
                at += skipped + (alias.len() - alias.trim_start().len()) + name;
            }
            return at;
        }
    }
}

/// Whether a line (trimmed, starting with `pub`) declares an item.
fn is_item(code: &str) -> bool {
    let words: Vec<&str> = code.split_whitespace().collect();
    let kinds = ["fn", "struct", "enum", "const", "static", "type", "trait"];
    let declares = words.iter().take(4).any(|w| kinds.contains(w));
    // A struct field: `pub name: Type,`.
    let field = words.get(1).is_some_and(|w| w.ends_with(':'));
    declares || field
}

/// The layer of a module (by its first segment), as an index of [`LAYERS`].
fn layer_of(module: &[String]) -> Option<usize> {
    let top = module.first().map_or("", String::as_str);
    LAYERS.iter().position(|(_, tops)| tops.contains(&top))
}

/// The group of a module within its layer: a stage's files, else the layer's folder.
fn group_of(module: &[String]) -> String {
    match module {
        [top, stage, ..] if top == "stages" => format!("stages/{stage}"),
        [top, ..] => match layer_of(module) {
            Some(0) => "leaves".to_string(),
            _ => top.clone(),
        },
        [] => String::new(),
    }
}

/// Every function outside the test module: (1-based line, name, length in lines), for
/// rustfmt's layout (the closing brace at the `fn` line's indentation).
fn functions(lines: &[String]) -> Vec<(usize, String, usize)> {
    let end = (0..lines.len())
        .find(|&i| lines[i].trim_start().starts_with("#[cfg(test)]") && next_is_module(lines, i))
        .unwrap_or(lines.len());
    let mut found = Vec::new();
    for (i, line) in lines[..end].iter().enumerate() {
        let code = line.trim_start();
        let indent = &line[..line.len() - code.len()];
        let Some(at) = code.find("fn ") else { continue };
        let before = &code[..at];
        let qualifiers = [
            "pub",
            "pub(crate)",
            "pub(super)",
            "const",
            "unsafe",
            "async",
        ];
        if !before.split_whitespace().all(|w| qualifiers.contains(&w)) {
            continue;
        }
        let name: String = code[at + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let Some(open) = (i..end).find(|&j| {
            let l = lines[j].trim_end();
            l.ends_with('{') || l.ends_with(';')
        }) else {
            continue;
        };
        if lines[open].trim_end().ends_with(';') {
            continue;
        }
        let close = format!("{indent}}}");
        if let Some(last) = (open + 1..end).find(|&j| lines[j] == close) {
            found.push((i + 1, name, last - i + 1));
        }
    }
    found
}
