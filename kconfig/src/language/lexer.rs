//! The Kconfig lexer (`scripts/kconfig/lexer.l`): one statement's tokens at a time, with
//! `$(...)` expanded as the tokens are read, assignment values taken raw, and help texts
//! read by indentation.

use nom::{
    branch::alt,
    bytes::complete::{tag, take_while1},
    combinator::value,
    IResult,
};

use super::error::LoadError;
use super::macros::Preprocessor;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kw {
    Bool,
    Choice,
    Comment,
    Config,
    DefBool,
    DefTristate,
    Default,
    Depends,
    Endchoice,
    Endif,
    Endmenu,
    Help,
    Hex,
    If,
    Imply,
    Int,
    Mainmenu,
    Menu,
    Menuconfig,
    Modules,
    On,
    Optional,
    Prompt,
    Range,
    Select,
    Source,
    String,
    Tristate,
    Visible,
}

fn keyword(word: &str) -> Option<Kw> {
    Some(match word {
        "bool" => Kw::Bool,
        "choice" => Kw::Choice,
        "comment" => Kw::Comment,
        "config" => Kw::Config,
        "def_bool" => Kw::DefBool,
        "def_tristate" => Kw::DefTristate,
        "default" => Kw::Default,
        "depends" => Kw::Depends,
        "endchoice" => Kw::Endchoice,
        "endif" => Kw::Endif,
        "endmenu" => Kw::Endmenu,
        "help" => Kw::Help,
        "hex" => Kw::Hex,
        "if" => Kw::If,
        "imply" => Kw::Imply,
        "int" => Kw::Int,
        "mainmenu" => Kw::Mainmenu,
        "menu" => Kw::Menu,
        "menuconfig" => Kw::Menuconfig,
        "modules" => Kw::Modules,
        "on" => Kw::On,
        "optional" => Kw::Optional,
        "prompt" => Kw::Prompt,
        "range" => Kw::Range,
        "select" => Kw::Select,
        "source" => Kw::Source,
        "string" => Kw::String,
        "tristate" => Kw::Tristate,
        "visible" => Kw::Visible,
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Or,
    And,
    Equal,
    Unequal,
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    Not,
    Open,
    Close,
    ColonEqual,
    PlusEqual,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    Kw(Kw),
    Word(String),
    Quote(String),
    Op(Op),
    AssignVal(String),
}

impl Tok {
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Kw(k) => format!("{k:?}").to_lowercase(),
            Tok::Word(w) => w.clone(),
            Tok::Quote(q) => format!("\"{q}\""),
            Tok::Op(o) => format!("{o:?}"),
            Tok::AssignVal(v) => v.clone(),
        }
    }
}

/// One statement: its tokens (without the end of line) and the line of the first.
#[derive(Debug)]
pub(crate) struct Statement {
    pub line: u32,
    pub tokens: Vec<Tok>,
}

fn operator(input: &str) -> IResult<&str, Op> {
    alt((
        value(Op::Or, tag("||")),
        value(Op::And, tag("&&")),
        value(Op::Unequal, tag("!=")),
        value(Op::LessEqual, tag("<=")),
        value(Op::GreaterEqual, tag(">=")),
        value(Op::ColonEqual, tag(":=")),
        value(Op::PlusEqual, tag("+=")),
        value(Op::Equal, tag("=")),
        value(Op::Less, tag("<")),
        value(Op::Greater, tag(">")),
        value(Op::Not, tag("!")),
        value(Op::Open, tag("(")),
        value(Op::Close, tag(")")),
    ))(input)
}

fn word_run(input: &str) -> IResult<&str, &str> {
    take_while1(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')(input)
}

/// A word of the older grammar (busybox's kconfig), whose lexer also takes `/` and `.`
/// in words, so that `source libbb/Config.in` names a path.
fn path_word_run(input: &str) -> IResult<&str, &str> {
    take_while1(|c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$' | '/' | '.'))(
        input,
    )
}

/// Reads a Kconfig file statement by statement.
pub(crate) struct Lexer<'t> {
    text: &'t str,
    pos: usize,
    /// The line the lexer is on (`yylineno`).
    pub line: u32,
    after_help: bool,
    token_line: Option<u32>,
    /// Characters skipped with a warning, as `conf` warns about them.
    pub warnings: Vec<String>,
    /// Words may hold `/` and `.` (the older grammar: see [`path_word_run`]).
    path_words: bool,
}

impl<'t> Lexer<'t> {
    pub(crate) fn new(text: &'t str) -> Lexer<'t> {
        Lexer {
            text,
            pos: 0,
            line: 1,
            after_help: false,
            token_line: None,
            warnings: Vec::new(),
            path_words: false,
        }
    }

    /// A lexer whose words may hold `/` and `.`, as the older grammar's do.
    pub(crate) fn with_path_words(mut self, on: bool) -> Lexer<'t> {
        self.path_words = on;
        self
    }

