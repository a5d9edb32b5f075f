//! `pairctl deploy`: bring two prepared nodes (OS, sshd, packages) to a healthy cluster, in
//! stages that each check, then act only on what differs. A stage observes every node with
//! one remote script, turns what it saw into a plan with a pure function (tested on
//! fixtures), and executes the plan in phases (both nodes at once within a phase). A second
//! run finds nothing to do and restarts nothing.
//!
//! Stage order: preflight (checks only), ssh-trust, ingress (TLS + nginx; before galera, whose
//! TLS uses the same certificate), galera, gluster, witness (garbd and the arbiter bricks on
//! the `[witness]` host, when the config has one), k3s (the offline bundle: k3s, litestream, their units, the services list), record (the
//! deployment record), keepalived. keepalived comes last: starting it is what makes a node
//! active, and its notify script starts k3s, the ingress and the replication, which must be
//! installed by then. Stages that do not depend on each other run at the same time
//! (`Stage::after`): ssh-trust, ingress, gluster and k3s start together, galera as soon as the
//! ingress is done.

pub mod bundle;
pub mod exec;
pub mod files;
pub mod remote;
pub mod report;
pub mod run;
pub mod stages;
pub mod templates;

use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

pub const SCHEMA: &str = "pairctl.deploy/1";

/// The stages, in the order they run.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    Preflight,
    SshTrust,
    Ingress,
    Galera,
    Gluster,
    Witness,
    K3s,
    Record,
    Keepalived,
}

impl Stage {
    pub const ALL: [Stage; 9] = [
        Stage::Preflight,
        Stage::SshTrust,
        // Before galera: MariaDB serves TLS with the ingress certificate from its first start.
        Stage::Ingress,
        Stage::Galera,
        Stage::Gluster,
        // After gluster (it converts the volumes to replica 3 arbiter 1) and galera (garbd
        // joins the running cluster).
        Stage::Witness,
        Stage::K3s,
        Stage::Record,
        Stage::Keepalived,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Preflight => "preflight",
            Stage::SshTrust => "ssh-trust",
            Stage::Galera => "galera",
            Stage::Gluster => "gluster",
            Stage::Witness => "witness",
            Stage::Ingress => "ingress",
            Stage::K3s => "k3s",
            Stage::Record => "record",
            Stage::Keepalived => "keepalived",
        }
    }

    /// The stages that must be done before this one starts, when they are selected; the
    /// others run at the same time as it. A stage runs beside another only when neither
    /// changes what the other's check reads or acts on: ssh-trust (SSH keys), ingress (nginx,
    /// the certificate), gluster (glusterd, volumes, mounts) and k3s (binaries and unit files,
    /// nothing started) touch disjoint things, so they start together; galera waits for the
    /// certificate MariaDB serves, the witness for both clusters it joins; the record is
    /// written once everything it describes is in place, and keepalived (which makes a node
    /// active) comes last. Every stage named here comes earlier in `ALL`.
    pub fn after(self) -> &'static [Stage] {
        use Stage::*;
        match self {
            Preflight | SshTrust | Ingress | Gluster | K3s => &[],
            Galera => &[Ingress],
            Witness => &[Ingress, Galera, Gluster],
            Record => &[SshTrust, Ingress, Galera, Gluster, Witness, K3s],
            Keepalived => &[SshTrust, Ingress, Galera, Gluster, Witness, K3s, Record],
        }
    }

    /// The stages among `after` whose changes can alter what this stage's check reads: when
    /// one of them changed something, this stage is observed again before it acts. A stage it
    /// does not wait for cannot (it could have run beside it: see `after`). Galera waits for
    /// the ingress only to act (MariaDB reads the certificate when it starts); its check reads
    /// MariaDB's config, units and state and the role files, none of which the ingress touches,
    /// so its first observation still holds (on bare nodes, a second costs a second or more).
    pub fn observes_after(self) -> &'static [Stage] {
        match self {
            Stage::Galera => &[],
            s => s.after(),
        }
    }

    pub fn parse(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn names() -> String {
        Stage::ALL.map(Stage::name).join(", ")
    }
}

