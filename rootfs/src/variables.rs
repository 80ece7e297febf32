//! `${name}` substitution in host paths.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::error::{Error, Origin};

/// Expands every `${name}` in `raw` from `vars`; a relative result is taken relative to `base`.
///
/// A `$` not followed by `{` is kept as is. An unknown or unterminated variable is an error at
/// `origin` that lists the variables the caller defined.
pub(crate) fn expand_host_path(
    raw: &str,
    vars: &BTreeMap<String, PathBuf>,
    base: &Path,
    origin: &Origin,
) -> Result<PathBuf, Error> {
    let mut out = OsString::new();
    let mut rest = raw;
    while let Some(start) = rest.find("${") {
        out.push(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(Error::manifest(
                origin,
                format!("unterminated `${{` in {raw:?}"),
            ));
        };
        let name = &after[..end];
        let Some(value) = vars.get(name) else {
            let known: Vec<String> = vars.keys().map(|k| format!("${{{k}}}")).collect();
            let known = if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            };
            return Err(Error::manifest(
                origin,
                format!("unknown variable `${{{name}}}` in {raw:?}; defined variables: {known}"),
            ));
        };
        out.push(value);
        rest = &after[end + 1..];
    }
    out.push(rest);
    if out.is_empty() {
        return Err(Error::manifest(origin, "empty host path"));
    }
    Ok(base.join(PathBuf::from(out)))
}

#[cfg(test)]
mod tests {
    use super::expand_host_path;
    use crate::error::Origin;
    use expect_test::{expect, Expect};
    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    fn check(raw: &str, expect: Expect) {
        let vars = BTreeMap::from([
            ("busybox".to_string(), PathBuf::from("/out/busybox/busybox")),
            (
                "board".to_string(),
                PathBuf::from("/src/boards/versatilepb"),
            ),
        ]);
        let origin = Origin::new("rootfs.toml", 7);
        let got = match expand_host_path(raw, &vars, Path::new("/manifest/dir"), &origin) {
            Ok(p) => p.display().to_string(),
            Err(e) => e.to_string(),
        };
        expect.assert_eq(&got);
    }

    #[test]
    fn variables_expand_and_relative_paths_follow_the_manifest() {
        check("${busybox}", expect!["/out/busybox/busybox"]);
        check(
            "${board}/overlay",
            expect!["/src/boards/versatilepb/overlay"],
        );
        check("files/motd", expect!["/manifest/dir/files/motd"]);
        check("cost$5/x", expect!["/manifest/dir/cost$5/x"]);
        check(
            "${init}",
            expect![[
                r#"rootfs.toml:7: unknown variable `${init}` in "${init}"; defined variables: ${board}, ${busybox}"#
            ]],
        );
        check(
            "${board",
            expect![[r#"rootfs.toml:7: unterminated `${` in "${board""#]],
        );
    }
}
