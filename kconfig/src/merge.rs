//! Merging fragments onto a base config the way `scripts/kconfig/merge_config.sh -m` does.

use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::config::Config;
use crate::line::{Line, LineKind};
use crate::value::{Tristate, Value};

/// How to merge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MergeOptions {
    /// `merge_config.sh -y`: a fragment's `m` never lowers an earlier `y`.
    pub builtin: bool,
}

/// A fragment to merge and the name its redefinitions are reported under.
#[derive(Debug, Clone, Copy)]
pub struct Fragment<'a> {
    /// Usually the fragment's path.
    pub name: &'a str,
    /// The parsed fragment.
    pub config: &'a Config,
}

/// A symbol that a fragment set to a different value than the config before it had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redefinition {
    /// The symbol's prefix (`CONFIG_`).
    pub prefix: String,
    /// The symbol without prefix (`CMDLINE`).
    pub symbol: String,
    /// The value before the fragment.
    pub old: Value,
    /// The value the fragment asked for.
    pub new: Value,
    /// The name of the fragment.
    pub fragment: String,
    /// True when `builtin` kept `old` (`y`) over the fragment's `m`.
    pub kept_old: bool,
}

/// The result of [`merge`]: the merged config and every redefinition, in merge order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// Base then fragments, laid out as `merge_config.sh -m` writes them.
    pub config: Config,
    /// Every symbol a fragment redefined, in the order the fragments and their lines came.
    pub redefinitions: Vec<Redefinition>,
}

/// Merges `fragments` onto `base` in order; later values win.
///
/// Like `merge_config.sh -m`: a redefined symbol's lines are dropped from what came before,
/// then each fragment is appended whole after one blank line, so the result reads as the
/// script's output. A symbol a fragment assigns twice is reported against that fragment.
/// Runs in time linear in the total number of lines.
pub fn merge(base: &Config, fragments: &[Fragment<'_>], options: MergeOptions) -> Merged {
    let prefix = base.prefix();
    let mut lines: Vec<Option<Line>> = base.lines().iter().cloned().map(Some).collect();
    let mut final_newline = base.has_final_newline();
    // Every live line assigning each symbol, so a redefinition deletes them all like
    // the script's `sed -i "/$CFG[ =]/d"`.
    let mut assigned: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, line) in base.lines().iter().enumerate() {
        if let Some((symbol, _)) = line.assignment_parts() {
            assigned.entry(symbol.to_string()).or_default().push(i);
        }
    }
    let mut redefinitions = Vec::new();

    for fragment in fragments {
        let mut keep_base = HashSet::new();
        let mut seen: HashMap<&str, &Value> = HashMap::new();
        for line in fragment.config.lines() {
            let Some((symbol, value)) = line.assignment_parts() else {
                continue;
            };
            let earlier = seen.insert(symbol, value);
            if let Some(earlier) = earlier {
                if earlier != value {
                    redefinitions.push(redefinition(
                        prefix, symbol, earlier, value, fragment, false,
                    ));
                }
                continue;
            }
            // The script compares what came before with the fragment's value, in the order
            // of each symbol's first line in the fragment.
            let new = fragment.config.get(symbol).unwrap_or(value);
            let Some(old) = last_value(&lines, assigned.get(symbol)) else {
                continue;
            };
            let kept_old = options.builtin
                && *old == Value::Tristate(Tristate::Yes)
                && *new == Value::Tristate(Tristate::Module);
            if kept_old {
                keep_base.insert(symbol);
            }
            if kept_old || old != new {
                redefinitions.push(redefinition(prefix, symbol, old, new, fragment, kept_old));
            }
        }
        for symbol in seen.keys() {
            if keep_base.contains(symbol) {
                continue;
            }
            for i in assigned.remove(*symbol).unwrap_or_default() {
                lines[i] = None;
            }
        }
        // The script runs `echo >> $TMP_FILE` to end an unterminated last line; on a
        // terminated one that adds a blank line.
        if final_newline {
            lines.push(Some(Line {
                text: String::new(),
                kind: LineKind::Blank,
            }));
        }
        for line in fragment.config.lines() {
            if let Some((symbol, _)) = line.assignment_parts() {
                if keep_base.contains(symbol) {
                    continue;
                }
                assigned
                    .entry(symbol.to_string())
                    .or_default()
                    .push(lines.len());
            }
            lines.push(Some(line.clone()));
        }
        final_newline = fragment.config.has_final_newline();
    }

    Merged {
        config: Config::from_lines(prefix, lines.into_iter().flatten().collect(), final_newline),
        redefinitions,
    }
}

fn last_value<'a>(lines: &'a [Option<Line>], at: Option<&Vec<usize>>) -> Option<&'a Value> {
    let line = lines[*at?.last()?].as_ref()?;
    line.assignment_parts().map(|(_, value)| value)
}

fn redefinition(
    prefix: &str,
    symbol: &str,
    old: &Value,
    new: &Value,
    fragment: &Fragment<'_>,
    kept_old: bool,
) -> Redefinition {
    Redefinition {
        prefix: prefix.to_string(),
        symbol: symbol.to_string(),
        old: old.clone(),
        new: new.clone(),
        fragment: fragment.name.to_string(),
        kept_old,
    }
}

/// One line per redefinition: `CONFIG_X: y -> m (fragment.config)`.
impl fmt::Display for Redefinition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}: {} -> {} ({})",
            self.prefix,
            self.symbol,
            ShortValue(&self.old),
            ShortValue(&self.new),
            self.fragment
        )?;
        if self.kept_old {
            f.write_str(", kept y: builtin wins")?;
        }
        Ok(())
    }
}

/// A value as `scripts/diffconfig` shows it: not set as `n`.
pub(crate) struct ShortValue<'a>(pub(crate) &'a Value);

impl fmt::Display for ShortValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Value::NotSet => f.write_str("n"),
            value => value.fmt(f),
        }
    }
}
