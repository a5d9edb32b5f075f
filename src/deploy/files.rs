//! Files a stage manages: what they should be (content, owner, mode, the units that use
//! them), what a node has (owner, mode, sha256, read in one command for all of a stage's
//! files), and the plan that writes only what differs and restarts only what uses it.

use super::remote::UnitState;
use super::{Action, Change};
use crate::probe::node::shell_quote;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

pub const ROOT: &str = "root:root";

/// What a changed file asks of the units that use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Effect {
    /// A unit file changed.
    DaemonReload,
    /// Restart the unit if it is running (a stopped unit reads the new file when started).
    Restart(&'static str),
    /// Reload the unit if it is running.
    Reload(&'static str),
}

/// A managed path's desired state.
#[derive(Debug, Clone)]
pub enum Desired {
    File {
        path: String,
        content: Arc<Vec<u8>>,
        owner: &'static str,
        mode: u32,
        effects: Vec<Effect>,
    },
    Link {
        path: String,
        target: String,
        effects: Vec<Effect>,
    },
    Absent {
        path: String,
        effects: Vec<Effect>,
    },
}

impl Desired {
    pub fn file(path: &str, content: impl Into<Vec<u8>>, mode: u32, effects: &[Effect]) -> Self {
        Desired::File {
            path: path.to_string(),
            content: Arc::new(content.into()),
            owner: ROOT,
            mode,
            effects: effects.to_vec(),
        }
    }
    pub fn shared(path: &str, content: Arc<Vec<u8>>, mode: u32, effects: &[Effect]) -> Self {
        Desired::File {
            path: path.to_string(),
            content,
            owner: ROOT,
            mode,
            effects: effects.to_vec(),
        }
    }
    pub fn link(path: &str, target: &str, effects: &[Effect]) -> Self {
        Desired::Link {
            path: path.to_string(),
            target: target.to_string(),
            effects: effects.to_vec(),
        }
    }
    pub fn absent(path: &str, effects: &[Effect]) -> Self {
        Desired::Absent {
            path: path.to_string(),
            effects: effects.to_vec(),
        }
    }
    pub fn path(&self) -> &str {
        match self {
            Desired::File { path, .. }
            | Desired::Link { path, .. }
            | Desired::Absent { path, .. } => path,
        }
    }
}

/// What a node has at a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    Missing,
    File {
        owner: String,
        mode: u32,
        sha256: String,
    },
    Link {
        target: String,
    },
    /// A directory or something else that is not a regular file.
    Other(String),
}

/// Shell text printing the state of every path: `S|path|owner:group|mode|type` from stat,
/// `hash  path` from sha256sum, `L|path|target` for links. Three processes whatever the
/// number of files.
pub fn check_fragment(paths: &[&str]) -> String {
    if paths.is_empty() {
        return "true".into();
    }
    let list: Vec<String> = paths.iter().map(|p| shell_quote(p)).collect();
    let list = list.join(" ");
    format!(
        "stat -c 'S|%n|%U:%G|%a|%F' -- {list} 2>/dev/null\n\
sha256sum -- {list} 2>/dev/null\n\
for p in {list}; do [ -L \"$p\" ] && printf 'L|%s|%s\\n' \"$p\" \"$(readlink \"$p\")\"; done; true"
    )
}

