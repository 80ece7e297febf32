//! `why`: a symbol's value and where it came from; when a requested value cannot hold,
//! the chain of unmet conditions down to symbols a user can set, and a minimal set of
//! assignments that makes it hold, checked by evaluating it.

use std::collections::HashSet;
use std::fmt;

use super::blame::{reverse_props, Origin, Sources};
use super::dotconfig::Evaluation;
use super::eval::{Val, MOD, NO, YES};
use super::expr::{Cmp, Expr};
use super::model::*;
use crate::merge::Fragment;

/// One `.config` assignment `why` proposes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Assignment {
    /// The symbol, without prefix.
    pub symbol: String,
    /// The value as a `.config` writes it after `=` (`y`, `m`, `"text"`, `100`); `n` for off.
    pub value: String,
}

impl Assignment {
    /// The line to put in a fragment.
    pub fn line(&self, prefix: &str) -> String {
        if self.value == "n" {
            format!("# {prefix}{} is not set", self.symbol)
        } else {
            format!("{prefix}{}={}", self.symbol, self.value)
        }
    }
}

/// The answer of [`Evaluation::why`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Why {
    /// The symbol with its prefix.
    pub symbol: String,
    /// Its value as written (`y`, `n`, `"text"`), `n` when it is not written.
    pub value: String,
    /// Where the value came from.
    pub origin: Origin,
    /// The value asked about (given, or the input's own assignment), if any.
    pub requested: Option<String>,
    /// Whether the requested value holds.
    pub holds: bool,
    /// The unmet conditions, indented by depth: why the requested value cannot hold.
    pub chain: Vec<(usize, String)>,
    /// Assignments that make it hold, checked by evaluating them with the input; `None`
    /// when none was found.
    pub fix: Option<Vec<Assignment>>,
    prefix: String,
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}={}  ({})", self.symbol, self.value, self.origin)?;
        let Some(requested) = &self.requested else {
            return Ok(());
        };
        if self.holds {
            return writeln!(f, "requested {requested}: holds");
        }
        writeln!(f, "requested {requested} cannot hold:")?;
        for (depth, line) in &self.chain {
            writeln!(f, "{}{line}", "  ".repeat(depth + 1))?;
        }
        match &self.fix {
            Some(fix) => {
                writeln!(f, "it holds with (checked by evaluating it):")?;
                for a in fix {
                    writeln!(f, "  {}", a.line(&self.prefix))?;
                }
                Ok(())
            }
            None => writeln!(
                f,
                "no assignment of user-settable symbols was found that makes it hold"
            ),
        }
    }
}

/// What a symbol must become.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Need {
    AtLeast(u8),
    AtMost(u8),
    Equals(String),
}

fn tri_name(t: u8) -> &'static str {
    match t {
        NO => "n",
        MOD => "m",
        _ => "y",
    }
}

struct Walk<'a, 'k> {
    e: &'a mut Evaluation<'k>,
    chain: Vec<(usize, String)>,
    fix: Vec<Assignment>,
    seen: HashSet<SymId>,
    settable: bool,
}

impl Walk<'_, '_> {
    fn show(&mut self, s: SymId) -> String {
        let k = self.e.state.k;
        self.e.state.calc(s);
        let value = self.value_text(s);
        let place = k
            .definitions(s)
            .first()
            .map_or_else(String::new, |l| format!(" ({l})"));
        format!("{}{}={value}{place}", k.prefix, k.sym(s).display_name())
    }

    fn value_text(&mut self, s: SymId) -> String {
        let k = self.e.state.k;
        match k.sym(s).ty {
            Type::Bool | Type::Tristate => tri_name(self.e.state.curr_tri[s as usize]).to_string(),
            Type::String => crate::quote(&self.e.state.string_value(s)),
            _ => match &self.e.state.curr_val[s as usize] {
                Val::Str(v) => v.to_string(),
                Val::Member(_) => String::new(),
            },
        }
    }

    fn holds(&mut self, s: SymId, need: &Need) -> bool {
        self.e.state.calc(s);
        match need {
            Need::AtLeast(t) => self.e.state.curr_tri[s as usize] >= *t,
            Need::AtMost(t) => self.e.state.curr_tri[s as usize] <= *t,
            Need::Equals(v) => {
                let k = self.e.state.k;
                match k.sym(s).ty {
                    Type::Bool | Type::Tristate => tri_name(self.e.state.curr_tri[s as usize]) == v,
                    _ => *self.e.state.string_value(s) == **v,
                }
            }
        }
    }

