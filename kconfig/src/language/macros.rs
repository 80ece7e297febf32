//! The Kconfig preprocessor (`scripts/kconfig/preprocess.c`): `$(NAME)` variables,
//! user-defined functions (`=`, `:=`, `+=`), the built-in functions (`error-if`,
//! `filename`, `info`, `lineno`, `shell`, `warning-if`) and the environment.

use std::collections::{BTreeMap, HashMap};

use super::environment::Environment;
use super::error::LoadError;
use super::shell::ShellRunner;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    Recursive,
    Simple,
    Append,
}

struct Variable {
    value: String,
    flavor: Flavor,
    expanding: u32,
}

/// Expansion state while a tree is parsed.
pub(crate) struct Preprocessor<'a> {
    variables: HashMap<String, Variable>,
    env: &'a Environment,
    shell: &'a mut dyn ShellRunner,
    /// The file and line being read, for `$(filename)`, `$(lineno)` and errors.
    pub file: String,
    pub line: u32,
    pub used_env: BTreeMap<String, Option<String>>,
    pub shell_log: Vec<(String, String)>,
    pub messages: Vec<String>,
    depth: u32,
}

const MAX_ARGS: usize = 16;

impl<'a> Preprocessor<'a> {
    pub(crate) fn new(env: &'a Environment, shell: &'a mut dyn ShellRunner) -> Preprocessor<'a> {
        Preprocessor {
            variables: HashMap::new(),
            env,
            shell,
            file: String::new(),
            line: 0,
            used_env: BTreeMap::new(),
            shell_log: Vec::new(),
            messages: Vec::new(),
            depth: 0,
        }
    }

    fn error(&self, message: String) -> LoadError {
        LoadError::Syntax {
            file: self.file.clone().into(),
            line: self.line,
            message,
        }
    }

    /// `getenv` through the environment, remembering what was read.
    pub(crate) fn env(&mut self, name: &str) -> Option<String> {
        if name.is_empty() {
            return None;
        }
        let value = self.env.get(name);
        self.used_env
            .entry(name.to_string())
            .or_insert_with(|| value.clone());
        value
    }

    /// `variable_add`.
    pub(crate) fn add_variable(
        &mut self,
        name: &str,
        value: &str,
        flavor: Flavor,
    ) -> Result<(), LoadError> {
        let (flavor, append) = match (self.variables.get(name), flavor) {
            (Some(v), Flavor::Append) => (v.flavor, true),
            (None, Flavor::Append) => (Flavor::Recursive, false),
            (_, f) => (f, false),
        };
        let new_value = if flavor == Flavor::Simple {
            self.expand_string(value, &[])?
        } else {
            value.to_string()
        };
        match self.variables.get_mut(name) {
            Some(v) if append => {
                v.value.push(' ');
                v.value.push_str(&new_value);
            }
            _ => {
                self.variables.insert(
                    name.to_string(),
                    Variable {
                        value: new_value,
                        flavor,
                        expanding: 0,
                    },
                );
            }
        }
        Ok(())
    }

    /// `expand_string_with_args`: every `$(...)` of `input` expanded.
    pub(crate) fn expand_string(
        &mut self,
        input: &str,
        args: &[String],
    ) -> Result<String, LoadError> {
        let (out, _) = self.expand_until(input, args, |_| false)?;
        Ok(out)
    }

    /// `expand_one_token`: expands from the start of `input` up to the first character
    /// that cannot be part of a word (outside `$(...)`); returns the expansion and how
    /// many bytes were used.
    pub(crate) fn expand_token(&mut self, input: &str) -> Result<(String, usize), LoadError> {
        self.expand_until(input, &[], |c| {
            !(c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
        })
    }

    /// `expand_dollar`: `input` starts just after a `$`; expands that one reference.
    pub(crate) fn expand_dollar(&mut self, input: &str) -> Result<(String, usize), LoadError> {
        self.expand_dollar_with_args(input, &[])
    }

    fn expand_until(
        &mut self,
        input: &str,
        args: &[String],
        is_end: impl Fn(u8) -> bool,
    ) -> Result<(String, usize), LoadError> {
        let bytes = input.as_bytes();
        let mut out = String::new();
        let mut start = 0;
        let mut p = 0;
        loop {
            if p < bytes.len() && bytes[p] == b'$' {
                out.push_str(&input[start..p]);
                p += 1;
                let (expansion, used) = self.expand_dollar_with_args(&input[p..], args)?;
                out.push_str(&expansion);
                p += used;
                start = p;
                continue;
            }
            if p >= bytes.len() || is_end(bytes[p]) {
                break;
            }
            p += 1;
        }
        out.push_str(&input[start..p]);
        Ok((out, p))
    }

    fn expand_dollar_with_args(
        &mut self,
        input: &str,
        args: &[String],
    ) -> Result<(String, usize), LoadError> {
        let bytes = input.as_bytes();
        if bytes.first() != Some(&b'(') {
            return Ok(("$".to_string(), 0));
        }
        let mut nest = 0i32;
        let mut q = 1;
        loop {
            match bytes.get(q) {
                None => {
                    return Err(self.error(format!(
                        "unterminated reference to '{}': missing ')'",
                        &input[1..]
                    )))
                }
                Some(b'(') => nest += 1,
                Some(b')') => {
                    if nest == 0 {
                        break;
                    }
                    nest -= 1;
                }
                _ => {}
            }
            q += 1;
        }
        let result = self.eval_clause(&input[1..q], args)?;
        Ok((result, q + 1))
    }

    fn eval_clause(&mut self, clause: &str, args: &[String]) -> Result<String, LoadError> {
        if let Ok(n) = clause.parse::<usize>() {
            if n > 0 && n <= args.len() && !clause.starts_with('+') {
                return Ok(args[n - 1].clone());
            }
        }
        let mut parts = Vec::new();
        let mut nest = 0i32;
        let mut prev = 0;
        for (i, c) in clause.bytes().enumerate() {
            match c {
                b',' if nest == 0 => {
                    parts.push(&clause[prev..i]);
                    prev = i + 1;
                }
                b'(' => nest += 1,
                b')' => nest -= 1,
                _ => {}
            }
        }
        parts.push(&clause[prev..]);
        if parts.len() > MAX_ARGS {
            return Err(self.error("too many function arguments".to_string()));
        }
        self.depth += 1;
        if self.depth > 1000 {
            self.depth -= 1;
            return Err(self.error("Too deep recursive expansion".to_string()));
        }
        let result = self.call(&parts, args);
        self.depth -= 1;
        result
    }

    fn call(&mut self, parts: &[&str], args: &[String]) -> Result<String, LoadError> {
        let name = self.expand_string(parts[0], args)?;
        let mut new_args = Vec::with_capacity(parts.len() - 1);
        for part in &parts[1..] {
            new_args.push(self.expand_string(part, args)?);
        }
        if let Some(result) = self.variable_expand(&name, &new_args)? {
            return Ok(result);
        }
        if let Some(result) = self.function(&name, &new_args)? {
            return Ok(result);
        }
        if new_args.is_empty() {
            if let Some(value) = self.env(&name) {
                return Ok(value);
            }
        }
        Ok(String::new())
    }

    fn variable_expand(
        &mut self,
        name: &str,
        args: &[String],
    ) -> Result<Option<String>, LoadError> {
        let Some(v) = self.variables.get_mut(name) else {
            return Ok(None);
        };
        if args.is_empty() && v.expanding > 0 {
            return Err(self.error(format!(
                "Recursive variable '{name}' references itself (eventually)"
            )));
        }
        if v.flavor != Flavor::Recursive {
            return Ok(Some(v.value.clone()));
        }
        v.expanding += 1;
        let value = v.value.clone();
        let result = self.expand_string(&value, args);
        if let Some(v) = self.variables.get_mut(name) {
            v.expanding -= 1;
        }
        result.map(Some)
    }

    fn function(&mut self, name: &str, args: &[String]) -> Result<Option<String>, LoadError> {
        let (min, max) = match name {
            "error-if" | "warning-if" => (2, 2),
            "filename" | "lineno" => (0, 0),
            "info" | "shell" => (1, 1),
            _ => return Ok(None),
        };
        if args.len() < min {
            return Err(self.error(format!("too few function arguments passed to '{name}'")));
        }
        if args.len() > max {
            return Err(self.error(format!("too many function arguments passed to '{name}'")));
        }
        Ok(Some(match name {
            "error-if" => {
                if args[0] == "y" {
                    return Err(self.error(args[1].clone()));
                }
                String::new()
            }
            "warning-if" => {
                if args[0] == "y" {
                    self.messages
                        .push(format!("{}:{}: {}", self.file, self.line, args[1]));
                }
                String::new()
            }
            "info" => {
                self.messages.push(args[0].clone());
                String::new()
            }
            "filename" => self.file.clone(),
            "lineno" => self.line.to_string(),
            _ => {
                let output = self
                    .shell
                    .run(&args[0])
                    .map_err(|e| self.error(format!("cannot run `{}`: {e}", args[0])))?;
                self.shell_log.push((args[0].clone(), output.clone()));
                output
            }
        }))
    }
}
