//! After `olddefconfig`: which requested values did not survive, and why.

use std::fmt;
use std::path::PathBuf;

use crate::config::Config;
use crate::expr::{rank, Expr};
use crate::merge::ShortValue;
use crate::symbol_index::SymbolIndex;
use crate::value::{SymbolType, Tristate, Value};

/// A requested value that the final `.config` does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// The symbols' prefix (`CONFIG_`).
    pub prefix: String,
    /// The symbol without prefix.
    pub symbol: String,
    /// What was asked for.
    pub requested: Value,
    /// What the final `.config` says; `None` when it does not mention the symbol.
    pub actual: Option<Value>,
}

/// Every assignment of `requested` whose effect `actual` does not have.
///
/// Unlike `merge_config.sh`, a requested `is not set` is met by a symbol that is absent
/// (Kconfig leaves out symbols whose dependencies are unmet: they are off), and numbers
/// compare by value.
pub fn dropped(requested: &Config, actual: &Config) -> Vec<Dropped> {
    requested
        .assignments()
        .filter(|(symbol, value)| !value.same_effect(actual.get(symbol)))
        .map(|(symbol, value)| Dropped {
            prefix: requested.prefix().to_string(),
            symbol: symbol.to_string(),
            requested: value.clone(),
            actual: actual.get(symbol).cloned(),
        })
        .collect()
}

/// One reason a value was dropped, from the Kconfig sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// No scanned Kconfig file defines the symbol.
    Undefined {
        /// A defined symbol with a similar name.
        suggestion: Option<String>,
    },
    /// The symbol's type cannot hold the requested value.
    WrongType {
        /// Where the type is declared.
        file: PathBuf,
        /// 1-based line of that entry.
        line: usize,
        /// The declared type.
        declared: SymbolType,
    },
    /// A `depends on` expression (the entry's own or an enclosing block's) is too low.
    Unmet {
        /// The entry's file.
        file: PathBuf,
        /// 1-based line of the entry.
        line: usize,
        /// The expression as written.
        expression: String,
        /// Its value in the final `.config`; `None` when this light scan cannot evaluate it.
        value: Option<Tristate>,
        /// The symbols it names that are off in the final `.config`.
        off: Vec<String>,
        /// The symbols it names under a `!` that are on in the final `.config`.
        on: Vec<String>,
    },
    /// Requested `m`, but `CONFIG_MODULES` is off, so Kconfig made it `y` or nothing.
    ModulesOff,
    /// Requested off, but enabled entries `select` it.
    Selected {
        /// The selecting symbols that are on in the final `.config`.
        by: Vec<String>,
    },
    /// No `depends on` the scan sees explains it: a choice, `range`, `select`, `default` or a
    /// dependency inherited from another file decided the value.
    Other {
        /// Whether an entry sits in a `choice` block (only one member can be `y`).
        in_choice: bool,
    },
}

/// Why one [`Dropped`] value did not survive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// The symbols' prefix, for display.
    pub prefix: String,
    /// The reasons found.
    pub reasons: Vec<Reason>,
}

impl Dropped {
    /// Looks the symbol up in `index` and evaluates its dependencies against `actual`.
    pub fn explain(&self, index: &SymbolIndex, actual: &Config) -> Explanation {
        let explanation = |reasons| Explanation {
            prefix: self.prefix.clone(),
            reasons,
        };
        let definitions = index.definitions(&self.symbol);
        if definitions.is_empty() {
            return explanation(vec![Reason::Undefined {
                suggestion: index.suggest(&self.symbol).map(str::to_string),
            }]);
        }
        for definition in definitions {
            if let Some(declared) = definition.symbol_type {
                if !fits(declared, &self.requested) {
                    return explanation(vec![Reason::WrongType {
                        file: definition.file.clone(),
                        line: definition.line,
                        declared,
                    }]);
                }
            }
        }
        let off = |symbol: &str| {
            matches!(
                actual.get(symbol),
                None | Some(Value::NotSet) | Some(Value::Tristate(Tristate::No))
            )
        };
        let other = || {
            explanation(vec![Reason::Other {
                in_choice: definitions.iter().any(|d| d.in_choice),
            }])
        };
        if self.requested.same_effect(None) {
            // Off was requested, so dependencies cannot be the cause; a `select` can.
            let by: Vec<String> = index
                .selectors(&self.symbol)
                .iter()
                .filter(|s| !off(&s.by))
                .map(|s| s.by.clone())
                .collect();
            if by.is_empty() {
                return other();
            }
            return explanation(vec![Reason::Selected { by }]);
        }
        if self.requested == Value::Tristate(Tristate::Module) && off("MODULES") {
            return explanation(vec![Reason::ModulesOff]);
        }
        // A tristate needs `y` from its dependencies to be `y`; Kconfig lifts an `m`
        // dependency to `y` for other types, which need it to be at least `m`.
        let tristate = index.symbol_type(&self.symbol) != Some(SymbolType::Bool);
        let needed = match self.requested {
            Value::Tristate(Tristate::Yes) if tristate => Tristate::Yes,
            _ => Tristate::Module,
        };
        let mut unmet = Vec::new();
        for definition in definitions {
            let before = unmet.len();
            for expression in &definition.depends_on {
                let parsed = Expr::parse(expression);
                let value = parsed.as_ref().map(|e| e.eval(actual));
                if value.is_some_and(|v| rank(v) >= rank(needed)) {
                    continue;
                }
                let named = match &parsed {
                    Some(e) => e.symbols(),
                    None => symbol_words(expression)
                        .into_iter()
                        .map(|s| (s, false))
                        .collect(),
                };
                let pick = |negated: bool, is_off: bool| -> Vec<String> {
                    named
                        .iter()
                        .filter(|(s, n)| *n == negated && off(s) == is_off)
                        .map(|(s, _)| s.to_string())
                        .collect()
                };
                unmet.push(Reason::Unmet {
                    file: definition.file.clone(),
                    line: definition.line,
                    expression: expression.clone(),
                    value,
                    off: pick(false, true),
                    on: pick(true, false),
                });
            }
            // One definition whose dependencies hold makes the symbol reachable.
            if unmet.len() == before {
                return other();
            }
        }
        explanation(unmet)
    }
}

