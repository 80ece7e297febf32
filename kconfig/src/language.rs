//! The Kconfig language: parser, macro preprocessor, menu tree and evaluator, after the
//! kernel's `scripts/kconfig` (6.1), so that `olddefconfig` gives the same bytes as `conf`.

mod blame;
mod depcheck;
mod dotconfig;
mod environment;
mod error;
mod eval;
mod expr;
mod finalize;
mod ids;
mod kernel_env;
mod lexer;
mod load;
mod macros;
mod model;
mod parser;
mod shell;
mod why;

pub use blame::{Blame, BlameLine, Origin};
pub use dotconfig::Evaluation;
pub use environment::Environment;
pub use error::LoadError;
pub use kernel_env::{kernel_environment, source_arch};
pub use model::{Kconfig, LoadOptions, Location};
pub use shell::{ShellCache, ShellRunner};
pub use why::{Assignment, Why};
