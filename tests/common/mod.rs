//! Helpers that pin the environment so output does not depend on the machine.
#![allow(dead_code, clippy::unwrap_used)]

pub mod sshd;

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub fn pairctl() -> Command {
    let mut cmd = Command::cargo_bin("pairctl").unwrap();
    cmd.env_remove("PAIRCTL_CONFIG")
        .env_remove("PAIRCTL_DB_PASSWORD")
        .env_remove("PAIRCTL_INGRESS_TOKEN")
        .env_remove("SSH_AUTH_SOCK")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "80")
        .env("RUST_BACKTRACE", "0");
    cmd
}

/// The same, as a std Command (for spawning a long-running process).
pub fn pairctl_process() -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("pairctl"));
    cmd.env_remove("PAIRCTL_CONFIG")
        .env_remove("SSH_AUTH_SOCK")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "80")
        .env("RUST_BACKTRACE", "0");
    cmd
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Polls `f` until it returns true or `limit` passes.
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}
