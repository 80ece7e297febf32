//! Merging fragments onto a base config the way `scripts/kconfig/merge_config.sh -m` does.

use hashbrown::HashMap;
use std::fmt;

use crate::config::Config;
use crate::line::Line;
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
    let mut lines: Vec<Option<&Line>> = base.lines().iter().map(Some).collect();
    let mut final_newline = base.has_final_newline();
    // The live lines assigning each symbol, as a chain from the last one through
    // `previous`, so that a redefinition deletes them all like the script's
    // `sed -i "/$CFG[ =]/d"`. Keys borrow from the inputs: no allocation per symbol.
    let mut last: HashMap<&str, usize> = HashMap::with_capacity(base.symbol_count());
    let mut previous: Vec<usize> = Vec::with_capacity(lines.len());
    let blank = Line::blank();
    let mut redefinitions = Vec::new();

    for (i, line) in base.lines().iter().enumerate() {
        previous.push(NONE);
        if let Some(symbol) = line.symbol() {
            if let Some(before) = last.insert(symbol, i) {
                previous[i] = before;
            }
        }
    }

    for fragment in fragments {
        // For each symbol of the fragment: its latest value in the fragment, whether
        // `builtin` keeps the earlier `y`, and whether it was reported, so that a symbol is
        // reported once per fragment.
        let mut seen: HashMap<&str, (&Value, bool, bool)> = HashMap::new();
        for line in fragment.config.lines() {
            let Some((symbol, value)) = line.assignment_parts() else {
                continue;
            };
            if let Some((earlier, _, reported)) = seen.get_mut(symbol) {
                if *earlier != value && !*reported {
                    redefinitions.push(redefinition(
                        prefix, symbol, earlier, value, fragment, false,
                    ));
                    *reported = true;
                }
                *earlier = value;
                continue;
            }
            // The script compares what came before with the fragment's value, in the order
            // of each symbol's first line in the fragment.
            let new = fragment.config.get(symbol).unwrap_or(value);
            let old = last
                .get(symbol)
                .and_then(|&i| lines[i])
                .and_then(|line| line.assignment_parts())
                .map(|(_, value)| value);
            let kept_old = old.is_some_and(|old| {
                options.builtin
                    && *old == Value::Tristate(Tristate::Yes)
                    && *new == Value::Tristate(Tristate::Module)
            });
            let old = old.filter(|old| kept_old || *old != new);
            seen.insert(symbol, (value, kept_old, old.is_some()));
            if let Some(old) = old {
                redefinitions.push(redefinition(prefix, symbol, old, new, fragment, kept_old));
            }
        }
        for (symbol, (_, kept_old, _)) in &seen {
            if *kept_old {
                continue;
            }
            let mut at = last.remove(symbol).unwrap_or(NONE);
            while at != NONE {
                lines[at] = None;
                at = previous[at];
            }
        }
        // The script runs `echo >> $TMP_FILE` to end an unterminated last line; on a
        // terminated one that adds a blank line.
        if final_newline {
            lines.push(Some(&blank));
            previous.push(NONE);
        }
        for line in fragment.config.lines() {
            let i = lines.len();
            previous.push(NONE);
            if let Some(symbol) = line.symbol() {
                if seen.get(symbol).is_some_and(|(_, kept_old, _)| *kept_old) {
                    previous.pop();
                    continue;
                }
                if let Some(before) = last.insert(symbol, i) {
                    previous[i] = before;
                }
            }
            lines.push(Some(line));
        }
        final_newline = fragment.config.has_final_newline();
    }

    let lines = lines.into_iter().flatten().cloned().collect();
    Merged {
        config: Config::from_lines(prefix, lines, final_newline),
        redefinitions,
    }
}

/// End of a chain in `previous`.
const NONE: usize = usize::MAX;

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
