//! One line of a `.config`: its exact text and what it means.

use crate::value::Value;

/// What a line of a `.config` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineKind {
    /// Empty, or only spaces and tabs.
    Blank,
    /// A `#` comment other than `# CONFIG_X is not set`.
    Comment,
    /// `CONFIG_X=value` or `# CONFIG_X is not set` ([`Value::NotSet`]).
    Assignment {
        /// The symbol's name without the prefix (`CMDLINE` for `CONFIG_CMDLINE`).
        symbol: String,
        /// What it is set to.
        value: Value,
    },
}

/// A line of a `.config`, kept byte for byte (without its `\n`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub(crate) text: String,
    pub(crate) kind: LineKind,
}

impl Line {
    /// Renders a new assignment line the way Kconfig writes it.
    pub(crate) fn assignment(prefix: &str, symbol: &str, value: Value) -> Line {
        let text = match &value {
            Value::NotSet => format!("# {prefix}{symbol} is not set"),
            value => format!("{prefix}{symbol}={value}"),
        };
        Line {
            text,
            kind: LineKind::Assignment {
                symbol: symbol.to_string(),
                value,
            },
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

    /// The symbol (without prefix) and value, when the line is an assignment.
    pub fn assignment_parts(&self) -> Option<(&str, &Value)> {
        match &self.kind {
            LineKind::Assignment { symbol, value } => Some((symbol, value)),
            _ => None,
        }
    }
}
