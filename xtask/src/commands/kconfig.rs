//! `cargo xtask kconfig`: read and edit the board's config fragments (or any config file),
//! show configured values, diff and merge config files.
//!
//! Edits go to the fragment, the source of truth under version control; the next
//! `configure` applies them. With the fetched Kconfig sources at hand, symbols and value
//! types are checked before anything is written; for the kernel, the Kconfig tree is
//! evaluated in process (`olddefconfig`, `why`, `blame`, and `set`'s warning that a value
//! will not survive), parsed once per fetched source and kept in a cache file.

mod language;

use std::io::IsTerminal;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use camino::{Utf8Path, Utf8PathBuf};
use kconfig::{Config, Fragment, MergeOptions, SymbolDiff, SymbolIndex, Value};

use crate::board::Board;
use crate::engine::Ctx;
use crate::kbuild::{read_config, LoadedTree};

use crate::engine::{follow_symlinks, FileLock};
use crate::layout::display_path;

/// `cargo xtask kconfig ...`: read and edit config fragments.
#[derive(Debug, clap::Args)]
pub struct KconfigCmd {
    /// Work on the busybox fragment (and busybox's .config and sources)
    #[arg(long, global = true)]
    busybox: bool,
    /// Work on this config file instead of the board's fragment (or configured .config)
    #[arg(long, global = true, value_name = "PATH")]
    file: Option<Utf8PathBuf>,
    /// Kconfig source tree to check symbols against [default: the board's fetched source]
    #[arg(long, global = true, value_name = "DIR")]
    src: Option<Utf8PathBuf>,
    /// The kernel's ARCH= for the Kconfig tree [default: the board's]
    #[arg(long, global = true, value_name = "ARCH")]
    arch: Option<String>,
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Set symbols: `CONFIG_CMDLINE="console=ttyAMA0"`, `TMPFS=y`, `HZ=100`
    Set {
        /// NAME=VALUE, `CONFIG_` optional; a bare string value is quoted for you
        #[arg(required = true, value_name = "ASSIGNMENT")]
        assignments: Vec<String>,
        /// Show the diff, write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the fragment's lines for symbols
    Get {
        /// Symbol names, `CONFIG_` optional
        #[arg(required = true, value_name = "SYMBOL")]
        symbols: Vec<String>,
    },
    /// Write `# CONFIG_X is not set` for symbols
    Unset {
        /// Symbol names, `CONFIG_` optional
        #[arg(required = true, value_name = "SYMBOL")]
        symbols: Vec<String>,
        /// Show the diff, write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Delete symbols' lines from the fragment, so the defconfig decides again
    Remove {
        /// Symbol names, `CONFIG_` optional
        #[arg(required = true, value_name = "SYMBOL")]
        symbols: Vec<String>,
        /// Show the diff, write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Print symbols' effective values in the configured .config (after the last configure)
    Show {
        /// Symbol names, `CONFIG_` optional
        #[arg(required = true, value_name = "SYMBOL")]
        symbols: Vec<String>,
    },
    /// Symbol changes from OLD to NEW; without files, the fragment's effect on the defconfig
    Diff {
        /// The config before
        #[arg(requires = "new")]
        old: Option<Utf8PathBuf>,
        /// The config after
        new: Option<Utf8PathBuf>,
        /// Print a unified text diff instead of symbol changes
        #[arg(long)]
        unified: bool,
    },
    /// Fill in a .config as `make ARCH=<arch> olddefconfig` does, in process: --file (default:
    /// the board's configured .config), rewritten in place; the compiler from CROSS_COMPILE
    /// and CC in the environment, else the board's
    Olddefconfig {
        /// Write the result here instead of over the input
        #[arg(short, long, value_name = "OUT")]
        output: Option<Utf8PathBuf>,
    },
    /// A symbol's value and where it came from; when the value asked for (SYMBOL=VALUE, else
    /// the fragment's) cannot hold, the chain of unmet conditions and a checked fix
    Why {
        /// CONFIG_X, or CONFIG_X=VALUE to ask about that value
        #[arg(value_name = "SYMBOL[=VALUE]")]
        symbol: String,
    },
    /// Every line of the .config olddefconfig writes, with where its value came from
    Blame {
        /// Only these symbols' lines, `CONFIG_` optional
        #[arg(value_name = "SYMBOL")]
        symbols: Vec<String>,
    },
    /// Merge fragments onto a base like merge_config.sh -m; later files win
    Merge {
        /// The base config
        base: Utf8PathBuf,
        /// Fragments, applied in order
        #[arg(required = true)]
        fragments: Vec<Utf8PathBuf>,
        /// Write the merged config here (atomically) instead of to stdout
        #[arg(short, long, value_name = "OUT")]
        output: Option<Utf8PathBuf>,
        /// Never lower a `y` to `m` (merge_config.sh -y)
        #[arg(short = 'y', long)]
        builtin: bool,
    },
}

/// Which package the command is about.
#[derive(Clone, Copy)]
enum Package {
    Linux,
    Busybox,
}

/// `cargo xtask kconfig`: the board is read only by the actions that need it.
pub fn run(ctx: &Ctx, cmd: KconfigCmd) -> Result<ExitCode> {
    let package = if cmd.busybox {
        Package::Busybox
    } else {
        Package::Linux
    };
    let scope = Scope {
        ctx,
        package,
        file: cmd.file,
        src: cmd.src,
        arch: cmd.arch,
    };
    scope.act(cmd.action)?;
    Ok(ExitCode::SUCCESS)
}

/// Which board, package and files an action works on.
struct Scope<'a> {
    ctx: &'a Ctx,
    package: Package,
    file: Option<Utf8PathBuf>,
    src: Option<Utf8PathBuf>,
    arch: Option<String>,
}

impl Scope<'_> {
    fn act(&self, action: Action) -> Result<()> {
        let ctx = self;
        match action {
            Action::Set {
                assignments,
                dry_run,
            } => ctx.set(&assignments, dry_run),
            Action::Get { symbols } => ctx.get(&symbols),
            Action::Unset { symbols, dry_run } => ctx.unset(&symbols, dry_run, false),
            Action::Remove { symbols, dry_run } => ctx.unset(&symbols, dry_run, true),
            Action::Show { symbols } => ctx.show(&symbols),
            Action::Diff { old, new, unified } => ctx.diff(old, new, unified),
            Action::Olddefconfig { output } => ctx.olddefconfig(output.as_deref()),
            Action::Why { symbol } => ctx.why(&symbol),
            Action::Blame { symbols } => ctx.blame(&symbols),
            Action::Merge {
                base,
                fragments,
                output,
                builtin,
            } => merge(&base, &fragments, output.as_deref(), builtin),
        }
    }

    fn board(&self) -> Result<&Board> {
        self.ctx.board()
    }

    /// The file edits go to: `--file`, else the board's fragment.
    fn fragment(&self) -> Result<Utf8PathBuf> {
        if let Some(file) = &self.file {
            return Ok(file.clone());
        }
        let board = self.board()?;
        Ok(match self.package {
            Package::Linux => board.kernel_fragment(),
            Package::Busybox => board.busybox_fragment(),
        })
    }

    /// The Kconfig tree and the arch to restrict it to.
    fn source_tree(&self) -> Result<(Utf8PathBuf, Option<String>)> {
        if let Some(src) = &self.src {
            let arch = match self.package {
                Package::Linux => self.board().ok().map(|b| b.spec.arch.clone()),
                Package::Busybox => None,
            };
            return Ok((src.clone(), arch));
        }
        let board = self.board()?;
        Ok(match self.package {
            Package::Linux => (board.kernel_src(), Some(board.spec.arch.clone())),
            Package::Busybox => (board.busybox_src(), None),
        })
    }

    /// Scans the Kconfig sources; `None` (with a note) when they are not there.
    /// `without` says what is skipped when the sources are missing.
    fn symbols(&self, without: &str) -> Result<Option<SymbolIndex>> {
        let (src, arch) = self.source_tree()?;
        if !src.is_dir() {
            eprintln!(
                "note: no Kconfig sources at {} (run `cargo xtask fetch`); {without}",
                display_path(&src)
            );
            return Ok(None);
        }
        let index = SymbolIndex::scan(src.as_std_path(), arch.as_deref())
            .with_context(|| format!("scanning the Kconfig files of {src}"))?;
        Ok(Some(index))
    }

    /// What symbols are checked against: the evaluated tree when there is one (see
    /// [`Self::tree_for_checks`]), else the light scan; `None` (with a note) without
    /// sources.
    fn checker(&self) -> Result<Option<Symbols>> {
        if let Some(loaded) = self.tree_for_checks()? {
            return Ok(Some(Symbols::Tree(Box::new(loaded))));
        }
        Ok(self.symbols("symbols are not checked")?.map(Symbols::Index))
    }

    /// The evaluated tree for `set`'s and `show`'s checks, when there is one: the
    /// kernel's when its sources are there (a tree that does not parse is an error);
    /// busybox's once `configure` has generated its `Config.in` files (one that cannot be
    /// read falls back to the light scan, with a note).
    fn tree_for_checks(&self) -> Result<Option<LoadedTree>> {
        match self.package {
            Package::Linux => match self.kernel_kconfig() {
                Ok(run) => Ok(Some(self.load_tree(&run)?)),
                Err(_) => Ok(None),
            },
            Package::Busybox => {
                let board = self.board()?;
                if !crate::kbuild::busybox_generated(&board.busybox_build()) {
                    return Ok(None);
                }
                match self.evaluated_tree() {
                    Ok(loaded) => Ok(Some(loaded)),
                    Err(e) => {
                        eprintln!("note: busybox's Config.in not evaluated ({e:#}); the light scan instead");
                        Ok(None)
                    }
                }
            }
        }
    }

    fn set(&self, assignments: &[String], dry_run: bool) -> Result<()> {
        let path = self.fragment()?;
        let _lock = edit_lock(&path)?;
        let mut config = read_config(&path)?;
        let index = self.checker()?;
        let mut edits = Vec::new();
        for assignment in assignments {
            let Some((name, text)) = assignment.split_once('=') else {
                bail!(
                    "invalid assignment `{assignment}`: expected NAME=VALUE, e.g. CONFIG_TMPFS=y"
                );
            };
            let symbol = symbol_name(&config, name)?;
            let symbol_type = match &index {
                Some(index) => {
                    index.check_known(&config, symbol)?;
                    index.symbol_type(symbol)
                }
                None => None,
            };
            let value = Value::from_user(text, symbol_type)
                .with_context(|| format!("{}{symbol}", config.prefix()))?;
            edits.push((symbol.to_string(), value));
        }
        let symbols: Vec<String> = edits.iter().map(|(s, _)| s.clone()).collect();
        for (symbol, value) in edits {
            config
                .set(&symbol, value)
                .with_context(|| format!("cannot set {}{symbol}", config.prefix()))?;
        }
        write_edited(&path, &config, dry_run)?;
        if let Some(Symbols::Tree(loaded)) = &index {
            self.warn_unsurvivable(loaded, &config, &symbols)?;
        }
        // The command ends here: freeing the tree's million small allocations would
        // take longer than the rest of `set` (perf: about 15% of its time).
        std::mem::forget(index);
        Ok(())
    }

    fn unset(&self, symbols: &[String], dry_run: bool, remove: bool) -> Result<()> {
        let path = self.fragment()?;
        let _lock = edit_lock(&path)?;
        let mut config = read_config(&path)?;
        let index = if remove { None } else { self.checker()? };
        let mut names = Vec::new();
        for name in symbols {
            let symbol = symbol_name(&config, name)?;
            if let Some(index) = &index {
                index.check_known(&config, symbol)?;
            }
            names.push(symbol.to_string());
        }
        for symbol in names {
            if remove {
                config.remove(&symbol);
            } else {
                config
                    .unset(&symbol)
                    .with_context(|| format!("cannot unset {}{symbol}", config.prefix()))?;
            }
        }
        write_edited(&path, &config, dry_run)
    }

    fn get(&self, symbols: &[String]) -> Result<()> {
        let path = self.fragment()?;
        let config = read_config(&path)?;
        print_values(&config, symbols, &path, "does not set it")
    }

    fn show(&self, symbols: &[String]) -> Result<()> {
        let path = match &self.file {
            Some(file) => file.clone(),
            None => {
                let board = self.board()?;
                let path = match self.package {
                    Package::Linux => board.kernel_config(),
                    Package::Busybox => board.busybox_config(),
                };
                if !path.is_file() {
                    bail!(
                        "{} does not exist; run `cargo xtask configure` first",
                        display_path(&path)
                    );
                }
                path
            }
        };
        let config = read_config(&path)?;
        let shown = print_values(&config, symbols, &path, "does not have it (off)");
        self.explain_dropped(&config, &path, symbols)?;
        shown
    }

    /// For each of `symbols` that the board's fragment asks for but `actual` lacks, says
    /// so on stderr, with the reason when the Kconfig sources are at hand: `why`'s chain and
    /// checked fix on the evaluated tree ([`Self::tree_for_checks`]), else the light scan's
    /// reason.
    fn explain_dropped(&self, actual: &Config, path: &Utf8Path, symbols: &[String]) -> Result<()> {
        let board = self.board()?;
        let fragment_path = match self.package {
            Package::Linux => board.kernel_fragment(),
            Package::Busybox => board.busybox_fragment(),
        };
        if !fragment_path.is_file() {
            return Ok(());
        }
        let fragment = read_config(&fragment_path)?;
        let mut asked = Config::new(fragment.prefix());
        for name in symbols {
            let symbol = symbol_name(&fragment, name)?;
            if let Some(value) = fragment.get(symbol) {
                asked.set(symbol, value.clone())?;
            }
        }
        let dropped = kconfig::dropped(&asked, actual);
        if dropped.is_empty() {
            return Ok(());
        }
        // What explains them, found before the heading so that a note comes first.
        let tree = self.tree_for_checks()?;
        let index = match tree {
            Some(_) => None,
            None => self.symbols("reasons are not shown")?,
        };
        eprintln!(
            "{} asks for values that {} does not have:",
            display_path(&fragment_path),
            display_path(path)
        );
        if let Some(loaded) = tree {
            self.explain_by_evaluation(
                &loaded,
                (path, actual),
                (&fragment_path, &fragment),
                &dropped,
            );
            // As in `set`: freeing the tree would take longer than the command.
            std::mem::forget(loaded);
            return Ok(());
        }
        for d in &dropped {
            eprintln!("  {d}");
            if let Some(index) = &index {
                for line in d.explain(index, actual).to_string().lines() {
                    eprintln!("      {line}");
                }
            }
        }
        Ok(())
    }

    fn diff(
        &self,
        old: Option<Utf8PathBuf>,
        new: Option<Utf8PathBuf>,
        unified: bool,
    ) -> Result<()> {
        let (old_path, old_config, new_path, new_config) = match (old, new) {
            (Some(old), Some(new)) => {
                let (a, b) = (read_config(&old)?, read_config(&new)?);
                (old, a, new, b)
            }
            _ => {
                let fragment_path = self.fragment()?;
                let fragment = read_config(&fragment_path)?;
                let defconfig = self.defconfig()?;
                let base = read_config(&defconfig)?;
                let name = display_path(&fragment_path).to_string();
                let merged = kconfig::merge(
                    &base,
                    &[Fragment {
                        name: &name,
                        config: &fragment,
                    }],
                    MergeOptions::default(),
                );
                let new_path = Utf8PathBuf::from(format!("{} + {name}", display_path(&defconfig)));
                (defconfig, base, new_path, merged.config)
            }
        };
        let out = if unified {
            kconfig::unified_diff(
                &old_config.to_string(),
                &new_config.to_string(),
                &format!("a/{}", display_path(&old_path)),
                &format!("b/{}", display_path(&new_path)),
                colour(),
            )
        } else {
            SymbolDiff::between(&old_config, &new_config).to_string()
        };
        if out.is_empty() {
            eprintln!("no differences");
        }
        print!("{out}");
        Ok(())
    }

    /// The defconfig file the fragment is merged onto, for the kernel.
    fn defconfig(&self) -> Result<Utf8PathBuf> {
        let board = self.board()?;
        let (src, _) = self.source_tree()?;
        let path = match self.package {
            Package::Linux => src
                .join("arch")
                .join(&board.spec.arch)
                .join("configs")
                .join(&board.spec.kernel.defconfig),
            Package::Busybox => src.join("configs").join(&board.spec.busybox.defconfig),
        };
        if !path.is_file() {
            bail!(
                "no defconfig file at {} (run `cargo xtask fetch`, or give two files: \
                 cargo xtask kconfig diff OLD NEW)",
                display_path(&path)
            );
        }
        Ok(path)
    }
}

/// Prints the line of each symbol; fails after printing when one is missing.
fn print_values(config: &Config, symbols: &[String], path: &Utf8Path, missing: &str) -> Result<()> {
    let mut absent = Vec::new();
    for name in symbols {
        let symbol = symbol_name(config, name)?;
        match config
            .lines()
            .iter()
            .rev()
            .find(|line| line.assignment_parts().is_some_and(|(s, _)| s == symbol))
        {
            Some(line) => println!("{}", line.text()),
            None => absent.push(format!("{}{symbol}", config.prefix())),
        }
    }
    if !absent.is_empty() {
        bail!("{} {missing}: {}", display_path(path), absent.join(", "));
    }
    Ok(())
}

fn merge(
    base: &Utf8Path,
    fragments: &[Utf8PathBuf],
    output: Option<&Utf8Path>,
    builtin: bool,
) -> Result<()> {
    let base_config = read_config(base)?;
    let mut parsed = Vec::new();
    for path in fragments {
        parsed.push((display_path(path).to_string(), read_config(path)?));
    }
    let list: Vec<Fragment<'_>> = parsed
        .iter()
        .map(|(name, config)| Fragment { name, config })
        .collect();
    let merged = kconfig::merge(&base_config, &list, MergeOptions { builtin });
    for redefinition in &merged.redefinitions {
        eprintln!("{redefinition}");
    }
    match output {
        Some(out) => {
            crate::engine::write_atomic(out, merged.config.to_string().as_bytes())?;
            eprintln!(
                "merged {} fragment(s) onto {} into {} ({} redefinition(s))",
                fragments.len(),
                display_path(base),
                display_path(out),
                merged.redefinitions.len()
            );
        }
        None => print!("{}", merged.config),
    }
    Ok(())
}

/// `CONFIG_FOO` or `FOO` -> `FOO`, checked to be a symbol name.
fn symbol_name<'a>(config: &Config, name: &'a str) -> Result<&'a str> {
    let symbol = name.strip_prefix(config.prefix()).unwrap_or(name);
    let valid = !symbol.is_empty()
        && symbol
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid {
        bail!("invalid symbol name `{name}`: use letters, digits and `_`, e.g. CONFIG_TMPFS");
    }
    Ok(symbol)
}