/// Reads `check_fragment`'s output; paths it does not mention are missing.
pub fn parse_states(text: &str) -> BTreeMap<String, FileState> {
    let mut stat: BTreeMap<String, (String, u32, String)> = BTreeMap::new();
    let mut hashes: BTreeMap<String, String> = BTreeMap::new();
    let mut links: BTreeMap<String, String> = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("S|") {
            let f: Vec<&str> = rest.split('|').collect();
            if f.len() == 4 {
                let mode = u32::from_str_radix(f[2], 8).unwrap_or(0);
                stat.insert(f[0].to_string(), (f[1].to_string(), mode, f[3].to_string()));
            }
        } else if let Some(rest) = line.strip_prefix("L|") {
            if let Some((path, target)) = rest.split_once('|') {
                links.insert(path.to_string(), target.to_string());
            }
        } else if let Some((hash, path)) = line.split_once("  ") {
            if hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()) {
                hashes.insert(path.to_string(), hash.to_string());
            }
        }
    }
    let mut out = BTreeMap::new();
    for (path, (owner, mode, kind)) in stat {
        let state = if let Some(target) = links.get(&path) {
            FileState::Link {
                target: target.clone(),
            }
        } else if kind.starts_with("regular") {
            match hashes.get(&path) {
                Some(h) => FileState::File {
                    owner,
                    mode,
                    sha256: h.clone(),
                },
                None => FileState::Other("unreadable file".into()),
            }
        } else {
            FileState::Other(kind)
        };
        out.insert(path, state);
    }
    out
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The changes that bring `states` to `desired` on `node` (in `phase`), and the effects the
/// changed files ask for.
pub fn plan_files(
    node: usize,
    phase: u8,
    desired: &[Desired],
    states: &BTreeMap<String, FileState>,
) -> (Vec<Change>, BTreeSet<Effect>) {
    let mut changes = Vec::new();
    let mut effects = BTreeSet::new();
    for d in desired {
        let state = states.get(d.path()).cloned().unwrap_or(FileState::Missing);
        match d {
            Desired::File {
                path,
                content,
                owner,
                mode,
                effects: fx,
            } => {
                let why = match &state {
                    FileState::Missing => Some("new".to_string()),
                    FileState::File { sha256, .. } if *sha256 != sha256_hex(content) => {
                        Some("changed".to_string())
                    }
                    FileState::File {
                        owner: o, mode: m, ..
                    } => {
                        if o != owner || m != mode {
                            changes.push(Change::new(
                                node,
                                phase,
                                format!("set {path} to {owner} {mode:04o} (was {o} {m:04o})"),
                                Action::Chmod {
                                    path: path.clone(),
                                    owner,
                                    mode: *mode,
                                },
                            ));
                        }
                        None
                    }
                    FileState::Link { target } => Some(format!("replaces a link to {target}")),
                    FileState::Other(kind) => Some(format!("replaces a {kind}")),
                };
                if let Some(why) = why {
                    changes.push(Change::new(
                        node,
                        phase,
                        format!("write {path} ({why})"),
                        Action::Write {
                            path: path.clone(),
                            content: content.clone(),
                            owner,
                            mode: *mode,
                        },
                    ));
                    effects.extend(fx.iter().copied());
                }
            }
            Desired::Link {
                path,
                target,
                effects: fx,
            } => {
                let why = match &state {
                    FileState::Link { target: t } if t == target => None,
                    FileState::Link { target: t } => Some(format!("was a link to {t}")),
                    FileState::Missing => Some("new".to_string()),
                    FileState::File { .. } => Some("replaces a file".to_string()),
                    FileState::Other(kind) => Some(format!("replaces a {kind}")),
                };
                if let Some(why) = why {
                    changes.push(Change::new(
                        node,
                        phase,
                        format!("link {path} -> {target} ({why})"),
                        Action::Symlink {
                            path: path.clone(),
                            target: target.clone(),
                        },
                    ));
                    effects.extend(fx.iter().copied());
                }
            }
            Desired::Absent { path, effects: fx } => {
                if state != FileState::Missing {
                    changes.push(Change::new(
                        node,
                        phase,
                        format!("remove {path}"),
                        Action::Remove { path: path.clone() },
                    ));
                    effects.extend(fx.iter().copied());
                }
            }
        }
    }
    (changes, effects)
}

fn short(unit: &str) -> &str {
    unit.strip_suffix(".service").unwrap_or(unit)
}

/// A `systemctl` change.
pub fn systemctl(node: usize, phase: u8, summary: String, args: &str, limit: Duration) -> Change {
    systemctl_in(node, phase, summary, "", args, limit)
}

/// `systemctl ARGS` with `env` (assignments, each followed by a space) before it in the script.
fn systemctl_in(
    node: usize,
    phase: u8,
    summary: String,
    env: &str,
    args: &str,
    limit: Duration,
) -> Change {
    Change::new(
        node,
        phase,
        summary,
        Action::Run {
            shown: format!("systemctl {args}"),
            script: format!("{env}systemctl {args}\n"),
            limit,
        },
    )
}

