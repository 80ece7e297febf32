//! Linux/busybox configuration: a lossless model of `.config` files (parse, edit, merge,
//! check, diff) and the Kconfig language itself (parse, evaluate, write).
//!
//! A [`Config`] keeps every line byte for byte, so printing it gives back what was parsed,
//! and edits ([`Config::set`], [`Config::unset`], [`Config::remove`]) touch only the lines
//! they must. [`merge`] follows `scripts/kconfig/merge_config.sh`, [`dropped`] reports what
//! `olddefconfig` threw away, and [`SymbolIndex`] is a light scan of a Kconfig source tree
//! for symbol types, `depends on` lines and typo suggestions.
//!
//! [`Kconfig::load`] parses a Kconfig tree as the kernel's `scripts/kconfig` (6.1) does:
//! `source`, menus, choices, `if`, dependencies, `select`, `imply`, defaults, ranges, the
//! `$(...)` preprocessor with `$(shell,...)` (cached by [`ShellCache`]); an [`Evaluation`]
//! of a `.config` on it writes what `conf --olddefconfig` writes, byte for byte, and
//! answers [`Evaluation::why`] and [`Evaluation::blame`]. The crate knows nothing of
//! boards, QEMU or the rootfs.

#![warn(missing_docs)]

mod check;
mod config;
mod diff;
mod expr;
mod language;
mod line;
mod merge;
mod parse;
mod symbol_index;
mod value;

pub use check::{dropped, Dropped, Explanation, Reason};
pub use config::{Config, EditError};
pub use diff::{unified_diff, SymbolDiff};
pub use language::{
    kernel_environment, source_arch, Assignment, Blame, BlameLine, Environment, Evaluation,
    Kconfig, LoadError, LoadOptions, Location, Origin, ShellCache, ShellRunner, Why,
};
pub use line::{Line, LineKind};
pub use merge::{merge, Fragment, MergeOptions, Merged, Redefinition};
pub use parse::ParseError;
pub use symbol_index::{Definition, ScanError, Selector, SymbolIndex};
pub use value::{quote, SymbolType, Tristate, Value, ValueError};
