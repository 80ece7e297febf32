//! `$(shell,...)`: commands run by `/bin/sh` as `conf`'s `popen` runs them, with a cache
//! keyed by the command and the identity (path, size, modification time) of every
//! program it names, so a changed compiler runs its probes again.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use super::environment::Environment;

/// Runs the commands of `$(shell,...)` and returns what `conf` would read: standard output,
/// at most 4095 bytes, trailing newlines removed, other newlines turned into spaces.
pub trait ShellRunner {
    /// Runs `command` with `/bin/sh -c`; `Err` only when it could not be started.
    fn run(&mut self, command: &str) -> Result<String, String>;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    identity: String,
    output: String,
}

/// A [`ShellRunner`] that remembers results, in memory or in a file
/// ([`ShellCache::open`], [`ShellCache::save`]).
#[derive(Debug)]
pub struct ShellCache {
    entries: BTreeMap<String, Entry>,
    vars: BTreeMap<String, String>,
    file: Option<PathBuf>,
    dirty: bool,
    workdir: Option<tempfile::TempDir>,
    identities: HashMap<String, String>,
    /// Commands run (cache misses) since this cache was made.
    pub ran: usize,
    /// Commands answered from the cache.
    pub hits: usize,
}

impl ShellCache {
    /// A cache in memory only; commands see `env` (and, if it says so, the process
    /// environment).
    pub fn new(env: &Environment) -> ShellCache {
        ShellCache {
            entries: BTreeMap::new(),
            vars: env.vars.clone(),
            file: None,
            dirty: false,
            workdir: None,
            identities: HashMap::new(),
            ran: 0,
            hits: 0,
        }
    }

    /// A cache kept in `file`: read now when it exists (an unreadable one is ignored),
    /// written by [`ShellCache::save`].
    pub fn open(file: &Path, env: &Environment) -> ShellCache {
        let mut cache = ShellCache::new(env);
        if let Ok(text) = std::fs::read_to_string(file) {
            if let Ok(entries) = serde_json::from_str(&text) {
                cache.entries = entries;
            }
        }
        cache.file = Some(file.to_path_buf());
        cache
    }

    /// Writes the cache to its file (temp file + rename) when something changed.
    pub fn save(&mut self) -> std::io::Result<()> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        if !self.dirty {
            return Ok(());
        }
        let text = serde_json::to_string_pretty(&self.entries).map_err(std::io::Error::other)?;
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, file)?;
        self.dirty = false;
        Ok(())
    }

    fn identity(&mut self, command: &str) -> String {
        let mut parts = Vec::new();
        for (name, value) in &self.vars {
            parts.push(format!("{name}={value}"));
        }
        let words = command
            .split(|c: char| c.is_whitespace() || ";|&(){}<>\"'`".contains(c))
            .filter(|w| {
                !w.is_empty()
                    && !w.starts_with('-')
                    && w.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"_./+-".contains(&b))
            });
        for word in words {
            if let Some(id) = self.identities.get(word) {
                if !id.is_empty() {
                    parts.push(id.clone());
                }
                continue;
            }
            let id = program_identity(word).unwrap_or_default();
            self.identities.insert(word.to_string(), id.clone());
            if !id.is_empty() {
                parts.push(id);
            }
        }
        parts.join("\n")
    }

    fn execute(&mut self, command: &str) -> Result<String, String> {
        if self.workdir.is_none() {
            let dir = tempfile::Builder::new()
                .prefix("kconfig-shell")
                .tempdir()
                .map_err(|e| format!("cannot make a working folder: {e}"))?;
            self.workdir = Some(dir);
        }
        let workdir = self.workdir.as_ref().map(|d| d.path().to_path_buf());
        let mut child = Command::new("/bin/sh")
            .arg("-c")
            .arg(command)
            .envs(&self.vars)
            .current_dir(workdir.unwrap_or_else(std::env::temp_dir))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| e.to_string())?;
        let mut bytes = Vec::new();
        if let Some(mut out) = child.stdout.take() {
            out.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        }
        child.wait().map_err(|e| e.to_string())?;
        Ok(conf_output(&bytes))
    }
}

/// What `do_shell` makes of a command's output.
fn conf_output(bytes: &[u8]) -> String {
    let mut n = bytes.len().min(4095);
    while n > 0 && bytes[n - 1] == b'\n' {
        n -= 1;
    }
    String::from_utf8_lossy(&bytes[..n]).replace('\n', " ")
}

/// `word=path:size:mtime` for a program or file the command names, if it is one.
fn program_identity(word: &str) -> Option<String> {
    let path = if word.contains('/') {
        PathBuf::from(word)
    } else {
        let dirs = std::env::var_os("PATH")?;
        std::env::split_paths(&dirs)
            .map(|d| d.join(word))
            .find(|p| p.is_file())?
    };
    let meta = std::fs::metadata(&path).ok()?;
    if !meta.is_file() {
        return None;
    }
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    Some(format!("{word}={}:{}:{mtime}", path.display(), meta.len()))
}

impl ShellRunner for ShellCache {
    fn run(&mut self, command: &str) -> Result<String, String> {
        let identity = self.identity(command);
        if let Some(entry) = self.entries.get(command) {
            if entry.identity == identity {
                self.hits += 1;
                return Ok(entry.output.clone());
            }
        }
        let output = self.execute(command)?;
        self.ran += 1;
        self.entries.insert(
            command.to_string(),
            Entry {
                identity,
                output: output.clone(),
            },
        );
        self.dirty = true;
        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use super::conf_output;

    #[test]
    fn output_is_cut_trimmed_and_one_line() {
        assert_eq!(conf_output(b"a\nb\n\n"), "a b");
        assert_eq!(conf_output(&[b'x'; 5000]).len(), 4095);
    }
}
