//! The Kconfig grammar (`scripts/kconfig/parser.y`) over the lexer's statements, building
//! the menu tree as `menu.c` does (`menu_add_entry`, `menu_add_prop`, ...) and following
//! `source` into other files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::environment::Environment;
use super::error::LoadError;
use super::expr::{and, Cmp, Expr};
use super::lexer::{Kw, Lexer, Op, Statement, Tok};
use super::macros::{Flavor, Preprocessor};
use super::model::*;
use super::shell::ShellRunner;

#[derive(Debug, Clone, Copy)]
enum Slot {
    List(MenuId),
    Next(MenuId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Menu,
    Choice,
    If,
}

/// What option lines the current entry takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    None,
    Config { menuconfig: bool },
    Choice,
    Menu,
    Comment,
}

struct OpenFile {
    id: FileId,
    /// The line of the `source` statement that opened the next file.
    line: u32,
}

/// Builds a [`Kconfig`] from the top file.
pub(crate) struct Parser<'p> {
    k: Kconfig,
    consts: HashMap<String, SymId>,
    choices: HashMap<String, SymId>,
    current_menu: MenuId,
    current_entry: MenuId,
    slot: Slot,
    entry: Entry,
    blocks: Vec<(Block, MenuId, FileId, u32)>,
    files: Vec<OpenFile>,
    modules: Option<SymId>,
    line: u32,
    pp: Preprocessor<'p>,
    file_ids: HashMap<PathBuf, FileId>,
    /// Nesting of expressions, bounded so a hostile file cannot overflow the stack.
    depth: u32,
    /// What beyond the kernel's `conf` this tree needs (busybox's).
    options: LoadOptions,
}

type Res<T> = Result<T, LoadError>;

