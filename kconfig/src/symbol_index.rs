//! A light scan of a Kconfig source tree: where each symbol is defined, its type, its
//! `depends on` lines and who `select`s it. Not the Kconfig language: `source`, `default`,
//! `range`, `imply` and macros are not followed, and an `if` around a `source` line does not
//! reach the sourced file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::value::SymbolType;

/// One `config NAME` or `menuconfig NAME` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definition {
    /// The file, relative to the scanned root.
    pub file: PathBuf,
    /// 1-based line of the `config` keyword.
    pub line: usize,
    /// The declared type, when the entry (or a later entry of the same symbol) says one.
    pub symbol_type: Option<SymbolType>,
    /// The entry's `depends on` expressions, then those of the enclosing `if`, `menu` and
    /// `choice` blocks of the same file.
    pub depends_on: Vec<String>,
    /// Whether the entry sits inside a `choice` block.
    pub in_choice: bool,
}

/// A `select TARGET` line in the entry of `by`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// The symbol whose entry has the `select` line.
    pub by: String,
    /// The file, relative to the scanned root.
    pub file: PathBuf,
    /// 1-based line of the `select`.
    pub line: usize,
}

/// Every symbol defined in a source tree.
#[derive(Debug, Clone, Default)]
pub struct SymbolIndex {
    definitions: HashMap<String, Vec<Definition>>,
    selectors: HashMap<String, Vec<Selector>>,
}

/// A file or folder of the tree could not be read. The message ends with the operating
/// system's error, so it is not also given as [`std::error::Error::source`]: each cause
/// is printed once.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}: {error}")]
pub struct ScanError {
    /// What could not be read.
    pub path: PathBuf,
    /// Why.
    pub error: std::io::Error,
}

impl SymbolIndex {
    /// Scans every `Kconfig*`, `Config.in` and `Config.src` file under `root` (and, for a
    /// busybox tree, the `//config:` lines of its C sources). With `arch` (the kernel's
    /// `ARCH=`, e.g. `x86_64`, read from its folder `arch/x86` as the kernel's Makefile
    /// does), skips the other `arch/*` folders so their symbols are neither suggested nor
    /// explained.
    pub fn scan(root: &Path, arch: Option<&str>) -> Result<SymbolIndex, ScanError> {
        let arch = arch.map(source_arch);
        let busybox = root.join("Config.in").is_file() && !root.join("Kconfig").exists();
        let mut index = SymbolIndex::default();
        let walk = walkdir::WalkDir::new(root)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|entry| keep_dir(root, entry.path(), arch));
        for entry in walk {
            let entry = entry.map_err(|e| {
                let path = e.path().unwrap_or(root).to_path_buf();
                let error = e
                    .into_io_error()
                    .unwrap_or_else(|| std::io::Error::other("symlink loop"));
                ScanError { path, error }
            })?;
            if !entry.file_type().is_file() {
                continue;
            }
            let name = entry.file_name().to_string_lossy();
            let kconfig =
                name.starts_with("Kconfig") || name == "Config.in" || name == "Config.src";
            let embedded = busybox && (name.ends_with(".c") || name.ends_with(".h"));
            if !kconfig && !embedded {
                continue;
            }
            let bytes = std::fs::read(entry.path()).map_err(|error| ScanError {
                path: entry.path().to_path_buf(),
                error,
            })?;
            let text = String::from_utf8_lossy(&bytes);
            let relative = entry.path().strip_prefix(root).unwrap_or(entry.path());
            if kconfig {
                index.add_file(relative, &text);
            } else if text.contains("//config:") {
                index.add_file(relative, &embedded_kconfig(&text));
            }
        }
        Ok(index)
    }

    /// Adds the entries of one Kconfig file's text, named `file` in the definitions.
    pub fn add_file(&mut self, file: &Path, text: &str) {
        let scanned = scan_file(file, text);
        for (symbol, definition) in scanned.definitions {
            self.definitions.entry(symbol).or_default().push(definition);
        }
        for (target, selector) in scanned.selects {
            self.selectors.entry(target).or_default().push(selector);
        }
    }

    /// The entries that `select` `symbol` (no prefix).
    pub fn selectors(&self, symbol: &str) -> &[Selector] {
        self.selectors.get(symbol).map_or(&[], Vec::as_slice)
    }

    /// Where `symbol` (no prefix) is defined; empty when it is not.
    pub fn definitions(&self, symbol: &str) -> &[Definition] {
        self.definitions.get(symbol).map_or(&[], Vec::as_slice)
    }

    /// The type of `symbol` (no prefix) from the first definition that declares one.
    pub fn symbol_type(&self, symbol: &str) -> Option<SymbolType> {
        self.definitions(symbol).iter().find_map(|d| d.symbol_type)
    }

    /// Every defined symbol (no prefix), in no particular order.
    pub fn symbols(&self) -> impl Iterator<Item = &str> {
        self.definitions.keys().map(String::as_str)
    }

    /// The number of distinct symbols defined.
    pub fn len(&self) -> usize {
        self.definitions.len()
    }

    /// Whether no symbol was found.
    pub fn is_empty(&self) -> bool {
        self.definitions.is_empty()
    }

    /// The defined symbol closest to `symbol` by edit distance, when one is close enough
    /// to be a likely typo (ties go to the alphabetically first).
    pub fn suggest(&self, symbol: &str) -> Option<&str> {
        let limit = (symbol.len() / 3).clamp(1, 3);
        self.definitions
            .keys()
            .map(|candidate| (strsim::levenshtein(symbol, candidate), candidate.as_str()))
            .filter(|(distance, _)| *distance <= limit && *distance < symbol.len())
            .min()
            .map(|(_, candidate)| candidate)
    }
}

