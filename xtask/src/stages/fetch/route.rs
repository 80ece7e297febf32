//! Where a source can come from, in which order, and trying each until one works.

use anyhow::{bail, Result};
use camino::Utf8PathBuf;
use std::fmt;

use crate::board::SourceSpec;
use crate::engine::interrupted;

/// Where a source tarball can come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// An upstream URL, verified against the board's sha256.
    Url(String),
    /// The tarball an installed Debian package put on the host.
    DebianInstalled {
        /// Package name.
        package: String,
        /// Installed version.
        version: String,
        /// Absolute path of the tarball.
        tarball: Utf8PathBuf,
    },
    /// The Debian package, downloaded with apt.
    DebianArchive {
        /// Package name.
        package: String,
        /// Path of the tarball inside the package.
        tarball: Utf8PathBuf,
    },
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Route::Url(url) => write!(f, "{url}"),
            Route::DebianInstalled {
                package, version, ..
            } => write!(f, "installed {package} {version}"),
            Route::DebianArchive { package, .. } => write!(f, "Debian archive {package}"),
        }
    }
}

/// What dpkg says about a source's Debian package on this host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DebianState {
    /// Installed version, if installed.
    pub installed: Option<String>,
    /// Whether the package's tarball is on disk.
    pub tarball_present: bool,
}

