//! `cargo bench -p rootfs --bench pack -- [TREE] [--runs N]`: packs TREE (default: a sample of
//! `/usr/bin`, about 12 MiB of real binaries) with every compression and against
//! `find . | cpio -o -H newc | gzip -9`, and prints the table.
//!
//! This is a benchmark, not a test: it measures wall time, best of several runs, and reports it.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rootfs::{pack_to_memory, Compression, PackOptions};

fn main() {
    let mut tree: Option<PathBuf> = std::env::var_os("ROOTFS_BENCH_TREE").map(PathBuf::from);
    let mut runs = 3;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // cargo bench passes --bench to harness-less benchmarks.
            "--bench" => {}
            "--runs" => {
                runs = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--runs takes a number")
            }
            _ => tree = Some(PathBuf::from(arg)),
        }
    }
    let sample;
    let tree = match tree {
        Some(tree) => tree,
        None => {
            sample = sample_tree(Path::new("/usr/bin"), 12 << 20);
            sample.path().to_path_buf()
        }
    };
    match compare(&tree, runs) {
        Ok(report) => print!("{report}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

/// Copies the smallest regular files of `dir` into a temporary tree until it holds `budget` bytes:
/// many small binaries, as in a busybox-style initramfs.
fn sample_tree(dir: &Path, budget: u64) -> tempfile::TempDir {
    let sample = tempfile::tempdir().expect("temporary directory");
    let bin = sample.path().join("bin");
    std::fs::create_dir(&bin).expect("create bin");
    let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
        .expect("read sample directory")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let meta = std::fs::symlink_metadata(e.path()).ok()?;
            meta.is_file().then(|| (meta.len(), e.path()))
        })
        .collect();
    files.sort();
    let mut total = 0;
    for (len, path) in files {
        if total + len > budget {
            break;
        }
        if std::fs::copy(&path, bin.join(path.file_name().expect("file name"))).is_ok() {
            total += len;
        }
    }
    sample
}

/// One measured way of packing the tree.
#[derive(Debug, Clone)]
struct BenchRow {
    /// What ran: `rootfs gzip`, `find|cpio|gzip -9` ...
    tool: String,
    /// Size of the compressed archive.
    bytes: u64,
    /// Best wall time over the runs.
    time: Duration,
}

/// The measurements of one [`compare`] run.
#[derive(Debug, Clone)]
struct BenchReport {
    /// The tree that was packed.
    tree: PathBuf,
    /// Runs per row (the best one counts).
    runs: usize,
    /// Size of the uncompressed archive `rootfs` writes.
    raw_bytes: u64,
    /// Every measurement: the GNU pipelines first, then `rootfs` for each compression.
    rows: Vec<BenchRow>,
}

impl BenchReport {
    /// How many times faster `rootfs gzip` is than `find|cpio|gzip -9`, and its size ratio.
    fn gzip_speedup(&self) -> Option<(f64, f64)> {
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
fn compare(tree: &Path, runs: usize) -> Result<BenchReport, Error> {
    let runs = runs.max(1);
    let tree = tree.canonicalize().map_err(io("cannot read", tree))?;
    let dir = tempfile::tempdir().map_err(io(
        "cannot create a temporary directory in",
        &std::env::temp_dir(),
    ))?;
    let manifest = dir.path().join("bench.toml");
    let text = format!(
        "[[overlay]]\nsource = {:?}\n",
        tree.to_str().unwrap_or_default()
    );
    std::fs::write(&manifest, text).map_err(io("cannot write", &manifest))?;

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
    let spawn_error = |tool: &str| io("cannot run", Path::new(tool));
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
            return Err(io("benchmark pipeline failed at", Path::new(name))(
                std::io::Error::other(status.to_string()),
            ));
        }
    }
    Ok(out.len() as u64)
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
}

/// What can go wrong: a message as the rootfs crate words its I/O errors.
type Error = Box<dyn std::error::Error>;

/// `"{action} {path}: {error}"`, as `rootfs::Error::Io` says it.
fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.display().to_string();
    move |error| format!("{action} {path}: {error}").into()
}