    fn rest(&self) -> &'t str {
        &self.text[self.pos..]
    }

    /// The rest of the physical line (what `input()` reads up to `\n`).
    fn rest_of_line(&self) -> &'t str {
        let rest = self.rest();
        &rest[..rest.find('\n').unwrap_or(rest.len())]
    }

    /// The next statement, or `None` at the end of the file.
    pub(crate) fn statement(
        &mut self,
        pp: &mut Preprocessor,
    ) -> Result<Option<Statement>, LoadError> {
        let mut tokens: Vec<Tok> = Vec::new();
        let mut line = self.line;
        let after_help = std::mem::take(&mut self.after_help);
        loop {
            match self.token(pp)? {
                None if tokens.is_empty() => {
                    if self.pos >= self.text.len() {
                        return Ok(None);
                    }
                    continue;
                }
                None => return Ok(Some(Statement { line, tokens })),
                Some(tok) => {
                    if tokens.is_empty() {
                        line = self.token_line.unwrap_or(line);
                    }
                    let assignment = tokens.len() == 1
                        && !after_help
                        && matches!(tokens[0], Tok::Word(_))
                        && matches!(tok, Tok::Op(Op::Equal | Op::ColonEqual | Op::PlusEqual));
                    tokens.push(tok);
                    if assignment {
                        let raw = self.rest_of_line();
                        let value = raw.trim_start_matches([' ', '\t']);
                        self.pos += raw.len();
                        if !value.is_empty() {
                            tokens.push(Tok::AssignVal(value.to_string()));
                        }
                    }
                }
            }
        }
    }

    /// The next token of the statement; `None` at its end (a newline or the end of file).
    fn token(&mut self, pp: &mut Preprocessor) -> Result<Option<Tok>, LoadError> {
        loop {
            let rest = self.rest();
            let Some(c) = rest.chars().next() else {
                return Ok(None);
            };
            match c {
                ' ' | '\t' => self.pos += 1,
                '#' => self.pos += self.rest_of_line().len(),
                '\n' => {
                    self.pos += 1;
                    self.line += 1;
                    return Ok(None);
                }
                '\\' if rest[1..].starts_with('\n') => {
                    self.pos += 2;
                    self.line += 1;
                }
                '"' | '\'' => {
                    self.token_line = Some(self.line);
                    self.pos += 1;
                    return self.string(c, pp).map(|s| Some(Tok::Quote(s)));
                }
                _ => {
                    let run = match self.path_words {
                        true => path_word_run(rest),
                        false => word_run(rest),
                    };
                    if let Ok((_, run)) = run {
                        self.token_line = Some(self.line);
                        if !run.contains('$') {
                            self.pos += run.len();
                            return Ok(Some(match keyword(run) {
                                Some(k) => Tok::Kw(k),
                                None => Tok::Word(run.to_string()),
                            }));
                        }
                        pp.line = self.line;
                        let (expansion, used) = pp.expand_token(self.rest_of_line())?;
                        self.pos += used;
                        if expansion.is_empty() {
                            continue;
                        }
                        return Ok(Some(Tok::Word(expansion)));
                    }
                    if let Ok((after, op)) = operator(rest) {
                        self.token_line = Some(self.line);
                        self.pos += rest.len() - after.len();
                        return Ok(Some(Tok::Op(op)));
                    }
                    self.warnings.push(format!(
                        "{}:{}:warning: ignoring unsupported character '{c}'",
                        pp.file, self.line
                    ));
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    fn string(&mut self, open: char, pp: &mut Preprocessor) -> Result<String, LoadError> {
        let mut out = String::new();
        loop {
            let rest = self.rest();
            let Some(c) = rest.chars().next() else {
                return Ok(out);
            };
            match c {
                '$' => {
                    pp.line = self.line;
                    self.pos += 1;
                    let (expansion, used) = pp.expand_dollar(self.rest_of_line())?;
                    self.pos += used;
                    out.push_str(&expansion);
                }
                '\\' => {
                    self.pos += 1;
                    if let Some(next) = self.rest().chars().next().filter(|&n| n != '\n') {
                        out.push(next);
                        self.pos += next.len_utf8();
                    }
                }
                '\n' => {
                    self.warnings.push(format!(
                        "{}:{}:warning: multi-line strings not supported",
                        pp.file, self.line
                    ));
                    return Ok(out);
                }
                c if c == open => {
                    self.pos += 1;
                    return Ok(out);
                }
                c => {
                    out.push(c);
                    self.pos += c.len_utf8();
                }
            }
        }
    }

    /// The help text after `help`: lines indented at least as much as its first line
    /// (tabs to multiples of 8), ended by a less indented line.
    pub(crate) fn help(&mut self) -> String {
        self.after_help = true;
        let mut text = String::new();
        let mut first_ts = 0usize;
        let mut last_ts = 0usize;
        loop {
            let rest = self.rest();
            if rest.is_empty() {
                return text;
            }
            let blanks = rest.len() - rest.trim_start_matches([' ', '\t']).len();
            let after_blanks = &rest[blanks..];
            if after_blanks.is_empty() {
                self.pos = self.text.len();
                return text;
            }
            if let Some(after) = after_blanks.strip_prefix('\n') {
                // A blank line: it ends the help text when the next line starts at column 0.
                let next = after.chars().next();
                self.pos += blanks + 1;
                self.line += 1;
                match next {
                    Some(n) if n != ' ' && n != '\t' && n != '\n' => return text,
                    _ => text.push('\n'),
                }
                continue;
            }
            if blanks > 0 {
                let mut ts = 0;
                for b in rest[..blanks].bytes() {
                    ts = if b == b'\t' { (ts & !7) + 8 } else { ts + 1 };
                }
                last_ts = ts;
                if first_ts != 0 {
                    if ts < first_ts {
                        self.pos += blanks;
                        return text;
                    }
                    text.push_str(&" ".repeat(ts - first_ts));
                }
                self.pos += blanks;
            }
            let line = self.rest_of_line();
            text.push_str(line.trim_end_matches([' ', '\t']));
            if first_ts == 0 {
                first_ts = last_ts;
            }
            self.pos += line.len();
        }
    }
}
