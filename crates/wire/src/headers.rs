//! Header names of the protocol. Header names are case-insensitive on the
//! wire; these are the canonical spellings, lower-cased where `http` needs it.

/// Full upstream URL (upstream protocol, required).
pub const TARGET_URL: &str = "x-as-target-url";
/// Upstream method; defaults to the method used on `/proxy`.
pub const METHOD: &str = "x-as-method";
/// Agent identifier recorded in the audit log.
pub const AGENT_ID: &str = "x-as-agent-id";
/// Prefix of the upstream protocol's injection headers (`X-AS-Inject-Bearer`, ...).
pub const LEGACY_INJECT_PREFIX: &str = "x-as-inject-";
/// Prefix reserved for the protocol: never forwarded upstream, stripped from upstream responses.
pub const RESERVED_PREFIX: &str = "x-as-";

/// Extension: the injection plan as a JSON array (see [`crate::inject`]).
/// Names travel in this header's value, so their case survives.
pub const INJECT: &str = "x-as-inject";
/// Extension: per-request workspace (percent-encoded UTF-8).
pub const WORKSPACE: &str = "x-as-workspace";
/// Extension: per-request project (percent-encoded UTF-8).
pub const PROJECT: &str = "x-as-project";
/// Caller token for TCP callers (contents of `run/proxy.token`).
pub const TOKEN: &str = "x-as-token";
/// Request to `/health`: a fresh random challenge the engine must answer
/// (see [`crate::proof`]). Carries no token.
pub const CHALLENGE: &str = "x-as-challenge";
/// Response of `/health` to a [`CHALLENGE`]: the engine's proof that it holds
/// this home's token (see [`crate::proof`]).
pub const PROOF: &str = "x-as-proof";

/// Response: set only by the engine on errors it generated; its value is an
/// [`crate::ErrorCode`]. Upstream responses never carry it (the engine strips
/// every `X-AS-*` header an upstream sends), so it cannot be forged. Also a
/// trailer (when the caller sent `TE: trailers`): the engine cut a streamed
/// body (see [`crate::error::Cut`]); the body before it is incomplete.
pub const ENGINE_ERROR: &str = "x-as-engine-error";
/// Response: the engine's name and version on every response it produces.
pub const ENGINE: &str = "x-as-engine";
/// Response trailer (when the caller sent `TE: trailers`): `true` when any
/// echoed secret was redacted from the headers or body.
pub const REDACTED: &str = "x-as-redacted";
/// The `Trailer` header of a streamed answer when the caller asked for trailers.
pub const TRAILERS: &str = "x-as-redacted, x-as-engine-error";
/// Response header: `true` when a response header was redacted (known
/// before the body streams).
pub const HEADERS_REDACTED: &str = "x-as-headers-redacted";
