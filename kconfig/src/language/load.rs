//! `conf_parse`: a whole tree read from its top file, finalized and checked.

use std::path::Path;

use super::environment::Environment;
use super::error::LoadError;
use super::finalize::finalize;
use super::model::*;
use super::parser::Parser;
use super::shell::ShellRunner;

impl Kconfig {
    /// Parses `top` (`Kconfig` for the kernel, `Config.in` for busybox), relative to
    /// `srctree`, and every file it sources; `$(...)` sees `env`, `$(shell,...)` runs
    /// through `shell`. Fails on a syntax error, a missing or recursive `source`, a
    /// failed `$(error-if,...)` or a recursive dependency, naming file and line.
    pub fn load(
        srctree: &Path,
        top: &Path,
        env: &Environment,
        shell: &mut dyn ShellRunner,
    ) -> Result<Kconfig, LoadError> {
        Kconfig::load_with(srctree, top, env, shell, &LoadOptions::default())
    }

    /// [`Kconfig::load`] with `options` for a tree the kernel's `conf` would not read as it
    /// is (busybox's: generated files in its build folder, the older grammar).
    pub fn load_with(
        srctree: &Path,
        top: &Path,
        env: &Environment,
        shell: &mut dyn ShellRunner,
        options: &LoadOptions,
    ) -> Result<Kconfig, LoadError> {
        let (mut k, modules) = Parser::new(srctree, env, shell)
            .with_options(options.clone())
            .parse(top)?;
        k.modules = modules.unwrap_or(SYM_NO);
        if k.menu(ROOT_MENU).prompt.is_none() {
            let id = k.props.len() as PropId;
            k.props.push(Property {
                kind: PropKind::Menu,
                expr: PropExpr::None,
                visible: None,
                text: "Main menu".to_string(),
                file: 0,
                line: 0,
                menu: ROOT_MENU,
            });
            k.menus[ROOT_MENU as usize].prompt = Some(id);
        }
        finalize(&mut k, ROOT_MENU);
        super::depcheck::check(&k)?;
        Ok(k)
    }
}

impl Kconfig {
    /// Whether a tree loaded earlier (and kept, e.g. serialized in a cache file) is still
    /// what [`Kconfig::load`] would give now: every file it read has the same size and
    /// modification time, every environment variable its macros read has the same value
    /// in `env`, and every `$(shell,...)` command gives the same output through `shell`
    /// (a [`super::ShellCache`] answers without running them while the programs they name
    /// are unchanged). A file that did not exist then (an `osource` of a missing file) is
    /// not looked for.
    pub fn is_current(&self, env: &Environment, shell: &mut dyn ShellRunner) -> bool {
        let files_same = self.inputs.files.iter().all(|(path, len, mtime)| {
            std::fs::metadata(path).is_ok_and(|meta| {
                meta.len() == *len
                    && meta
                        .modified()
                        .ok()
                        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                        .map_or(0, |d| d.as_nanos())
                        == *mtime
            })
        });
        files_same
            && self
                .inputs
                .env
                .iter()
                .all(|(name, value)| env.get(name) == *value)
            && self
                .inputs
                .shell
                .iter()
                .all(|(command, output)| shell.run(command).is_ok_and(|o| o == *output))
    }
}

impl Kconfig {
    /// The tree as bytes for a cache file (postcard: compact, and no limit on the nesting
    /// of finalized dependency expressions, which serde_json refuses), read back by
    /// [`Kconfig::from_cache_bytes`].
    pub fn to_cache_bytes(&self) -> Vec<u8> {
        postcard::to_stdvec(self).unwrap_or_default()
    }

    /// A tree from [`Kconfig::to_cache_bytes`]; `None` when the bytes are not one (a cache
    /// file from another version of this crate, or cut short). Check it with
    /// [`Kconfig::is_current`] before use.
    pub fn from_cache_bytes(bytes: &[u8]) -> Option<Kconfig> {
        postcard::from_bytes(bytes).ok()
    }
}
