//! `agentsecrets env -- CMD`: run a command with secrets in its environment,
//! forward signals, mask output. The env helper implements it.
