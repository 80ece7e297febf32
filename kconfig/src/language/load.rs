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
        let (mut k, modules) = Parser::new(srctree, env, shell).parse(top)?;
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
