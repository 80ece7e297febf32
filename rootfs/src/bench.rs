//! Timing [`crate::pack`] against the seed's `find . | cpio -o -H newc | gzip -9` on one tree.
//!
//! This is a benchmark, not a test: it measures wall time, best of several runs, and reports it.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::compression::Compression;
use crate::error::Error;
use crate::pack::{pack_to_memory, PackOptions};

/// One measured way of packing the tree.
#[derive(Debug, Clone)]
pub struct BenchRow {
    /// What ran: `rootfs gzip`, `find|cpio|gzip -9` ...
    pub tool: String,
    /// Size of the compressed archive.
    pub bytes: u64,
    /// Best wall time over the runs.
    pub time: Duration,
}

/// The measurements of one [`compare`] run.
#[derive(Debug, Clone)]
pub struct BenchReport {
    /// The tree that was packed.
    pub tree: PathBuf,
    /// Runs per row (the best one counts).
    pub runs: usize,
    /// Size of the uncompressed archive `rootfs` writes.
    pub raw_bytes: u64,
    /// Every measurement: the GNU pipelines first, then `rootfs` for each compression.
    pub rows: Vec<BenchRow>,
}

impl BenchReport {
    /// How many times faster `rootfs gzip` is than `find|cpio|gzip -9`, and its size ratio.
    pub fn gzip_speedup(&self) -> Option<(f64, f64)> {
        let find = |tool: &str| self.rows.iter().find(|r| r.tool == tool);
        let (gnu, ours) = (find(GNU_GZIP)?, find("rootfs gzip")?);
        Some((
            gnu.time.as_secs_f64() / ours.time.as_secs_f64(),
            ours.bytes as f64 / gnu.bytes as f64,
        ))
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "tree {} ({} bytes as newc), best of {} runs",
            self.tree.display(),
            self.raw_bytes,
            self.runs
        )?;
        writeln!(f, "{:<28} {:>12} {:>10}", "tool", "bytes", "ms")?;
        for row in &self.rows {
            writeln!(
                f,
                "{:<28} {:>12} {:>10.1}",
                row.tool,
                row.bytes,
                row.time.as_secs_f64() * 1e3
            )?;
        }
        if let Some((speedup, size)) = self.gzip_speedup() {
            writeln!(
                f,
                "rootfs gzip vs {GNU_GZIP}: {speedup:.2}x faster, {:.2}% of the size",
                size * 100.0
            )?;
        }
        Ok(())
    }
}

const GNU_GZIP: &str = "find|cpio|gzip -9";

/// Packs `tree` (as an overlay at `/`) with every compression, and with the GNU pipelines that
/// are installed (`gzip -9` always; `zstd -19` and `lz4 -l -9` when on `PATH`), `runs` times each.
pub fn compare(tree: &Path, runs: usize) -> Result<BenchReport, Error> {
    let runs = runs.max(1);
    let tree = tree
        .canonicalize()
        .map_err(Error::io("cannot read", tree))?;
    let dir = tempfile::tempdir().map_err(Error::io(
        "cannot create a temporary directory in",
        &std::env::temp_dir(),
    ))?;
    let manifest = dir.path().join("bench.toml");
    let text = format!(
        "[[overlay]]\nsource = {:?}\n",
        tree.to_str().unwrap_or_default()
    );
    std::fs::write(&manifest, text).map_err(Error::io("cannot write", &manifest))?;

    let mut tools: Vec<Tool> = GNU_PIPELINES
        .iter()
        .filter(|(name, compressor)| *name == GNU_GZIP || on_path(compressor[0]))
        .map(|&(name, compressor)| Tool::Gnu(name, compressor))
        .collect();
    tools.extend(Compression::ALL.map(Tool::Rootfs));
    let mut best: Vec<Option<BenchRow>> = vec![None; tools.len()];
    let mut raw_bytes = 0;
    // Runs are interleaved so a change in the machine's load hits every tool alike.
    for _ in 0..runs {
        for (tool, best) in tools.iter().zip(&mut best) {
            let start = Instant::now();
            let (name, bytes) = match tool {
                Tool::Gnu(name, compressor) => (name.to_string(), gnu_pipeline(&tree, compressor)?),
                Tool::Rootfs(compression) => {
                    let opts = PackOptions {
                        manifest: manifest.clone(),
                        vars: BTreeMap::new(),
                        compression: *compression,
                        mtime: 0,
                    };
                    let (report, _) = pack_to_memory(&opts)?;
                    raw_bytes = report.raw_bytes;
                    (format!("rootfs {compression}"), report.compressed_bytes)
                }
            };
            let row = BenchRow {
                tool: name,
                bytes,
                time: start.elapsed(),
            };
            if best.as_ref().is_none_or(|b| row.time < b.time) {
                *best = Some(row);
            }
        }
    }
    Ok(BenchReport {
        tree,
        runs,
        raw_bytes,
        rows: best.into_iter().flatten().collect(),
    })
}

/// The GNU pipelines compared against: name, then the compressor's command line.
const GNU_PIPELINES: [(&str, &[&str]); 3] = [
    (GNU_GZIP, &["gzip", "-9"]),
    ("find|cpio|zstd -19", &["zstd", "-19", "-q"]),
    ("find|cpio|lz4 -l -9", &["lz4", "-l", "-9", "-q"]),
];

/// One way of packing the tree.
enum Tool {
    Gnu(&'static str, &'static [&'static str]),
    Rootfs(Compression),
}

/// Runs `find . | cpio -o -H newc | <compressor>` in `tree`; returns the output size.
fn gnu_pipeline(tree: &Path, compressor: &[&str]) -> Result<u64, Error> {
    let spawn_error = |tool: &str| Error::io("cannot run", Path::new(tool));
    let mut find = Command::new("find")
        .arg(".")
        .current_dir(tree)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(spawn_error("find"))?;
    let mut cpio = Command::new("cpio")
        .args(["-o", "-H", "newc", "--quiet"])
        .current_dir(tree)
        .stdin(find.stdout.take().map_or(Stdio::null(), Stdio::from))
        .stdout(Stdio::piped())
        .spawn()
        .map_err(spawn_error("cpio"))?;
    let mut compress = Command::new(compressor[0])
        .args(&compressor[1..])
        .stdin(cpio.stdout.take().map_or(Stdio::null(), Stdio::from))
        .stdout(Stdio::piped())
        .spawn()
        .map_err(spawn_error(compressor[0]))?;
    let mut out = Vec::new();
    if let Some(mut stdout) = compress.stdout.take() {
        stdout
            .read_to_end(&mut out)
            .map_err(spawn_error(compressor[0]))?;
    }
    for (name, child) in [
        ("find", &mut find),
        ("cpio", &mut cpio),
        (compressor[0], &mut compress),
    ] {
        let status = child.wait().map_err(spawn_error(name))?;
        if !status.success() {
            return Err(Error::Io {
                action: "benchmark pipeline failed at",
                path: PathBuf::from(name),
                error: std::io::Error::other(status.to_string()),
            });
        }
    }
    Ok(out.len() as u64)
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
}
