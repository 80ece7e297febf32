//! The nom grammar of one `.config` line, and the error it gives for a line it rejects.

use std::fmt;
use std::ops::Range;

use nom::{
    branch::alt,
    bytes::complete::{tag, take_while, take_while1},
    character::complete::{anychar, char, none_of, space0},
    combinator::{eof, map},
    multi::fold_many0,
    sequence::{delimited, preceded},
    IResult,
};

use crate::line::LineKind;
use crate::value::{parse_number, Tristate, Value};

/// A line that is not a blank line, a comment, `# CONFIG_X is not set` or `CONFIG_X=value`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParseError {
    /// The file the line came from, when the caller said so with [`ParseError::in_file`].
    pub file: Option<String>,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column (in characters) where the line stops making sense.
    pub column: usize,
    /// What was expected at that column.
    pub expected: String,
    /// The line's text from that column on.
    pub found: String,
}

impl ParseError {
    /// Names the file the text came from, for the message.
    pub fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(file) => write!(f, "{file}:{}:{}: ", self.line, self.column)?,
            None => write!(f, "line {}, column {}: ", self.line, self.column)?,
        }
        write!(f, "expected {}, ", self.expected)?;
        if self.found.is_empty() {
            f.write_str("found end of line")
        } else {
            write!(f, "found `{}`", self.found)
        }
    }
}

/// Where in a line parsing failed and what it wanted there.
#[derive(Debug, PartialEq)]
pub(crate) struct Expected<'a> {
    at: &'a str,
    what: &'static str,
}

impl<'a> nom::error::ParseError<&'a str> for Expected<'a> {
    fn from_error_kind(at: &'a str, _: nom::error::ErrorKind) -> Self {
        Expected {
            at,
            what: "valid syntax",
        }
    }

    fn append(_: &'a str, _: nom::error::ErrorKind, other: Self) -> Self {
        other
    }
}

type Res<'a, T> = IResult<&'a str, T, Expected<'a>>;

/// Stands for the file's symbol prefix in [`WANT_LINE`]; [`error_at`] puts the real one in.
const PREFIX: &str = "<PREFIX>";
const WANT_LINE: &str = "`<PREFIX>NAME=value`, a `#` comment or a blank line";
const WANT_VALUE: &str = "y, m, n, a decimal or hex number or a double-quoted string";

/// Replaces whatever error `parser` gives with "expected `what`" at the point it started.
fn expect<'a, T>(
    what: &'static str,
    mut parser: impl FnMut(&'a str) -> Res<'a, T>,
) -> impl FnMut(&'a str) -> Res<'a, T> {
    move |input| parser(input).map_err(|e| e.map(|_| Expected { at: input, what }))
}

fn symbol(input: &str) -> Res<'_, &str> {
    take_while1(|c: char| c.is_ascii_alphanumeric() || c == '_')(input)
}

fn string(input: &str) -> Res<'_, String> {
    let body = fold_many0(
        alt((preceded(char('\\'), anychar), none_of("\\\""))),
        String::new,
        |mut s, c| {
            s.push(c);
            s
        },
    );
    let (rest, opened) = preceded(char('"'), body)(input)?;
    let (rest, _) = expect("a closing `\"`", char('"'))(rest)?;
    Ok((rest, opened))
}

fn bare_value(input: &str) -> Res<'_, Value> {
    let (rest, word) = take_while1(|c: char| c != ' ' && c != '\t')(input)?;
    let value = match word {
        "y" => Value::Tristate(Tristate::Yes),
        "m" => Value::Tristate(Tristate::Module),
        "n" => Value::Tristate(Tristate::No),
        _ => match parse_number(word, true) {
            Some(v) => v,
            None => {
                return Err(nom::Err::Error(Expected {
                    at: input,
                    what: "",
                }))
            }
        },
    };
    Ok((rest, value))
}

fn value(input: &str) -> Res<'_, Value> {
    if input.starts_with('"') {
        return map(string, Value::Str)(input);
    }
    expect(WANT_VALUE, bare_value)(input)
}