    /// The symbols that keep `e` below `want` (or, with `low`, above `want`), with what
    /// each must become.
    fn blockers(&mut self, e: &Expr, want: u8, low: bool, out: &mut Vec<(SymId, Need)>) {
        let value = self.e.state.eval(Some(e));
        if (!low && value >= want) || (low && value <= want) {
            return;
        }
        let k = self.e.state.k;
        match e {
            Expr::Sym(s) => {
                if k.sym(*s).flags & F_CONST == 0 {
                    out.push((
                        *s,
                        if low {
                            Need::AtMost(want)
                        } else {
                            Need::AtLeast(want)
                        },
                    ));
                }
            }
            Expr::Not(a) => self.blockers(a, 2 - want, !low, out),
            Expr::And(a, b) | Expr::Or(a, b) => {
                let all = matches!(e, Expr::And(..)) != low;
                if all {
                    self.blockers(a, want, low, out);
                    self.blockers(b, want, low, out);
                } else {
                    let mut left = Vec::new();
                    self.blockers(a, want, low, &mut left);
                    let mut right = Vec::new();
                    self.blockers(b, want, low, &mut right);
                    let pick = if !right.is_empty() && (left.is_empty() || right.len() < left.len())
                    {
                        right
                    } else {
                        left
                    };
                    out.extend(pick);
                }
            }
            Expr::Cmp(op, a, b) => {
                let (var, constant) =
                    if k.sym(*a).flags & F_CONST == 0 && k.sym(*b).flags & F_CONST != 0 {
                        (*a, *b)
                    } else if k.sym(*b).flags & F_CONST == 0 && k.sym(*a).flags & F_CONST != 0 {
                        (*b, *a)
                    } else {
                        return;
                    };
                let target = k.sym(constant).display_name().to_string();
                let equal = (*op == Cmp::Equal) != low;
                let need = match (equal, *op, target.as_str()) {
                    (true, Cmp::Equal | Cmp::Unequal, _) => Need::Equals(target),
                    (false, _, "n") => Need::AtLeast(MOD),
                    (false, _, "y") => Need::AtMost(MOD),
                    _ => return,
                };
                out.push((var, need));
            }
        }
    }

    fn explain(&mut self, s: SymId, need: Need, depth: usize) {
        if depth > 12 || !self.seen.insert(s) || self.holds(s, &need) {
            return;
        }
        let k = self.e.state.k;
        let sym = k.sym(s);
        let shown = self.show(s);
        if sym.ty == Type::Unknown {
            self.chain.push((
                depth,
                format!(
                    "{}{} is not defined in this tree",
                    k.prefix,
                    sym.display_name()
                ),
            ));
            self.settable = false;
            return;
        }
        let visible = self.e.state.visible[s as usize];
        match need.clone() {
            Need::AtLeast(_) | Need::Equals(_) if !matches!(need, Need::Equals(ref v) if v == "n") =>
            {
                let want = match need {
                    Need::AtLeast(w) => w,
                    Need::Equals(ref v) if v == "m" => MOD,
                    _ => YES,
                };
                if let (Some(c), true) = (sym.choice, sym.is_choice_value()) {
                    if visible >= want {
                        let other = match self.e.state.curr_val[c as usize] {
                            Val::Member(Some(m)) if m != s => Some(m),
                            _ => None,
                        };
                        if let Some(m) = other {
                            let o = self.show(m);
                            self.chain
                                .push((depth, format!("{shown}: its choice selected {o}")));
                        }
                        self.fix.push(Assignment {
                            symbol: sym.display_name().to_string(),
                            value: value_of(&need),
                        });
                        return;
                    }
                }
                if visible >= want
                    || (visible != NO && !matches!(sym.ty, Type::Bool | Type::Tristate))
                {
                    self.chain.push((depth, format!("{shown}: can be set")));
                    self.fix.push(Assignment {
                        symbol: sym.display_name().to_string(),
                        value: value_of(&need),
                    });
                    return;
                }
                let prompts: Vec<PropId> = sym
                    .props
                    .iter()
                    .copied()
                    .filter(|&p| matches!(k.prop(p).kind, PropKind::Prompt | PropKind::Menu))
                    .collect();
                if prompts.is_empty() {
                    self.chain.push((
                        depth,
                        format!("{shown}: has no prompt, so only a default or a select sets it"),
                    ));
                    self.promptless(s, want, depth);
                    return;
                }
                self.chain.push((depth, format!("{shown}: not visible")));
                let p = prompts[0];
                let cond = k.prop(p).visible.clone();
                if let Some(cond) = cond {
                    let v = self.e.state.eval(Some(&cond));
                    self.chain.push((
                        depth + 1,
                        format!(
                            "{}: depends on {} [= {}]",
                            k.prop_location(p),
                            k.render(&cond),
                            tri_name(v)
                        ),
                    ));
                    let mut blockers = Vec::new();
                    self.blockers(&cond, want, false, &mut blockers);
                    for (b, n) in blockers {
                        self.explain(b, n, depth + 2);
                    }
                }
                self.fix.push(Assignment {
                    symbol: sym.display_name().to_string(),
                    value: value_of(&need),
                });
            }
            _ => {
                let want = match need {
                    Need::AtMost(w) => w,
                    _ => NO,
                };
                let rev = self.e.state.rev_tri[s as usize];
                if rev > want {
                    self.chain.push((depth, format!("{shown}: selected")));
                    let selects = reverse_props(k, PropKind::Select);
                    let active: Vec<(SymId, PropId)> = selects
                        .get(&s)
                        .map_or(&[][..], Vec::as_slice)
                        .iter()
                        .filter_map(|&p| {
                            let by = k.menu(k.prop(p).menu).sym?;
                            self.e.state.calc(by);
                            let v = self.e.state.curr_tri[by as usize]
                                .min(self.e.state.eval(k.prop(p).visible.as_ref()));
                            (v > want).then_some((by, p))
                        })
                        .collect();
                    for (by, p) in active {
                        let o = self.show(by);
                        self.chain
                            .push((depth + 1, format!("{}: select by {o}", k.prop_location(p))));
                        self.explain(by, Need::AtMost(want), depth + 2);
                    }
                    return;
                }
                if visible != NO {
                    self.chain.push((depth, format!("{shown}: can be set")));
                    self.fix.push(Assignment {
                        symbol: sym.display_name().to_string(),
                        value: tri_name(want).to_string(),
                    });
                    return;
                }
                self.chain
                    .push((depth, format!("{shown}: not visible; its default decides")));
                if let Some(p) = self.e.state.default_prop(s) {
                    if let Some(cond) = k.prop(p).visible.clone() {
                        self.chain.push((
                            depth + 1,
                            format!("{}: default if {}", k.prop_location(p), k.render(&cond)),
                        ));
                        let mut blockers = Vec::new();
                        self.blockers(&cond, want, true, &mut blockers);
                        for (b, n) in blockers {
                            self.explain(b, n, depth + 2);
                        }
                    } else {
                        self.settable = false;
                    }
                }
            }
        }
    }

