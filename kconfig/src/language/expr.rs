//! Kconfig expressions as `scripts/kconfig/expr.c` builds them: symbols (constants
//! included), `!`, `&&`, `||` and comparisons of two symbols.

use serde::{Deserialize, Serialize};

use super::ids::{SymId, SYM_MOD, SYM_NO, SYM_YES};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Cmp {
    Equal,
    Unequal,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
}

impl Cmp {
    pub(crate) fn text(self) -> &'static str {
        match self {
            Cmp::Equal => "=",
            Cmp::Unequal => "!=",
            Cmp::Less => "<",
            Cmp::LessEqual => "<=",
            Cmp::Greater => ">",
            Cmp::GreaterEqual => ">=",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Expr {
    Sym(SymId),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Cmp(Cmp, SymId, SymId),
}

/// `expr_alloc_and`: a missing side is `y`.
pub(crate) fn and(a: Option<Expr>, b: Option<Expr>) -> Option<Expr> {
    match (a, b) {
        (None, b) => b,
        (a, None) => a,
        (Some(a), Some(b)) => Some(Expr::And(Box::new(a), Box::new(b))),
    }
}

/// `expr_alloc_or`: a missing side is dropped.
pub(crate) fn or(a: Option<Expr>, b: Option<Expr>) -> Option<Expr> {
    match (a, b) {
        (None, b) => b,
        (a, None) => a,
        (Some(a), Some(b)) => Some(Expr::Or(Box::new(a), Box::new(b))),
    }
}

/// `rewrite_m`: `m` in a condition becomes `m && MODULES`.
pub(crate) fn rewrite_m(e: Option<Expr>, modules: SymId) -> Option<Expr> {
    fn go(e: Expr, modules: SymId) -> Expr {
        match e {
            Expr::Not(a) => Expr::Not(Box::new(go(*a, modules))),
            Expr::And(a, b) => Expr::And(Box::new(go(*a, modules)), Box::new(go(*b, modules))),
            Expr::Or(a, b) => Expr::Or(Box::new(go(*a, modules)), Box::new(go(*b, modules))),
            Expr::Sym(SYM_MOD) => {
                Expr::And(Box::new(Expr::Sym(SYM_MOD)), Box::new(Expr::Sym(modules)))
            }
            other => other,
        }
    }
    e.map(|e| go(e, modules))
}

/// `expr_contains_symbol`.
pub(crate) fn contains_symbol(e: Option<&Expr>, sym: SymId) -> bool {
    match e {
        None => false,
        Some(Expr::And(a, b) | Expr::Or(a, b)) => {
            contains_symbol(Some(a), sym) || contains_symbol(Some(b), sym)
        }
        Some(Expr::Sym(s)) => *s == sym,
        Some(Expr::Cmp(_, a, b)) => *a == sym || *b == sym,
        Some(Expr::Not(a)) => contains_symbol(Some(a), sym),
    }
}

/// `expr_depends_symbol`: whether `e` holds only when `sym` is on.
pub(crate) fn depends_symbol(e: Option<&Expr>, sym: SymId) -> bool {
    match e {
        None => false,
        Some(Expr::And(a, b)) => depends_symbol(Some(a), sym) || depends_symbol(Some(b), sym),
        Some(Expr::Sym(s)) => *s == sym,
        Some(Expr::Cmp(Cmp::Equal, a, b)) => *a == sym && (*b == SYM_YES || *b == SYM_MOD),
        Some(Expr::Cmp(Cmp::Unequal, a, b)) => *a == sym && *b == SYM_NO,
        _ => false,
    }
}
