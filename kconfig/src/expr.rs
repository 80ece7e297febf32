//! `depends on` expressions: parsed with nom and evaluated in Kconfig's three-valued logic
//! against a `.config`, to say which dependency held a value back.

use nom::{
    branch::alt,
    bytes::complete::{tag, take_while1},
    character::complete::{char, multispace0, none_of},
    combinator::{all_consuming, map, recognize, value},
    multi::{fold_many0, many0},
    sequence::{delimited, pair, preceded},
    IResult,
};

use crate::config::Config;
use crate::value::{Tristate, Value};

/// A parsed `depends on` expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    Symbol(String),
    Literal(String),
    /// `$(...)`: a Kconfig macro; its value is unknown here.
    Macro,
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(Compare, Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compare {
    Equal,
    NotEqual,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
}

type Res<'a, T> = IResult<&'a str, T>;

fn ws<'a, T>(parser: impl FnMut(&'a str) -> Res<'a, T>) -> impl FnMut(&'a str) -> Res<'a, T> {
    delimited(multispace0, parser, multispace0)
}

fn macro_call(input: &str) -> Res<'_, Expr> {
    fn body(input: &str) -> Res<'_, &str> {
        recognize(many0(alt((
            recognize(none_of("()")),
            recognize(delimited(char('('), body, char(')'))),
        ))))(input)
    }
    value(Expr::Macro, delimited(tag("$("), body, char(')')))(input)
}

fn quoted(input: &str) -> Res<'_, Expr> {
    let single = delimited(char('\''), recognize(many0(none_of("'"))), char('\''));
    let double = delimited(char('"'), recognize(many0(none_of("\""))), char('"'));
    map(alt((double, single)), |s: &str| {
        Expr::Literal(s.to_string())
    })(input)
}

fn word(input: &str) -> Res<'_, Expr> {
    map(
        take_while1(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        |w: &str| match w {
            "y" | "m" | "n" => Expr::Literal(w.to_string()),
            w if w.bytes().all(|b| b.is_ascii_digit() || b == b'-') || w.starts_with("0x") => {
                Expr::Literal(w.to_string())
            }
            w => Expr::Symbol(w.to_string()),
        },
    )(input)
}

fn atom(input: &str) -> Res<'_, Expr> {
    ws(alt((
        delimited(char('('), or, char(')')),
        macro_call,
        quoted,
        word,
    )))(input)
}

fn comparison(input: &str) -> Res<'_, Expr> {
    let (rest, left) = atom(input)?;
    let operator = alt((
        value(Compare::NotEqual, tag("!=")),
        value(Compare::LessEqual, tag("<=")),
        value(Compare::GreaterEqual, tag(">=")),
        value(Compare::Equal, tag("=")),
        value(Compare::Less, tag("<")),
        value(Compare::Greater, tag(">")),
    ));
    match pair(ws(operator), atom)(rest) {
        Ok((rest, (op, right))) => Ok((rest, Expr::Compare(op, Box::new(left), Box::new(right)))),
        Err(_) => Ok((rest, left)),
    }
}

fn not(input: &str) -> Res<'_, Expr> {
    alt((
        map(preceded(ws(char('!')), not), |e| Expr::Not(Box::new(e))),
        comparison,
    ))(input)
}

fn and(input: &str) -> Res<'_, Expr> {
    let (rest, first) = not(input)?;
    fold_many0(
        preceded(ws(tag("&&")), not),
        move || first.clone(),
        |left, right| Expr::And(Box::new(left), Box::new(right)),
    )(rest)
}

fn or(input: &str) -> Res<'_, Expr> {
    let (rest, first) = and(input)?;
    fold_many0(
        preceded(ws(tag("||")), and),
        move || first.clone(),
        |left, right| Expr::Or(Box::new(left), Box::new(right)),
    )(rest)
}

impl Expr {
    /// Parses a whole `depends on` expression; `None` for what this light grammar misses.
    pub(crate) fn parse(text: &str) -> Option<Expr> {
        all_consuming(or)(text).ok().map(|(_, e)| e)
    }

    /// Kconfig's value of the expression with symbols read from `config`.
    pub(crate) fn eval(&self, config: &Config) -> Tristate {
        match self {
            Expr::Symbol(s) => tristate_of(config.get(s)),
            Expr::Literal(l) => match l.as_str() {
                "y" => Tristate::Yes,
                "m" => Tristate::Module,
                _ => Tristate::No,
            },
            // Unknown here: assume it holds so it is never blamed.
            Expr::Macro => Tristate::Yes,
            Expr::Not(e) => match e.eval(config) {
                Tristate::Yes => Tristate::No,
                Tristate::Module => Tristate::Module,
                Tristate::No => Tristate::Yes,
            },
            Expr::And(a, b) => min(a.eval(config), b.eval(config)),
            Expr::Or(a, b) => max(a.eval(config), b.eval(config)),
            Expr::Compare(op, a, b) => {
                let (a, b) = (a.text(config), b.text(config));
                let ordering = match (number(&a), number(&b)) {
                    (Some(x), Some(y)) => x.cmp(&y),
                    _ => a.cmp(&b),
                };
                let holds = match op {
                    Compare::Equal => ordering.is_eq(),
                    Compare::NotEqual => ordering.is_ne(),
                    Compare::Less => ordering.is_lt(),
                    Compare::LessEqual => ordering.is_le(),
                    Compare::Greater => ordering.is_gt(),
                    Compare::GreaterEqual => ordering.is_ge(),
                };
                if holds {
                    Tristate::Yes
                } else {
                    Tristate::No
                }
            }
        }
    }

    /// The operand's text as Kconfig compares it: a symbol's value, `n` when unset.
    fn text(&self, config: &Config) -> String {
        match self {
            Expr::Symbol(s) => match config.get(s) {
                None | Some(Value::NotSet) => "n".to_string(),
                Some(Value::Str(s)) => s.clone(),
                Some(v) => v.to_string(),
            },
            Expr::Literal(l) => l.clone(),
            other => other.eval(config).to_string(),
        }
    }

    /// Every symbol the expression names, once, in order, with whether it appears under
    /// a `!` (so that being on, not off, is what holds the expression down).
    pub(crate) fn symbols(&self) -> Vec<(&str, bool)> {
        let mut out = Vec::new();
        self.collect_symbols(false, &mut out);
        out
    }

    fn collect_symbols<'a>(&'a self, negated: bool, out: &mut Vec<(&'a str, bool)>) {
        match self {
            Expr::Symbol(s) if !out.contains(&(s.as_str(), negated)) => out.push((s, negated)),
            Expr::Not(e) => e.collect_symbols(!negated, out),
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.collect_symbols(negated, out);
                b.collect_symbols(negated, out);
            }
            // `A != B` is as much about either being on as off: list them as plain names.
            Expr::Compare(_, a, b) => {
                a.collect_symbols(false, out);
                b.collect_symbols(false, out);
            }
            _ => {}
        }
    }
}

fn tristate_of(value: Option<&Value>) -> Tristate {
    match value {
        Some(Value::Tristate(t)) => *t,
        _ => Tristate::No,
    }
}

pub(crate) fn rank(t: Tristate) -> u8 {
    match t {
        Tristate::No => 0,
        Tristate::Module => 1,
        Tristate::Yes => 2,
    }
}

fn min(a: Tristate, b: Tristate) -> Tristate {
    if rank(a) <= rank(b) {
        a
    } else {
        b
    }
}

fn max(a: Tristate, b: Tristate) -> Tristate {
    if rank(a) >= rank(b) {
        a
    } else {
        b
    }
}

fn number(text: &str) -> Option<i128> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => i128::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}
