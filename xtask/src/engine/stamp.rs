//! A stage's stamp: the fingerprint of its inputs and what it wrote.
//!
//! ```text
//! <fingerprint hex>
//! <output path> TAB file <size> <sha256>
//! <output path> TAB symlink -> <target>
//! <output path> TAB dir
//! ```
//!
//! A stage is fresh when the fingerprint is the one of its inputs now and every output
//! is still what the stage wrote: a file of the recorded size and hash, a symlink to the
//! recorded target. Hashing the outputs (a few MB: a kernel image, busybox, the
//! initramfs) is cheap; the trees they are built from are never hashed here.

use anyhow::{Context, Result};
use camino::Utf8Path;
use sha2::{Digest, Sha256};

use super::fingerprint::{hex, Fingerprint};

/// What a stage's stamp says: the fingerprint it ran with and one line per output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    fingerprint: String,
    outputs: Vec<String>,
}

/// Why a stamp does not make a stage fresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stale {
    /// No stamp, or one from before outputs were recorded: the stage has not run (to the end).
    NoStamp,
    /// The inputs changed.
    Inputs,
    /// An output is missing or not what the stage wrote.
    Output {
        /// The output.
        path: String,
        /// What the stamp recorded.
        recorded: String,
        /// What is there now.
        found: String,
    },
}

impl Stamp {
    /// The stamp of a stage that ran with `fp` and wrote `outputs` (described as they are now).
    pub fn new(fp: &Fingerprint, outputs: &[&Utf8Path]) -> Result<Stamp> {
        let outputs = outputs
            .iter()
            .map(|o| Ok(format!("{o}\t{}", describe(o)?)))
            .collect::<Result<_>>()?;
        Ok(Stamp {
            fingerprint: fp.hex(),
            outputs,
        })
    }

    /// Parses a stamp file's text; `None` for a stamp that records no outputs.
    pub fn parse(text: &str) -> Option<Stamp> {
        let mut lines = text.lines();
        let fingerprint = lines.next()?.trim().to_string();
        let outputs: Vec<String> = lines.map(String::from).collect();
        (!fingerprint.is_empty() && !outputs.is_empty()).then_some(Stamp {
            fingerprint,
            outputs,
        })
    }

    /// The stamp file's text.
    pub fn render(&self) -> String {
        let mut text = format!("{}\n", self.fingerprint);
        for line in &self.outputs {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// Whether a stage with inputs `fp` and outputs `outputs` is fresh by this stamp;
    /// the first reason it is not otherwise.
    pub fn check(&self, fp: &Fingerprint, outputs: &[&Utf8Path]) -> Result<(), Stale> {
        match self.damaged(fp, outputs)?.into_iter().next() {
            Some(stale) => Err(stale),
            None => Ok(()),
        }
    }

    /// Every output that is not what the stage wrote (as [`Stale::Output`]), when the
    /// inputs are the same; [`Stale::Inputs`] when they are not.
    pub fn damaged(&self, fp: &Fingerprint, outputs: &[&Utf8Path]) -> Result<Vec<Stale>, Stale> {
        if self.fingerprint != fp.hex() || self.outputs.len() != outputs.len() {
            return Err(Stale::Inputs);
        }
        let mut damaged = Vec::new();
        for (line, output) in self.outputs.iter().zip(outputs) {
            let (path, recorded) = line.split_once('\t').unwrap_or((line, ""));
            if path != output.as_str() {
                return Err(Stale::Inputs);
            }
            let found = describe(output).unwrap_or_else(|e| format!("unreadable ({e:#})"));
            if found != recorded {
                damaged.push(Stale::Output {
                    path: path.to_string(),
                    recorded: recorded.to_string(),
                    found,
                });
            }
        }
        Ok(damaged)
    }
}

/// An output as it is now: `file <size> <sha256>`, `symlink -> <target>`, `dir`, or `missing`.
pub fn describe(path: &Utf8Path) -> Result<String> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok("missing".into()),
        Err(e) => return Err(e).with_context(|| format!("reading {path}")),
    };
    let kind = meta.file_type();
    if kind.is_symlink() {
        let target = std::fs::read_link(path).with_context(|| format!("reading {path}"))?;
        Ok(format!("symlink -> {}", target.display()))
    } else if kind.is_dir() {
        Ok("dir".into())
    } else if kind.is_file() {
        let mut file = std::fs::File::open(path).with_context(|| format!("reading {path}"))?;
        let mut hasher = Sha256::new();
        let size =
            std::io::copy(&mut file, &mut hasher).with_context(|| format!("reading {path}"))?;
        Ok(format!("file {size} {}", hex(&hasher.finalize())))
    } else {
        Ok("not a regular file".into())
    }
}

