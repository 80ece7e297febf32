//! One line of a `.config`: its exact text and what it means.

use std::ops::Range;

use crate::value::Value;

/// What a line of a `.config` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineKind {
    /// Empty, or only spaces and tabs.
    Blank,
    /// A `#` comment other than `# CONFIG_X is not set`.
    Comment,
    /// `CONFIG_X=value`, or `# CONFIG_X is not set` as [`Value::NotSet`]; the symbol is
    /// [`Line::symbol`].
    Assignment(Value),
}

/// A line of a `.config`, kept byte for byte (without its `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub(crate) text: String,
    /// Where the symbol's name (without prefix) sits in `text`; empty for other lines.
    /// Kept as a range so a line costs one allocation, which merging 15k lines feels.
    pub(crate) symbol: Range<usize>,
    pub(crate) kind: LineKind,
}

impl Line {
    /// Renders a new assignment line the way Kconfig writes it.
    pub(crate) fn assignment(prefix: &str, symbol: &str, value: Value) -> Line {
        let (text, start) = match &value {
            Value::NotSet => (format!("# {prefix}{symbol} is not set"), 2 + prefix.len()),
            value => (format!("{prefix}{symbol}={value}"), prefix.len()),
        };
        Line {
            text,
            symbol: start..start + symbol.len(),
            kind: LineKind::Assignment(value),
        }
    }

    /// An empty line.
    pub(crate) fn blank() -> Line {
        Line {
            text: String::new(),
            symbol: 0..0,
            kind: LineKind::Blank,
        }
    }

    /// The line exactly as read (or as rendered, for an edited line), without `\n`.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// What the line says.
    pub fn kind(&self) -> &LineKind {
        &self.kind
    }

    /// The assigned symbol without its prefix (`CMDLINE` for `CONFIG_CMDLINE=...`).
    pub fn symbol(&self) -> Option<&str> {
        match self.kind {
            LineKind::Assignment(_) => Some(&self.text[self.symbol.clone()]),
            _ => None,
        }
    }

    /// The symbol (without prefix) and value, when the line is an assignment.
    pub fn assignment_parts(&self) -> Option<(&str, &Value)> {
        match &self.kind {
            LineKind::Assignment(value) => Some((&self.text[self.symbol.clone()], value)),
            _ => None,
        }
    }
}
