//! Typed values of `.config` assignments and how they are written and compared.

use std::fmt;

/// A bool/tristate state as written in a `.config`: `y`, `m` or `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tristate {
    /// `y`: built in.
    Yes,
    /// `m`: built as a module.
    Module,
    /// `n`: off (Kconfig itself writes `# CONFIG_X is not set` instead).
    No,
}

/// The value of one assignment line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// `CONFIG_X=y`, `=m` or `=n`.
    Tristate(Tristate),
    /// `CONFIG_X=-12`: a decimal number.
    Int(i64),
    /// `CONFIG_X=0x1f`: a hexadecimal number, kept as written (Kconfig also writes
    /// defaults such as `34c` without the `0x`).
    Hex(String),
    /// `CONFIG_X="text"`, held unescaped.
    Str(String),
    /// `# CONFIG_X is not set`.
    NotSet,
}

/// The type a Kconfig entry declares for its symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SymbolType {
    /// `bool`: `y` or `n`.
    Bool,
    /// `tristate`: `y`, `m` or `n`.
    Tristate,
    /// `string`: a double-quoted string.
    String,
    /// `int`: a decimal number.
    Int,
    /// `hex`: a hexadecimal number.
    Hex,
}

/// Why a value given on a command line does not fit its symbol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// The text is a string with an opening quote but no matching closing one.
    #[error("unterminated string {text}; close it with a double quote")]
    Unterminated {
        /// The value as given.
        text: String,
    },
    /// The text has more after the quote that closes the string, as `"a"b"`.
    #[error("{text}: `{after}` after the closing quote; escape a quote inside the string as \\\", e.g. \"a\\\"b\"")]
    AfterClosingQuote {
        /// The value as given.
        text: String,
        /// What follows the closing quote.
        after: String,
    },
    /// The value cannot be stored in a symbol of this type.
    #[error("{symbol_type} symbol cannot take {text}; {hint}")]
    WrongType {
        /// The declared type.
        symbol_type: SymbolType,
        /// The value as given.
        text: String,
        /// What would be accepted.
        hint: &'static str,
    },
}

impl Value {
    /// Parses a value typed by a person: `y`/`m`/`n`, a number, `0x..`, a quoted string, or
    /// anything else as a bare string; with a known symbol type, checks that it fits.
    ///
    /// `n` becomes [`Value::NotSet`], which is how Kconfig writes an off symbol.
    pub fn from_user(text: &str, symbol_type: Option<SymbolType>) -> Result<Value, ValueError> {
        let quoted = text.starts_with('"');
        let value = if quoted {
            match unquote(text) {
                Ok(s) => Value::Str(s),
                Err(None) => {
                    return Err(ValueError::Unterminated {
                        text: text.to_string(),
                    })
                }
                Err(Some(after)) => {
                    return Err(ValueError::AfterClosingQuote {
                        text: text.to_string(),
                        after: after.to_string(),
                    })
                }
            }
        } else {
            match text {
                "y" => Value::Tristate(Tristate::Yes),
                "m" => Value::Tristate(Tristate::Module),
                "n" => Value::NotSet,
                // A bare `cafe` is a word, not a number, unless the symbol is known to be hex.
                _ => parse_number(text, false).unwrap_or_else(|| Value::Str(text.to_string())),
            }
        };
        let Some(symbol_type) = symbol_type else {
            return Ok(value);
        };
        let wrong = |hint| ValueError::WrongType {
            symbol_type,
            text: text.to_string(),
            hint,
        };
        match (symbol_type, value) {
            (SymbolType::Bool, v @ (Value::Tristate(Tristate::Yes) | Value::NotSet)) => Ok(v),
            (SymbolType::Bool, _) => Err(wrong("use y or n")),
            (SymbolType::Tristate, v @ (Value::Tristate(_) | Value::NotSet)) => Ok(v),
            (SymbolType::Tristate, _) => Err(wrong("use y, m or n")),
            (SymbolType::Int, v @ Value::Int(_)) => Ok(v),
            (SymbolType::Int, _) => Err(wrong("use a decimal number")),
            (SymbolType::Hex, v @ Value::Hex(_)) => Ok(v),
            // Kconfig accepts hex digits without `0x` and adds the prefix itself.
            (SymbolType::Hex, _)
                if !text.is_empty() && text.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                Ok(Value::Hex(format!("0x{text}")))
            }
            (SymbolType::Hex, _) => Err(wrong("use a hexadecimal number such as 0x1000")),
            (SymbolType::String, Value::Str(s)) => Ok(Value::Str(s)),
            // A quoted value is always `Value::Str`, so this is a bare word like `y` or `12`.
            (SymbolType::String, _) => Ok(Value::Str(text.to_string())),
        }
    }

    /// Whether `actual` (absent when a `.config` does not mention the symbol) gives the
    /// symbol the same value as `self` once Kconfig has read it.
    ///
    /// Off, `=n` and absent are the same; numbers compare by value; a decimal-looking value
    /// matches the hex value Kconfig writes for it after adding `0x`.
    pub fn same_effect(&self, actual: Option<&Value>) -> bool {
        let off = |v: Option<&Value>| {
            matches!(
                v,
                None | Some(Value::NotSet) | Some(Value::Tristate(Tristate::No))
            )
        };
        if off(Some(self)) || off(actual) {
            return off(Some(self)) && off(actual);
        }
        let Some(actual) = actual else {
            return false;
        };
        match (self, actual) {
            (Value::Hex(a), Value::Hex(b)) => hex_value(a).is_some_and(|a| hex_value(b) == Some(a)),
            (Value::Int(i), Value::Hex(h)) | (Value::Hex(h), Value::Int(i)) => {
                *i >= 0 && hex_value(&i.to_string()).is_some_and(|i| hex_value(h) == Some(i))
            }
            (a, b) => a == b,
        }
    }
}

