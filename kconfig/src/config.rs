//! A whole `.config` as a list of lines, with lookups and minimal edits.

use std::fmt;
use std::hash::BuildHasher;

use hashbrown::hash_table::Entry;
use hashbrown::{DefaultHashBuilder, HashTable};

use crate::line::Line;
use crate::parse::{error_at, line_kind, not_utf8, ParseError};
use crate::value::Value;

/// A `.config`, defconfig or fragment, kept line by line so that printing it (`Display`)
/// gives back exactly the bytes it was parsed from, edits included only where made.
#[derive(Debug, Clone)]
pub struct Config {
    prefix: String,
    lines: Vec<Line>,
    final_newline: bool,
    index: LastAssignments,
}

/// Line index of the last assignment of each symbol (the one Kconfig obeys), keyed by the
/// symbol's name inside that line, so that indexing allocates nothing per symbol.
#[derive(Debug, Clone, Default)]
struct LastAssignments {
    table: HashTable<usize>,
    hasher: DefaultHashBuilder,
}

impl LastAssignments {
    fn find(&self, lines: &[Line], symbol: &str) -> Option<usize> {
        let hash = self.hasher.hash_one(symbol);
        self.table
            .find(hash, |&i| lines[i].symbol() == Some(symbol))
            .copied()
    }

    /// Records line `i` as the last assignment of its symbol.
    fn record(&mut self, lines: &[Line], i: usize) {
        let Some(symbol) = lines[i].symbol() else {
            return;
        };
        let hasher = &self.hasher;
        let hash = hasher.hash_one(symbol);
        let entry = self.table.entry(
            hash,
            |&j| lines[j].symbol() == Some(symbol),
            |&j| hasher.hash_one(lines[j].symbol().unwrap_or("")),
        );
        match entry {
            Entry::Occupied(mut e) => *e.get_mut() = i,
            Entry::Vacant(e) => {
                e.insert(i);
            }
        }
    }

    fn contains(&self, lines: &[Line], symbol: &str) -> bool {
        self.find(lines, symbol).is_some()
    }

    fn len(&self) -> usize {
        self.table.len()
    }
}

/// Why an edit was refused; the config is left as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The name has characters a Kconfig symbol cannot have.
    #[error("invalid symbol name `{0}`; use letters, digits and `_` only")]
    InvalidSymbol(String),
    /// A string value with a line break would not be one line of the file.
    #[error("the value of {0} contains a line break; a .config value must fit on one line")]
    LineBreak(String),
}

impl Config {
    /// The prefix of Linux and busybox symbols.
    pub const DEFAULT_PREFIX: &'static str = "CONFIG_";

    /// An empty file whose symbols carry `prefix`.
    pub fn new(prefix: &str) -> Config {
        Config {
            prefix: prefix.to_string(),
            lines: Vec::new(),
            final_newline: true,
            index: LastAssignments::default(),
        }
    }

    /// Parses a file whose symbols start with `CONFIG_`.
    pub fn parse(text: &str) -> Result<Config, ParseError> {
        Config::parse_with_prefix(text, Config::DEFAULT_PREFIX)
    }

    /// Parses the bytes of a file whose symbols start with `prefix`; bytes that are not
    /// UTF-8 are an error at their line and column.
    pub fn parse_bytes(bytes: &[u8], prefix: &str) -> Result<Config, ParseError> {
        match std::str::from_utf8(bytes) {
            Ok(text) => Config::parse_with_prefix(text, prefix),
            Err(e) => Err(not_utf8(bytes, e.valid_up_to())),
        }
    }

    /// Parses a file whose symbols start with `prefix` (`BR2_` for Buildroot).
    pub fn parse_with_prefix(text: &str, prefix: &str) -> Result<Config, ParseError> {
        let (body, final_newline) = match text.strip_suffix('\n') {
            Some(body) => (body, true),
            None => (text, text.is_empty()),
        };
        let mut lines = Vec::new();
        if !text.is_empty() {
            for (i, line) in body.split('\n').enumerate() {
                let (kind, symbol) = line_kind(line, prefix).map_err(|(offset, expected)| {
                    error_at(line, prefix, i + 1, offset, expected)
                })?;
                lines.push(Line {
                    text: line.to_string(),
                    symbol,
                    kind,
                });
            }
        }
        Ok(Config::from_lines(prefix, lines, final_newline))
    }

