//! A binding: which OpenBao / Vault KV v2 store a workspace or project uses,
//! how the engine authenticates to it, and in which mode. A binding holds
//! no secret: tokens and AppRole ids are read from an environment variable
//! or a 0600 file when needed.

use crate::error::{EngineError, Result};
use agentsecrets_wire::names;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Default time a resolve-through snapshot is reused before OpenBao is asked again.
pub const DEFAULT_CACHE_TTL_SECS: u64 = 30;

/// The environment variable read for a token when the headless binding names none.
pub const DEFAULT_TOKEN_ENV: &str = "AGENTSECRETS_REMOTE_TOKEN";

/// How a bound scope gets its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The proxy reads values from OpenBao at request time (in memory only).
    Resolve,
    /// `secrets pull|push|diff` copy values between the local vault and OpenBao.
    Sync,
}

impl Mode {
    pub fn parse(s: &str) -> Result<Mode> {
        match s {
            "resolve" | "resolve-through" => Ok(Mode::Resolve),
            "sync" => Ok(Mode::Sync),
            other => Err(EngineError::invalid(format!(
                "unknown remote mode {}",
                names::shown(other)
            ))
            .fix("use --mode resolve (values read at request time) or --mode sync (secrets pull/push)")),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Resolve => "resolve",
            Mode::Sync => "sync",
        }
    }
}

/// Where a credential is read from: never the credential itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Source {
    /// An environment variable of the engine's process.
    Env(String),
    /// A file readable by its owner only (mode 0600 or stricter).
    File(String),
    /// Typed at `remote set --token-stdin`, kept encrypted in the vault under this name.
    Vault(String),
}

/// How the engine logs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "method")]
pub enum Auth {
    /// A token (`X-Vault-Token`).
    Token { token: Source },
    /// AppRole: `auth/<mount>/login` with a role id and a secret id.
    #[serde(rename_all = "camelCase")]
    AppRole {
        role_id: Source,
        secret_id: Source,
        mount: String,
    },
}

/// One binding. `workspace: None` binds every scope (the headless
/// `AGENTSECRETS_REMOTE` binding); `project: None` binds a whole workspace,
/// each project under `<prefix>/<project>/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Binding {
    pub workspace: Option<String>,
    pub project: Option<String>,
    /// `http(s)://host:port`, without a path.
    pub address: String,
    /// The KV v2 mount (`secret`).
    pub mount: String,
    /// Path under the mount; secrets are `<prefix>/KEY`.
    pub prefix: String,
    pub mode: Mode,
    pub auth: Auth,
    pub cache_ttl_secs: u64,
}

impl Binding {
    /// Whether this binding serves `workspace`/`project`.
    pub fn serves(&self, workspace: &str, project: &str) -> bool {
        match (&self.workspace, &self.project) {
            (None, _) => true,
            (Some(w), None) => w == workspace,
            (Some(w), Some(p)) => w == workspace && p == project,
        }
    }

    /// The path (under the mount) that holds `project`'s secrets.
    pub fn folder(&self, project: &str) -> String {
        match (&self.workspace, &self.project) {
            (Some(_), None) => join(&self.prefix, project),
            _ => self.prefix.clone(),
        }
    }

    pub fn cache_ttl(&self) -> Duration {
        Duration::from_secs(self.cache_ttl_secs)
    }

    /// `workspace/project`, `workspace/*` or `*` (for messages and `show`).
    pub fn scope_label(&self) -> String {
        match (&self.workspace, &self.project) {
            (None, _) => "*".to_owned(),
            (Some(w), None) => format!("{w}/*"),
            (Some(w), Some(p)) => format!("{w}/{p}"),
        }
    }

    /// Checks every field; the error says which one and how to fix it.
    pub fn validate(&self) -> Result<()> {
        check_address(&self.address)?;
        check_path("mount", &self.mount, false)?;
        check_path("prefix", &self.prefix, true)?;
        if let Auth::AppRole { mount, .. } = &self.auth {
            check_path("AppRole mount", mount, false)?;
        }
        Ok(())
    }
}