fn end_of_line(input: &str) -> Res<'_, ()> {
    let (rest, _) = space0(input)?;
    let (rest, _) = expect("end of line after the value", eof)(rest)?;
    Ok((rest, ()))
}

/// A parsed assignment: its value and the length of its symbol's name.
type Assigned = (Value, usize);

fn assignment<'a>(prefix: &str, input: &'a str) -> Res<'a, Assigned> {
    let (rest, _) = tag(prefix)(input)?;
    let (rest, name) = expect("a symbol name (letters, digits, `_`)", symbol)(rest)?;
    let (rest, _) = expect("`=` after the symbol name", char('='))(rest)?;
    let (rest, value) = value(rest)?;
    let (rest, _) = end_of_line(rest)?;
    Ok((rest, (value, name.len())))
}

fn not_set<'a>(prefix: &str, input: &'a str) -> Res<'a, Assigned> {
    let (rest, name) =
        delimited(preceded(tag("# "), tag(prefix)), symbol, tag(" is not set"))(input)?;
    let (rest, _) = space0(rest)?;
    let (rest, _) = eof(rest)?;
    Ok((rest, (Value::NotSet, name.len())))
}

/// Classifies one line (without its `\n`) and finds its symbol's name (an empty range
/// for other lines); on failure gives the byte offset and what was expected there.
pub(crate) fn line_kind(
    text: &str,
    prefix: &str,
) -> Result<(LineKind, Range<usize>), (usize, &'static str)> {
    // Kconfig itself strips a `\r` before the `\n`, so CRLF files are read like LF files.
    let body = text.strip_suffix('\r').unwrap_or(text);
    let blank: Res<'_, &str> = take_while(|c| c == ' ' || c == '\t')(body);
    if matches!(blank, Ok(("", _))) {
        return Ok((LineKind::Blank, 0..0));
    }
    if body.starts_with('#') {
        return Ok(match not_set(prefix, body) {
            Ok((_, (value, len))) => {
                let start = 2 + prefix.len();
                (LineKind::Assignment(value), start..start + len)
            }
            Err(_) => (LineKind::Comment, 0..0),
        });
    }
    if !body.starts_with(prefix) {
        return Err((0, WANT_LINE));
    }
    match assignment(prefix, body) {
        Ok((_, (value, len))) => {
            let start = prefix.len();
            Ok((LineKind::Assignment(value), start..start + len))
        }
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err((body.len() - e.at.len(), e.what)),
        Err(nom::Err::Incomplete(_)) => Err((body.len(), WANT_LINE)),
    }
}

/// The error for a file that is not UTF-8 text: the line and column of the first byte that
/// is not, and that line with such bytes escaped (`\xff`).
pub(crate) fn not_utf8(bytes: &[u8], valid_up_to: usize) -> ParseError {
    let line_start = bytes[..valid_up_to]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line_end = bytes[valid_up_to..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| valid_up_to + i);
    let before = String::from_utf8_lossy(&bytes[line_start..valid_up_to]);
    ParseError {
        file: None,
        line: bytes[..line_start].iter().filter(|&&b| b == b'\n').count() + 1,
        column: before.chars().count() + 1,
        expected: "UTF-8 text (a .config is UTF-8; re-save the file as UTF-8)".to_string(),
        found: escape_invalid(&bytes[valid_up_to..line_end]),
    }
}

/// `bytes` as text, each byte that is not part of valid UTF-8 written as `\xNN`.
fn escape_invalid(bytes: &[u8]) -> String {
    let mut out = String::new();
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Builds the error for line `number` (1-based) of a file with symbol prefix `prefix`,
/// failing at byte `offset` with `expected`.
pub(crate) fn error_at(
    text: &str,
    prefix: &str,
    number: usize,
    offset: usize,
    expected: &'static str,
) -> ParseError {
    let body = text.strip_suffix('\r').unwrap_or(text);
    let offset = offset.min(body.len());
    ParseError {
        file: None,
        line: number,
        column: body[..offset].chars().count() + 1,
        expected: expected.replace(PREFIX, prefix),
        found: body[offset..].to_string(),
    }
}
