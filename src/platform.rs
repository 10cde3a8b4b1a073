//! What differs between Unix and Windows in the addon. The engine runs on
//! Linux and macOS only: its trust boundary is a Unix socket in a 0700
//! directory, 0600 files, flock and process groups. On Windows the addon
//! still loads and `backend: 'upstream-proxy'` works (TCP to the upstream
//! Go proxy), while everything that needs the engine fails with one typed
//! error, [`engine_supported`], before anything is started or sent.

use crate::errors::{sdk_codes, SdkError, SdkResult};
use std::path::Path;

/// Ok where the engine runs; on Windows the error saying what to use instead.
pub fn engine_supported() -> SdkResult<()> {
    if cfg!(unix) {
        Ok(())
    } else {
        Err(SdkError::new(
            sdk_codes::PLATFORM_NOT_SUPPORTED,
            "the agentsecrets engine does not run on Windows yet",
        )
        .fix("run your program in WSL 2 (a Linux distribution, where npm installs the Linux build), or run the upstream AgentSecrets proxy and pass { backend: 'upstream-proxy' }, or use MockAgentSecrets from @the-17/agentsecrets/testing in tests"))
    }
}

/// Whether `p` is a file this process may run.
#[cfg(unix)]
pub fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether `p` is a file this process may run (Windows has no execute bit).
#[cfg(not(unix))]
pub fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file())
}

/// Makes `builder` connect to the engine's Unix socket `socket`.
#[cfg(unix)]
pub fn via_socket(
    builder: reqwest::ClientBuilder,
    socket: &Path,
) -> SdkResult<reqwest::ClientBuilder> {
    Ok(builder.unix_socket(socket))
}

/// There is no engine socket on Windows: the engine's error.
#[cfg(not(unix))]
pub fn via_socket(
    builder: reqwest::ClientBuilder,
    _socket: &Path,
) -> SdkResult<reqwest::ClientBuilder> {
    engine_supported().map(|()| builder)
}