/// `a/b`, or whichever is not empty.
pub fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_owned(),
        (_, true) => a.to_owned(),
        _ => format!("{a}/{b}"),
    }
}

fn check_address(address: &str) -> Result<()> {
    let bad = || {
        EngineError::invalid(format!(
            "remote address {} is not an http(s) origin",
            names::shown(address)
        ))
        .fix("give the server's origin, e.g. --address https://bao.example.com:8200 (no path, no credentials)")
    };
    let url = url::Url::parse(address).map_err(|_| bad())?;
    let origin_only = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none();
    if origin_only {
        Ok(())
    } else {
        Err(bad())
    }
}

/// A mount or prefix: path segments of letters, digits, `_`, `-`, `.`
/// (no `..`), so it can be put into a URL path as it is.
fn check_path(what: &str, path: &str, may_be_empty: bool) -> Result<()> {
    let segment_ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
    };
    let ok = if path.is_empty() {
        may_be_empty
    } else {
        path.split('/').all(segment_ok)
    };
    if ok {
        Ok(())
    } else {
        Err(EngineError::invalid(format!(
            "remote {what} {} is not a path of plain segments",
            names::shown(path)
        ))
        .fix(format!(
            "give the {what} as segments of letters, digits, '_', '-' and '.' separated by '/', e.g. team/app"
        )))
    }
}

/// Parses the headless form, `AGENTSECRETS_REMOTE`:
/// `http(s)://HOST:PORT?mount=secret&prefix=team/app&mode=resolve&token-env=NAME`
/// (or `token-file=PATH`, or `role-id-file|role-id-env` with
/// `secret-id-file|secret-id-env` and optional `approle-mount`), plus
/// `cache-ttl=SECONDS`. It binds every scope.
pub fn parse_env(text: &str) -> Result<Binding> {
    let usage = "set AGENTSECRETS_REMOTE to e.g. https://bao.example.com:8200?mount=secret&prefix=team/app&mode=resolve&token-env=BAO_TOKEN";
    let mut url = url::Url::parse(text.trim())
        .map_err(|_| EngineError::invalid("AGENTSECRETS_REMOTE is not a URL").fix(usage))?;
    let mut params = Params::default();
    for (k, v) in url.query_pairs() {
        params.set(&k, v.into_owned())?;
    }
    url.set_query(None);
    let address = url.as_str().trim_end_matches('/').to_owned();
    let binding = params.into_binding(None, None, address)?;
    binding.validate().map_err(|e| {
        let fix = e.fix.clone().unwrap_or_default();
        e.fix(format!("{fix}; {usage}"))
    })?;
    Ok(binding)
}

/// The options of a binding as `name=value` pairs: the headless URL's
/// query, and the flags of `remote set`.
#[derive(Debug, Default)]
pub struct Params {
    pub mount: Option<String>,
    pub prefix: Option<String>,
    pub mode: Option<String>,
    pub token_env: Option<String>,
    pub token_file: Option<String>,
    pub role_id_env: Option<String>,
    pub role_id_file: Option<String>,
    pub secret_id_env: Option<String>,
    pub secret_id_file: Option<String>,
    pub approle_mount: Option<String>,
    pub cache_ttl: Option<u64>,
}

impl Params {
    fn set(&mut self, name: &str, value: String) -> Result<()> {
        let slot = match name {
            "mount" => &mut self.mount,
            "prefix" => &mut self.prefix,
            "mode" => &mut self.mode,
            "token-env" => &mut self.token_env,
            "token-file" => &mut self.token_file,
            "role-id-env" => &mut self.role_id_env,
            "role-id-file" => &mut self.role_id_file,
            "secret-id-env" => &mut self.secret_id_env,
            "secret-id-file" => &mut self.secret_id_file,
            "approle-mount" => &mut self.approle_mount,
            "cache-ttl" => {
                self.cache_ttl = Some(value.parse().map_err(|_| {
                    EngineError::invalid("cache-ttl is not a number of seconds")
                        .fix("give cache-ttl as whole seconds, e.g. cache-ttl=30 (0 turns the cache off)")
                })?);
                return Ok(());
            }
            other => {
                return Err(EngineError::invalid(format!(
                    "unknown remote option {}",
                    names::shown(other)
                ))
                .fix("use mount, prefix, mode, token-env, token-file, role-id-env, role-id-file, secret-id-env, secret-id-file, approle-mount, cache-ttl"))
            }
        };
        *slot = Some(value);
        Ok(())
    }