/// What symbol names and types are checked against.
enum Symbols {
    /// The kernel's Kconfig tree, parsed and evaluated (the arch's symbols only).
    Tree(Box<LoadedTree>),
    /// The light scan of every Kconfig file (busybox).
    Index(SymbolIndex),
}

impl Symbols {
    fn symbol_type(&self, symbol: &str) -> Option<kconfig::SymbolType> {
        match self {
            Symbols::Tree(loaded) => loaded.tree.symbol_type(symbol),
            Symbols::Index(index) => index.symbol_type(symbol),
        }
    }

    fn check_known(&self, config: &Config, symbol: &str) -> Result<()> {
        let known = match self {
            Symbols::Tree(loaded) => loaded.tree.is_defined(symbol),
            Symbols::Index(index) => !index.definitions(symbol).is_empty(),
        };
        if known {
            return Ok(());
        }
        let near = match self {
            Symbols::Tree(loaded) => loaded.tree.suggest(symbol),
            Symbols::Index(index) => index.suggest(symbol),
        };
        let prefix = config.prefix();
        match near {
            Some(near) => bail!("unknown symbol {prefix}{symbol}; did you mean {prefix}{near}?"),
            None => bail!("unknown symbol {prefix}{symbol}: no Kconfig file defines it"),
        }
    }
}

