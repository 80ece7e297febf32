//! `sym_check_deps` (`scripts/kconfig/symbol.c`): a symbol that depends on itself
//! through dependencies, selects, implies, defaults, ranges or prompts is an error.

use super::error::LoadError;
use super::expr::Expr;
use super::model::*;

const CHECK: u8 = 1;
const CHECKED: u8 = 2;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    None,
    DirDep,
    RevDep,
    Implied,
    PropExpr,
}

struct Frame {
    sym: SymId,
    prop: Option<PropId>,
    via: Via,
}

struct Checker<'k> {
    k: &'k Kconfig,
    flags: Vec<u8>,
    stack: Vec<Frame>,
    report: Option<LoadError>,
}

/// Fails with the first dependency loop, reported as `conf` reports it.
pub(crate) fn check(k: &Kconfig) -> Result<(), LoadError> {
    let mut checker = Checker {
        k,
        flags: vec![0; k.symbols.len()],
        stack: Vec::new(),
        report: None,
    };
    for sym in 0..k.symbols.len() as SymId {
        if checker.deps(sym).is_some() {
            break;
        }
    }
    match checker.report {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

impl Checker<'_> {
    fn deps(&mut self, sym: SymId) -> Option<SymId> {
        if self.report.is_some() {
            return Some(sym);
        }
        let f = self.flags[sym as usize];
        if f & CHECK != 0 {
            self.print_recursive(sym);
            return Some(sym);
        }
        if f & CHECKED != 0 {
            return None;
        }
        let s = self.k.sym(sym);
        if s.is_choice_value() {
            self.stack.push(Frame {
                sym,
                prop: None,
                via: Via::None,
            });
            let result = s.choice.and_then(|c| self.deps(c));
            self.stack.pop();
            result
        } else if s.is_choice() {
            self.choice_deps(sym)
        } else {
            self.flags[sym as usize] |= CHECK | CHECKED;
            let r = self.sym_deps(sym);
            self.flags[sym as usize] &= !CHECK;
            r
        }
    }

    fn expr_deps(&mut self, e: Option<&Expr>) -> Option<SymId> {
        match e? {
            Expr::And(a, b) | Expr::Or(a, b) => {
                self.expr_deps(Some(a)).or_else(|| self.expr_deps(Some(b)))
            }
            Expr::Not(a) => self.expr_deps(Some(a)),
            Expr::Cmp(_, a, b) => {
                let (a, b) = (*a, *b);
                self.deps(a).or_else(|| self.deps(b))
            }
            Expr::Sym(s) => self.deps(*s),
        }
    }

    fn set_top(&mut self, prop: Option<PropId>, via: Via) {
        if let Some(top) = self.stack.last_mut() {
            top.prop = prop;
            top.via = via;
        }
    }

    fn sym_deps(&mut self, sym: SymId) -> Option<SymId> {
        let k = self.k;
        let s = k.sym(sym);
        self.stack.push(Frame {
            sym,
            prop: None,
            via: Via::DirDep,
        });
        let mut found = self.expr_deps(s.dir_dep.as_ref());
        if found.is_none() {
            self.set_top(None, Via::RevDep);
            found = self.expr_deps(s.rev_dep.as_ref());
        }
        if found.is_none() {
            self.set_top(None, Via::Implied);
            found = self.expr_deps(s.implied.as_ref());
        }
        if found.is_none() {
            self.set_top(None, Via::None);
            for &p in &s.props {
                let prop = k.prop(p);
                if matches!(
                    prop.kind,
                    PropKind::Choice | PropKind::Select | PropKind::Imply
                ) {
                    continue;
                }
                self.set_top(Some(p), Via::None);
                found = self.expr_deps(prop.visible.as_ref());
                if found.is_some() {
                    break;
                }
                if prop.kind != PropKind::Default || s.is_choice() {
                    continue;
                }
                self.set_top(Some(p), Via::PropExpr);
                if let PropExpr::Expr(e) = &prop.expr {
                    found = self.expr_deps(Some(e));
                }
                if found.is_some() {
                    break;
                }
                self.set_top(Some(p), Via::None);
            }
        }
        self.stack.pop();
        found
    }

    fn choice_deps(&mut self, choice: SymId) -> Option<SymId> {
        let k = self.k;
        self.stack.push(Frame {
            sym: choice,
            prop: None,
            via: Via::None,
        });
        let members = &k.sym(choice).members;
        for &m in members {
            self.flags[m as usize] |= CHECK | CHECKED;
        }
        self.flags[choice as usize] |= CHECK | CHECKED;
        let mut found = self.sym_deps(choice);
        self.flags[choice as usize] &= !CHECK;
        if found.is_none() {
            for &m in members {
                found = self.sym_deps(m);
                if found.is_some() {
                    break;
                }
            }
        }
        for &m in members {
            self.flags[m as usize] &= !CHECK;
        }
        if let Some(f) = found {
            if k.sym(f).choice == Some(choice) {
                found = Some(choice);
            }
        }
        self.stack.pop();
        found
    }

    fn print_recursive(&mut self, last: SymId) {
        let k = self.k;
        let mut last = last;
        let mut extra = None;
        if k.sym(last).is_choice_value() {
            extra = Some(Frame {
                sym: last,
                prop: None,
                via: Via::None,
            });
            last = k.sym(last).choice.unwrap_or(last);
        }
        let Some(start) = self.stack.iter().position(|f| f.sym == last) else {
            return;
        };
        let mut frames: Vec<&Frame> = self.stack[start..].iter().collect();
        if let Some(e) = &extra {
            frames.push(e);
        }
        let mut chain = String::new();
        let mut first: Option<(std::path::PathBuf, u32)> = None;
        for (i, frame) in frames.iter().enumerate() {
            let s = k.sym(frame.sym);
            let next = frames.get(i + 1).map_or(last, |f| f.sym);
            let next_name = k.sym(next).display_name();
            let prop = frame.prop.or_else(|| s.props.first().copied());
            let here = match prop {
                Some(p) => k.prop_location(p),
                None => Location {
                    file: Default::default(),
                    line: 0,
                },
            };
            if first.is_none() {
                first = Some((here.file.clone(), here.line));
            }
            let name = s.display_name();
            let what = if s.is_choice() {
                format!("choice {name} contains symbol {next_name}")
            } else if s.is_choice_value() {
                format!("symbol {name} is part of choice {next_name}")
            } else {
                match frame.via {
                    Via::DirDep => format!("symbol {name} depends on {next_name}"),
                    Via::RevDep => format!("symbol {name} is selected by {next_name}"),
                    Via::Implied => format!("symbol {name} is implied by {next_name}"),
                    Via::PropExpr => format!(
                        "symbol {name} {} value contains {next_name}",
                        prop.map_or("", |p| k.prop(p).kind.name())
                    ),
                    Via::None => format!(
                        "symbol {name} {} is visible depending on {next_name}",
                        prop.map_or("", |p| k.prop(p).kind.name())
                    ),
                }
            };
            chain.push_str(&format!("{here}:\t{what}\n"));
        }
        chain.push_str("For a resolution refer to Documentation/kbuild/kconfig-language.rst\nsubsection \"Kconfig recursive dependency limitations\"");
        let (file, line) = first.unwrap_or_default();
        self.report = Some(LoadError::RecursiveDependency { file, line, chain });
    }
}
