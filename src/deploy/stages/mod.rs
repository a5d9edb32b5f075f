//! One file per stage. Each has `script(env, node)`: the one remote check per node, and
//! `plan(env, seen)`: a pure function from what both nodes printed to the changes.

pub mod galera;
pub mod gluster;
pub mod ingress;
pub mod k3s;
pub mod keepalived;
pub mod preflight;
pub mod record;
pub mod trust;

use super::bundle::Bundle;
use super::remote::Sections;
use super::{Problem, Stage, StagePlan};
use crate::config::Config;

/// What a node's network looks like (from the preflight): keepalived's interface, the
/// subnet for the monitoring user's grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeNet {
    pub interface: String,
    pub prefix_len: u8,
}

/// Everything planning needs besides what the nodes printed.
pub struct Env<'a> {
    pub cfg: &'a Config,
    pub bundle: &'a Bundle,
    /// Per node, from the preflight (None: not established; stages that need it refuse).
    pub net: Vec<Option<NodeNet>>,
    /// The content of `ingress.ca_file`, when configured.
    pub ca_pem: Option<String>,
    /// Now, RFC 3339, for a deployment record that changes.
    pub now: String,
}

impl Env<'_> {
    pub fn node_name(&self, i: usize) -> &str {
        &self.cfg.nodes[i].name
    }
    pub fn interface(&self, i: usize) -> Result<&str, Problem> {
        self.net
            .get(i)
            .and_then(|n| n.as_ref())
            .map(|n| n.interface.as_str())
            .ok_or_else(|| {
                Problem::new(
                    Some(i),
                    format!(
                        "the interface of {} is unknown (see the preflight's network check)",
                        self.node_name(i)
                    ),
                )
            })
    }
}

/// The stage's check script for one node (the preflight has its own).
pub fn script(stage: Stage, env: &Env, node: usize) -> String {
    match stage {
        Stage::Preflight => preflight::script(env, node),
        Stage::SshTrust => trust::script(env, node),
        Stage::Galera => galera::script(env, node),
        Stage::Gluster => gluster::script(env, node),
        Stage::Ingress => ingress::script(env, node),
        Stage::K3s => k3s::script(env, node),
        Stage::Record => record::script(env, node),
        Stage::Keepalived => keepalived::script(env, node),
    }
}

/// The stage's plan from what every node printed.
pub fn plan(stage: Stage, env: &Env, seen: &[Sections]) -> Result<StagePlan, Problem> {
    match stage {
        Stage::Preflight => Ok(StagePlan::default()),
        Stage::SshTrust => trust::plan(env, seen),
        Stage::Galera => galera::plan(env, seen),
        Stage::Gluster => gluster::plan(env, seen),
        Stage::Ingress => ingress::plan(env, seen),
        Stage::K3s => k3s::plan(env, seen),
        Stage::Record => record::plan(env, seen),
        Stage::Keepalived => keepalived::plan(env, seen),
    }
}

#[cfg(test)]
pub mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::OnceLock;

    pub fn lab_cfg() -> Config {
        crate::config::parse(
            std::path::Path::new("/x/pairctl.toml"),
            "name = \"lab\"\nvip = \"10.213.57.10\"\n[[node]]\nname = \"n1\"\naddress = \"10.213.57.11\"\n[[node]]\nname = \"n2\"\naddress = \"10.213.57.12\"\n[gluster]\nvolumes = [\"shared\"]\n[k3s]\nservices = [\"auth\", \"rbac\"]\n[deploy]\nvrrp_router_id = 57\n",
        )
        .unwrap()
    }

    /// The lab's config with a password file (read at parse time, then removed).
    pub fn cfg_with_password() -> Config {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!(
            "pairctl-deploy-test-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let pw = dir.join("pw");
        std::fs::write(&pw, "s3cr'et\n").unwrap();
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).unwrap();
        let text = "name = \"lab\"\nvip = \"10.213.57.10\"\n[[node]]\nname = \"n1\"\naddress = \"10.213.57.11\"\n[[node]]\nname = \"n2\"\naddress = \"10.213.57.12\"\n[gluster]\nvolumes = [\"shared\"]\n[galera]\npassword_file = \"pw\"\n";
        let cfg = crate::config::parse(&dir.join("p.toml"), text).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            cfg.galera
                .password
                .as_ref()
                .map(crate::config::Secret::expose),
            Some("s3cr'et")
        );
        cfg
    }

    pub fn lab_bundle() -> &'static Bundle {
        static B: OnceLock<Bundle> = OnceLock::new();
        B.get_or_init(|| {
            Bundle::load(Some(
                &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lab/bundle"),
            ))
        })
    }

    pub fn env_for(cfg: &Config) -> Env<'_> {
        Env {
            cfg,
            bundle: lab_bundle(),
            net: vec![
                Some(NodeNet {
                    interface: "eth0".into(),
                    prefix_len: 28,
                });
                2
            ],
            ca_pem: None,
            now: "2024-05-02T10:00:00Z".into(),
        }
    }

    /// `phase node: summary`, in the order the runner executes (by phase, stable).
    pub fn summaries(plan: &StagePlan) -> Vec<String> {
        let mut changes: Vec<_> = plan.changes.iter().collect();
        changes.sort_by_key(|c| c.phase);
        changes
            .into_iter()
            .map(|c| format!("{} n{}: {}", c.phase, c.node + 1, c.summary))
            .collect()
    }
}

#[cfg(test)]
mod script_tests {
    #![allow(clippy::unwrap_used)]
    use super::tests::{cfg_with_password, env_for};
    use super::*;
    use crate::deploy::{files, Action};
    use std::io::Write;
    use std::process::{Command, Stdio};

    fn bash_parses(script: &str) -> Result<(), String> {
        let mut child = Command::new("bash")
            .arg("-n")
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{}\n---\n{script}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    #[test]
    fn every_check_script_is_valid_shell() {
        let cfg = cfg_with_password();
        let mut env = env_for(&cfg);
        for ca in [
            None,
            Some("-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n"),
        ] {
            env.ca_pem = ca.map(String::from);
            for stage in Stage::ALL {
                for node in 0..2 {
                    bash_parses(&script(stage, &env, node)).unwrap();
                }
            }
        }
    }

    #[test]
    fn every_action_script_is_valid_shell() {
        let cfg = cfg_with_password();
        let env = env_for(&cfg);
        // The plans of bare nodes hold every kind of action.
        let bare = Sections::parse(
            "@@pairctl:hostkeys\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost root@n\n",
        );
        let mut scripts = vec![
            files::write_command("/etc/a b", files::ROOT, 0o600),
            files::chmod_command("/etc/x", files::ROOT, 0o644),
            files::symlink_command("/etc/l", "../x"),
            files::remove_command("/etc/x"),
            files::append_line_command("/etc/fstab"),
            ingress::issue_script(&env, true),
            ingress::issue_script(&env, false),
        ];
        for stage in Stage::ALL {
            let plan = plan(stage, &env, &[bare.clone(), bare.clone()]);
            assert!(
                plan.is_ok() || stage == Stage::Preflight,
                "{stage:?}: {plan:?}"
            );
            if let Ok(plan) = plan {
                for c in plan.changes {
                    if let Action::Run { script, .. } = c.action {
                        scripts.push(script);
                    }
                }
            }
        }
        assert!(scripts.len() > 20, "{}", scripts.len());
        for s in scripts {
            bash_parses(&s).unwrap();
        }
    }
}
