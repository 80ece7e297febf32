//! Reading and writing `.config` files as `scripts/kconfig/confdata.c` does
//! (`conf_read`, `conf_write`), and the two `conf` modes built on them: `olddefconfig`
//! and `defconfig`.

use std::rc::Rc;

use super::eval::*;
use super::model::*;

/// A `.config` read into a tree and evaluated: what `conf` holds between reading its
/// input and writing its output.
pub struct Evaluation<'k> {
    pub(crate) state: State<'k>,
    changed: bool,
    /// For each symbol, the 1-based input line of the assignment that set its user value.
    pub(crate) user_line: Vec<Option<u32>>,
    /// The text read, for `why` to evaluate proposals against.
    pub(crate) input: String,
    /// What `conf` would print while reading: unexpected lines, overrides, invalid values.
    pub warnings: Vec<String>,
}

impl<'k> Evaluation<'k> {
    /// `conf_read`: reads `text` (a `.config`, defconfig or fragment) as the user's values
    /// and calculates every symbol.
    pub fn read(kconfig: &'k Kconfig, text: &str) -> Evaluation<'k> {
        let mut e = Evaluation {
            state: State::new(kconfig),
            changed: false,
            user_line: vec![None; kconfig.symbols.len()],
            input: text.to_string(),
            warnings: Vec::new(),
        };
        e.read_simple(text);
        e.settle();
        e
    }

    /// `conf --olddefconfig`: `text` as `.config`, the written `.config` returned.
    pub fn olddefconfig(kconfig: &Kconfig, text: &str) -> String {
        Evaluation::read(kconfig, text).write()
    }

    /// `conf --defconfig=FILE`: the defconfig `text` expanded to a full `.config`.
    pub fn defconfig(kconfig: &Kconfig, text: &str) -> String {
        Evaluation::defconfig_expanded(kconfig, text).write()
    }

    /// `conf --defconfig=FILE` up to the write: the defconfig `text` read and every
    /// symbol it does not set given its default, for [`Evaluation::blame_over`].
    pub fn defconfig_expanded(kconfig: &'k Kconfig, text: &str) -> Evaluation<'k> {
        let mut e = Evaluation::read(kconfig, text);
        e.set_new_symbols_to_defaults();
        e
    }

    fn read_simple(&mut self, text: &str) {
        let k = self.state.k;
        let prefix = k.prefix.clone();
        for s in 3..k.symbols.len() {
            let flags = &mut self.state.flags[s];
            *flags &= !(DEF_USER | VALID);
            if k.symbols[s].is_choice() {
                *flags |= DEF_USER;
            }
            self.state.user[s] = UserValue {
                val: None,
                tri: NO,
                member: None,
            };
        }
        let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
        if lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        for (n, raw) in lines.iter().enumerate() {
            let lineno = n as u32 + 1;
            let (name, val) = if let Some(rest) = raw.strip_prefix('#') {
                let Some(rest) = rest.strip_prefix(' ') else {
                    continue;
                };
                let Some(rest) = rest.strip_prefix(prefix.as_str()) else {
                    continue;
                };
                let Some((name, after)) = rest.split_once(' ') else {
                    continue;
                };
                if !after.starts_with("is not set") {
                    continue;
                }
                (name, "n".to_string())
            } else if let Some(rest) = raw.strip_prefix(prefix.as_str()) {
                let Some((name, value)) = rest.split_once('=') else {
                    continue;
                };
                let mut value = value;
                if let Some(v) = value.strip_suffix('\n') {
                    value = v.strip_suffix('\r').unwrap_or(v);
                }
                (name, value.to_string())
            } else {
                if !raw.starts_with(['\r', '\n']) {
                    self.warnings.push(format!(
                        "{lineno}: unexpected data: {}",
                        raw.trim_end_matches(['\r', '\n'])
                    ));
                }
                continue;
            };
            let Some(sym) = k.by_name.get(name).copied() else {
                self.changed = true;
                continue;
            };
            if self.state.has_value(sym) {
                self.warnings
                    .push(format!("{lineno}: override: reassigning to symbol {name}"));
            }
            if !self.set_sym_val(sym, &val, lineno) {
                continue;
            }
            if let (true, Some(c)) = (k.sym(sym).is_choice_value(), k.sym(sym).choice) {
                let tri = self.state.user[sym as usize].tri;
                match tri {
                    MOD if self.state.user[c as usize].tri == YES => {
                        self.warnings.push(format!(
                            "{lineno}: {name} creates inconsistent choice state"
                        ));
                        self.state.flags[c as usize] &= !DEF_USER;
                    }
                    YES => {
                        if self.state.user[c as usize].tri != NO {
                            self.warnings
                                .push(format!("{lineno}: override: {name} changes choice state"));
                        }
                        self.state.user[c as usize].member = Some(sym);
                    }
                    _ => {}
                }
                let u = &mut self.state.user[c as usize];
                u.tri = u.tri.max(tri);
            }
        }
    }

    /// `conf_set_sym_val`; `false` when the value was refused.
    fn set_sym_val(&mut self, sym: SymId, val: &str, lineno: u32) -> bool {
        let k = self.state.k;
        let ty = k.sym(sym).ty;
        let i = sym as usize;
        let first = val.as_bytes().first().copied();
        let invalid = |w: &mut Vec<String>| {
            w.push(format!(
                "{lineno}: symbol value '{val}' invalid for {}",
                k.sym(sym).display_name()
            ))
        };
        match ty {
            Type::Bool | Type::Tristate => {
                let tri = match first {
                    Some(b'm') if ty == Type::Tristate => MOD,
                    Some(b'y') => YES,
                    Some(b'n') => NO,
                    _ => {
                        invalid(&mut self.warnings);
                        return false;
                    }
                };
                self.state.user[i].tri = tri;
                self.state.flags[i] |= DEF_USER;
            }
            Type::String | Type::Int | Type::Hex => {
                let mut text = val.to_string();
                if ty == Type::String {
                    let Some(rest) = val.strip_prefix('"') else {
                        return true;
                    };
                    let mut out = String::new();
                    let mut chars = rest.chars();
                    let mut closed = false;
                    while let Some(c) = chars.next() {
                        match c {
                            '"' => {
                                closed = true;
                                break;
                            }
                            '\\' => {
                                if let Some(n) = chars.next() {
                                    out.push(n);
                                } else {
                                    break;
                                }
                            }
                            c => out.push(c),
                        }
                    }
                    if !closed {
                        self.warnings
                            .push(format!("{lineno}: invalid string found"));
                        return false;
                    }
                    text = out;
                }
                if string_valid(ty, &text) {
                    self.state.user[i].val = Some(Rc::from(text.as_str()));
                    self.state.flags[i] |= DEF_USER;
                } else {
                    invalid(&mut self.warnings);
                    return false;
                }
            }
            Type::Unknown => {}
        }
        self.user_line[i] = Some(lineno);
        true
    }

    /// The rest of `conf_read`: every symbol calculated, user values that cannot hold
    /// dropped, and whether the configuration changed.
    fn settle(&mut self) {
        let k = self.state.k;
        let st = &mut self.state;
        st.calc(k.modules);
        let mut unsaved = 0;
        for s in 3..k.symbols.len() as SymId {
            st.calc(s);
            let sym = k.sym(s);
            if sym.is_choice() || sym.flags & F_NO_WRITE != 0 {
                continue;
            }
            let i = s as usize;
            let write = st.flags[i] & WRITE != 0;
            if st.has_value(s) && write {
                let same = match sym.ty {
                    Type::Bool | Type::Tristate => st.user[i].tri == st.curr_tri[i],
                    _ => match (&st.curr_val[i], &st.user[i].val) {
                        (Val::Str(a), Some(b)) => a == b,
                        _ => false,
                    },
                };
                if same {
                    continue;
                }
            } else if !st.has_value(s) && !write {
                continue;
            }
            unsaved += 1;
        }
        for s in 3..k.symbols.len() as SymId {
            let sym = k.sym(s);
            let i = s as usize;
            if !st.has_value(s) || sym.is_choice_value() {
                continue;
            }
            if st.visible[i] == NO && unsaved == 0 {
                st.flags[i] &= !DEF_USER;
            }
            if matches!(sym.ty, Type::String | Type::Int | Type::Hex) {
                let text = st.user[i].val.clone().unwrap_or_else(|| Rc::from(""));
                if !st.string_within_range(s, &text) {
                    st.flags[i] &= !(VALID | DEF_USER);
                    unsaved += 1;
                }
            }
        }
        if !self.warnings.is_empty() || unsaved > 0 {
            self.changed = true;
        }
    }

    /// `conf_set_all_new_symbols(def_default)`.
    fn set_new_symbols_to_defaults(&mut self) {
        let k = self.state.k;
        let st = &mut self.state;
        st.clear_all_valid();
        self.changed = true;
        for s in 3..k.symbols.len() as SymId {
            let sym = k.sym(s);
            if (sym.is_choice() && !st.has_value(s)) || sym.is_choice_value() {
                st.flags[s as usize] |= NEED_SET_CHOICE_VALUES;
            }
        }
        for s in 3..k.symbols.len() as SymId {
            if st.has_value(s) || !k.sym(s).is_choice() {
                continue;
            }
            st.calc(s);
            st.set_all_choice_values(s);
        }
    }

    /// `conf_write`: the `.config` text, header and menu comments included.
    pub fn write(&mut self) -> String {
        let k = self.state.k;
        let st = &mut self.state;
        let root_prompt = k
            .menu(ROOT_MENU)
            .prompt
            .map_or("Main menu", |p| k.prop(p).text.as_str());
        let mut out =
            format!("#\n# Automatically generated file; DO NOT EDIT.\n# {root_prompt}\n#\n");
        if !self.changed {
            st.clear_all_valid();
            self.changed = true;
        }
        let mut need_newline = false;
        let mut menu = k.menu(ROOT_MENU).list;
        while let Some(m) = menu {
            let node = k.menu(m);
            match node.sym {
                None => {
                    if st.menu_is_visible(m) {
                        let prompt = node.prompt.map_or("", |p| k.prop(p).text.as_str());
                        out.push_str(&format!("\n#\n# {prompt}\n#\n"));
                        need_newline = false;
                    }
                }
                Some(s) => {
                    let i = s as usize;
                    if !k.sym(s).is_choice() && st.flags[i] & WRITTEN == 0 {
                        st.calc(s);
                        if st.flags[i] & WRITE != 0 {
                            if need_newline {
                                out.push('\n');
                                need_newline = false;
                            }
                            st.flags[i] |= WRITTEN;
                            print_symbol(st, s, &mut out);
                        }
                    }
                }
            }
            if let Some(child) = node.list {
                menu = Some(child);
                continue;
            }
            let mut cur = m;
            loop {
                let c = k.menu(cur);
                if c.sym.is_none()
                    && st.menu_is_visible(cur)
                    && cur != ROOT_MENU
                    && c.prompt.is_some_and(|p| k.prop(p).kind == PropKind::Menu)
                {
                    let prompt = c.prompt.map_or("", |p| k.prop(p).text.as_str());
                    out.push_str(&format!("# end of {prompt}\n"));
                    need_newline = true;
                }
                if let Some(n) = c.next {
                    menu = Some(n);
                    break;
                }
                match c.parent {
                    Some(p) => cur = p,
                    None => {
                        menu = None;
                        break;
                    }
                }
            }
        }
        for f in &mut st.flags {
            *f &= !WRITTEN;
        }
        out
    }
}

/// `print_symbol_for_dotconfig`.
fn print_symbol(st: &mut State, s: SymId, out: &mut String) {
    let k = st.k;
    let sym = k.sym(s);
    if sym.ty == Type::Unknown {
        return;
    }
    let name = sym.name.as_deref().unwrap_or("");
    let val = st.string_value(s);
    if matches!(sym.ty, Type::Bool | Type::Tristate) && val.starts_with('n') {
        out.push_str(&format!("# {}{name} is not set\n", k.prefix));
        return;
    }
    if sym.ty == Type::String {
        out.push_str(&format!("{}{name}={}\n", k.prefix, crate::quote(&val)));
    } else {
        out.push_str(&format!("{}{name}={val}\n", k.prefix));
    }
}
