//! One integration-test binary: CLI behaviour, the SSH transport against a real OpenSSH sshd
//! on loopback, generated files, and (ignored unless the lab is up) end-to-end on the lab.

mod cli;
mod cli_snapshots;
mod common;
mod e2e;
mod generated;
mod snapshot;
mod ssh_transport;
