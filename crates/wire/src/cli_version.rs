//! The first line `agentsecrets --version` prints, which tells this
//! project's engine from the upstream AgentSecrets CLI (Go, cobra): the two
//! share a binary name, not a command line.

/// What this project's engine prints: `agentsecrets 0.1.0 (agentsecrets-engine)`
/// (clap adds the `agentsecrets ` in front).
pub const ENGINE_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (agentsecrets-engine)");

/// Which program answered `--version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CliKind {
    /// This project's engine.
    Engine,
    /// The upstream AgentSecrets CLI.
    UpstreamCli,
}

/// A recognised `--version` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliVersion {
    pub kind: CliKind,
    pub version: String,
}

impl CliVersion {
    /// Reads the first non-empty line of `stdout`; `None` for any other
    /// program.
    pub fn parse(stdout: &str) -> Option<CliVersion> {
        let first = first_line(stdout);
        if let Some(rest) = first.strip_prefix("agentsecrets version ") {
            let version = rest.strip_prefix('v').unwrap_or(rest);
            return single_word(version).map(|v| CliVersion {
                kind: CliKind::UpstreamCli,
                version: v,
            });
        }
        let version = first
            .strip_prefix("agentsecrets ")?
            .strip_suffix(" (agentsecrets-engine)")?;
        single_word(version).map(|v| CliVersion {
            kind: CliKind::Engine,
            version: v,
        })
    }
}

/// The first non-empty line, trimmed: what an error shows of an unknown answer.
pub fn first_line(stdout: &str) -> &str {
    stdout
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
}

fn single_word(s: &str) -> Option<String> {
    (!s.is_empty() && !s.contains(char::is_whitespace)).then(|| s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_our_engine() {
        let got = CliVersion::parse(&format!("\nagentsecrets {ENGINE_VERSION}\n")).unwrap();
        assert_eq!(got.kind, CliKind::Engine);
        assert_eq!(got.version, env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn reads_the_upstream_cli_with_or_without_v() {
        for line in [
            "agentsecrets version 1.4.2",
            "agentsecrets version v1.4.2\r\n",
        ] {
            let got = CliVersion::parse(line).unwrap();
            assert_eq!(
                (got.kind, got.version.as_str()),
                (CliKind::UpstreamCli, "1.4.2")
            );
        }
    }

    #[test]
    fn refuses_anything_else() {
        for text in [
            "",
            "agentsecrets",
            "agentsecrets 1.0",
            "agentsecrets 1.0 (other)",
            "agentsecrets two words (agentsecrets-engine)",
            "agentsecrets version ",
            "Usage: agentsecrets [OPTIONS]",
        ] {
            assert_eq!(CliVersion::parse(text), None, "{text:?}");
        }
    }
}