    pub(crate) fn from_lines(prefix: &str, lines: Vec<Line>, final_newline: bool) -> Config {
        let mut config = Config {
            prefix: prefix.to_string(),
            lines,
            final_newline,
            index: LastAssignments::default(),
        };
        config.reindex();
        config
    }

    fn reindex(&mut self) {
        self.index.table.clear();
        for i in 0..self.lines.len() {
            self.index.record(&self.lines, i);
        }
    }

    /// The symbol prefix, such as `CONFIG_`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Every line in file order.
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// Whether the text ended with `\n` (an empty file counts as ending with one).
    pub fn has_final_newline(&self) -> bool {
        self.final_newline
    }

    /// The value Kconfig would read for `symbol` (no prefix): its last assignment.
    pub fn get(&self, symbol: &str) -> Option<&Value> {
        let line = &self.lines[self.index.find(&self.lines, symbol)?];
        line.assignment_parts().map(|(_, value)| value)
    }

    /// The value of each assigned symbol (no prefix), once, in the order of its last line.
    pub fn assignments(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.lines.iter().enumerate().filter_map(|(i, line)| {
            let (symbol, value) = line.assignment_parts()?;
            (self.index.find(&self.lines, symbol) == Some(i)).then_some((symbol, value))
        })
    }

    /// The number of distinct symbols assigned.
    pub fn symbol_count(&self) -> usize {
        self.index.len()
    }

    /// Sets `symbol` (no prefix): rewrites its last assignment line, or appends a line when
    /// the file does not mention it. Returns whether the value changed.
    pub fn set(&mut self, symbol: &str, value: Value) -> Result<bool, EditError> {
        check_symbol(symbol)?;
        if matches!(&value, Value::Str(s) if s.contains(['\n', '\r'])) {
            return Err(EditError::LineBreak(format!("{}{symbol}", self.prefix)));
        }
        if self.get(symbol) == Some(&value) {
            return Ok(false);
        }
        let mut line = Line::assignment(&self.prefix, symbol, value);
        match self.index.find(&self.lines, symbol) {
            Some(i) => {
                if self.lines[i].text.ends_with('\r') {
                    line.text.push('\r');
                }
                self.lines[i] = line;
            }
            None => {
                if self.crlf() {
                    line.text.push('\r');
                    if let Some(last) = self.lines.last_mut().filter(|_| !self.final_newline) {
                        if !last.text.ends_with('\r') {
                            last.text.push('\r');
                        }
                    }
                }
                self.lines.push(line);
                self.index.record(&self.lines, self.lines.len() - 1);
                self.final_newline = true;
            }
        }
        Ok(true)
    }

    /// Whether the file's lines end in CRLF, as its first line does: lines that [`Config::set`]
    /// adds then end in CRLF too, and a rewritten line keeps the ending it had.
    pub fn crlf(&self) -> bool {
        self.lines.first().is_some_and(|l| l.text.ends_with('\r'))
    }

    /// Writes `symbol` (no prefix) as `# CONFIG_X is not set`, like [`Config::set`] with
    /// [`Value::NotSet`].
    pub fn unset(&mut self, symbol: &str) -> Result<bool, EditError> {
        self.set(symbol, Value::NotSet)
    }

    /// Deletes every line that assigns `symbol` (no prefix). Returns whether there was one.
    pub fn remove(&mut self, symbol: &str) -> bool {
        if !self.index.contains(&self.lines, symbol) {
            return false;
        }
        self.lines
            .retain(|line| line.assignment_parts().is_none_or(|(s, _)| s != symbol));
        self.reindex();
        true
    }
}

fn check_symbol(symbol: &str) -> Result<(), EditError> {
    let valid = !symbol.is_empty()
        && symbol
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(EditError::InvalidSymbol(symbol.to_string()))
    }
}

impl PartialEq for Config {
    fn eq(&self, other: &Config) -> bool {
        self.prefix == other.prefix
            && self.lines == other.lines
            && self.final_newline == other.final_newline
    }
}

impl Eq for Config {}

/// Prints the file: the bytes it was parsed from, with edited lines rendered as Kconfig
/// writes them.
impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let last = self.lines.len().saturating_sub(1);
        for (i, line) in self.lines.iter().enumerate() {
            f.write_str(&line.text)?;
            if i < last || self.final_newline {
                f.write_str("\n")?;
            }
        }
        Ok(())
    }
}
