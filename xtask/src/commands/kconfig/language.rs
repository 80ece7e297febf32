//! The actions that evaluate the kernel's Kconfig language in process (the `kconfig`
//! crate's evaluator): `olddefconfig`, `why`, `blame`, and the check behind `set`'s
//! warning that a value will not survive.

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use kconfig::{Config, Evaluation, Fragment, Kconfig, MergeOptions};

use super::{symbol_name, Package, Scope};
use crate::fetched;
use crate::kbuild::{read_config, KernelKconfig, LoadedTree};
use crate::layout::display_path;

/// What `olddefconfig` reads, and the files its values came from.
pub(super) struct Input {
    /// Each source with its name as `blame` and `why` print it: the defconfig, then the
    /// fragment (or the one `--file`).
    sources: Vec<(String, Config)>,
    /// The `.config` text `olddefconfig` reads.
    text: String,
    /// The defconfig's text when the base is a defconfig file expanded in process.
    defconfig: Option<String>,
}

impl Input {
    fn fragments(&self) -> Vec<Fragment<'_>> {
        self.sources
            .iter()
            .map(|(name, config)| Fragment { name, config })
            .collect()
    }

    /// The evaluation of the defconfig expansion, for `blame_over`.
    fn base<'k>(&self, tree: &'k Kconfig) -> Option<Evaluation<'k>> {
        self.defconfig
            .as_deref()
            .map(|text| Evaluation::defconfig_expanded(tree, text))
    }
}

