//! The remote side of a stage's check: one shell script per node and stage, sent on stdin to
//! `bash -s` (so secrets and file contents never appear in a command line), printing named
//! sections that the stage's pure parser reads.

use crate::probe::node::shell_quote;
use crate::transport::batch::mark;
pub use crate::transport::batch::Sections;
use std::collections::BTreeMap;

/// Builds a check script out of sections.
#[derive(Debug, Default, Clone)]
pub struct Script {
    text: String,
}

impl Script {
    pub fn new() -> Self {
        // Commands inside must never read the script itself: stdin is the script.
        Script {
            text: "export LC_ALL=C\n".to_string(),
        }
    }

    /// A section whose body is the stdout of `commands` (shell text; stdin from /dev/null,
    /// stderr dropped: a section holds data only).
    pub fn section(mut self, name: &str, commands: &str) -> Self {
        self.text.push_str(&format!(
            "{}\n{{\n{commands}\n}} </dev/null 2>/dev/null\n",
            mark(name)
        ));
        self
    }

    /// A section whose commands are not wrapped in a group with stdin from /dev/null (they
    /// may read their own here-document).
    pub fn raw_section(mut self, name: &str, commands: &str) -> Self {
        self.text.push_str(&format!("{}\n{commands}\n", mark(name)));
        self
    }

    pub fn build(mut self) -> String {
        self.text.push_str("true\n");
        self.text
    }
}

/// `systemctl is-active` and `is-enabled` of each unit, one line per unit:
/// `unit active-state enabled-state` (the enabled state is empty for an unknown unit).
pub fn units_fragment(units: &[&str]) -> String {
    let list: Vec<String> = units.iter().map(|u| shell_quote(u)).collect();
    format!(
        "for u in {}; do printf '%s %s %s\\n' \"$u\" \"$(systemctl is-active \"$u\" 2>/dev/null)\" \"$(systemctl is-enabled \"$u\" 2>/dev/null)\"; done",
        list.join(" ")
    )
}

/// The state of one systemd unit as the check saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitState {
    /// `active`, `inactive`, `failed`, `activating`…
    pub active: String,
    /// `enabled`, `disabled`, `static`, `masked`… or empty when the unit file is unknown.
    pub enabled: String,
}

impl UnitState {
    pub fn is_active(&self) -> bool {
        self.active == "active" || self.active == "reloading" || self.active == "activating"
    }
    pub fn is_enabled(&self) -> bool {
        matches!(
            self.enabled.as_str(),
            "enabled" | "enabled-runtime" | "alias"
        )
    }
}

pub fn parse_units(text: &str) -> BTreeMap<String, UnitState> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.splitn(3, ' ');
            let unit = f.next()?.trim();
            if unit.is_empty() {
                return None;
            }
            Some((
                unit.to_string(),
                UnitState {
                    active: f.next().unwrap_or("").trim().to_string(),
                    enabled: f.next().unwrap_or("").trim().to_string(),
                },
            ))
        })
        .collect()
}

/// A script of `src/deploy/scripts/` with its parameters before it, one quoted assignment
/// each (`NAME='value'`): a value is data to the script, never code. Names are the script's
/// upper-case variables.
pub fn with_params(script: &str, params: &[(&str, &str)]) -> String {
    let mut text = String::new();
    for (name, value) in params {
        debug_assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
            "{name} is not a parameter name"
        );
        text.push_str(&format!("{name}={}\n", shell_quote(value)));
    }
    text.push_str(script);
    text
}

/// A shell loop that waits (on the node) until `condition` succeeds, at most `seconds`;
/// on timeout it says `what` on stderr and fails.
pub fn wait_until(condition: &str, seconds: u32, what: &str) -> String {
    let tries = seconds * 5;
    format!(
        "i=0; until {condition}; do i=$((i+1)); if [ $i -ge {tries} ]; then echo {} >&2; exit 1; fi; sleep 0.2; done",
        shell_quote(&format!("timed out after {seconds} s waiting for {what}"))
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sections_round_trip() {
        let script = Script::new()
            .section("a", "echo noise >&2; printf 'one\\ntwo\\n'")
            .section("b", "true")
            .section("c", "printf three")
            .build();
        let out = std::process::Command::new("bash")
            .args(["-c", &script])
            .output()
            .unwrap();
        let s = Sections::parse(&String::from_utf8(out.stdout).unwrap());
        assert_eq!(s.get("a"), Ok("one\ntwo\n"));
        assert_eq!(s.get("b"), Ok(""));
        assert_eq!(s.get("c"), Ok("three"));
        assert!(s.get("zzz").is_err());
    }

    #[test]
    fn parameters_reach_the_script_as_data() {
        let hostile = "a'b \"$(touch /nonexistent/x)\" `id` ; $HOME\nnext";
        let script = with_params(
            "printf '%s|%s' \"$ONE\" \"$TWO\"\n",
            &[("ONE", hostile), ("TWO", "")],
        );
        let out = std::process::Command::new("bash")
            .args(["-c", &script])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{hostile}|"));
    }

    #[test]
    fn script_sections_read_nothing_from_stdin() {
        let s = Script::new().section("x", "cat").build();
        assert!(s.contains("} </dev/null 2>/dev/null"), "{s}");
        assert!(s.contains(&mark("x")));
    }

    #[test]
    fn unit_states() {
        let u = parse_units(
            "mariadb.service inactive disabled\nglusterd active enabled\nk3s.service inactive \n",
        );
        assert!(!u["mariadb.service"].is_active());
        assert!(u["glusterd"].is_active() && u["glusterd"].is_enabled());
        assert_eq!(u["k3s.service"].enabled, "");
    }
}