/// The routes to try for a source, in order; an error when the board entry is unusable.
pub fn routes(name: &str, spec: &SourceSpec, debian: &DebianState) -> Result<Vec<Route>> {
    let mut routes = Vec::new();
    if !spec.urls.is_empty() {
        if !is_sha256(&spec.sha256) {
            bail!(
                "board.toml [sources.{name}]: `urls` needs `sha256` (64 hex digits), got {:?}: \
                 pin the tarball's hash or remove the urls",
                spec.sha256
            );
        }
        routes.extend(spec.urls.iter().cloned().map(Route::Url));
    }
    match (&spec.debian_package, &spec.debian_tarball) {
        (Some(package), Some(tarball)) => {
            if let (Some(version), true) = (&debian.installed, debian.tarball_present) {
                routes.push(Route::DebianInstalled {
                    package: package.clone(),
                    version: version.clone(),
                    tarball: tarball.clone(),
                });
            }
            routes.push(Route::DebianArchive { package: package.clone(), tarball: tarball.clone() });
        }
        (None, None) => {}
        _ => bail!("board.toml [sources.{name}]: set both `debian_package` and `debian_tarball`, or neither"),
    }
    if routes.is_empty() {
        bail!("board.toml [sources.{name}]: no `urls` and no `debian_package`: nowhere to fetch it from");
    }
    Ok(routes)
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Tries `attempt` on each route in order and returns the first success; when all fail,
/// one error naming every route and why it failed.
pub fn first_success<T>(
    name: &str,
    routes: &[Route],
    mut attempt: impl FnMut(&Route) -> Result<T>,
) -> Result<T> {
    let mut failures = Vec::new();
    for route in routes {
        if interrupted() {
            bail!("interrupted");
        }
        match attempt(route) {
            Ok(t) => return Ok(t),
            Err(e) => failures.push(format!("  {route}: {e:#}")),
        }
    }
    bail!("every source of {name} failed:\n{}", failures.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{expect, Expect};

    fn spec(toml_text: &str) -> SourceSpec {
        toml::from_str(toml_text).expect("test spec parses")
    }

    fn check_routes(spec_text: &str, debian: DebianState, expect: Expect) {
        let out = match routes("linux", &spec(spec_text), &debian) {
            Ok(routes) => routes
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
            Err(e) => format!("error: {e:#}"),
        };
        expect.assert_eq(&out);
    }

    const SHA: &str = "1b6e798aeaa708ca670a426ad5a6c86dc2237b8e59e8822876976c383873642b";

    #[test]
    fn urls_come_first_then_the_installed_package_then_the_archive() {
        check_routes(
            &format!(
                r#"version = "6.1"
                urls = ["https://a/linux-6.1.187.tar.xz", "https://b/linux-6.1.187.tar.xz"]
                sha256 = "{SHA}"
                debian_package = "linux-source-6.1"
                debian_tarball = "/usr/src/linux-source-6.1.tar.xz""#
            ),
            DebianState {
                installed: Some("6.1.192-2".into()),
                tarball_present: true,
            },
            expect![[r#"
                https://a/linux-6.1.187.tar.xz
                https://b/linux-6.1.187.tar.xz
                installed linux-source-6.1 6.1.192-2
                Debian archive linux-source-6.1"#]],
        );
    }

    #[test]
    fn installed_package_without_its_tarball_is_skipped() {
        check_routes(
            r#"version = "6.1"
            debian_package = "linux-source-6.1"
            debian_tarball = "/usr/src/linux-source-6.1.tar.xz""#,
            DebianState {
                installed: Some("6.1.192-2".into()),
                tarball_present: false,
            },
            expect![[r#"Debian archive linux-source-6.1"#]],
        );
    }

    #[test]
    fn urls_without_a_pin_are_refused() {
        check_routes(
            r#"version = "6.1"
            urls = ["https://a/linux.tar.xz"]
            sha256 = "abc""#,
            DebianState::default(),
            expect![[
                r#"error: board.toml [sources.linux]: `urls` needs `sha256` (64 hex digits), got "abc": pin the tarball's hash or remove the urls"#
            ]],
        );
    }

    #[test]
    fn a_source_with_no_route_is_refused() {
        check_routes(
            r#"version = "6.1""#,
            DebianState::default(),
            expect![[
                r#"error: board.toml [sources.linux]: no `urls` and no `debian_package`: nowhere to fetch it from"#
            ]],
        );
        check_routes(
            r#"version = "6.1"
            debian_package = "linux-source-6.1""#,
            DebianState::default(),
            expect![[
                r#"error: board.toml [sources.linux]: set both `debian_package` and `debian_tarball`, or neither"#
            ]],
        );
    }

    /// Runs [`first_success`] over routes whose attempts give the listed results.
    fn check_fallback(results: &[Result<&str, &str>], expect: Expect) {
        let routes: Vec<Route> = (0..results.len())
            .map(|i| Route::Url(format!("https://mirror{i}/x.tar")))
            .collect();
        let mut tried = Vec::new();
        let got = first_success("busybox", &routes, |route| {
            tried.push(route.to_string());
            let i = routes
                .iter()
                .position(|r| r == route)
                .expect("route from the list");
            results[i]
                .map(String::from)
                .map_err(|e| anyhow::anyhow!("{e}"))
        });
        let got = match got {
            Ok(v) => format!("ok: {v}"),
            Err(e) => format!("error: {e:#}"),
        };
        expect.assert_eq(&format!("tried: {}\n{got}", tried.join(", ")));
    }

    #[test]
    fn fallback_stops_at_the_first_verified_route() {
        check_fallback(
            &[
                Err("Could not resolve host: busybox.net"),
                Ok("tree"),
                Ok("unused"),
            ],
            expect![[r#"
                tried: https://mirror0/x.tar, https://mirror1/x.tar
                ok: tree"#]],
        );
    }

    #[test]
    fn fallback_reports_every_failure_when_all_fail() {
        check_fallback(
            &[
                Err("Could not resolve host: busybox.net"),
                Err("sha256 mismatch: expected aa, got bb (download discarded)"),
            ],
            expect![[r#"
                tried: https://mirror0/x.tar, https://mirror1/x.tar
                error: every source of busybox failed:
                  https://mirror0/x.tar: Could not resolve host: busybox.net
                  https://mirror1/x.tar: sha256 mismatch: expected aa, got bb (download discarded)"#]],
        );
    }
}
