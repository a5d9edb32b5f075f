//! The offline bundle (`k3s.bundle_dir`): the files deploy installs as they are, where they
//! go, with which mode, and what a change to each restarts. The lab's stand-ins
//! (tests/lab/bundle/) have this layout; a real bundle puts the real k3s and litestream
//! binaries under the same names.

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
const TIMER: &str = "litestream.timer";

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
        effects: &[],
        required: false,
        stage: Stage::K3s,
    },
    BundleFile {
        name: "litestream.yml",
        target: "/etc/litestream.yml",
        mode: 0o644,
        effects: &[],
        required: false,
        stage: Stage::K3s,
    },
    BundleFile {
        name: "litestream-replicate",
        target: "/usr/local/bin/litestream-replicate",
        mode: 0o755,
        effects: &[],
        required: false,
        stage: Stage::K3s,
    },
    BundleFile {
        name: "litestream.service",
        target: "/etc/systemd/system/litestream.service",
        mode: 0o644,
        effects: &[Effect::DaemonReload],
        required: true,
        stage: Stage::K3s,
    },
    BundleFile {
        name: "litestream.timer",
        target: "/etc/systemd/system/litestream.timer",
        mode: 0o644,
        effects: &[Effect::DaemonReload, Effect::Restart(TIMER)],
        required: false,
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
    fn the_lab_bundle_is_complete() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lab/bundle");
        let b = Bundle::load(Some(&dir));
        assert!(b.problems.is_empty(), "{:?}", b.problems);
        assert!(b.get("k3s").is_some());
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
            b.problems[0].contains("lacks k3s.service, litestream.service, keepalived-notify.sh")
        );
        assert!(!Bundle::load(None).problems.is_empty());
    }
}