/// The host a change or a check's output belongs to: a node by its index in the config, or
/// the witness (index `nodes.len()`, present when the config has a `[witness]`).
pub fn host(cfg: &crate::config::Config, i: usize) -> &crate::config::Node {
    match (cfg.nodes.get(i), &cfg.witness) {
        (Some(n), _) => n,
        (None, Some(w)) => w,
        (None, None) => &cfg.nodes[i],
    }
}

/// Why `--only`/`--from` select no stages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    #[error("--only and --from cannot be combined")]
    OnlyAndFrom,
    /// The flag and the name given.
    #[error("{0} {1}: no such stage (stages: {names})", names = Stage::names())]
    NoSuchStage(&'static str, String),
}

/// Which stages run: all, `--only STAGE`, or `--from STAGE` onwards. The preflight's
/// observation always runs (later stages need what it finds: interfaces, subnets); it changes
/// nothing.
pub fn select(only: Option<&str>, from: Option<&str>) -> Result<Vec<Stage>, SelectError> {
    let lookup = |flag: &'static str, name: &str| {
        Stage::parse(name).ok_or_else(|| SelectError::NoSuchStage(flag, name.to_string()))
    };
    match (only, from) {
        (Some(_), Some(_)) => Err(SelectError::OnlyAndFrom),
        (Some(name), None) => Ok(vec![lookup("--only", name)?]),
        (None, Some(name)) => {
            let first = lookup("--from", name)?;
            Ok(Stage::ALL.into_iter().filter(|s| *s >= first).collect())
        }
        (None, None) => Ok(Stage::ALL.to_vec()),
    }
}

/// One thing a stage will do on one node.
#[derive(Debug, Clone)]
pub struct Change {
    /// Index of the node in the config's node list.
    pub node: usize,
    /// Phases run in order; within a phase both nodes act at once, each node's changes in
    /// order.
    pub phase: u8,
    /// What the operator reads: "write /etc/keepalived/keepalived.conf (new)".
    pub summary: String,
    pub action: Action,
}

impl Change {
    pub fn new(node: usize, phase: u8, summary: impl Into<String>, action: Action) -> Self {
        Change {
            node,
            phase,
            summary: summary.into(),
            action,
        }
    }
}

/// How a change is made.
#[derive(Debug, Clone)]
pub enum Action {
    /// Write a whole file atomically (temporary file in the same directory, then rename),
    /// with owner and mode; the content travels on stdin.
    Write {
        path: String,
        content: Arc<Vec<u8>>,
        owner: &'static str,
        mode: u32,
    },
    /// Only owner or mode differ.
    Chmod {
        path: String,
        owner: &'static str,
        mode: u32,
    },
    /// A symbolic link, replaced atomically.
    Symlink {
        path: String,
        target: String,
    },
    Remove {
        path: String,
    },
    /// Append `line` unless the file already has it.
    AppendLine {
        path: String,
        line: String,
    },
    /// A script for `bash -s`, sent on stdin. `shown` is what errors and JSON show (the
    /// script may hold a secret).
    Run {
        shown: String,
        script: String,
        limit: Duration,
    },
    /// Append the public key of `source`'s SSH user to this node's authorized_keys (the key
    /// may not exist before an earlier phase generated it).
    AuthorizeKeyOf {
        source: usize,
    },
    /// Copy files from `source` (same paths, given owner and mode).
    CopyFiles {
        source: usize,
        files: Vec<(String, &'static str, u32)>,
    },
    /// `units` (k3s, the ingress, the replication) run on the VIP holder only: wait for the
    /// notify script to get there, and finish its work if it did not.
    EnsureRoles {
        vip: String,
        units: Vec<&'static str>,
        /// The k3s state database when litestream is among `units`: once they run, its first
        /// sync to the standby's replica is made then, not at litestream's next interval.
        replica_db: Option<String>,
    },
}

impl Action {
    /// A one-word kind for JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Write { .. } => "write",
            Action::Chmod { .. } => "chmod",
            Action::Symlink { .. } => "symlink",
            Action::Remove { .. } => "remove",
            Action::AppendLine { .. } => "append",
            Action::Run { .. } => "run",
            Action::AuthorizeKeyOf { .. } => "authorize-key",
            Action::CopyFiles { .. } => "copy",
            Action::EnsureRoles { .. } => "ensure-roles",
        }
    }

    /// The command as an operator may see it (never a secret).
    pub fn shown(&self) -> String {
        match self {
            Action::Write {
                path, owner, mode, ..
            } => {
                format!("write {path} ({owner} {mode:04o})")
            }
            Action::Chmod { path, owner, mode } => {
                format!("chown {owner} {path}; chmod {mode:04o} {path}")
            }
            Action::Symlink { path, target } => format!("ln -sfn {target} {path}"),
            Action::Remove { path } => format!("rm -f {path}"),
            Action::AppendLine { path, .. } => format!("append a line to {path}"),
            Action::Run { shown, .. } => shown.clone(),
            Action::AuthorizeKeyOf { .. } => {
                "append the peer's public key to authorized_keys".into()
            }
            Action::CopyFiles { files, .. } => format!(
                "copy {}",
                files
                    .iter()
                    .map(|f| f.0.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Action::EnsureRoles { units, .. } => {
                format!("systemctl start/stop {}", units.join(" "))
            }
        }
    }
}

/// A stage's plan: the changes, in phase order, and notes for the operator.
#[derive(Debug, Clone, Default)]
pub struct StagePlan {
    pub changes: Vec<Change>,
    pub notes: Vec<String>,
}

impl StagePlan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
    pub fn push(&mut self, change: Change) {
        self.changes.push(change);
    }
    pub fn extend(&mut self, changes: impl IntoIterator<Item = Change>) {
        self.changes.extend(changes);
    }
    /// The phases present, ascending.
    pub fn phases(&self) -> Vec<u8> {
        let mut p: Vec<u8> = self.changes.iter().map(|c| c.phase).collect();
        p.sort_unstable();
        p.dedup();
        p
    }
}

