//! Differences between two configs: per symbol like `scripts/diffconfig`, or as a unified
//! text diff.

use std::collections::BTreeMap;
use std::fmt;

use similar::TextDiff;

use crate::config::Config;
use crate::merge::ShortValue;
use crate::value::Value;

/// Symbols (without prefix) removed, changed and added between two configs, each sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SymbolDiff {
    /// Assigned only in the old config.
    pub removed: Vec<(String, Value)>,
    /// Assigned in both, differently: (symbol, old, new).
    pub changed: Vec<(String, Value, Value)>,
    /// Assigned only in the new config.
    pub added: Vec<(String, Value)>,
}

impl SymbolDiff {
    /// Compares the effective assignments of `old` and `new`. As in `diffconfig`,
    /// `is not set` and `=n` are the same value, while a symbol that is not mentioned
    /// differs from one that is not set.
    pub fn between(old: &Config, new: &Config) -> SymbolDiff {
        let old: BTreeMap<_, _> = old.assignments().collect();
        let new: BTreeMap<_, _> = new.assignments().collect();
        let mut diff = SymbolDiff::default();
        for (&symbol, &value) in &old {
            match new.get(symbol) {
                None => diff.removed.push((symbol.to_string(), value.clone())),
                Some(&now) if ShortValue(value).to_string() != ShortValue(now).to_string() => diff
                    .changed
                    .push((symbol.to_string(), value.clone(), now.clone())),
                Some(_) => {}
            }
        }
        for (&symbol, &value) in &new {
            if !old.contains_key(symbol) {
                diff.added.push((symbol.to_string(), value.clone()));
            }
        }
        diff
    }

    /// Whether both configs assign the same values.
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.changed.is_empty() && self.added.is_empty()
    }
}

/// `diffconfig` output: `-X y`, ` X y -> m`, `+X m`, one per line, each ending in `\n`.
impl fmt::Display for SymbolDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (symbol, value) in &self.removed {
            writeln!(f, "-{symbol} {}", ShortValue(value))?;
        }
        for (symbol, old, new) in &self.changed {
            writeln!(f, " {symbol} {} -> {}", ShortValue(old), ShortValue(new))?;
        }
        for (symbol, value) in &self.added {
            writeln!(f, "+{symbol} {}", ShortValue(value))?;
        }
        Ok(())
    }
}

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// A unified diff (3 lines of context) from `old` to `new`, headed `--- old_name` and
/// `+++ new_name`; empty when the texts are equal. With `colour`, lines carry ANSI colours.
pub fn unified_diff(old: &str, new: &str, old_name: &str, new_name: &str, colour: bool) -> String {
    if old == new {
        return String::new();
    }
    let plain = TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(old_name, new_name)
        .to_string();
    if !colour {
        return plain;
    }
    let mut out = String::with_capacity(plain.len() * 2);
    for line in plain.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        let style = if body.starts_with("---") || body.starts_with("+++") {
            BOLD
        } else if body.starts_with("@@") {
            CYAN
        } else if body.starts_with('-') {
            RED
        } else if body.starts_with('+') {
            GREEN
        } else {
            ""
        };
        if style.is_empty() {
            out.push_str(line);
        } else {
            out.push_str(style);
            out.push_str(body);
            out.push_str(RESET);
            out.push_str(newline);
        }
    }
    out
}
