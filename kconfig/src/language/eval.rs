//! Symbol values (`scripts/kconfig/symbol.c`): `sym_calc_value` and what it leans on,
//! kept close to the C so that every flag (`SYMBOL_WRITE`, `SYMBOL_DEF_USER`, ...) moves
//! as it does there; the written `.config` depends on them.

use std::rc::Rc;

use super::expr::{Cmp, Expr};
use super::model::*;

pub(crate) const VALID: u32 = 0x0080;
pub(crate) const WRITE: u32 = 0x0200;
pub(crate) const WRITTEN: u32 = 0x0800;
pub(crate) const DEF_USER: u32 = 0x10000;
pub(crate) const NEED_SET_CHOICE_VALUES: u32 = 0x100000;

/// A tristate as the C code holds it: 0 (`n`), 1 (`m`), 2 (`y`).
pub(crate) type Tri = u8;
pub(crate) const NO: Tri = 0;
pub(crate) const MOD: Tri = 1;
pub(crate) const YES: Tri = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Val {
    Str(Rc<str>),
    /// A choice's value: its selected member.
    Member(Option<SymId>),
}

/// What decided a symbol's value in its last calculation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    /// Not calculated, or nothing set it (no default applied).
    Nothing,
    /// The value read from the `.config`.
    User,
    /// A `default` property.
    Default(PropId),
    /// A `select` (the reverse dependency) raised it.
    Selected,
    /// An `imply` raised it.
    Implied,
    /// A choice value: its choice's selection.
    ChoiceMember,
    /// A choice: the user's member.
    ChoiceUser,
    /// A choice: a `default` of the choice, or its first visible member.
    ChoiceDefault(Option<PropId>),
    /// A `range` moved the value into bounds.
    Range(PropId),
}

#[derive(Debug, Clone)]
pub(crate) struct UserValue {
    pub val: Option<Rc<str>>,
    pub tri: Tri,
    pub member: Option<SymId>,
}

/// The evaluator's state over one tree.
pub(crate) struct State<'k> {
    pub k: &'k Kconfig,
    pub flags: Vec<u32>,
    pub curr_val: Vec<Val>,
    pub curr_tri: Vec<Tri>,
    pub user: Vec<UserValue>,
    pub visible: Vec<Tri>,
    pub dir_tri: Vec<Tri>,
    pub rev_tri: Vec<Tri>,
    pub implied_tri: Vec<Tri>,
    pub prop_tri: Vec<Tri>,
    pub modules_val: Tri,
    pub reason: Vec<Reason>,
    /// `sym_warn_unmet_dep` warnings.
    pub warnings: Vec<String>,
}