/// `systemctl enable` of an installed unit (`now`: and start it), without the two steps that
/// cost a second and change nothing the unit needs: the SysV sync (`systemd-sysv-install`,
/// update-rc.d, for a unit that also has an /etc/init.d script: with a native unit systemd
/// ignores the script, at boot too) and the daemon-reload (enabling only adds the
/// `[Install]` symlinks, read at the next boot; `systemctl is-enabled` reads them at once).
pub fn enable(node: usize, phase: u8, summary: String, unit: &str, now: bool) -> Change {
    let args = format!(
        "enable --no-reload{} {unit}",
        if now { " --now" } else { "" }
    );
    systemctl_in(
        node,
        phase,
        summary,
        "SYSTEMCTL_SKIP_SYSV=1 ",
        &args,
        Duration::from_secs(60),
    )
}

/// The restarts and reloads that changed files ask for, for the units that run: a daemon
/// reload first, then a restart (which makes a reload of the same unit moot), then reloads.
pub fn effect_changes(
    node: usize,
    phase: u8,
    effects: &BTreeSet<Effect>,
    units: &BTreeMap<String, UnitState>,
) -> Vec<Change> {
    let running = |u: &str| units.get(u).map(UnitState::is_active).unwrap_or(false);
    let mut out = Vec::new();
    if effects.contains(&Effect::DaemonReload) {
        out.push(systemctl(
            node,
            phase,
            "reload systemd's unit files (daemon-reload)".into(),
            "daemon-reload",
            Duration::from_secs(30),
        ));
    }
    let restarts: BTreeSet<&str> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::Restart(u) if running(u) => Some(*u),
            _ => None,
        })
        .collect();
    for u in &restarts {
        out.push(systemctl(
            node,
            phase,
            format!("restart {}", short(u)),
            &format!("restart {u}"),
            Duration::from_secs(120),
        ));
    }
    for e in effects {
        if let Effect::Reload(u) = e {
            if running(u) && !restarts.contains(u) {
                out.push(systemctl(
                    node,
                    phase,
                    format!("reload {}", short(u)),
                    &format!("reload {u}"),
                    Duration::from_secs(60),
                ));
            }
        }
    }
    out
}

/// The shell script that writes stdin to `path` atomically with owner and mode.
pub fn write_command(path: &str, owner: &str, mode: u32) -> String {
    let p = shell_quote(path);
    format!(
        "set -e; p={p}; [ ! -d \"$p\" ] || {{ echo \"$p is a directory\" >&2; exit 1; }}; \
d=$(dirname \"$p\"); mkdir -p \"$d\"; t=$(mktemp \"$d/.pairctl.XXXXXX\"); \
trap 'rm -f \"$t\"' EXIT; cat > \"$t\"; chown {owner} \"$t\"; chmod {mode:04o} \"$t\"; \
mv -f \"$t\" \"$p\"; trap - EXIT"
    )
}

pub fn chmod_command(path: &str, owner: &str, mode: u32) -> String {
    let p = shell_quote(path);
    format!("chown {owner} {p} && chmod {mode:04o} {p}")
}

pub fn symlink_command(path: &str, target: &str) -> String {
    let p = shell_quote(path);
    let t = shell_quote(target);
    format!(
        "set -e; mkdir -p \"$(dirname {p})\"; tmp={p}.pairctl-new; rm -f \"$tmp\"; ln -s {t} \"$tmp\"; mv -Tf \"$tmp\" {p}"
    )
}

pub fn remove_command(path: &str) -> String {
    format!("rm -f {}", shell_quote(path))
}

/// Appends `line` (given on stdin) to `path` unless a line equal to it is there; adds the
/// missing newline at the end of the file first.
pub fn append_line_command(path: &str) -> String {
    let p = shell_quote(path);
    format!(
        "set -e; l=$(cat); mkdir -p \"$(dirname {p})\"; touch {p}; \
grep -qxF -- \"$l\" {p} && exit 0; \
if [ -s {p} ] && [ -n \"$(tail -c 1 {p})\" ]; then echo >> {p}; fi; printf '%s\\n' \"$l\" >> {p}"
    )
}