/// The folder under `arch/` of a kernel `ARCH=` value (the Makefile's `SRCARCH`).
fn source_arch(arch: &str) -> &str {
    match arch {
        "i386" | "x86_64" => "x86",
        "sparc32" | "sparc64" => "sparc",
        "parisc64" => "parisc",
        other => other,
    }
}

// The kernel's `scripts/kconfig/tests` hold toy Kconfig files whose symbols (A, B, CHOICE...)
// are not the kernel's and would only make poor suggestions.
fn keep_dir(root: &Path, path: &Path, arch: Option<&str>) -> bool {
    let Ok(relative) = path.strip_prefix(root) else {
        return true;
    };
    let parts: Vec<_> = relative.iter().map(|p| p.to_string_lossy()).collect();
    match parts.as_slice() {
        [first, ..] if first.starts_with('.') => false,
        [a, b, c, ..] if a == "scripts" && b == "kconfig" && c == "tests" => false,
        [a, other] if a == "arch" => arch.is_none_or(|arch| other == arch) || !path.is_dir(),
        _ => true,
    }
}

/// Busybox keeps most entries in its C sources as `//config:` lines; keeps the line
/// numbers by blanking every other line.
fn embedded_kconfig(text: &str) -> String {
    text.lines()
        .map(|line| line.strip_prefix("//config:").unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Debug)]
enum Block {
    If(String),
    Menu(Vec<String>),
    Choice(Vec<String>),
}

#[derive(Debug, PartialEq)]
enum Target {
    Entry,
    Block,
    Nothing,
}

/// Columns of leading whitespace, tabs counting to the next multiple of 8 as Kconfig does.
fn indentation(line: &str) -> usize {
    let mut column = 0;
    for c in line.chars() {
        match c {
            ' ' => column += 1,
            '\t' => column = (column / 8 + 1) * 8,
            _ => break,
        }
    }
    column
}

/// Cuts a `#` comment that is not inside quotes.
fn strip_comment(line: &str) -> &str {
    let mut quote = None;
    for (i, c) in line.char_indices() {
        match (c, quote) {
            ('"' | '\'', None) => quote = Some(c),
            (c, Some(q)) if c == q => quote = None,
            ('#', None) => return &line[..i],
            _ => {}
        }
    }
    line
}

fn type_keyword(word: &str) -> Option<SymbolType> {
    Some(match word {
        "bool" | "def_bool" => SymbolType::Bool,
        "tristate" | "def_tristate" => SymbolType::Tristate,
        "string" => SymbolType::String,
        "int" => SymbolType::Int,
        "hex" => SymbolType::Hex,
        _ => return None,
    })
}

/// An entry being read: its own `depends on` lines and those of its enclosing blocks.
struct Draft {
    symbol: String,
    definition: Definition,
    inherited: Vec<String>,
}

