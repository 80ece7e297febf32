//! The kernel's Kconfig tree in process, as `make ARCH=.. CROSS_COMPILE=.. <target>config`
//! would give it to `conf`: the environment the Makefile exports, the compiler probes of
//! `$(shell,...)` and the parsed tree, each kept in a cache file under the board's
//! output folder, so a second run parses nothing and runs no compiler.
//!
//! The tree's cache file is named by the source's fingerprint (its fetched identity, or
//! its path for a `--src` tree), the arch and the compiler; before it is used,
//! [`kconfig::Kconfig::is_current`] checks that every Kconfig file it read is unchanged,
//! and that every variable and probe it saw gives the same answer.

use anyhow::{Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use kconfig::{kernel_environment, Environment, Evaluation, Kconfig, ShellCache};

use crate::board::Board;
use crate::engine::{write_atomic, Fingerprint};

/// What a kernel Kconfig run sees: the tree, `ARCH=`, `CROSS_COMPILE=` and `CC`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelKconfig {
    /// The kernel source tree.
    pub src: Utf8PathBuf,
    /// `ARCH=`.
    pub arch: String,
    /// `CROSS_COMPILE=`.
    pub cross_compile: String,
    /// `CC=`, when it is not `<CROSS_COMPILE>gcc`.
    pub cc: Option<String>,
    /// What the source is (its fetched identity), when known: part of the cache key.
    pub identity: Option<String>,
}

/// A loaded tree and how it was had.
pub struct LoadedTree {
    /// The parsed and finalized tree.
    pub tree: Kconfig,
    /// Whether it came from the cache file (nothing parsed).
    pub cached: bool,
    /// How many `$(shell,...)` commands (compiler probes) ran, not answered by the cache.
    pub probes_run: usize,
    /// `<cache>/defconfig-<key>-`: where expanded defconfigs are kept.
    expansions: Utf8PathBuf,
}

impl LoadedTree {
    /// How the tree was had, for a log line: from the cache, or parsed with N probes run.
    pub fn how(&self) -> String {
        if self.cached {
            "Kconfig tree from the cache".to_string()
        } else {
            format!(
                "Kconfig tree parsed ({} compiler probe(s) run, the rest cached)",
                self.probes_run
            )
        }
    }
}

impl LoadedTree {
    /// `conf --defconfig` of `text` on the tree: the written `.config`, kept in
    /// `<cache>/defconfig-<key>-<hash of text>.config` (those files are removed whenever
    /// the tree is parsed again).
    pub fn expand_defconfig(&self, text: &str) -> Result<String> {
        let mut fp = Fingerprint::new("defconfig");
        fp.text(text);
        let file = Utf8PathBuf::from(format!("{}{}.config", self.expansions, &fp.hex()[..16]));
        if let Ok(expanded) = fs_err::read_to_string(&file) {
            return Ok(expanded);
        }
        let expanded = Evaluation::defconfig(&self.tree, text);
        write_atomic(&file, expanded.as_bytes())?;
        Ok(expanded)
    }
}

impl LoadedTree {
    /// Where the `.config` that `make <target>` wrote (a defconfig that is a make target,
    /// like `tinyconfig`) is kept for this tree: beside the expanded defconfigs, removed
    /// with them whenever the tree is parsed again.
    pub fn make_target_base(&self, target: &str) -> Utf8PathBuf {
        Utf8PathBuf::from(format!("{}make-{target}.config", self.expansions))
    }
}

/// Removes the files of `dir` whose names start with `prefix`.
fn remove_expansions(dir: &Utf8Path, prefix: &str) {
    let Ok(entries) = fs_err::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(prefix) {
            let _ = fs_err::remove_file(entry.path());
        }
    }
}

impl KernelKconfig {
    /// As the board's `make` runs it (configure, build): the board's `CROSS_COMPILE`.
    pub fn for_board(board: &Board, src: Utf8PathBuf, identity: Option<String>) -> KernelKconfig {
        KernelKconfig {
            src,
            arch: board.spec.arch.clone(),
            cross_compile: board.spec.cross_compile.clone(),
            cc: None,
            identity,
        }
    }