/// The change that disables the autostart of those of `names` that are enabled (units that
/// must not start at boot: Galera starts in bootstrap order, k3s from keepalived's notify).
pub fn disable_autostart(
    node: usize,
    phase: u8,
    units: &std::collections::BTreeMap<String, super::remote::UnitState>,
    names: &[&str],
    why: &str,
) -> Option<Change> {
    let enabled: Vec<&str> = names
        .iter()
        .copied()
        .filter(|u| units.get(*u).map(|x| x.is_enabled()).unwrap_or(false))
        .collect();
    (!enabled.is_empty()).then(|| {
        systemctl(
            node,
            phase,
            format!("disable the autostart of {} ({why})", enabled.join(" and ")),
            &format!("disable {}", enabled.join(" ")),
            Duration::from_secs(30),
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const STATES: &str = "S|/etc/a|root:root|644|regular file
S|/etc/b|root:root|600|regular file
S|/etc/l|root:root|777|symbolic link
S|/etc/d|root:root|755|directory
S|/etc/e|root:root|644|regular empty file
2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824  /etc/a
2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824  /etc/b
e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  /etc/e
L|/etc/l|../x
";

    #[test]
    fn states_parse() {
        let s = parse_states(STATES);
        assert_eq!(
            s["/etc/a"],
            FileState::File {
                owner: "root:root".into(),
                mode: 0o644,
                sha256: sha256_hex(b"hello")
            }
        );
        assert_eq!(
            s["/etc/l"],
            FileState::Link {
                target: "../x".into()
            }
        );
        assert_eq!(s["/etc/d"], FileState::Other("directory".into()));
        assert!(matches!(s["/etc/e"], FileState::File { .. }));
        assert!(!s.contains_key("/etc/missing"));
    }

    #[test]
    fn new_changed_unchanged_and_mode_only() {
        let states = parse_states(STATES);
        let desired = vec![
            Desired::file("/etc/a", "hello", 0o644, &[Effect::Reload("nginx.service")]),
            Desired::file("/etc/b", "hello", 0o644, &[Effect::Restart("x.service")]),
            Desired::file(
                "/etc/e",
                "new text",
                0o644,
                &[Effect::Restart("k3s.service")],
            ),
            Desired::file("/etc/new", "x", 0o755, &[Effect::DaemonReload]),
            Desired::link("/etc/l", "../x", &[]),
            Desired::link("/etc/l2", "../y", &[]),
            Desired::absent("/etc/a", &[]),
            Desired::absent("/etc/gone", &[]),
        ];
        let (changes, effects) = plan_files(1, 0, &desired, &states);
        let summaries: Vec<&str> = changes.iter().map(|c| c.summary.as_str()).collect();
        assert_eq!(
            summaries,
            vec![
                "set /etc/b to root:root 0644 (was root:root 0600)",
                "write /etc/e (changed)",
                "write /etc/new (new)",
                "link /etc/l2 -> ../y (new)",
                "remove /etc/a",
            ]
        );
        assert!(changes.iter().all(|c| c.node == 1));
        // Unchanged files and a mode-only fix ask for no restart.
        assert_eq!(
            effects.into_iter().collect::<Vec<_>>(),
            vec![Effect::DaemonReload, Effect::Restart("k3s.service")]
        );
    }

    #[test]
    fn effects_touch_only_running_units() {
        let units = super::super::remote::parse_units(
            "k3s.service active disabled\nnginx.service inactive disabled\nkeepalived.service active enabled\n",
        );
        let effects: BTreeSet<Effect> = [
            Effect::DaemonReload,
            Effect::Restart("k3s.service"),
            Effect::Reload("k3s.service"),
            Effect::Reload("nginx.service"),
            Effect::Reload("keepalived.service"),
        ]
        .into_iter()
        .collect();
        let s: Vec<String> = effect_changes(0, 3, &effects, &units)
            .into_iter()
            .map(|c| c.summary)
            .collect();
        assert_eq!(
            s,
            vec![
                "reload systemd's unit files (daemon-reload)",
                "restart k3s",
                "reload keepalived"
            ]
        );
    }

    #[test]
    fn write_command_is_atomic_and_quoted() {
        let c = write_command("/etc/a b/x.conf", ROOT, 0o600);
        assert!(c.contains("p='/etc/a b/x.conf'"), "{c}");
        assert!(c.contains("mktemp \"$d/.pairctl.XXXXXX\""), "{c}");
        assert!(c.contains("chmod 0600"), "{c}");
        assert!(c.ends_with("mv -f \"$t\" \"$p\"; trap - EXIT"), "{c}");
    }
}