/// What one file defines and selects.
struct Scanned {
    definitions: Vec<(String, Definition)>,
    selects: Vec<(String, Selector)>,
}

fn scan_file(file: &Path, text: &str) -> Scanned {
    let mut found: Vec<Draft> = Vec::new();
    let mut selects = Vec::new();
    let mut blocks: Vec<Block> = Vec::new();
    let mut target = Target::Nothing;
    // Inside a help text: `None` until its first line sets the indentation it keeps.
    let mut help_indent: Option<Option<usize>> = None;
    let mut pending = String::new();
    let mut pending_start = 0;

    for (i, raw) in text.lines().enumerate() {
        if let Some(indent) = help_indent {
            if raw.trim().is_empty() {
                continue;
            }
            let this = indentation(raw);
            match indent {
                None => {
                    help_indent = Some(Some(this));
                    continue;
                }
                Some(first) if this >= first => continue,
                Some(_) => help_indent = None,
            }
        }
        if pending.is_empty() {
            pending_start = i + 1;
        }
        if let Some(joined) = raw.strip_suffix('\\') {
            pending.push_str(joined);
            pending.push(' ');
            continue;
        }
        pending.push_str(raw);
        let line = std::mem::take(&mut pending);
        let line = strip_comment(&line).trim();
        let (keyword, rest) = line
            .split_once(char::is_whitespace)
            .map_or((line, ""), |(k, r)| (k, r.trim()));

        match keyword {
            "config" | "menuconfig" if !rest.is_empty() => {
                let mut inherited = Vec::new();
                let mut in_choice = false;
                for block in blocks.iter().rev() {
                    match block {
                        Block::If(expr) => inherited.push(expr.clone()),
                        Block::Menu(deps) => inherited.extend(deps.iter().cloned()),
                        Block::Choice(deps) => {
                            in_choice = true;
                            inherited.extend(deps.iter().cloned());
                        }
                    }
                }
                found.push(Draft {
                    symbol: rest.to_string(),
                    definition: Definition {
                        file: file.to_path_buf(),
                        line: pending_start,
                        symbol_type: None,
                        depends_on: Vec::new(),
                        in_choice,
                    },
                    inherited,
                });
                target = Target::Entry;
            }
            "help" | "---help---" => help_indent = Some(None),
            "depends" => {
                let Some(expr) = rest.strip_prefix("on") else {
                    continue;
                };
                // Continuation lines leave runs of tabs; one space reads better in reports.
                let expr = expr.split_whitespace().collect::<Vec<_>>().join(" ");
                match (&target, found.last_mut(), blocks.last_mut()) {
                    (Target::Entry, Some(draft), _) => draft.definition.depends_on.push(expr),
                    (Target::Block, _, Some(Block::Menu(deps) | Block::Choice(deps))) => {
                        deps.push(expr)
                    }
                    _ => {}
                }
            }
            "select" => {
                let target_symbol = rest.split_whitespace().next().unwrap_or("");
                if let (Target::Entry, Some(draft), false) =
                    (&target, found.last(), target_symbol.is_empty())
                {
                    selects.push((
                        target_symbol.to_string(),
                        Selector {
                            by: draft.symbol.clone(),
                            file: file.to_path_buf(),
                            line: pending_start,
                        },
                    ));
                }
            }
            "if" => {
                blocks.push(Block::If(rest.to_string()));
                target = Target::Nothing;
            }
            "menu" => {
                blocks.push(Block::Menu(Vec::new()));
                target = Target::Block;
            }
            "choice" => {
                blocks.push(Block::Choice(Vec::new()));
                target = Target::Block;
            }
            "endif" | "endmenu" | "endchoice" => {
                blocks.pop();
                target = Target::Nothing;
            }
            "comment" | "source" | "rsource" | "osource" | "orsource" | "mainmenu" => {
                target = Target::Nothing;
            }
            word => {
                if let (Some(symbol_type), Target::Entry, Some(draft)) =
                    (type_keyword(word), &target, found.last_mut())
                {
                    draft.definition.symbol_type.get_or_insert(symbol_type);
                }
            }
        }
    }
    let definitions = found
        .into_iter()
        .map(|mut draft| {
            draft.definition.depends_on.extend(draft.inherited);
            (draft.symbol, draft.definition)
        })
        .collect();
    Scanned {
        definitions,
        selects,
    }
}