/// Parses `-12`/`34` as [`Value::Int`] and `0x1f` as [`Value::Hex`]; with `bare_hex`,
/// also hex digits without `0x` that are not decimal (`34c`).
pub(crate) fn parse_number(text: &str, bare_hex: bool) -> Option<Value> {
    let hex_digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_hexdigit());
    if let Some(digits) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return hex_digits(digits).then(|| Value::Hex(text.to_string()));
    }
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok().map(Value::Int);
    }
    (bare_hex && hex_digits(text)).then(|| Value::Hex(text.to_string()))
}

/// The number a hex value stands for, with or without `0x`.
fn hex_value(text: &str) -> Option<u128> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    u128::from_str_radix(digits, 16).ok()
}

/// Undoes [`quote`] on a text that starts with `"`: `"a \"b\""` becomes `a "b"`.
/// `Err(None)` without a closing quote, `Err(Some(rest))` with text after it.
fn unquote(text: &str) -> Result<String, Option<&str>> {
    let inner = text.strip_prefix('"').ok_or(None)?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next().ok_or(None)?),
            '"' if chars.as_str().is_empty() => return Ok(out),
            '"' => return Err(Some(chars.as_str())),
            c => out.push(c),
        }
    }
    Err(None)
}

/// Writes a string the way Kconfig does: in double quotes, with `"` and `\` escaped.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

impl fmt::Display for Tristate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tristate::Yes => "y",
            Tristate::Module => "m",
            Tristate::No => "n",
        })
    }
}

/// Shows the value as it stands after `=`; [`Value::NotSet`] shows as `is not set`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Tristate(t) => t.fmt(f),
            Value::Int(i) => i.fmt(f),
            Value::Hex(h) => f.write_str(h),
            Value::Str(s) => f.write_str(&quote(s)),
            Value::NotSet => f.write_str("is not set"),
        }
    }
}

impl fmt::Display for SymbolType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SymbolType::Bool => "bool",
            SymbolType::Tristate => "tristate",
            SymbolType::String => "string",
            SymbolType::Int => "int",
            SymbolType::Hex => "hex",
        })
    }
}