    /// As a user's `make ARCH=<arch> olddefconfig` in a shell would run: `CROSS_COMPILE`
    /// and `CC` from the environment when set (as kbuild reads `CROSS_COMPILE`, and as
    /// `make CC=` overrides the compiler), else the board's.
    pub fn with_compiler_from_environment(mut self) -> KernelKconfig {
        if let Ok(cross) = std::env::var("CROSS_COMPILE") {
            self.cross_compile = cross;
        }
        if let Ok(cc) = std::env::var("CC") {
            if !cc.is_empty() {
                self.cc = Some(cc);
            }
        }
        self
    }

    /// The cache file names' key: source, arch and compiler.
    fn key(&self) -> String {
        let mut fp = Fingerprint::new("kconfig-tree");
        fp.text(self.src.as_str())
            .text(self.identity.as_deref().unwrap_or("-"))
            .text(&self.arch)
            .text(&self.cross_compile)
            .text(self.cc.as_deref().unwrap_or("-"));
        fp.hex()[..16].to_string()
    }

    /// The environment `conf` would see; `cc --version` is answered by `probes`.
    pub fn environment(&self, probes: &mut ShellCache) -> Environment {
        kernel_environment(
            self.src.as_std_path(),
            &self.arch,
            &self.cross_compile,
            self.cc.as_deref(),
            probes,
        )
    }

    /// The tree, from `<cache>/tree-<key>.bin` when it is current, else parsed (and the
    /// cache files written, atomically). A tree that fails to parse is an error naming
    /// the Kconfig file and line.
    pub fn load(&self, cache: &Utf8Path) -> Result<LoadedTree> {
        let key = self.key();
        let mut probes = ShellCache::open(
            cache.join(format!("probes-{key}.json")).as_std_path(),
            &Environment::default(),
        );
        let env = self.environment(&mut probes);
        let shell_file = cache.join(format!("shell-{key}.json"));
        let mut shell = ShellCache::open(shell_file.as_std_path(), &env);
        let tree_file = cache.join(format!("tree-{key}.bin"));
        let mut tree = None;
        if let Ok(bytes) = fs_err::read(&tree_file) {
            if let Some(cached) = Kconfig::from_cache_bytes(&bytes) {
                if cached.is_current(&env, &mut shell) {
                    tree = Some(cached);
                }
            }
        }
        let cached = tree.is_some();
        let tree = match tree {
            Some(tree) => tree,
            None => {
                let tree = Kconfig::load(
                    self.src.as_std_path(),
                    std::path::Path::new("Kconfig"),
                    &env,
                    &mut shell,
                )
                .with_context(|| format!("reading the Kconfig files of {}", self.src))?;
                remove_expansions(cache, &format!("defconfig-{key}-"));
                write_atomic(&tree_file, &tree.to_cache_bytes())?;
                tree
            }
        };
        let probes_run = probes.ran + shell.ran;
        probes
            .save()
            .and_then(|()| shell.save())
            .with_context(|| format!("writing the probe cache in {cache}"))?;
        Ok(LoadedTree {
            tree,
            cached,
            probes_run,
            expansions: cache.join(format!("defconfig-{key}-")),
        })
    }
}

/// Busybox's `Config.in` tree in process: the source tree `src` with the `Config.in`
/// files its `make` generated into `build` (so after `configure`), read in busybox's
/// older grammar (`kconfig::LoadOptions`). Not cached: it has no compiler probes and
/// parses in a few milliseconds.
pub fn load_busybox(src: &Utf8Path, build: &Utf8Path) -> Result<LoadedTree> {
    if !busybox_generated(build) {
        anyhow::bail!(
            "busybox's Config.in files are generated by its make into {}: run `cargo xtask \
             configure` first",
            crate::layout::display_path(build)
        );
    }
    let env = Environment::default();
    let mut shell = ShellCache::new(&env);
    let options = kconfig::LoadOptions {
        generated: vec![build.as_std_path().to_path_buf()],
        older_grammar: true,
    };
    let tree = Kconfig::load_with(
        src.as_std_path(),
        std::path::Path::new("Config.in"),
        &env,
        &mut shell,
        &options,
    )
    .with_context(|| format!("reading the Config.in files of {src}"))?;
    Ok(LoadedTree {
        tree,
        cached: false,
        probes_run: 0,
        expansions: build.join("kconfig-defconfig-"),
    })
}

/// Whether busybox's make has generated its `Config.in` files into `build` (`configure`
/// runs it), which [`load_busybox`] needs.
pub fn busybox_generated(build: &Utf8Path) -> bool {
    build.join("archival/Config.in").is_file()
}