    /// A symbol without a prompt: one of its defaults or selects must give it `want`.
    fn promptless(&mut self, s: SymId, want: u8, depth: usize) {
        let k = self.e.state.k;
        let defaults: Vec<PropId> = k
            .sym(s)
            .props
            .iter()
            .copied()
            .filter(|&p| k.prop(p).kind == PropKind::Default)
            .collect();
        for p in defaults {
            let prop = k.prop(p);
            let value_ok = match &prop.expr {
                PropExpr::Expr(e) => {
                    let mut b = Vec::new();
                    self.blockers(e, want, false, &mut b);
                    b.iter().all(|(x, _)| k.sym(*x).flags & F_CONST == 0)
                }
                _ => false,
            };
            if !value_ok {
                continue;
            }
            if let Some(cond) = prop.visible.clone() {
                let v = self.e.state.eval(Some(&cond));
                self.chain.push((
                    depth + 1,
                    format!(
                        "{}: default if {} [= {}]",
                        k.prop_location(p),
                        k.render(&cond),
                        tri_name(v)
                    ),
                ));
                let mut blockers = Vec::new();
                self.blockers(&cond, want, false, &mut blockers);
                if let PropExpr::Expr(e) = &prop.expr {
                    self.blockers(e, want, false, &mut blockers);
                }
                for (b, n) in blockers {
                    self.explain(b, n, depth + 2);
                }
            }
            return;
        }
        let selects = reverse_props(k, PropKind::Select);
        if let Some(&p) = selects.get(&s).and_then(|v| v.first()) {
            if let Some(by) = k.menu(k.prop(p).menu).sym {
                let o = self.show(by);
                self.chain.push((
                    depth + 1,
                    format!("{}: selected by {o}", k.prop_location(p)),
                ));
                self.explain(by, Need::AtLeast(want), depth + 2);
                return;
            }
        }
        self.settable = false;
    }
}

fn value_of(need: &Need) -> String {
    match need {
        Need::AtLeast(t) | Need::AtMost(t) => tri_name(*t).to_string(),
        Need::Equals(v) => v.clone(),
    }
}