fn fits(declared: SymbolType, value: &Value) -> bool {
    matches!(
        (declared, value),
        (_, Value::NotSet | Value::Tristate(Tristate::No))
            | (SymbolType::Bool, Value::Tristate(Tristate::Yes))
            | (SymbolType::Tristate, Value::Tristate(_))
            | (SymbolType::Int, Value::Int(_))
            | (SymbolType::Hex, Value::Hex(_) | Value::Int(_))
            | (SymbolType::String, Value::Str(_))
    )
}

/// The identifiers of an expression the grammar could not parse, for a best-effort list.
fn symbol_words(expression: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for word in expression.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        let keyword = matches!(word, "" | "y" | "m" | "n");
        if !keyword && !word.bytes().all(|b| b.is_ascii_digit()) && !out.contains(&word) {
            out.push(word);
        }
    }
    out
}

/// `CONFIG_X: requested y, got m` (`got nothing` when the `.config` does not mention it).
impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}: requested {}, got ",
            self.prefix,
            self.symbol,
            ShortValue(&self.requested)
        )?;
        match &self.actual {
            Some(actual) => ShortValue(actual).fmt(f),
            None => f.write_str("nothing (not visible)"),
        }
    }
}

/// One reason per line.
impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.prefix;
        for (i, reason) in self.reasons.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            match reason {
                Reason::Undefined { suggestion: None } => {
                    f.write_str("no Kconfig entry defines it")?
                }
                Reason::Undefined {
                    suggestion: Some(s),
                } => write!(f, "no Kconfig entry defines it; did you mean {p}{s}?")?,
                Reason::WrongType {
                    file,
                    line,
                    declared,
                } => write!(
                    f,
                    "{}:{line}: declared {declared}, which cannot take that value",
                    file.display()
                )?,
                Reason::Unmet {
                    file,
                    line,
                    expression,
                    value,
                    off,
                    on,
                } => {
                    write!(f, "{}:{line}: depends on {expression}", file.display())?;
                    if let Some(value) = value {
                        write!(f, " (= {value})")?;
                    }
                    if !off.is_empty() {
                        let names: Vec<String> = off.iter().map(|s| format!("{p}{s}")).collect();
                        write!(f, "; off: {}", names.join(", "))?;
                    }
                    if !on.is_empty() {
                        let names: Vec<String> = on.iter().map(|s| format!("{p}{s}")).collect();
                        write!(f, "; on: {}", names.join(", "))?;
                    }
                }
                Reason::ModulesOff => write!(f, "{p}MODULES is off, so there are no modules")?,
                Reason::Selected { by } => {
                    let names: Vec<String> = by.iter().map(|s| format!("{p}{s}")).collect();
                    write!(f, "selected by {}", names.join(", "))?;
                }
                Reason::Other { in_choice: true } => f.write_str(
                    "no unmet `depends on` found; it is a choice member: another may be chosen",
                )?,
                Reason::Other { in_choice: false } => f.write_str(
                    "no unmet `depends on` found; a range, select, default or a parent menu decided",
                )?,
            }
        }
        Ok(())
    }
}