impl<'p> Parser<'p> {
    pub(crate) fn new(
        srctree: &Path,
        env: &'p Environment,
        shell: &'p mut dyn ShellRunner,
    ) -> Parser<'p> {
        let constant = |name: &str, ty| {
            let mut s = Symbol::new(Some(name.to_string()), F_CONST);
            s.ty = ty;
            s
        };
        let root = Menu {
            sym: None,
            prompt: None,
            dep: None,
            visibility: None,
            parent: None,
            list: None,
            next: None,
            file: 0,
            line: 0,
        };
        let k = Kconfig {
            symbols: vec![
                constant("y", Type::Tristate),
                constant("m", Type::Tristate),
                constant("n", Type::Tristate),
            ],
            props: Vec::new(),
            menus: vec![root],
            files: Vec::new(),
            by_name: HashMap::new(),
            modules: SYM_NO,
            prefix: env.get("CONFIG_").unwrap_or_else(|| "CONFIG_".to_string()),
            srctree: srctree.to_path_buf(),
            inputs: Inputs::default(),
            messages: Vec::new(),
        };
        Parser {
            k,
            consts: HashMap::new(),
            choices: HashMap::new(),
            current_menu: ROOT_MENU,
            current_entry: ROOT_MENU,
            slot: Slot::List(ROOT_MENU),
            entry: Entry::None,
            blocks: Vec::new(),
            files: Vec::new(),
            modules: None,
            line: 0,
            pp: Preprocessor::new(env, shell),
            file_ids: HashMap::new(),
            depth: 0,
            options: LoadOptions::default(),
        }
    }

    /// The parser with `options` (see [`LoadOptions`]).
    pub(crate) fn with_options(mut self, options: LoadOptions) -> Parser<'p> {
        self.options = options;
        self
    }

    fn error(&self, message: impl Into<String>) -> LoadError {
        LoadError::Syntax {
            file: self.current_name(),
            line: self.line,
            message: message.into(),
        }
    }

    fn current_name(&self) -> PathBuf {
        self.files
            .last()
            .map(|f| self.k.files[f.id as usize].clone())
            .unwrap_or_default()
    }

    fn current_file(&self) -> FileId {
        self.files.last().map_or(0, |f| f.id)
    }

    /// Parses `top` (relative to the source tree) and every file it sources.
    pub(crate) fn parse(mut self, top: &Path) -> Res<(Kconfig, Option<SymId>)> {
        self.source(top, true, false)?;
        if let Some((_, menu, file, line)) = self.blocks.last() {
            let _ = menu;
            return Err(LoadError::Syntax {
                file: self.k.files[*file as usize].clone(),
                line: *line,
                message: "missing end statement for this entry".to_string(),
            });
        }
        self.end_entry();
        self.k.inputs.env = std::mem::take(&mut self.pp.used_env).into_iter().collect();
        self.k.inputs.shell = std::mem::take(&mut self.pp.shell_log);
        self.k.messages = std::mem::take(&mut self.pp.messages);
        Ok((self.k, self.modules))
    }

    fn source(&mut self, name: &Path, top: bool, optional: bool) -> Res<()> {
        let path = if name.is_absolute() {
            name.to_path_buf()
        } else {
            self.options
                .generated
                .iter()
                .map(|dir| dir.join(name))
                .find(|p| p.is_file())
                .unwrap_or_else(|| self.k.srctree.join(name))
        };
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(_) if optional => return Ok(()),
            Err(e) if top => return Err(LoadError::Io { path, source: e }),
            Err(_) => {
                return Err(LoadError::Missing {
                    file: self.current_name(),
                    line: self.line,
                    missing: name.to_path_buf(),
                })
            }
        };
        if let Some(pos) = self
            .files
            .iter()
            .position(|f| self.k.files[f.id as usize] == name)
        {
            let mut chain = String::new();
            for f in self.files[pos..].iter().rev() {
                chain.push_str(&format!(
                    "\n  included from: {}:{}",
                    self.k.files[f.id as usize].display(),
                    f.line
                ));
            }
            return Err(LoadError::RecursiveInclusion {
                file: self.current_name(),
                line: self.line,
                included: name.to_path_buf(),
                chain,
            });
        }
        if let Ok(meta) = std::fs::metadata(&path) {
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            self.k.inputs.files.push((path.clone(), meta.len(), mtime));
        }
        let id = match self.file_ids.get(name) {
            Some(&id) => id,
            None => {
                let id = self.k.files.len() as FileId;
                self.k.files.push(name.to_path_buf());
                self.file_ids.insert(name.to_path_buf(), id);
                id
            }
        };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        self.files.push(OpenFile { id, line: 0 });
        let saved_line = self.line;
        let result = self.parse_file(&text, top);
        self.files.pop();
        self.line = saved_line;
        result
    }

    fn parse_file(&mut self, text: &str, top: bool) -> Res<()> {
        let mut lexer = Lexer::new(text).with_path_words(self.options.older_grammar);
        let mut first = top;
        self.pp.file = self.current_name().display().to_string();
        while let Some(stmt) = lexer.statement(&mut self.pp)? {
            self.line = stmt.line;
            self.pp.line = stmt.line;
            let is_first = std::mem::take(&mut first);
            self.statement(stmt, is_first, &mut lexer)?;
            self.pp.file = self.current_name().display().to_string();
        }
        self.k.messages.append(&mut lexer.warnings);
        Ok(())
    }

    fn statement(&mut self, stmt: Statement, first: bool, lexer: &mut Lexer) -> Res<()> {
        let t = &stmt.tokens;
        let head = t[0].clone();
        // Options of the current entry.
        if self.option(t, lexer)? {
            return Ok(());
        }
        self.end_entry();
        match head {
            Tok::Word(name)
                if matches!(
                    t.get(1),
                    Some(Tok::Op(Op::Equal | Op::ColonEqual | Op::PlusEqual))
                ) =>
            {
                let flavor = match t[1] {
                    Tok::Op(Op::ColonEqual) => Flavor::Simple,
                    Tok::Op(Op::PlusEqual) => Flavor::Append,
                    _ => Flavor::Recursive,
                };
                let value = match t.get(2) {
                    Some(Tok::AssignVal(v)) => v.clone(),
                    _ => String::new(),
                };
                self.pp.add_variable(&name, &value, flavor)
            }
            Tok::Kw(Kw::Mainmenu) if first => {
                let text = self.quoted_line(t, 1)?;
                self.add_prompt(PropKind::Menu, text, None);
                Ok(())
            }
            Tok::Kw(kw @ (Kw::Config | Kw::Menuconfig)) => {
                if kw == Kw::Menuconfig && self.in_choice() {
                    return Err(self.error("invalid statement"));
                }
                let name = match (t.get(1), t.len()) {
                    (Some(Tok::Word(w)), 2) => w.clone(),
                    _ => return Err(self.error("syntax error")),
                };
                let sym = self.lookup(&name, 0);
                self.k.symbols[sym as usize].flags |= F_OPTIONAL;
                self.add_entry(Some(sym));
                self.entry = Entry::Config {
                    menuconfig: kw == Kw::Menuconfig,
                };
                Ok(())
            }
            Tok::Kw(Kw::Choice) => {
                if self.in_choice() {
                    return Err(self.error("invalid statement"));
                }
                let name = match (t.get(1), t.len()) {
                    (None, 1) => None,
                    (Some(Tok::Word(w)), 2) => Some(w.clone()),
                    _ => return Err(self.error("syntax error")),
                };
                let sym = match name {
                    Some(n) => self.lookup(&n, F_CHOICE),
                    None => self.new_symbol(None, F_CHOICE),
                };
                self.k.symbols[sym as usize].flags |= F_NO_WRITE;
                self.add_entry(Some(sym));
                self.add_prop(PropKind::Choice, PropExpr::None, None);
                self.open_block(Block::Choice);
                self.entry = Entry::Choice;
                Ok(())
            }
            Tok::Kw(Kw::Comment) => {
                let text = self.quoted_line(t, 1)?;
                self.add_entry(None);
                self.add_prompt(PropKind::Comment, text, None);
                self.entry = Entry::Comment;
                Ok(())
            }
            Tok::Kw(Kw::Menu) => {
                if self.in_choice() {
                    return Err(self.error("invalid statement"));
                }
                let text = self.quoted_line(t, 1)?;
                self.add_entry(None);
                self.add_prompt(PropKind::Menu, text, None);
                self.open_block(Block::Menu);
                self.entry = Entry::Menu;
                Ok(())
            }
            Tok::Kw(Kw::If) => {
                let mut pos = 1;
                let e = self.expr(t, &mut pos)?;
                self.expect_end(t, pos)?;
                self.add_entry(None);
                self.menu_mut(self.current_entry).dep = and(None, Some(e));
                self.open_block(Block::If);
                Ok(())
            }
            Tok::Kw(kw @ (Kw::Endmenu | Kw::Endchoice | Kw::Endif)) => {
                self.expect_end(t, 1)?;
                let (want, name) = match kw {
                    Kw::Endmenu => (Block::Menu, "menu"),
                    Kw::Endchoice => (Block::Choice, "choice"),
                    _ => (Block::If, "if"),
                };
                let Some(&(block, menu, file, line)) = self.blocks.last() else {
                    return Err(self.error(format!("unexpected '{name}' statement")));
                };
                if block != want {
                    let open = match block {
                        Block::Menu => "menu",
                        Block::Choice => "choice",
                        Block::If => "if",
                    };
                    return Err(self.error(format!("unexpected '{name}' within {open} block")));
                }
                if file != self.current_file() {
                    return Err(self.error(format!(
                        "'{name}' in different file than '{name}'; location of the '{name}': {}:{line}",
                        self.k.files[file as usize].display()
                    )));
                }
                let _ = menu;
                self.blocks.pop();
                self.slot = Slot::Next(self.current_menu);
                self.current_menu = self.menu(self.current_menu).parent.unwrap_or(ROOT_MENU);
                Ok(())
            }
            Tok::Kw(Kw::Source) => {
                if self.in_choice() {
                    return Err(self.error("invalid statement"));
                }
                let path = match t.as_slice() {
                    [_, Tok::Word(w)] if self.options.older_grammar => w.clone(),
                    _ => self.quoted_line(t, 1)?,
                };
                self.include(PathBuf::from(path), false)
            }
            Tok::Word(w) if matches!(w.as_str(), "rsource" | "osource" | "orsource") => {
                let path = PathBuf::from(self.quoted_line(t, 1)?);
                let path = if w.starts_with('o') && w != "orsource" {
                    path
                } else {
                    let dir = self
                        .current_name()
                        .parent()
                        .map(Path::to_path_buf)
                        .unwrap_or_default();
                    dir.join(path)
                };
                self.include(path, w.starts_with('o'))
            }
            Tok::Word(w) => Err(self.error(format!("unknown statement \"{w}\""))),
            _ => Err(self.error("invalid statement")),
        }
    }

    fn include(&mut self, path: PathBuf, optional: bool) -> Res<()> {
        if let Some(f) = self.files.last_mut() {
            f.line = self.line;
        }
        self.source(&path, false, optional)
    }

    /// Handles an option line of the current entry; `false` when it is not one.
    fn option(&mut self, t: &[Tok], lexer: &mut Lexer) -> Res<bool> {
        let Tok::Kw(kw) = t[0] else {
            return Ok(false);
        };
        let entry = self.entry;
        let config = matches!(entry, Entry::Config { .. });
        let choice = entry == Entry::Choice;
        match kw {
            Kw::Depends if entry != Entry::None => {
                if t.get(1) != Some(&Tok::Kw(Kw::On)) {
                    return Err(self.error("syntax error"));
                }
                let mut pos = 2;
                let e = self.expr(t, &mut pos)?;
                self.expect_end(t, pos)?;
                let m = self.current_entry;
                let dep = self.menu_mut(m).dep.take();
                self.menu_mut(m).dep = and(dep, Some(e));
            }
            Kw::Help if config || choice => {
                self.expect_end(t, 1)?;
                lexer.help();
            }
            Kw::Visible if entry == Entry::Menu => {
                let mut pos = 1;
                let cond = self.if_expr(t, &mut pos)?;
                self.expect_end(t, pos)?;
                let m = self.current_entry;
                let v = self.menu_mut(m).visibility.take();
                self.menu_mut(m).visibility = and(v, cond);
            }
            Kw::Bool | Kw::Tristate | Kw::Int | Kw::Hex | Kw::String if config || choice => {
                let ty = match kw {
                    Kw::Bool => Type::Bool,
                    Kw::Tristate => Type::Tristate,
                    Kw::Int => Type::Int,
                    Kw::Hex => Type::Hex,
                    _ => Type::String,
                };
                if choice && !matches!(ty, Type::Bool | Type::Tristate) {
                    return Err(self.error("invalid statement"));
                }
                let mut pos = 1;
                if let Some(Tok::Quote(text)) = t.get(1) {
                    let text = text.clone();
                    pos = 2;
                    let cond = self.if_expr(t, &mut pos)?;
                    self.expect_end(t, pos)?;
                    self.add_prompt(PropKind::Prompt, text, cond);
                } else {
                    self.expect_end(t, pos)?;
                }
                self.set_type(ty);
            }
            Kw::Prompt if config || choice => {
                let Some(Tok::Quote(text)) = t.get(1) else {
                    return Err(self.error("syntax error"));
                };
                let text = text.clone();
                let mut pos = 2;
                let cond = self.if_expr(t, &mut pos)?;
                self.expect_end(t, pos)?;
                self.add_prompt(PropKind::Prompt, text, cond);
            }
            Kw::Default if choice => {
                let Some(Tok::Word(w)) = t.get(1) else {
                    return Err(self.error("syntax error"));
                };
                let sym = self.lookup(&w.clone(), 0);
                let mut pos = 2;
                let cond = self.if_expr(t, &mut pos)?;
                self.expect_end(t, pos)?;
                self.add_prop(PropKind::Default, PropExpr::Expr(Expr::Sym(sym)), cond);
            }
            Kw::Default | Kw::DefBool | Kw::DefTristate if config => {
                let mut pos = 1;
                let e = self.expr(t, &mut pos)?;
                let cond = self.if_expr(t, &mut pos)?;
                self.expect_end(t, pos)?;
                self.add_prop(PropKind::Default, PropExpr::Expr(e), cond);
                match kw {
                    Kw::DefBool => self.set_type(Type::Bool),
                    Kw::DefTristate => self.set_type(Type::Tristate),
                    _ => {}
                }
            }
            Kw::Select | Kw::Imply if config => {
                let Some(Tok::Word(w)) = t.get(1) else {
                    return Err(self.error("syntax error"));
                };
                let sym = self.lookup(&w.clone(), 0);
                let mut pos = 2;
                let cond = self.if_expr(t, &mut pos)?;
                self.expect_end(t, pos)?;
                let kind = if kw == Kw::Select {
                    PropKind::Select
                } else {
                    PropKind::Imply
                };
                self.add_prop(kind, PropExpr::Expr(Expr::Sym(sym)), cond);
            }
            Kw::Range if config => {
                let mut pos = 1;
                let a = self.symbol(t, &mut pos)?;
                let b = self.symbol(t, &mut pos)?;
                let cond = self.if_expr(t, &mut pos)?;
                self.expect_end(t, pos)?;
                self.add_prop(PropKind::Range, PropExpr::Range(a, b), cond);
            }
            Kw::Modules if config => {
                self.expect_end(t, 1)?;
                let sym = self.menu(self.current_entry).sym.unwrap_or(SYM_NO);
                if let Some(old) = self.modules {
                    return Err(self.error(format!(
                        "symbol '{}' redefines option 'modules' already defined by symbol '{}'",
                        self.k.sym(sym).display_name(),
                        self.k.sym(old).display_name()
                    )));
                }
                self.modules = Some(sym);
            }
            Kw::Optional if choice => {
                self.expect_end(t, 1)?;
                let sym = self.menu(self.current_entry).sym.unwrap_or(SYM_NO);
                self.k.symbols[sym as usize].flags |= F_OPTIONAL;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Ends the options of the current entry (`menuconfig`: its prompt opens a menu).
    fn end_entry(&mut self) {
        if let Entry::Config { menuconfig: true } = self.entry {
            if let Some(p) = self.menu(self.current_entry).prompt {
                self.k.props[p as usize].kind = PropKind::Menu;
            } else {
                let here = format!(
                    "{}:{}: warning: menuconfig statement without prompt",
                    self.current_name().display(),
                    self.line
                );
                self.k.messages.push(here);
            }
        }
        self.entry = Entry::None;
    }

    fn in_choice(&self) -> bool {
        self.blocks.iter().any(|b| b.0 == Block::Choice)
    }

    fn open_block(&mut self, block: Block) {
        // menu_add_menu
        self.slot = Slot::List(self.current_entry);
        self.current_menu = self.current_entry;
        self.blocks
            .push((block, self.current_entry, self.current_file(), self.line));
    }

    fn menu(&self, id: MenuId) -> &Menu {
        &self.k.menus[id as usize]
    }

    fn menu_mut(&mut self, id: MenuId) -> &mut Menu {
        &mut self.k.menus[id as usize]
    }

    fn new_symbol(&mut self, name: Option<String>, flags: u32) -> SymId {
        let id = self.k.symbols.len() as SymId;
        self.k.symbols.push(Symbol::new(name, flags));
        id
    }

    /// `sym_lookup`.
    fn lookup(&mut self, name: &str, flags: u32) -> SymId {
        match name {
            "y" => return SYM_YES,
            "m" => return SYM_MOD,
            "n" => return SYM_NO,
            _ => {}
        }
        let table = match flags {
            0 => &mut self.k.by_name,
            F_CONST => &mut self.consts,
            _ => &mut self.choices,
        };
        if let Some(&id) = table.get(name) {
            return id;
        }
        let id = self.k.symbols.len() as SymId;
        table.insert(name.to_string(), id);
        self.k
            .symbols
            .push(Symbol::new(Some(name.to_string()), flags));
        id
    }

    /// `menu_add_entry`.
    fn add_entry(&mut self, sym: Option<SymId>) {
        let id = self.k.menus.len() as MenuId;
        self.k.menus.push(Menu {
            sym,
            prompt: None,
            dep: None,
            visibility: None,
            parent: Some(self.current_menu),
            list: None,
            next: None,
            file: self.current_file(),
            line: self.line,
        });
        match self.slot {
            Slot::List(m) => self.menu_mut(m).list = Some(id),
            Slot::Next(m) => self.menu_mut(m).next = Some(id),
        }
        self.slot = Slot::Next(id);
        self.current_entry = id;
        if let Some(sym) = sym {
            self.add_prop(PropKind::Symbol, PropExpr::Expr(Expr::Sym(sym)), None);
        }
    }

    /// `menu_add_prop`.
    fn add_prop(&mut self, kind: PropKind, expr: PropExpr, visible: Option<Expr>) -> PropId {
        let id = self.k.props.len() as PropId;
        self.k.props.push(Property {
            kind,
            expr,
            visible,
            text: String::new(),
            file: self.current_file(),
            line: self.line,
            menu: self.current_entry,
        });
        if let Some(sym) = self.menu(self.current_entry).sym {
            self.k.symbols[sym as usize].props.push(id);
        }
        id
    }

    /// `menu_add_prompt`.
    fn add_prompt(&mut self, kind: PropKind, text: String, visible: Option<Expr>) {
        let id = self.add_prop(kind, PropExpr::None, visible);
        let text = text.trim_start().to_string();
        if kind == PropKind::Prompt {
            let mut menu = self.menu(self.current_entry).parent;
            while let Some(m) = menu {
                if let Some(v) = self.menu(m).visibility.clone() {
                    let prop = &mut self.k.props[id as usize];
                    prop.visible = and(prop.visible.take(), Some(v));
                }
                menu = self.menu(m).parent;
            }
        }
        self.k.props[id as usize].text = text;
        self.menu_mut(self.current_entry).prompt = Some(id);
    }

    /// `menu_set_type`.
    fn set_type(&mut self, ty: Type) {
        let Some(sym) = self.menu(self.current_entry).sym else {
            return;
        };
        let s = &mut self.k.symbols[sym as usize];
        if s.ty == Type::Unknown {
            s.ty = ty;
        }
    }

    fn quoted_line(&self, t: &[Tok], pos: usize) -> Res<String> {
        match t.get(pos) {
            Some(Tok::Quote(q)) if t.len() == pos + 1 => Ok(q.clone()),
            _ => Err(self.error("syntax error")),
        }
    }

    fn expect_end(&self, t: &[Tok], pos: usize) -> Res<()> {
        match t.get(pos) {
            None => Ok(()),
            Some(tok) => Err(self.error(format!("syntax error near `{}`", tok.describe()))),
        }
    }

    fn if_expr(&mut self, t: &[Tok], pos: &mut usize) -> Res<Option<Expr>> {
        if t.get(*pos) == Some(&Tok::Kw(Kw::If)) {
            *pos += 1;
            return self.expr(t, pos).map(Some);
        }
        Ok(None)
    }

    fn symbol(&mut self, t: &[Tok], pos: &mut usize) -> Res<SymId> {
        match t.get(*pos) {
            Some(Tok::Word(w)) => {
                *pos += 1;
                Ok(self.lookup(&w.clone(), 0))
            }
            Some(Tok::Quote(q)) => {
                *pos += 1;
                Ok(self.lookup(&q.clone(), F_CONST))
            }
            Some(tok) => Err(self.error(format!("syntax error near `{}`", tok.describe()))),
            None => Err(self.error("syntax error: unexpected end of line")),
        }
    }

    fn expr(&mut self, t: &[Tok], pos: &mut usize) -> Res<Expr> {
        self.depth += 1;
        if self.depth > 200 {
            self.depth = 0;
            return Err(self.error("expression nested too deeply"));
        }
        let mut left = self.and_expr(t, pos)?;
        while t.get(*pos) == Some(&Tok::Op(Op::Or)) {
            *pos += 1;
            let right = self.and_expr(t, pos)?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and_expr(&mut self, t: &[Tok], pos: &mut usize) -> Res<Expr> {
        let mut left = self.unary(t, pos)?;
        while t.get(*pos) == Some(&Tok::Op(Op::And)) {
            *pos += 1;
            let right = self.unary(t, pos)?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self, t: &[Tok], pos: &mut usize) -> Res<Expr> {
        match t.get(*pos) {
            Some(Tok::Op(Op::Not)) => {
                *pos += 1;
                self.depth += 1;
                if self.depth > 200 {
                    self.depth = 0;
                    return Err(self.error("expression nested too deeply"));
                }
                let e = self.unary(t, pos)?;
                self.depth -= 1;
                Ok(Expr::Not(Box::new(e)))
            }
            Some(Tok::Op(Op::Open)) => {
                *pos += 1;
                let e = self.expr(t, pos)?;
                if t.get(*pos) != Some(&Tok::Op(Op::Close)) {
                    return Err(self.error("syntax error: missing `)`"));
                }
                *pos += 1;
                Ok(e)
            }
            _ => {
                let a = self.symbol(t, pos)?;
                let op = match t.get(*pos) {
                    Some(Tok::Op(Op::Equal)) => Cmp::Equal,
                    Some(Tok::Op(Op::Unequal)) => Cmp::Unequal,
                    Some(Tok::Op(Op::Less)) => Cmp::Less,
                    Some(Tok::Op(Op::LessEqual)) => Cmp::LessEqual,
                    Some(Tok::Op(Op::Greater)) => Cmp::Greater,
                    Some(Tok::Op(Op::GreaterEqual)) => Cmp::GreaterEqual,
                    _ => return Ok(Expr::Sym(a)),
                };
                *pos += 1;
                let b = self.symbol(t, pos)?;
                Ok(Expr::Cmp(op, a, b))
            }
        }
    }
}