impl<'k> State<'k> {
    pub(crate) fn new(k: &'k Kconfig) -> State<'k> {
        let n = k.symbols.len();
        let mut s = State {
            k,
            flags: vec![0; n],
            curr_val: vec![Val::Str(Rc::from("")); n],
            curr_tri: vec![NO; n],
            user: vec![
                UserValue {
                    val: None,
                    tri: NO,
                    member: None
                };
                n
            ],
            visible: vec![NO; n],
            dir_tri: vec![NO; n],
            rev_tri: vec![NO; n],
            implied_tri: vec![NO; n],
            prop_tri: vec![NO; k.props.len()],
            modules_val: NO,
            reason: vec![Reason::Nothing; n],
            warnings: Vec::new(),
        };
        for (id, name, tri) in [(SYM_YES, "y", YES), (SYM_MOD, "m", MOD), (SYM_NO, "n", NO)] {
            s.flags[id as usize] = VALID;
            s.curr_val[id as usize] = Val::Str(Rc::from(name));
            s.curr_tri[id as usize] = tri;
        }
        s
    }

    pub(crate) fn has_value(&self, s: SymId) -> bool {
        self.flags[s as usize] & DEF_USER != 0
    }

    /// `sym_get_type`.
    pub(crate) fn get_type(&self, s: SymId) -> Type {
        let sym = self.k.sym(s);
        if sym.ty == Type::Tristate
            && ((sym.is_choice_value() && self.visible[s as usize] == YES)
                || self.modules_val == NO)
        {
            return Type::Bool;
        }
        sym.ty
    }

    /// `sym_get_string_value`.
    pub(crate) fn string_value(&mut self, s: SymId) -> Rc<str> {
        match self.k.sym(s).ty {
            Type::Bool | Type::Tristate => {
                let text = match self.curr_tri[s as usize] {
                    NO => "n",
                    MOD => "m",
                    _ => "y",
                };
                Rc::from(text)
            }
            _ => match &self.curr_val[s as usize] {
                Val::Str(v) => v.clone(),
                Val::Member(_) => Rc::from(""),
            },
        }
    }

    /// `expr_calc_value`.
    pub(crate) fn eval(&mut self, e: Option<&Expr>) -> Tri {
        let Some(e) = e else {
            return YES;
        };
        match e {
            Expr::Sym(s) => {
                self.calc(*s);
                self.curr_tri[*s as usize]
            }
            Expr::And(a, b) => {
                let a = self.eval(Some(a));
                let b = self.eval(Some(b));
                a.min(b)
            }
            Expr::Or(a, b) => {
                let a = self.eval(Some(a));
                let b = self.eval(Some(b));
                a.max(b)
            }
            Expr::Not(a) => 2 - self.eval(Some(a)),
            Expr::Cmp(op, a, b) => {
                self.calc(*a);
                self.calc(*b);
                let s1 = self.string_value(*a);
                let s2 = self.string_value(*b);
                let (t1, t2) = (self.k.sym(*a).ty, self.k.sym(*b).ty);
                let ordering = if t1 != Type::String || t2 != Type::String {
                    match (parse_number(&s1, t1), parse_number(&s2, t2)) {
                        (Some(x), Some(y)) => {
                            if x.1 || y.1 {
                                (x.0 as u64).cmp(&(y.0 as u64))
                            } else {
                                x.0.cmp(&y.0)
                            }
                        }
                        _ => s1.as_bytes().cmp(s2.as_bytes()),
                    }
                } else {
                    s1.as_bytes().cmp(s2.as_bytes())
                };
                let holds = match op {
                    Cmp::Equal => ordering.is_eq(),
                    Cmp::Unequal => ordering.is_ne(),
                    Cmp::Less => ordering.is_lt(),
                    Cmp::LessEqual => ordering.is_le(),
                    Cmp::Greater => ordering.is_gt(),
                    Cmp::GreaterEqual => ordering.is_ge(),
                };
                if holds {
                    YES
                } else {
                    NO
                }
            }
        }
    }

    fn promote(&self, s: SymId, tri: Tri) -> Tri {
        if tri == MOD && self.get_type(s) == Type::Bool {
            YES
        } else {
            tri
        }
    }

    /// `sym_calc_visibility`.
    pub(crate) fn calc_visibility(&mut self, s: SymId) {
        let k = self.k;
        let sym = k.sym(s);
        let choice = if sym.is_choice_value() {
            sym.choice
        } else {
            None
        };
        let mut tri = NO;
        for &p in &sym.props {
            let prop = k.prop(p);
            if !matches!(
                prop.kind,
                PropKind::Prompt | PropKind::Menu | PropKind::Comment
            ) {
                continue;
            }
            let mut v = self.eval(prop.visible.as_ref());
            if let Some(c) = choice {
                if sym.ty == Type::Tristate && v == MOD && self.curr_tri[c as usize] == YES {
                    v = NO;
                }
            }
            self.prop_tri[p as usize] = v;
            tri = tri.max(v);
        }
        if tri == MOD && (sym.ty != Type::Tristate || self.modules_val == NO) {
            tri = YES;
        }
        self.visible[s as usize] = tri;
        if sym.is_choice_value() {
            return;
        }
        let dir = match &sym.dir_dep {
            Some(e) => self.eval(Some(e)),
            None => YES,
        };
        self.dir_tri[s as usize] = self.promote(s, dir);
        let rev = match &sym.rev_dep {
            Some(e) => self.eval(Some(e)),
            None => NO,
        };
        self.rev_tri[s as usize] = self.promote(s, rev);
        let implied = match &sym.implied {
            Some(e) => self.eval(Some(e)),
            None => NO,
        };
        self.implied_tri[s as usize] = self.promote(s, implied);
    }

    /// `sym_get_default_prop`.
    pub(crate) fn default_prop(&mut self, s: SymId) -> Option<PropId> {
        let k = self.k;
        for &p in &k.sym(s).props {
            let prop = k.prop(p);
            if prop.kind != PropKind::Default {
                continue;
            }
            let v = self.eval(prop.visible.as_ref());
            self.prop_tri[p as usize] = v;
            if v != NO {
                return Some(p);
            }
        }
        None
    }

    /// `sym_get_range_prop`.
    pub(crate) fn range_prop(&mut self, s: SymId) -> Option<PropId> {
        let k = self.k;
        for &p in &k.sym(s).props {
            let prop = k.prop(p);
            if prop.kind != PropKind::Range {
                continue;
            }
            let v = self.eval(prop.visible.as_ref());
            self.prop_tri[p as usize] = v;
            if v != NO {
                return Some(p);
            }
        }
        None
    }

    fn range_val(&mut self, s: SymId, base: u32) -> i64 {
        self.calc(s);
        let base = match self.k.sym(s).ty {
            Type::Int => 10,
            Type::Hex => 16,
            _ => base,
        };
        let v = self.string_value_raw(s);
        strtoll(&v, base)
    }

    fn string_value_raw(&self, s: SymId) -> Rc<str> {
        match &self.curr_val[s as usize] {
            Val::Str(v) => v.clone(),
            Val::Member(_) => Rc::from(""),
        }
    }

    /// `sym_validate_range`.
    fn validate_range(&mut self, s: SymId) {
        let base = match self.k.sym(s).ty {
            Type::Int => 10,
            Type::Hex => 16,
            _ => return,
        };
        let Some(p) = self.range_prop(s) else {
            return;
        };
        let PropExpr::Range(lo, hi) = self.k.prop(p).expr else {
            return;
        };
        let val = strtoll(&self.string_value_raw(s), base);
        let mut bound = lo;
        if val >= self.range_val(lo, base) {
            bound = hi;
            if val <= self.range_val(hi, base) {
                return;
            }
        }
        self.curr_val[s as usize] = self.curr_val[bound as usize].clone();
        self.reason[s as usize] = Reason::Range(p);
    }

    /// `sym_string_within_range`.
    pub(crate) fn string_within_range(&mut self, s: SymId, text: &str) -> bool {
        let ty = self.k.sym(s).ty;
        match ty {
            Type::String => true,
            Type::Int | Type::Hex => {
                if !string_valid(ty, text) {
                    return false;
                }
                let Some(p) = self.range_prop(s) else {
                    return true;
                };
                let PropExpr::Range(lo, hi) = self.k.prop(p).expr else {
                    return true;
                };
                let base = if ty == Type::Int { 10 } else { 16 };
                let val = strtoll(text, base);
                val >= self.range_val(lo, base) && val <= self.range_val(hi, base)
            }
            _ => false,
        }
    }

    /// `sym_calc_value`.
    pub(crate) fn calc(&mut self, s: SymId) {
        let i = s as usize;
        if self.flags[i] & VALID != 0 {
            return;
        }
        let k = self.k;
        let sym = k.sym(s);
        if sym.is_choice_value() && self.flags[i] & NEED_SET_CHOICE_VALUES != 0 {
            self.flags[i] &= !NEED_SET_CHOICE_VALUES;
            if let Some(c) = sym.choice {
                self.calc(c);
            }
        }
        self.flags[i] |= VALID;
        let (mut new_val, mut new_tri) = match sym.ty {
            Type::Int | Type::Hex | Type::String => (Val::Str(Rc::from("")), NO),
            Type::Bool | Type::Tristate => (Val::Str(Rc::from("n")), NO),
            Type::Unknown => {
                self.curr_val[i] = Val::Str(Rc::from(sym.name.as_deref().unwrap_or("")));
                self.curr_tri[i] = NO;
                return;
            }
        };
        let mut reason = Reason::Nothing;
        self.flags[i] &= !WRITE;
        self.calc_visibility(s);
        if self.visible[i] != NO {
            self.flags[i] |= WRITE;
        }
        self.curr_val[i] = new_val.clone();
        self.curr_tri[i] = new_tri;
        match self.get_type(s) {
            Type::Bool | Type::Tristate => {
                if sym.is_choice_value() && self.visible[i] == YES {
                    let c = sym.choice.unwrap_or(SYM_NO);
                    new_tri = if self.curr_val[c as usize] == Val::Member(Some(s)) {
                        YES
                    } else {
                        NO
                    };
                    reason = Reason::ChoiceMember;
                } else {
                    if self.visible[i] != NO && self.has_value(s) {
                        new_tri = self.user[i].tri.min(self.visible[i]);
                        reason = Reason::User;
                    } else {
                        if self.rev_tri[i] != NO {
                            self.flags[i] |= WRITE;
                        }
                        if !sym.is_choice() {
                            if let Some(p) = self.default_prop(s) {
                                let value = match &k.prop(p).expr {
                                    PropExpr::Expr(e) => self.eval(Some(e)),
                                    _ => YES,
                                };
                                new_tri = value.min(self.prop_tri[p as usize]);
                                if new_tri != NO {
                                    self.flags[i] |= WRITE;
                                }
                                reason = Reason::Default(p);
                            }
                            if self.implied_tri[i] != NO {
                                self.flags[i] |= WRITE;
                                let before = new_tri;
                                new_tri = new_tri.max(self.implied_tri[i]).min(self.dir_tri[i]);
                                if new_tri > before {
                                    reason = Reason::Implied;
                                }
                            }
                        }
                    }
                    if self.dir_tri[i] < self.rev_tri[i] {
                        self.warn_unmet(s);
                    }
                    if self.rev_tri[i] > new_tri {
                        new_tri = self.rev_tri[i];
                        reason = Reason::Selected;
                    }
                }
                if new_tri == MOD && self.get_type(s) == Type::Bool {
                    new_tri = YES;
                }
            }
            Type::String | Type::Hex | Type::Int => {
                if self.visible[i] != NO && self.has_value(s) {
                    new_val = Val::Str(self.user[i].val.clone().unwrap_or_else(|| Rc::from("")));
                    reason = Reason::User;
                } else if let Some(p) = self.default_prop(s) {
                    if let Some(ds) = k.prop(p).symbol() {
                        self.flags[i] |= WRITE;
                        self.calc(ds);
                        new_val = self.curr_val[ds as usize].clone();
                        reason = Reason::Default(p);
                    }
                }
            }
            Type::Unknown => {}
        }
        self.curr_val[i] = new_val;
        self.curr_tri[i] = new_tri;
        self.reason[i] = reason;
        if sym.is_choice() && new_tri == YES {
            let member = self.calc_choice(s);
            self.curr_val[i] = Val::Member(member);
        }
        self.validate_range(s);
        if s == k.modules {
            self.modules_val = self.curr_tri[i];
        }
        if sym.is_choice() {
            for &m in &sym.members {
                if self.flags[i] & WRITE != 0 && self.visible[m as usize] != NO {
                    self.flags[m as usize] |= WRITE;
                }
            }
        }
        if sym.flags & F_NO_WRITE != 0 {
            self.flags[i] &= !WRITE;
        }
        if self.flags[i] & NEED_SET_CHOICE_VALUES != 0 {
            self.set_all_choice_values(s);
        }
    }

    /// `sym_choice_default`.
    pub(crate) fn choice_default(&mut self, c: SymId) -> (Option<SymId>, Option<PropId>) {
        let k = self.k;
        for &p in &k.sym(c).props {
            let prop = k.prop(p);
            if prop.kind != PropKind::Default {
                continue;
            }
            let v = self.eval(prop.visible.as_ref());
            self.prop_tri[p as usize] = v;
            if v == NO {
                continue;
            }
            if let Some(d) = prop.symbol() {
                if self.visible[d as usize] != NO {
                    return (Some(d), Some(p));
                }
            }
        }
        for &m in &k.sym(c).members {
            if self.visible[m as usize] != NO {
                return (Some(m), None);
            }
        }
        (None, None)
    }

    /// `sym_calc_choice`.
    fn calc_choice(&mut self, c: SymId) -> Option<SymId> {
        let k = self.k;
        let mut flags = self.flags[c as usize];
        for &m in &k.sym(c).members {
            self.calc_visibility(m);
            if self.visible[m as usize] != NO {
                flags &= self.flags[m as usize];
            }
        }
        self.flags[c as usize] &= flags | !DEF_USER;
        if let Some(m) = self.user[c as usize].member {
            if self.visible[m as usize] != NO {
                self.reason[c as usize] = Reason::ChoiceUser;
                return Some(m);
            }
        }
        let (d, p) = self.choice_default(c);
        self.reason[c as usize] = Reason::ChoiceDefault(p);
        if d.is_none() {
            self.curr_tri[c as usize] = NO;
        }
        d
    }

    /// `set_all_choice_values`.
    pub(crate) fn set_all_choice_values(&mut self, c: SymId) {
        for &m in &self.k.sym(c).members {
            if !self.has_value(m) {
                self.user[m as usize].tri = NO;
            }
        }
        self.flags[c as usize] |= DEF_USER;
        self.flags[c as usize] &= !(VALID | NEED_SET_CHOICE_VALUES);
    }

    /// `sym_clear_all_valid`.
    pub(crate) fn clear_all_valid(&mut self) {
        for f in &mut self.flags[3..] {
            *f &= !VALID;
        }
        self.calc(self.k.modules);
    }

    fn warn_unmet(&mut self, s: SymId) {
        let k = self.k;
        let sym = k.sym(s);
        let dep = sym
            .dir_dep
            .as_ref()
            .map_or_else(|| "y".to_string(), |e| k.render(e));
        self.warnings.push(format!(
            "WARNING: unmet direct dependencies detected for {}\n  Depends on [{}]: {dep}",
            sym.display_name(),
            if self.dir_tri[s as usize] == MOD {
                'm'
            } else {
                'n'
            }
        ));
    }

    /// `menu_is_visible`.
    pub(crate) fn menu_is_visible(&mut self, m: MenuId) -> bool {
        let k = self.k;
        let menu = k.menu(m);
        let Some(prompt) = menu.prompt else {
            return false;
        };
        if let Some(v) = &menu.visibility {
            if self.eval(Some(v)) == NO {
                return false;
            }
        }
        let visible = match menu.sym {
            Some(s) => {
                self.calc(s);
                self.prop_tri[prompt as usize]
            }
            None => {
                let v = self.eval(k.prop(prompt).visible.as_ref());
                self.prop_tri[prompt as usize] = v;
                v
            }
        };
        if visible != NO {
            return true;
        }
        let Some(s) = menu.sym else {
            return false;
        };
        if self.curr_tri[s as usize] == NO {
            return false;
        }
        let mut child = menu.list;
        while let Some(c) = child {
            if self.menu_is_visible(c) {
                self.flags[s as usize] |= DEF_USER;
                return true;
            }
            child = k.menu(c).next;
        }
        false
    }
}

/// `sym_string_valid` for int and hex.
pub(crate) fn string_valid(ty: Type, text: &str) -> bool {
    let b = text.as_bytes();
    match ty {
        Type::String => true,
        Type::Int => {
            let digits = b.strip_prefix(b"-").unwrap_or(b);
            match digits {
                [] => false,
                [b'0', _, ..] => false,
                d => d.iter().all(u8::is_ascii_digit),
            }
        }
        Type::Hex => {
            let d = b
                .strip_prefix(b"0x")
                .or_else(|| b.strip_prefix(b"0X"))
                .unwrap_or(b);
            !d.is_empty() && d.iter().all(u8::is_ascii_hexdigit)
        }
        Type::Bool | Type::Tristate => {
            matches!(b.first(), Some(b'y' | b'Y' | b'm' | b'M' | b'n' | b'N'))
        }
        Type::Unknown => false,
    }
}

/// C's `strtoll`/`strtoull` prefix parse: value, bytes used (0 when nothing was
/// converted), overflow.
fn c_parse(text: &str, base: u32, unsigned: bool) -> (i128, usize, bool) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() && (b[i] == b' ' || (9..=13).contains(&b[i])) {
        i += 1;
    }
    let mut negative = false;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        negative = b[i] == b'-';
        i += 1;
    }
    let mut base = base;
    let hex_prefix = i + 1 < b.len()
        && b[i] == b'0'
        && (b[i + 1] | 0x20) == b'x'
        && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
    if (base == 16 || base == 0) && hex_prefix {
        i += 2;
        base = 16;
    } else if base == 0 {
        base = if b.get(i) == Some(&b'0') { 8 } else { 10 };
    }
    let start = i;
    let mut value: i128 = 0;
    let mut overflow = false;
    while i < b.len() {
        let Some(d) = (b[i] as char).to_digit(base) else {
            break;
        };
        value = value * base as i128 + d as i128;
        if value > u64::MAX as i128 {
            overflow = true;
            value = u64::MAX as i128;
        }
        i += 1;
    }
    if i == start {
        // "0x" with no hex digit after it still converts the 0.
        return (0, 0, false);
    }
    if unsigned {
        if overflow {
            return (u64::MAX as i128, i, true);
        }
        let v = if negative {
            (value as u64).wrapping_neg() as i128
        } else {
            value
        };
        (v, i, false)
    } else {
        let v = if negative { -value } else { value };
        if v > i64::MAX as i128 {
            (i64::MAX as i128, i, true)
        } else if v < i64::MIN as i128 {
            (i64::MIN as i128, i, true)
        } else {
            (v, i, overflow)
        }
    }
}

