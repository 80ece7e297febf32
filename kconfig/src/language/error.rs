//! Why a Kconfig tree could not be loaded.

use std::path::PathBuf;

/// A Kconfig tree that `conf` would refuse, with the place as `conf` reports it.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A `source` names a file that does not exist.
    #[error("{}:{line}: can't open file \"{}\"", file.display(), missing.display())]
    Missing {
        /// The file with the `source` line.
        file: PathBuf,
        /// Its line.
        line: u32,
        /// The file named.
        missing: PathBuf,
    },
    /// A syntax error, an unknown statement, or a macro that failed (`$(error-if,...)`).
    #[error("{}:{line}: {message}", file.display())]
    Syntax {
        /// The file.
        file: PathBuf,
        /// 1-based line.
        line: u32,
        /// What is wrong, as `conf` says it.
        message: String,
    },
    /// A file sources itself, directly or through others.
    #[error("{}:{line}: recursive inclusion of {}; inclusion path:{chain}", file.display(), included.display())]
    RecursiveInclusion {
        /// The file with the `source` line that closes the loop.
        file: PathBuf,
        /// Its line.
        line: u32,
        /// The file sourced again.
        included: PathBuf,
        /// `\n  included from: FILE:LINE` for each step back to the first inclusion.
        chain: String,
    },
    /// Symbols depend on each other in a loop.
    #[error("{}:{line}: recursive dependency detected\n{chain}", file.display())]
    RecursiveDependency {
        /// Where the loop is first seen.
        file: PathBuf,
        /// Its line.
        line: u32,
        /// The steps of the loop, one `FILE:LINE: symbol A depends on B` per line.
        chain: String,
    },
}
