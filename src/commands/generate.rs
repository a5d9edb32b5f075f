//! `pairctl completions` and `pairctl man`: generated from the clap model. The copies in
//! completions/ and man/ are committed and a test fails when they are stale.

use crate::cli::Cli;
use clap::CommandFactory;
use clap_complete::Shell;

pub const SHELLS: [(Shell, &str); 5] = [
    (Shell::Bash, "pairctl.bash"),
    (Shell::Zsh, "_pairctl"),
    (Shell::Fish, "pairctl.fish"),
    (Shell::PowerShell, "_pairctl.ps1"),
    (Shell::Elvish, "pairctl.elv"),
];

pub fn completion(shell: Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "pairctl", &mut buf);
    buf
}

/// (file name, roff) for pairctl.1 and one page per subcommand.
pub fn man_pages() -> Vec<(String, Vec<u8>)> {
    let cmd = Cli::command();
    let mut pages = Vec::new();
    let mut top = Vec::new();
    if clap_mangen::Man::new(cmd.clone()).render(&mut top).is_ok() {
        pages.push(("pairctl.1".to_string(), top));
    }
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let name = format!("pairctl-{}", sub.get_name());
        let sub = sub
            .clone()
            .name(name.clone())
            .version(env!("CARGO_PKG_VERSION"));
        let mut buf = Vec::new();
        if clap_mangen::Man::new(sub).render(&mut buf).is_ok() {
            pages.push((format!("{name}.1"), buf));
        }
    }
    pages
}
