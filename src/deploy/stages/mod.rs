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
pub mod witness;

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
    /// A node's name, or the witness's (index `nodes.len()`).
    pub fn node_name(&self, i: usize) -> &str {
        &crate::deploy::host(self.cfg, i).name
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
        Stage::Witness => witness::script(env, node),
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
        Stage::Witness => witness::plan(env, seen),
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

    /// What a bare host prints for `stage`'s check: every section its script marks, empty
    /// but for its SSH host key.
    pub fn bare(stage: Stage, env: &Env, host: usize) -> Sections {
        let script = script(stage, env, host);
        let mark = format!("{}%s\\n' '", crate::transport::batch::MARK);
        let mut text = String::new();
        for part in script.split(&mark).skip(1) {
            let name = part.split('\'').next().unwrap();
            text.push_str(&format!("\n{}{name}\n", crate::transport::batch::MARK));
            if name == "hostkeys" {
                text.push_str("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost root@n\n");
            }
        }
        assert!(!text.is_empty(), "{stage:?} marks no sections");
        Sections::parse(&text)
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
            let mut b = Bundle::load(Some(
                &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lab/bundle"),
            ));
            // lab.sh adds the real litestream binary (not committed); a stand-in here.
            b.files.insert(
                "litestream",
                std::sync::Arc::new(b"\x7fELF litestream".to_vec()),
            );
            b.problems.retain(|p| !p.ends_with("lacks litestream"));
            b
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
pub(crate) mod script_tests {
    #![allow(clippy::unwrap_used)]
    use super::tests::{cfg_with_password, env_for};
    use super::*;
    use crate::deploy::{files, Action};
    use std::io::Write;
    use std::process::{Command, Stdio};

    /// Runs `bash` as `command` sets it up, with `script` on stdin; stderr captured.
    pub(crate) fn bash_with_script(command: &mut Command, script: &str) -> std::process::Output {
        let mut child = command
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
        child.wait_with_output().unwrap()
    }

    /// Panics with bash's complaint and the script when `bash -n` rejects it.
    fn bash_parses(script: &str) {
        let out = bash_with_script(Command::new("bash").arg("-n"), script);
        assert!(
            out.status.success(),
            "{}\n---\n{script}",
            String::from_utf8_lossy(&out.stderr)
        );
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
                    bash_parses(&script(stage, &env, node));
                }
            }
        }
    }

    /// Runs `script` as `bash -r -s` (restricted: no redirection to files, no command by
    /// path) with only stub commands on PATH; `pwned` writes to `canary`.
    fn run_with_stubs(script: &str, stubs: &std::path::Path, canary: &std::path::Path) {
        // By path: PATH is the stubs' (which have a `bash` too).
        bash_with_script(
            Command::new("/bin/bash")
                .args(["-r", "-s"])
                .env_clear()
                .env("PATH", stubs)
                .env("HOME", stubs)
                .env("CANARY", canary)
                .current_dir(stubs)
                .stdout(Stdio::null()),
            script,
        );
    }

    /// Every value from the config, set to text that runs `pwned` if it is ever interpreted by
    /// a shell (command substitution, a quote that ends the quoting, a separator, a newline),
    /// in every check and action script of deploy and in the status commands: `pwned` never
    /// runs. (Config validation refuses such values; this proves the quoting alone holds.)
    #[test]
    fn hostile_config_values_never_run_in_node_scripts() {
        let dir = tempfile::tempdir().unwrap();
        let stubs = dir.path().join("bin");
        std::fs::create_dir(&stubs).unwrap();
        let canary = dir.path().join("canary");
        let stub = |name: &str, body: &str| crate::transport::fake::stand_in(&stubs, name, body);
        stub("pwned", "echo \"$*\" >> \"$CANARY\"");
        for name in [
            "systemctl",
            "gluster",
            "mariadb",
            "mysql",
            "ip",
            "cat",
            "stat",
            "date",
            "head",
            "tail",
            "grep",
            "install",
            "mountpoint",
            "awk",
            "sed",
            "sha256sum",
            "ssh-keygen",
            "ssh",
            "timeout",
            "openssl",
            "readlink",
            "getent",
            "id",
            "hostname",
            "findmnt",
            "df",
            "tr",
            "cut",
            "sort",
            "ls",
            "mkdir",
            "chmod",
            "chown",
            "mv",
            "rm",
            "ln",
            "cp",
            "tee",
            "sleep",
            "keepalived",
            "nginx",
            "k3s",
            "base64",
            "xargs",
            "mktemp",
            "sh",
            "bash",
            "env",
            "sync",
            "wc",
            "uname",
            "ss",
            "curl",
            "flock",
            "runuser",
            "su",
            "touch",
            "apt-get",
        ] {
            stub(name, "exit 0");
        }
        let evil = "x$(pwned subst)'$(pwned single)'\"$(pwned double)\"`pwned backtick`;pwned semi;\npwned newline\n";
        let mut cfg = cfg_with_password();
        cfg.name = format!("lab{evil}");
        cfg.nodes[0].name = format!("n1{evil}");
        cfg.gluster.volumes = vec![format!("v{evil}")];
        cfg.k3s.services = vec![format!("s{evil}")];
        cfg.k3s.namespace = format!("ns{evil}");
        cfg.k3s.state_path = format!("/var/lib/state{evil}");
        cfg.k3s.replica_path = format!("/var/lib/replica{evil}");
        cfg.galera.user = format!("u{evil}");
        cfg.ssh.user = format!("root{evil}");
        cfg.deploy.brick_root = format!("/srv/b{evil}");
        cfg.deploy.mount_root = format!("/mnt/m{evil}");
        cfg.deploy.db_client_hosts = vec![format!("10.%{evil}")];
        cfg.deploy.version = format!("3{evil}");
        cfg.witness = Some(crate::config::Node {
            name: format!("w{evil}"),
            address: "10.213.57.14".parse().unwrap(),
        });
        let env = env_for(&cfg);
        let bare = |stage: Stage, host: usize| super::tests::bare(stage, &env, host);
        let path = format!("/etc/p{evil}");
        let mut scripts = vec![
            files::write_command(&path, files::ROOT, 0o600),
            files::chmod_command(&path, files::ROOT, 0o644),
            files::symlink_command(&path, &path),
            files::remove_command(&path),
            files::append_line_command(&path),
            ingress::issue_script(&env, true),
            ingress::issue_script(&env, false),
            crate::probe::node::basics_command(&cfg.k3s.state_path, &cfg.k3s.replica_path),
            crate::probe::litestream::restore_trial_command(&cfg.k3s.replica_path),
            crate::probe::gluster::batch_command(
                &[format!("volume status {}", cfg.gluster.volumes[0])],
                std::time::Duration::from_secs(5),
            ),
            crate::probe::gluster::batch_command_unless_vip(
                &["peer status".to_string()],
                &[format!("volume status {}", cfg.gluster.volumes[0])],
                "10.213.57.10",
                std::time::Duration::from_secs(5),
            ),
        ];
        let window = crate::snapshot::Window {
            since: std::time::SystemTime::UNIX_EPOCH,
            until: std::time::SystemTime::now(),
        };
        scripts.extend(
            crate::snapshot::collectors::static_items(&cfg, &window)
                .into_iter()
                .map(|item| item.command),
        );
        for stage in Stage::ALL {
            for node in 0..2 {
                scripts.push(script(stage, &env, node));
            }
            if let Ok(plan) = plan(stage, &env, &[bare(stage, 0), bare(stage, 1)]) {
                for c in plan.changes {
                    if let Action::Run { script, .. } = c.action {
                        scripts.push(script);
                    }
                }
            }
        }
        // The witness's own check and the witness stage's actions (three hosts).
        scripts.push(script(Stage::Witness, &env, 2));
        let witness = plan(
            Stage::Witness,
            &env,
            &[
                bare(Stage::Witness, 0),
                bare(Stage::Witness, 1),
                bare(Stage::Witness, 2),
            ],
        );
        let witness = witness.unwrap();
        assert!(witness.changes.len() > 5, "{:?}", witness.changes);
        for c in witness.changes {
            if let Action::Run { script, .. } = c.action {
                scripts.push(script);
            }
        }
        assert!(scripts.len() > 30, "{}", scripts.len());
        // The stubs work: a script that does run `pwned` is caught.
        run_with_stubs("pwned self-test", &stubs, &canary);
        assert!(canary.exists());
        std::fs::remove_file(&canary).unwrap();
        stub("reached", "echo x >> \"$CANARY.end\"");
        for s in &scripts {
            run_with_stubs(&format!("{s}\nreached\n"), &stubs, &canary);
            if let Ok(ran) = std::fs::read_to_string(&canary) {
                panic!("a config value ran as shell ({ran:?}) in:\n{s}");
            }
        }
        let reached = std::fs::read_to_string(canary.with_extension("end")).unwrap_or_default();
        // Most scripts ran to their end (a few stop early on a stub's empty answer): the
        // hostile values were really expanded, the test is not vacuous.
        assert!(
            reached.lines().count() * 4 >= scripts.len() * 3,
            "only {} of {} scripts ran to the end",
            reached.lines().count(),
            scripts.len()
        );
    }

    #[test]
    fn every_action_script_is_valid_shell() {
        let cfg = cfg_with_password();
        let env = env_for(&cfg);
        // The plans of bare nodes hold every kind of action.
        let bare = |stage: Stage, host: usize| super::tests::bare(stage, &env, host);
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
            let plan = plan(stage, &env, &[bare(stage, 0), bare(stage, 1)]);
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
            bash_parses(&s);
        }
    }
}