impl std::fmt::Display for Stale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stale::NoStamp => write!(f, "no record of a finished run"),
            Stale::Inputs => write!(f, "inputs changed"),
            Stale::Output {
                path,
                recorded,
                found,
            } => write!(
                f,
                "{path} is not what this stage wrote ({}, recorded {}): running it again",
                short(found),
                short(recorded)
            ),
        }
    }
}

/// `file <size> <sha256>` with the hash cut to 12 digits, for messages.
fn short(description: &str) -> String {
    match description.strip_prefix("file ") {
        Some(rest) => match rest.split_once(' ') {
            Some((size, sha)) => format!("{size} bytes, sha256 {}", &sha[..sha.len().min(12)]),
            None => description.to_string(),
        },
        None => description.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use camino::Utf8PathBuf;
    use expect_test::{expect, Expect};

    /// Records a stamp for `out` (a file), a link and a folder, applies `damage`, and
    /// shows what the check says.
    fn check_damage(damage: impl FnOnce(&Utf8Path), expect: Expect) {
        let dir = tempfile::tempdir().unwrap();
        let dir = Utf8PathBuf::try_from(dir.path().to_path_buf()).unwrap();
        let (file, link, folder) = (dir.join("out"), dir.join("link"), dir.join("folder"));
        std::fs::write(&file, b"kernel image").unwrap();
        std::os::unix::fs::symlink("out", &link).unwrap();
        std::fs::create_dir(&folder).unwrap();
        let outputs = [file.as_path(), link.as_path(), folder.as_path()];
        let mut fp = Fingerprint::new("test");
        fp.text("inputs");
        let stamp = Stamp::new(&fp, &outputs).unwrap();
        assert_eq!(Stamp::parse(&stamp.render()), Some(stamp.clone()));
        damage(&dir);
        let got = match stamp.check(&fp, &outputs) {
            Ok(()) => "fresh".to_string(),
            Err(stale) => stale.to_string(),
        };
        expect.assert_eq(&got.replace(dir.as_str(), "$DIR"));
    }

    #[test]
    fn an_output_that_is_not_what_the_stage_wrote_makes_it_stale() {
        check_damage(|_| {}, expect!["fresh"]);
        check_damage(
            |dir| std::fs::write(dir.join("out"), b"").unwrap(),
            expect!["$DIR/out is not what this stage wrote (0 bytes, sha256 e3b0c44298fc, recorded 12 bytes, sha256 a8438c585bb5): running it again"],
        );
        check_damage(
            |dir| std::fs::write(dir.join("out"), b"kernel imagf").unwrap(),
            expect!["$DIR/out is not what this stage wrote (12 bytes, sha256 80ad9578d2ff, recorded 12 bytes, sha256 a8438c585bb5): running it again"],
        );
        check_damage(
            |dir| std::fs::remove_file(dir.join("out")).unwrap(),
            expect!["$DIR/out is not what this stage wrote (missing, recorded 12 bytes, sha256 a8438c585bb5): running it again"],
        );
        check_damage(
            |dir| {
                std::fs::remove_file(dir.join("link")).unwrap();
                std::os::unix::fs::symlink("elsewhere", dir.join("link")).unwrap();
            },
            expect!["$DIR/link is not what this stage wrote (symlink -> elsewhere, recorded symlink -> out): running it again"],
        );
        check_damage(
            |dir| std::fs::remove_dir(dir.join("folder")).unwrap(),
            expect!["$DIR/folder is not what this stage wrote (missing, recorded dir): running it again"],
        );
    }

    #[test]
    fn new_inputs_or_a_stamp_without_outputs_make_a_stage_stale() {
        let mut fp = Fingerprint::new("test");
        let stamp = Stamp::new(&fp, &[]).unwrap();
        fp.text("changed");
        assert_eq!(stamp.check(&fp, &[]), Err(Stale::Inputs));
        // A stamp of an older minilinux: the fingerprint alone.
        assert_eq!(Stamp::parse(&format!("{}\n", fp.hex())), None);
        assert_eq!(Stamp::parse(""), None);
    }
}
