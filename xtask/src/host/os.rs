//! Which OS the host runs: `/etc/os-release`.

/// The parts of `/etc/os-release` that decide how packages are installed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsRelease {
    /// `ID`, e.g. `debian`, `ubuntu`.
    pub id: String,
    /// `VERSION_CODENAME`, e.g. `bookworm`.
    pub codename: String,
    /// `PRETTY_NAME`, for messages.
    pub pretty: String,
}

impl OsRelease {
    /// Parses os-release(5) text: `KEY=value` lines, values optionally quoted.
    pub fn parse(text: &str) -> OsRelease {
        let mut os = OsRelease::default();
        for line in text.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let value = value
                .trim()
                .trim_matches(|c| c == '"' || c == '\'')
                .to_string();
            match key.trim() {
                "ID" => os.id = value,
                "VERSION_CODENAME" => os.codename = value,
                "PRETTY_NAME" => os.pretty = value,
                _ => {}
            }
        }
        os
    }

    /// Reads the host's os-release; an unknown OS when there is none.
    pub fn read() -> OsRelease {
        ["/etc/os-release", "/usr/lib/os-release"]
            .iter()
            .find_map(|p| std::fs::read_to_string(p).ok())
            .map(|t| OsRelease::parse(&t))
            .unwrap_or_default()
    }

    /// Debian itself (not a derivative such as Ubuntu).
    pub fn is_debian(&self) -> bool {
        self.id == "debian"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    const JAMMY: &str = "PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\nNAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\nVERSION_CODENAME=jammy\n";

    #[test]
    fn os_release_parses_quoted_values() {
        let os = OsRelease::parse(JAMMY);
        expect![[r#"
            OsRelease {
                id: "ubuntu",
                codename: "jammy",
                pretty: "Ubuntu 22.04.4 LTS",
            }"#]]
        .assert_eq(&format!("{os:#?}"));
    }
}
