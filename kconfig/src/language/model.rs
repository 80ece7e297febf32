//! The parsed Kconfig tree: symbols, their properties and the menu tree, held in
//! vectors and addressed by index, as `scripts/kconfig` holds them in linked structs.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::expr::Expr;
pub(crate) use super::ids::*;

/// A symbol's declared type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Type {
    Unknown,
    Bool,
    Tristate,
    Int,
    Hex,
    String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Symbol {
    /// `None` for an anonymous choice.
    pub name: Option<String>,
    pub ty: Type,
    pub flags: u32,
    pub props: Vec<PropId>,
    pub dir_dep: Option<Expr>,
    pub rev_dep: Option<Expr>,
    pub implied: Option<Expr>,
    /// For a choice value: its choice.
    pub choice: Option<SymId>,
    /// For a choice: its values, in menu order.
    pub members: Vec<SymId>,
}

impl Symbol {
    pub(crate) fn new(name: Option<String>, flags: u32) -> Symbol {
        Symbol {
            name,
            ty: Type::Unknown,
            flags,
            props: Vec::new(),
            dir_dep: None,
            rev_dep: None,
            implied: None,
            choice: None,
            members: Vec::new(),
        }
    }

    pub(crate) fn is_choice(&self) -> bool {
        self.flags & F_CHOICE != 0
    }

    pub(crate) fn is_choice_value(&self) -> bool {
        self.flags & F_CHOICEVAL != 0
    }

