//! The environment a Kconfig tree is read in.

use std::collections::BTreeMap;

/// The environment `conf` runs in: the variables the kernel's Makefile exports (`ARCH`,
/// `SRCARCH`, `CC`, ...), and, when `inherit` is set, the process environment behind
/// them, as `getenv` would see it.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// Variables set for the Kconfig run; they win over the process environment.
    pub vars: BTreeMap<String, String>,
    /// Whether variables not in `vars` are read from the process environment.
    pub inherit: bool,
}

impl Environment {
    /// An environment of `vars` only.
    pub fn new(vars: BTreeMap<String, String>) -> Environment {
        Environment {
            vars,
            inherit: false,
        }
    }

    /// The value `conf` would get from `getenv(name)`.
    pub fn get(&self, name: &str) -> Option<String> {
        if let Some(v) = self.vars.get(name) {
            return Some(v.clone());
        }
        if self.inherit {
            return std::env::var(name).ok();
        }
        None
    }
}