impl<'k> Evaluation<'k> {
    /// Why `name` (no prefix) has its value, and, when `requested` (as after `=` in a
    /// `.config`: `y`, `m`, `n`, `"text"`, `100`) — or, without it, the input's own
    /// assignment — cannot hold, the chain of unmet conditions and a checked fix.
    /// `None` when the tree does not know the symbol at all.
    pub fn why(
        &mut self,
        name: &str,
        requested: Option<&str>,
        sources: &[Fragment<'_>],
    ) -> Option<Why> {
        let k = self.state.k;
        let s = k.find(name)?;
        if s <= SYM_NO {
            return None;
        }
        self.write();
        let srcs = Sources::new(sources);
        let selects = reverse_props(k, PropKind::Select);
        let implies = reverse_props(k, PropKind::Imply);
        let origin = self.origin(s, &srcs, &selects, &implies);
        let requested = requested
            .map(str::to_string)
            .or_else(|| self.requested_in_input(name));
        let ty = k.sym(s).ty;
        let need = requested.as_ref().map(|r| match ty {
            Type::Bool | Type::Tristate => match r.as_str() {
                "y" => Need::AtLeast(YES),
                "m" => Need::Equals("m".to_string()),
                _ => Need::AtMost(NO),
            },
            Type::String => Need::Equals(unquote(r)),
            _ => Need::Equals(r.clone()),
        });
        let mut walk = Walk {
            e: self,
            chain: Vec::new(),
            fix: Vec::new(),
            seen: HashSet::new(),
            settable: true,
        };
        let value = {
            walk.e.state.calc(s);
            if walk.e.state.flags[s as usize] & super::eval::WRITE == 0
                && matches!(ty, Type::Bool | Type::Tristate)
            {
                "n".to_string()
            } else {
                walk.value_text(s)
            }
        };
        let holds = need.as_ref().is_none_or(|n| walk.holds(s, n));
        let prefixed = format!("{}{}", k.prefix, name);
        let mut why = Why {
            symbol: prefixed,
            value,
            origin,
            requested: requested.clone(),
            holds,
            chain: Vec::new(),
            fix: None,
            prefix: k.prefix.clone(),
        };
        let Some(need) = need else {
            return Some(why);
        };
        if holds {
            return Some(why);
        }
        walk.explain(s, need.clone(), 0);
        why.chain = std::mem::take(&mut walk.chain);
        let mut fix = std::mem::take(&mut walk.fix);
        let settable = walk.settable;
        drop(walk);
        // Check the proposal, widen it a few times if it falls short, then drop what is
        // not needed.
        let mut found = None;
        if settable {
            for _ in 0..4 {
                dedup(&mut fix);
                let (ok, extra) = self.try_fix(s, &need, &fix);
                if ok {
                    found = Some(fix.clone());
                    break;
                }
                if extra.iter().all(|a| fix.contains(a)) {
                    break;
                }
                fix.extend(extra);
            }
        }
        if let Some(mut fix) = found {
            let mut i = 0;
            while i < fix.len() {
                let mut fewer = fix.clone();
                fewer.remove(i);
                if self.try_fix(s, &need, &fewer).0 {
                    fix = fewer;
                } else {
                    i += 1;
                }
            }
            why.fix = Some(fix);
        }
        Some(why)
    }

    fn requested_in_input(&self, name: &str) -> Option<String> {
        let prefix = &self.state.k.prefix;
        let mut found = None;
        for line in self.input.lines() {
            if let Some(v) = line
                .strip_prefix(prefix.as_str())
                .and_then(|l| l.strip_prefix(name))
                .and_then(|l| l.strip_prefix('='))
            {
                found = Some(v.to_string());
            } else if line == format!("# {prefix}{name} is not set") {
                found = Some("n".to_string());
            }
        }
        found
    }

    /// Evaluates the input with `fix` appended; whether `need` holds, and what a fresh
    /// walk would add.
    fn try_fix(&self, s: SymId, need: &Need, fix: &[Assignment]) -> (bool, Vec<Assignment>) {
        let k = self.state.k;
        let mut text = self.input.clone();
        if !text.ends_with('\n') && !text.is_empty() {
            text.push('\n');
        }
        for a in fix {
            text.push_str(&a.line(&k.prefix));
            text.push('\n');
        }
        let mut e = Evaluation::read(k, &text);
        e.write();
        let mut walk = Walk {
            e: &mut e,
            chain: Vec::new(),
            fix: Vec::new(),
            seen: HashSet::new(),
            settable: true,
        };
        if walk.holds(s, need) {
            return (true, Vec::new());
        }
        walk.explain(s, need.clone(), 0);
        (false, walk.fix)
    }
}

fn dedup(fix: &mut Vec<Assignment>) {
    let mut seen = HashSet::new();
    fix.retain(|a| seen.insert(a.symbol.clone()));
}

fn unquote(text: &str) -> String {
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) => inner.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => text.to_string(),
    }
}