    pub(crate) fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or("<choice>")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum PropKind {
    Prompt,
    Comment,
    Menu,
    Default,
    Choice,
    Select,
    Imply,
    Range,
    Symbol,
}

impl PropKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            PropKind::Prompt => "prompt",
            PropKind::Comment => "comment",
            PropKind::Menu => "menu",
            PropKind::Default => "default",
            PropKind::Choice => "choice",
            PropKind::Select => "select",
            PropKind::Imply => "imply",
            PropKind::Range => "range",
            PropKind::Symbol => "symbol",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum PropExpr {
    None,
    Expr(Expr),
    Range(SymId, SymId),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Property {
    pub kind: PropKind,
    pub expr: PropExpr,
    pub visible: Option<Expr>,
    pub text: String,
    pub file: FileId,
    pub line: u32,
    pub menu: MenuId,
}

impl Property {
    /// `prop_get_symbol`: the symbol of a `default`, `select` or `imply` that names one.
    pub(crate) fn symbol(&self) -> Option<SymId> {
        match &self.expr {
            PropExpr::Expr(Expr::Sym(s)) => Some(*s),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Menu {
    pub sym: Option<SymId>,
    pub prompt: Option<PropId>,
    pub dep: Option<Expr>,
    pub visibility: Option<Expr>,
    pub parent: Option<MenuId>,
    pub list: Option<MenuId>,
    pub next: Option<MenuId>,
    pub file: FileId,
    pub line: u32,
}

/// A place in the Kconfig sources: file (as `conf` names it, relative to the source tree)
/// and 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Location {
    /// The file, relative to the source tree.
    pub file: PathBuf,
    /// 1-based line.
    pub line: u32,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// What a loaded tree depended on outside its files, to tell when a cached copy is stale.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Inputs {
    /// Every environment variable the macros read, with the value they saw.
    pub env: Vec<(String, Option<String>)>,
    /// Every `$(shell,...)` command, with its output.
    pub shell: Vec<(String, String)>,
    /// Every Kconfig file read, with its size and modification time (ns since the epoch).
    pub files: Vec<(PathBuf, u64, u128)>,
}

/// A parsed and finalized Kconfig tree (`conf_parse` done): what `olddefconfig`, `why`
/// and `blame` evaluate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Kconfig {
    pub(crate) symbols: Vec<Symbol>,
    pub(crate) props: Vec<Property>,
    pub(crate) menus: Vec<Menu>,
    pub(crate) files: Vec<PathBuf>,
    pub(crate) by_name: HashMap<String, SymId>,
    pub(crate) modules: SymId,
    pub(crate) prefix: String,
    pub(crate) srctree: PathBuf,
    pub(crate) inputs: Inputs,
    /// Lines `$(info,...)` and `$(warning-if,...)` printed while parsing.
    pub(crate) messages: Vec<String>,
}

impl Kconfig {
    pub(crate) fn sym(&self, id: SymId) -> &Symbol {
        &self.symbols[id as usize]
    }

    pub(crate) fn prop(&self, id: PropId) -> &Property {
        &self.props[id as usize]
    }

    pub(crate) fn menu(&self, id: MenuId) -> &Menu {
        &self.menus[id as usize]
    }

    pub(crate) fn location(&self, file: FileId, line: u32) -> Location {
        Location {
            file: self.files[file as usize].clone(),
            line,
        }
    }

    pub(crate) fn prop_location(&self, prop: PropId) -> Location {
        let p = self.prop(prop);
        self.location(p.file, p.line)
    }

    /// The symbol named `name` (no prefix), as `sym_find` finds it: not constants, not
    /// choices.
    pub(crate) fn find(&self, name: &str) -> Option<SymId> {
        match name {
            "y" => Some(SYM_YES),
            "m" => Some(SYM_MOD),
            "n" => Some(SYM_NO),
            _ => self.by_name.get(name).copied(),
        }
    }

    /// Properties of `sym` of one kind, in order.
    pub(crate) fn props_of(&self, sym: SymId, kind: PropKind) -> impl Iterator<Item = PropId> + '_ {
        self.sym(sym)
            .props
            .iter()
            .copied()
            .filter(move |&p| self.prop(p).kind == kind)
    }

    /// Where `sym` is defined: the `config` line of each of its entries.
    pub(crate) fn definitions(&self, sym: SymId) -> Vec<Location> {
        self.props_of(sym, PropKind::Symbol)
            .map(|p| self.prop_location(p))
            .collect()
    }

    /// The symbols' prefix, `CONFIG_` unless the environment's `CONFIG_` says otherwise.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The source tree the files are relative to.
    pub fn srctree(&self) -> &Path {
        &self.srctree
    }

    /// The number of named, non-constant symbols (those a `.config` can set).
    pub fn symbol_count(&self) -> usize {
        self.by_name.len()
    }

    /// The Kconfig files read, relative to the source tree, in the order they were read.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// What `$(info,...)` and `$(warning-if,...)` printed while the tree was parsed.
    pub fn messages(&self) -> &[String] {
        &self.messages
    }

    /// The defined symbol whose name is closest to `name` (no prefix), within a third of
    /// its length (at most 3 edits), as [`crate::SymbolIndex::suggest`] picks.
    pub fn suggest(&self, name: &str) -> Option<&str> {
        let limit = (name.len() / 3).clamp(1, 3);
        self.by_name
            .iter()
            .filter(|(_, &s)| self.sym(s).ty != Type::Unknown)
            .map(|(candidate, _)| (strsim::levenshtein(name, candidate), candidate.as_str()))
            .filter(|(distance, _)| *distance <= limit && *distance < name.len())
            .min()
            .map(|(_, candidate)| candidate)
    }

    /// Whether `name` (no prefix) is a symbol the tree defines with a type.
    pub fn is_defined(&self, name: &str) -> bool {
        self.find(name)
            .is_some_and(|s| self.sym(s).ty != Type::Unknown)
    }

    /// The type of `name` (no prefix) as a `.config` value type, when it is defined.
    pub fn symbol_type(&self, name: &str) -> Option<crate::SymbolType> {
        let sym = self.sym(self.find(name)?);
        Some(match sym.ty {
            Type::Bool => crate::SymbolType::Bool,
            Type::Tristate => crate::SymbolType::Tristate,
            Type::Int => crate::SymbolType::Int,
            Type::Hex => crate::SymbolType::Hex,
            Type::String => crate::SymbolType::String,
            Type::Unknown => return None,
        })
    }

    /// The expression as Kconfig prints it (`expr_print`), with precedence-driven
    /// parentheses.
    pub(crate) fn render(&self, e: &Expr) -> String {
        let mut out = String::new();
        render_into(self, e, 0, &mut out);
        out
    }
}

fn render_into(k: &Kconfig, e: &Expr, parent: u8, out: &mut String) {
    let name = |s: SymId| {
        let sym = k.sym(s);
        let name = sym.display_name();
        if sym.flags & F_CONST != 0 && s > SYM_NO {
            format!("\"{name}\"")
        } else {
            name.to_string()
        }
    };
    let (level, a, b, op) = match e {
        Expr::Sym(s) => {
            out.push_str(&name(*s));
            return;
        }
        Expr::Cmp(op, a, b) => {
            out.push_str(&format!("{} {} {}", name(*a), op.text(), name(*b)));
            return;
        }
        Expr::Not(a) => {
            if parent > 3 {
                out.push('(');
            }
            out.push('!');
            render_into(k, a, 4, out);
            if parent > 3 {
                out.push(')');
            }
            return;
        }
        Expr::And(a, b) => (2, a, b, " && "),
        Expr::Or(a, b) => (1, a, b, " || "),
    };
    if parent > level {
        out.push('(');
    }
    render_into(k, a, level, out);
    out.push_str(op);
    render_into(k, b, level, out);
    if parent > level {
        out.push(')');
    }
}

/// How [`Kconfig::load_with`] reads a tree beyond what the kernel's own `conf` does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Folders where a relative `source` path is looked for before `srctree`: the build
    /// folder of a tree whose `make` generates Kconfig files (busybox's `O=` folder, where
    /// `scripts/gen_build_files.sh` writes most of its `Config.in` files).
    pub generated: Vec<PathBuf>,
    /// The older grammar busybox's kconfig reads: words may hold `/` and `.`, so a
    /// `source` path need not be quoted (6.1's `conf` refuses `source libbb/Config.in`).
    pub older_grammar: bool,
}