/// Serialises edits of the file at `path` (through symlinks) for the whole
/// read-edit-write: a lock on its folder, so concurrent `kconfig set`s each see the
/// others' edits instead of overwriting them.
fn edit_lock(path: &Utf8Path) -> Result<FileLock> {
    let file = follow_symlinks(path)?;
    let dir = match file.parent() {
        Some(dir) if !dir.as_str().is_empty() => dir.to_path_buf(),
        _ => Utf8PathBuf::from("."),
    };
    FileLock::folder(&dir, &format!("another edit of {}", display_path(&file)))
}

/// Prints the diff of an edit and, unless `dry_run`, writes the file atomically.
fn write_edited(path: &Utf8Path, config: &Config, dry_run: bool) -> Result<()> {
    let old = fs_err::read_to_string(path)?;
    let new = config.to_string();
    let shown = display_path(path);
    if old == new {
        eprintln!("{shown}: already up to date");
        return Ok(());
    }
    let diff = kconfig::unified_diff(
        &old,
        &new,
        &format!("a/{shown}"),
        &format!("b/{shown}"),
        colour(),
    );
    if dry_run {
        print!("{diff}");
        eprintln!("dry run: {shown} not written");
        return Ok(());
    }
    // The diff says what was done, so it is shown only once the file is written.
    crate::engine::write_atomic(path, new.as_bytes())
        .with_context(|| format!("cannot write {shown}, left as it was"))?;
    print!("{diff}");
    Ok(())
}

/// Colour only for a person at a terminal, and never with `NO_COLOR`.
fn colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}
