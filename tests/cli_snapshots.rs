//! Snapshots of the help of every command and of the exit-code text, each with the exit
//! code it ends in: the wording an operator or a script depends on changes only on purpose.
#![allow(clippy::unwrap_used)]

use crate::common::pairctl;

/// `pairctl ARGS`: its exit code, then stdout (help goes to stdout).
fn run(args: &[&str]) -> String {
    let out = pairctl().args(args).output().unwrap();
    format!(
        "exit: {}\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout)
    )
}

#[test]
fn help_of_every_command() {
    for args in [
        &["--help"][..],
        &["status", "--help"],
        &["failover", "--help"],
        &["swap", "--help"],
        &["rejoin", "--help"],
        &["history", "--help"],
        &["snapshot", "--help"],
        &["exporter", "--help"],
        &["deploy", "--help"],
        &["maintenance", "--help"],
        &["maintenance", "on", "--help"],
        &["maintenance", "off", "--help"],
        &["completions", "--help"],
        &["man", "--help"],
    ] {
        let name = format!("help_{}", args[..args.len() - 1].join("_"));
        let name = if name == "help_" {
            "help_pairctl".into()
        } else {
            name
        };
        insta::assert_snapshot!(name, run(args));
    }
}

#[test]
fn exit_code_text() {
    insta::assert_snapshot!(pairctl::error::ExitStatus::help_text());
}

#[test]
fn usage_error_exit_code() {
    let out = pairctl().args(["status", "--bogus"]).output().unwrap();
    insta::assert_snapshot!(format!(
        "exit: {}\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr)
    ));
}