/// `strtoll(text, NULL, base)`.
pub(crate) fn strtoll(text: &str, base: u32) -> i64 {
    c_parse(text, base, false).0 as i64
}

/// `expr_parse_string`: the number a comparison operand stands for, and whether it is
/// unsigned (hex); `None` when it is compared as a string.
fn parse_number(text: &str, ty: Type) -> Option<(i64, bool)> {
    match ty {
        Type::Bool | Type::Tristate => {
            return Some((
                match text {
                    "n" => 0,
                    "m" => 1,
                    "y" => 2,
                    _ => -1,
                },
                false,
            ))
        }
        _ => {}
    }
    let (base, unsigned) = match ty {
        Type::Int => (10, false),
        Type::Hex => (16, true),
        _ => (0, false),
    };
    let (value, used, overflow) = c_parse(text, base, unsigned);
    let ok = !overflow
        && used == text.len()
        && used > 0
        && text.as_bytes()[used - 1].is_ascii_hexdigit();
    ok.then_some((value as i64, unsigned))
}

#[cfg(test)]
mod tests {
    use super::{c_parse, parse_number, strtoll, Type};

    #[test]
    fn numbers_parse_as_c_does() {
        assert_eq!(strtoll("0x10", 16), 16);
        assert_eq!(strtoll("10", 16), 16);
        assert_eq!(strtoll("", 10), 0);
        assert_eq!(strtoll("-5", 10), -5);
        assert_eq!(c_parse("017", 0, false).0, 15);
        assert_eq!(parse_number("0x", Type::String), None);
        assert_eq!(parse_number("abc", Type::String), None);
        assert_eq!(parse_number("12", Type::Unknown), Some((12, false)));
        assert_eq!(parse_number("ff", Type::Hex), Some((255, true)));
    }
}
