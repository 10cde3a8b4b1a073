//! Names of the files under `$AGENTSECRETS_HOME/run/` that the engine
//! writes and the SDK (and other tools) read to find a running proxy.

/// Unix socket the proxy listens on (mode 0600).
pub const SOCKET: &str = "proxy.sock";
/// Fresh random caller token written at each start (mode 0600).
pub const TOKEN: &str = "proxy.token";
/// Pid of the running proxy.
pub const PID: &str = "proxy.pid";
/// JSON description of the running proxy: pid, port, socket, start time.
pub const STATE: &str = "proxy.json";