    /// The binding these options describe.
    pub fn into_binding(
        self,
        workspace: Option<String>,
        project: Option<String>,
        address: String,
    ) -> Result<Binding> {
        let auth = self.auth()?;
        let binding = Binding {
            workspace,
            project,
            address: address.trim_end_matches('/').to_owned(),
            mount: self.mount.unwrap_or_else(|| "secret".to_owned()),
            prefix: self
                .prefix
                .unwrap_or_else(|| "agentsecrets".to_owned())
                .trim_matches('/')
                .to_owned(),
            mode: Mode::parse(self.mode.as_deref().unwrap_or("resolve"))?,
            auth,
            cache_ttl_secs: self.cache_ttl.unwrap_or(DEFAULT_CACHE_TTL_SECS),
        };
        binding.validate()?;
        Ok(binding)
    }

    fn auth(&self) -> Result<Auth> {
        let one = |what: &str, env: &Option<String>, file: &Option<String>| match (env, file) {
            (Some(e), None) => Ok(Some(Source::Env(e.clone()))),
            (None, Some(f)) => Ok(Some(Source::File(f.clone()))),
            (None, None) => Ok(None),
            (Some(_), Some(_)) => Err(EngineError::invalid(format!(
                "both {what}-env and {what}-file are given"
            ))
            .fix(format!("give only one of {what}-env and {what}-file"))),
        };
        let token = one("token", &self.token_env, &self.token_file)?;
        let role = one("role-id", &self.role_id_env, &self.role_id_file)?;
        let secret = one("secret-id", &self.secret_id_env, &self.secret_id_file)?;
        match (token, role, secret) {
            (Some(token), None, None) => Ok(Auth::Token { token }),
            (None, Some(role_id), Some(secret_id)) => Ok(Auth::AppRole {
                role_id,
                secret_id,
                mount: self.approle_mount.clone().unwrap_or_else(|| "approle".to_owned()),
            }),
            (None, None, None) => Ok(Auth::Token {
                token: Source::Env(DEFAULT_TOKEN_ENV.to_owned()),
            }),
            _ => Err(EngineError::invalid("the remote's authentication is incomplete or mixed")
                .fix("give either a token (token-env or token-file) or AppRole (role-id-env|role-id-file and secret-id-env|secret-id-file)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headless_form_parses() {
        let b = parse_env(
            "http://127.0.0.1:8200?mount=kv&prefix=/team/app/&mode=resolve&token-env=T&cache-ttl=5",
        )
        .unwrap();
        assert_eq!(b.address, "http://127.0.0.1:8200");
        assert_eq!(b.mount, "kv");
        assert_eq!(b.prefix, "team/app");
        assert_eq!(
            b.auth,
            Auth::Token {
                token: Source::Env("T".into())
            }
        );
        assert_eq!(b.cache_ttl_secs, 5);
        assert!(b.serves("any", "thing"));
    }

    #[test]
    fn bad_input_is_refused_not_panicking() {
        for bad in [
            "",
            "ftp://h",
            "http://u:p@h:1",
            "http://h:1/v1/secret",
            "http://h?prefix=../x",
            "http://h?mount=a%2Fb/..",
            "http://h?token-env=A&token-file=B",
            "http://h?role-id-env=A",
            "http://h?cache-ttl=-1",
            "http://h?bogus=1",
            "http://h?mode=push",
        ] {
            assert!(parse_env(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn workspace_binding_puts_projects_in_folders() {
        let mut b = parse_env("http://h:1?prefix=team").unwrap();
        b.workspace = Some("W".into());
        assert_eq!(b.folder("app"), "team/app");
        assert!(b.serves("W", "x") && !b.serves("V", "x"));
        b.project = Some("app".into());
        assert_eq!(b.folder("app"), "team");
        assert!(!b.serves("W", "other"));
    }
}