impl Scope<'_> {
    /// The kernel's Kconfig run as a shell's `make ARCH=<arch> olddefconfig` would do it:
    /// `--src` or the fetched tree, `--arch` or the board's, the compiler from
    /// `CROSS_COMPILE`/`CC` in the environment or the board's.
    pub(super) fn kernel_kconfig(&self) -> Result<KernelKconfig> {
        if matches!(self.package, Package::Busybox) {
            bail!(
                "busybox's older conf writes its .config differently (a dated header, no \
                 `# end of` lines, symbols that are not visible), so this command is the \
                 kernel's only; `why`, `blame`, `show` and `set` read busybox's tree"
            );
        }
        let board = self.board()?;
        let (src, identity) = match &self.src {
            Some(src) => (src.clone(), None),
            None => (board.kernel_src(), fetched::identity(board, "linux")?),
        };
        if !src.join("Kconfig").is_file() {
            bail!(
                "no kernel Kconfig tree at {} (run `cargo xtask fetch`, or pass --src DIR)",
                display_path(&src)
            );
        }
        let mut run =
            KernelKconfig::for_board(board, src, identity).with_compiler_from_environment();
        if let Some(arch) = &self.arch {
            run.arch = arch.clone();
        }
        Ok(run)
    }

    /// The tree evaluated in process: the kernel's (cached, as [`Self::load_tree`]), or
    /// busybox's `Config.in` with `--busybox` (`--src` or the fetched source, with the
    /// files its make generated into the board's busybox build folder).
    pub(super) fn evaluated_tree(&self) -> Result<LoadedTree> {
        match self.package {
            Package::Linux => {
                let run = self.kernel_kconfig()?;
                self.load_tree(&run)
            }
            Package::Busybox => {
                let board = self.board()?;
                let src = self.src.clone().unwrap_or_else(|| board.busybox_src());
                crate::kbuild::load_busybox(&src, &board.busybox_build())
            }
        }
    }

    /// The parsed tree, from the board's cache folder when it is current.
    pub(super) fn load_tree(&self, run: &KernelKconfig) -> Result<LoadedTree> {
        let cache = self.board()?.out_dir().join("kconfig");
        run.load(&cache)
    }

    /// `kconfig olddefconfig`: `--file` (default: the board's configured `.config`)
    /// through `conf --olddefconfig` in process, written back (or to `output`).
    pub(super) fn olddefconfig(&self, output: Option<&Utf8Path>) -> Result<()> {
        let run = self.kernel_kconfig()?;
        let path = match &self.file {
            Some(file) => file.clone(),
            None => self.board()?.kernel_config(),
        };
        let text = fs_err::read_to_string(&path)
            .with_context(|| "olddefconfig reads a .config: give it with --file PATH")?;
        let loaded = self.load_tree(&run)?;
        let mut e = Evaluation::read(&loaded.tree, &text);
        for warning in &e.warnings {
            eprintln!("{}: {warning}", display_path(&path));
        }
        let written = e.write();
        let out = output.unwrap_or(&path);
        crate::engine::write_atomic(out, written.as_bytes())?;
        eprintln!(
            "olddefconfig (ARCH={}, CROSS_COMPILE={}; {}): wrote {}",
            run.arch,
            run.cross_compile,
            loaded.how(),
            display_path(out)
        );
        Ok(())
    }

    /// What `olddefconfig` reads for `why`, `blame` and `set`: `--file` as it is, or
    /// the board's defconfig expanded with `fragment` merged onto it (busybox's
    /// `defconfig`: every default; for another defconfig that is a make target, not a
    /// file, the configured `.config` as the base).
    pub(super) fn input(&self, loaded: &LoadedTree, fragment: Option<&Config>) -> Result<Input> {
        if let (Some(file), None) = (&self.file, fragment) {
            let config = read_config(file)?;
            return Ok(Input {
                text: config.to_string(),
                sources: vec![(display_path(file).to_string(), config)],
                defconfig: None,
            });
        }
        let fragment_path = self.fragment()?;
        let fragment = match fragment {
            Some(f) => f.clone(),
            None => read_config(&fragment_path)?,
        };
        let (base_text, base_name, defconfig) = self.base(loaded)?;
        let base = Config::parse(&base_text).map_err(|e| e.in_file(&base_name))?;
        let fragment_name = display_path(&fragment_path).to_string();
        let merged = kconfig::merge(
            &base,
            &[Fragment {
                name: &fragment_name,
                config: &fragment,
            }],
            MergeOptions::default(),
        );
        let defconfig_source = match &defconfig {
            Some(text) => Config::parse(text).map_err(|e| e.in_file(&base_name))?,
            None => base,
        };
        Ok(Input {
            text: merged.config.to_string(),
            sources: vec![(base_name, defconfig_source), (fragment_name, fragment)],
            defconfig,
        })
    }

    /// The `.config` the fragment is merged onto, its name, and the defconfig text it was
    /// expanded from (for `blame`): the kernel's defconfig file expanded; busybox's
    /// `defconfig`, every default; another make target's, the configured `.config`.
    fn base(&self, loaded: &LoadedTree) -> Result<(String, String, Option<String>)> {
        let board = self.board()?;
        let tree = &loaded.tree;
        match self.package {
            Package::Linux => {
                let relative = Utf8PathBuf::from("arch")
                    .join(kconfig::source_arch(&board.spec.arch))
                    .join("configs")
                    .join(&board.spec.kernel.defconfig);
                let file = Utf8Path::from_path(tree.srctree())
                    .map(|src| src.join(&relative))
                    .filter(|p| p.is_file());
                match file {
                    Some(path) => {
                        let text = fs_err::read_to_string(&path)?;
                        let expanded = loaded.expand_defconfig(&text)?;
                        Ok((expanded, relative.to_string(), Some(text)))
                    }
                    None => configured_base(&board.kernel_config(), &board.spec.kernel.defconfig),
                }
            }
            // Busybox's `make defconfig` is every symbol at its default: conf's defconfig
            // of an empty file (the same values: kconfig/tests/it/busybox_tree.rs).
            Package::Busybox if board.spec.busybox.defconfig == "defconfig" => Ok((
                Evaluation::defconfig(tree, ""),
                "busybox's defconfig".to_string(),
                Some(String::new()),
            )),
            // Its others are make targets too (`allnoconfig`...).
            Package::Busybox => {
                configured_base(&board.busybox_config(), &board.spec.busybox.defconfig)
            }
        }
    }

    /// `kconfig why SYMBOL[=VALUE]`: the value, its origin, and when the value asked for
    /// (given, else the fragment's) cannot hold, the chain and a checked fix.
    pub(super) fn why(&self, query: &str) -> Result<()> {
        let loaded = self.evaluated_tree()?;
        let tree = &loaded.tree;
        let input = self.input(&loaded, None)?;
        let prefix = tree.prefix().to_string();
        let (name, requested) = match query.split_once('=') {
            Some((name, value)) => (name, Some(value.to_string())),
            None => (query, None),
        };
        let holder = Config::new(&prefix);
        let symbol = symbol_name(&holder, name)?;
        let requested = requested.or_else(|| {
            input
                .sources
                .iter()
                .rev()
                .find_map(|(_, c)| c.get(symbol).map(value_text))
        });
        let mut e = Evaluation::read(tree, &input.text);
        let Some(why) = e.why(symbol, requested.as_deref(), &input.fragments()) else {
            bail!(
                "unknown symbol {prefix}{symbol}: no Kconfig file of {} defines it",
                Utf8Path::from_path(tree.srctree()).map_or_else(
                    || tree.srctree().display().to_string(),
                    |p| display_path(p).to_string()
                )
            );
        };
        print!("{why}");
        Ok(())
    }

    /// `kconfig blame [SYMBOL...]`: the `.config` olddefconfig writes, each line with
    /// where its value came from (only the symbols' lines when given).
    pub(super) fn blame(&self, symbols: &[String]) -> Result<()> {
        let loaded = self.evaluated_tree()?;
        let tree = &loaded.tree;
        let input = self.input(&loaded, None)?;
        let mut base = input.base(tree);
        let mut e = Evaluation::read(tree, &input.text);
        let blame = e.blame_over(&input.fragments(), base.as_mut());
        if symbols.is_empty() {
            print!("{blame}");
            return Ok(());
        }
        let holder = Config::new(tree.prefix());
        let mut wanted = Vec::new();
        for name in symbols {
            wanted.push(symbol_name(&holder, name)?.to_string());
        }
        let text = blame.to_string();
        for line in text.lines() {
            let named = line.split_whitespace().next().is_some_and(|first| {
                wanted.iter().any(|w| {
                    first
                        .strip_prefix(tree.prefix())
                        .is_some_and(|rest| rest.split('=').next() == Some(w.as_str()))
                        || line.starts_with(&format!("# {}{w} is not set", tree.prefix()))
                })
            });
            if named {
                println!("{line}");
            }
        }
        Ok(())
    }

    /// For `show`: why each of `dropped` is missing from `shown`, on stderr: `why`'s
    /// chain and checked fix, evaluated over `shown` itself (as `--file F why` does), with
    /// the values' origins in `shown` and in `fragment`.
    pub(super) fn explain_by_evaluation(
        &self,
        loaded: &LoadedTree,
        shown: (&Utf8Path, &Config),
        fragment: (&Utf8Path, &Config),
        dropped: &[kconfig::Dropped],
    ) {
        let input = Input {
            text: shown.1.to_string(),
            sources: vec![
                (display_path(shown.0).to_string(), shown.1.clone()),
                (display_path(fragment.0).to_string(), fragment.1.clone()),
            ],
            defconfig: None,
        };
        let mut e = Evaluation::read(&loaded.tree, &input.text);
        let mut lines = String::new();
        for d in dropped {
            lines.push_str(&format!("  {d}\n"));
            let requested = value_text(&d.requested);
            match e.why(&d.symbol, Some(&requested), &input.fragments()) {
                Some(why) => {
                    for line in why.to_string().lines() {
                        lines.push_str(&format!("      {line}\n"));
                    }
                }
                None => lines.push_str("      no Kconfig file defines it\n"),
            }
        }
        eprint!("{lines}");
    }

    /// For `set`: each of `symbols` whose value in `fragment` will not survive
    /// olddefconfig, with `why`'s explanation, on stderr. Skipped (with a note) where the
    /// evaluator cannot run.
    pub(super) fn warn_unsurvivable(
        &self,
        loaded: &LoadedTree,
        fragment: &Config,
        symbols: &[String],
    ) -> Result<()> {
        let tree = &loaded.tree;
        let input = match self.input(loaded, Some(fragment)) {
            Ok(input) => input,
            Err(e) => {
                eprintln!("note: values not checked against Kconfig: {e:#}");
                return Ok(());
            }
        };
        let mut e = Evaluation::read(tree, &input.text);
        // What `configure` runs after merging the fragment, which drops such a value.
        let pass = match self.package {
            Package::Linux => "olddefconfig",
            Package::Busybox => "oldconfig",
        };
        for symbol in symbols {
            let Some(value) = fragment.get(symbol) else {
                continue;
            };
            let Some(why) = e.why(symbol, Some(&value_text(value)), &input.fragments()) else {
                continue;
            };
            if !why.holds {
                eprintln!(
                    "warning: {}{symbol}={} will not survive {pass}:",
                    tree.prefix(),
                    value_text(value)
                );
                for line in why.to_string().lines() {
                    eprintln!("  {line}");
                }
            }
        }
        Ok(())
    }
}

/// The configured `.config` as the base, its name and no defconfig text: for a
/// `defconfig` that is a make target, not a file.
fn configured_base(
    configured: &Utf8Path,
    defconfig: &str,
) -> Result<(String, String, Option<String>)> {
    let text = fs_err::read_to_string(configured).with_context(|| {
        format!(
            "`{defconfig}` is a make target, not a defconfig file: run `cargo xtask \
             configure` once for the base .config"
        )
    })?;
    Ok((text, display_path(configured).to_string(), None))
}

/// A value as after `=` in a `.config` (`n` for `is not set`).
fn value_text(value: &kconfig::Value) -> String {
    match value {
        kconfig::Value::NotSet => "n".to_string(),
        other => other.to_string(),
    }
}