/// Why a stage cannot be planned: the operator must decide (e.g. two separate Galera
/// clusters). Deploy refuses rather than guess.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub node: Option<usize>,
    pub message: String,
    pub hint: Option<String>,
}

impl Problem {
    pub fn new(node: Option<usize>, message: impl Into<String>) -> Self {
        Problem {
            node,
            message: message.into(),
            hint: None,
        }
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// A section the stage's check did not print: its output is cut short or the name is wrong,
/// so the stage cannot be planned from it.
impl From<crate::transport::batch::MissingSection> for Problem {
    fn from(e: crate::transport::batch::MissingSection) -> Self {
        Problem::new(None, e.to_string())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn stage_selection() {
        assert_eq!(select(None, None).unwrap_or_default().len(), 9);
        assert_eq!(select(Some("gluster"), None), Ok(vec![Stage::Gluster]));
        assert_eq!(
            select(None, Some("record")),
            Ok(vec![Stage::Record, Stage::Keepalived])
        );
        assert_eq!(
            select(None, Some("witness")).map(|s| s.len()),
            Ok(4),
            "witness, k3s, record, keepalived"
        );
        let e = select(Some("glusterfs"), None).unwrap_err().to_string();
        assert!(e.contains("--only glusterfs: no such stage"), "{e}");
        assert!(e.contains("preflight, ssh-trust, ingress, galera"), "{e}");
        assert!(select(Some("galera"), Some("galera")).is_err());
    }

    #[test]
    fn a_stage_waits_only_for_earlier_stages_and_theirs() {
        for s in Stage::ALL {
            for d in s.after() {
                assert!(d < &s, "{s:?} waits for {d:?}, which comes later");
                for dd in d.after() {
                    assert!(
                        s.after().contains(dd),
                        "{s:?} waits for {d:?} but not for {dd:?}"
                    );
                }
            }
        }
        assert!(Stage::Galera.after().contains(&Stage::Ingress));
        for s in Stage::ALL {
            for d in s.observes_after() {
                assert!(
                    s.after().contains(d),
                    "{s:?} observes {d:?}, which it does not wait for"
                );
            }
        }
        let last = Stage::Keepalived.after();
        assert_eq!(
            last.len(),
            Stage::ALL.len() - 2,
            "keepalived waits for every stage"
        );
    }

    #[test]
    fn stage_names_round_trip() {
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.name()), Some(s));
        }
        let mut sorted = Stage::ALL;
        sorted.sort();
        assert_eq!(sorted, Stage::ALL, "the enum order is the run order");
    }
}
