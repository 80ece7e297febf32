//! `cargo bench -p rootfs --bench pack -- [TREE] [--runs N]`: packs TREE (default: a sample of
//! `/usr/bin`, about 12 MiB of real binaries) with every compression and against
//! `find . | cpio -o -H newc | gzip -9`, and prints the table.

use std::path::{Path, PathBuf};

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
    match rootfs::bench::compare(&tree, runs) {
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
