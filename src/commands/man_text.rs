//! What the man pages say beyond the clap model: exit status, environment, files and examples
//! per command, and the configuration reference of pairctl.toml(5). Plain text; `generate`
//! turns it into roff. The configuration keys are checked against the parser by a test.

use crate::config::{ENV_CONFIG, ENV_DB_PASSWORD, ENV_INGRESS_TOKEN};
use crate::error::ExitStatus;

pub struct CommandDoc {
    /// Each status the command exits with (the number comes from `ExitStatus`), and what it
    /// means for this command.
    pub exit: &'static [(ExitStatus, &'static str)],
    pub files: &'static [(&'static str, &'static str)],
    pub examples: &'static [(&'static str, &'static str)],
    pub see_also: &'static [&'static str],
}

const USAGE: (ExitStatus, &str) = (
    ExitStatus::Usage,
    "Usage error: an unknown option, a bad value, a missing argument.",
);
const CONFIG_ERROR: (ExitStatus, &str) = (
    ExitStatus::Config,
    "Configuration error: the message names the file, the line and the key.",
);

pub const ENVIRONMENT: &[(&str, &str)] = &[
    (
        ENV_CONFIG,
        "The configuration file when -c is not given (before ./pairctl.toml and the other defaults).",
    ),
    (
        ENV_DB_PASSWORD,
        "The Galera monitoring user's password, instead of galera.password_file. Never on the command line.",
    ),
    (
        ENV_INGRESS_TOKEN,
        "A bearer token for the services' health endpoints, instead of ingress.token_file.",
    ),
    (
        "NO_COLOR",
        "Set and not empty: no colour with --color auto (the default).",
    ),
    ("COLUMNS", "The table width (default 80; at least 40)."),
    (
        "SSH_AUTH_SOCK",
        "An ssh-agent to authenticate with when ssh.identity_file is not set.",
    ),
    (
        "PAIRCTL_LOG",
        "A tracing filter for diagnostics on stderr (e.g. pairctl=debug); -v and -q set the default.",
    ),
    (
        "SUDO_USER, USER",
        "Who ran a role change or a maintenance, as recorded in the history on the nodes.",
    ),
];

/// The files every command may use; the first five are configuration and trust.
pub const FILES: &[(&str, &str)] = &[
    ("./pairctl.toml", "The configuration, when neither -c nor $PAIRCTL_CONFIG is given."),
    ("~/.config/pairctl/pairctl.toml", "The configuration, next."),
    ("/etc/pairctl/pairctl.toml", "The configuration, last."),
    (
        "~/.ssh/known_hosts",
        "The nodes' host keys (ssh.known_hosts); checked strictly unless --accept-new-host-keys or host_key_policy = \"accept-new\".",
    ),
    (
        "~/.ssh/id_ed25519, ~/.ssh/id_ecdsa, ~/.ssh/id_rsa",
        "The SSH identity tried after ssh-agent when ssh.identity_file is not set.",
    ),
    (
        "/etc/pairctl/deployment.json",
        "On the nodes: the deployment record deploy writes (the status header).",
    ),
    (
        "/var/lib/pairctl/history.jsonl",
        "On the nodes: every role change and maintenance, one JSON object per line.",
    ),
];

const ROLE_CHANGE_EXIT: &[(ExitStatus, &str)] = &[
    (
        ExitStatus::Ok,
        "Verified: the new active serves and no check is critical (--dry-run: the plan).",
    ),
    (
        ExitStatus::DegradedOrFailed,
        "Failed; the cluster was left as it was.",
    ),
    (
        ExitStatus::CriticalOrNotConverged,
        "Acted but did not converge within the bounded wait.",
    ),
    (
        ExitStatus::UnknownOrRefused,
        "Refused by a safety precondition (named in the output); nothing changed.",
    ),
    USAGE,
    CONFIG_ERROR,
];

/// The man page's EXIT STATUS, FILES, EXAMPLES and SEE ALSO of one command.
pub fn for_command(sub: &str) -> CommandDoc {
    match sub {
        "status" => STATUS_DOC,
        "swap" => SWAP_DOC,
        "rejoin" => REJOIN_DOC,
        "failover" => FAILOVER_DOC,
        "history" => HISTORY_DOC,
        "snapshot" => SNAPSHOT_DOC,
        "deploy" => DEPLOY_DOC,
        "maintenance" => MAINTENANCE_DOC,
        "exporter" => EXPORTER_DOC,
        "completions" => COMPLETIONS_DOC,
        "man" => MAN_DOC,
        _ => PAIRCTL_DOC,
    }
}

const STATUS_DOC: CommandDoc = CommandDoc {
    exit: &[
        (ExitStatus::Ok, "Healthy: every check ok."),
        (
            ExitStatus::DegradedOrFailed,
            "Degraded: the pair serves but lost redundancy or a guarantee.",
        ),
        (
            ExitStatus::CriticalOrNotConverged,
            "Critical: no active, split brain, services down or no Galera quorum.",
        ),
        (
            ExitStatus::UnknownOrRefused,
            "Unknown: the truth could not be established (no node answered).",
        ),
        USAGE,
        CONFIG_ERROR,
    ],
    files: &[],
    examples: &[
        ("The table, as show efa status prints it:", "pairctl status"),
        (
            "As a Nagios/Icinga check (the plugin line with perfdata; exit 0-3):",
            "pairctl -c /etc/pairctl/fabric-a.toml status -o nagios",
        ),
        (
            "One JSON document for scripts (schema/pairctl.status-1.json):",
            "pairctl status -o json | jq -r .verdict",
        ),
        (
            "Prometheus text exposition, once:",
            "pairctl status -o prometheus | promtool check metrics",
        ),
        (
            "Redraw every 2 s on the same connections:",
            "pairctl status --watch 2",
        ),
    ],
    see_also: &["promtool(1)"],
};

const SWAP_DOC: CommandDoc = CommandDoc {
    exit: ROLE_CHANGE_EXIT,
    files: &[],
    examples: &[
        (
            "See the preflight and the plan; change nothing:",
            "pairctl swap --dry-run",
        ),
        (
            "Swap roles without a prompt (scripts):",
            "pairctl swap --yes",
        ),
    ],
    see_also: &[],
};

const REJOIN_DOC: CommandDoc = CommandDoc {
    exit: ROLE_CHANGE_EXIT,
    files: &[(
        "/var/lib/pairctl/archive/k3s-state-TIME/",
        "On the rejoined node: its superseded k3s state database, archived (never deleted).",
    )],
    examples: &[
        (
            "The divergence report (IST or SST, writes that would be lost, heal backlog):",
            "pairctl rejoin n1 --dry-run",
        ),
        (
            "Bring n1 back as the standby, then fail back:",
            "pairctl rejoin n1 --yes && pairctl swap --yes",
        ),
    ],
    see_also: &[],
};

const FAILOVER_DOC: CommandDoc = CommandDoc {
    exit: ROLE_CHANGE_EXIT,
    files: &[],
    examples: &[
        (
            "What would happen if the standby took over now:",
            "pairctl failover --dry-run",
        ),
        (
            "The active is gone and confirmed down: take over.",
            "pairctl failover --yes",
        ),
    ],
    see_also: &[],
};

const HISTORY_DOC: CommandDoc = CommandDoc {
    exit: &[
        (ExitStatus::Ok, "The history was read."),
        (
            ExitStatus::UnknownOrRefused,
            "No node could be reached: there is nothing to read.",
        ),
        USAGE,
        CONFIG_ERROR,
    ],
    files: &[],
    examples: &[
        ("The role changes recorded on the nodes:", "pairctl history"),
        (
            "The last one, for scripts:",
            "pairctl history -o json | jq '.changes[-1]'",
        ),
    ],
    see_also: &[],
};

const SNAPSHOT_DOC: CommandDoc = CommandDoc {
    exit: &[
        (ExitStatus::Ok, "Everything was collected (inspect: every checksum matches)."),
        (
            ExitStatus::DegradedOrFailed,
            "A partial bundle: a node down, an item failed or timed out (inspect: what does not match is named).",
        ),
        USAGE,
        CONFIG_ERROR,
    ],
    files: &[(
        "pairctl-snapshot-CLUSTER-TIME.tar.zst, .sha256",
        "The bundle and its checksum, in the current directory or -O.",
    )],
    examples: &[
        ("The last day from both nodes, redacted:", "pairctl snapshot --since 24h -O /var/tmp"),
        ("Verify a bundle someone sent:", "pairctl snapshot inspect pairctl-snapshot-lab-20261201T080000Z.tar.zst"),
    ],
    see_also: &["zstd(1)", "tar(1)"],
};

const DEPLOY_DOC: CommandDoc = CommandDoc {
    exit: &[
        (
            ExitStatus::Ok,
            "Deployed, unchanged, or (--dry-run) planned.",
        ),
        (ExitStatus::DegradedOrFailed, "Failed with nothing changed."),
        (
            ExitStatus::CriticalOrNotConverged,
            "Failed after changing something, or not healthy at the end.",
        ),
        (
            ExitStatus::UnknownOrRefused,
            "Refused (a precondition, or a cluster-wide maintenance).",
        ),
        USAGE,
        CONFIG_ERROR,
    ],
    files: &[],
    examples: &[
        (
            "Exactly what would change, per stage and node:",
            "pairctl deploy --dry-run",
        ),
        ("Install without a prompt:", "pairctl deploy --yes"),
        (
            "Re-run one stage:",
            "pairctl deploy --only keepalived --yes",
        ),
    ],
    see_also: &[],
};

const MAINTENANCE_DOC: CommandDoc = CommandDoc {
    exit: &[
        (
            ExitStatus::Ok,
            "Recorded (or ended) on every node, read back.",
        ),
        (ExitStatus::DegradedOrFailed, "Recorded on no node."),
        (
            ExitStatus::CriticalOrNotConverged,
            "Recorded on some nodes only.",
        ),
        (
            ExitStatus::UnknownOrRefused,
            "Refused (e.g. node maintenance of the active without --force).",
        ),
        USAGE,
        CONFIG_ERROR,
    ],
    files: &[(
        "/var/lib/pairctl/maintenance.json",
        "On the nodes: the maintenance in force, with its expiry.",
    )],
    examples: &[
        (
            "Freeze role changes for a patch window:",
            "pairctl maintenance on --reason \"kernel update\" --for 2h",
        ),
        ("End it now:", "pairctl maintenance off"),
    ],
    see_also: &[],
};

const EXPORTER_DOC: CommandDoc = CommandDoc {
    exit: &[
        (
            ExitStatus::Ok,
            "Stopped by SIGTERM or SIGINT after in-flight scrapes finished; with --once, every cluster healthy.",
        ),
        (
            ExitStatus::DegradedOrFailed,
            "Cannot listen on the address, or cannot write the textfile (--once: the worst verdict, 1-3).",
        ),
        USAGE,
        CONFIG_ERROR,
    ],
    files: &[
        (
            "/etc/pairctl/clusters.d/*.toml",
            "A directory of configurations, one per cluster, for -c DIR.",
        ),
        (
            "DIR/pairctl.prom",
            "With --textfile DIR: replaced whole (temporary file, fsync, rename) after each round.",
        ),
        (
            "contrib/systemd/pairctl-exporter.service",
            "In the source: a systemd unit to start from.",
        ),
    ],
    examples: &[
        (
            "Serve every cluster configured in a directory:",
            "pairctl -c /etc/pairctl/clusters.d exporter --listen 127.0.0.1:9181",
        ),
        (
            "One cluster of many (as Prometheus multi-target jobs ask):",
            "curl -s 'http://127.0.0.1:9181/metrics?cluster=fabric-a'",
        ),
        (
            "For node_exporter's textfile collector, every 30 s:",
            "pairctl exporter --textfile /var/lib/prometheus/node-exporter --interval 30s",
        ),
    ],
    see_also: &["prometheus(1)", "prometheus-node-exporter(1)", "systemd.service(5)"],
};

const COMPLETIONS_DOC: CommandDoc = CommandDoc {
    exit: &[(ExitStatus::Ok, "The script was printed."), USAGE],
    files: &[],
    examples: &[(
        "Install bash completion:",
        "pairctl completions bash > /etc/bash_completion.d/pairctl",
    )],
    see_also: &[],
};

const MAN_DOC: CommandDoc = CommandDoc {
    exit: &[
        (ExitStatus::Ok, "The pages were written."),
        (ExitStatus::DegradedOrFailed, "DIR could not be written."),
        USAGE,
    ],
    files: &[],
    examples: &[(
        "Install the man pages:",
        "pairctl man --dir /usr/local/share/man/man1",
    )],
    see_also: &["man(1)"],
};

/// pairctl(1), and any command without its own text.
const PAIRCTL_DOC: CommandDoc = CommandDoc {
    exit: &[
        (ExitStatus::Ok, "OK: healthy, or the operation verified."),
        (
            ExitStatus::DegradedOrFailed,
            "Degraded (status), or the operation failed and the cluster was left as it was.",
        ),
        (
            ExitStatus::CriticalOrNotConverged,
            "Critical (status), or the operation acted but did not converge.",
        ),
        (
            ExitStatus::UnknownOrRefused,
            "Unknown (status), or refused by a safety precondition.",
        ),
        USAGE,
        CONFIG_ERROR,
    ],
    files: &[],
    examples: &[
        (
            "The health of the pair:",
            "pairctl -c /etc/pairctl/fabric-a.toml status",
        ),
        ("A planned role exchange:", "pairctl swap"),
        ("A support bundle from both nodes:", "pairctl snapshot"),
    ],
    see_also: &[],
};

pub const CONFIG_INTRO: &[&str] = &[
    "One TOML file describes one two-node cluster. pairctl reads it from -c FILE, else $PAIRCTL_CONFIG, else ./pairctl.toml, ~/.config/pairctl/pairctl.toml and /etc/pairctl/pairctl.toml. Relative paths are relative to the file.",
    "Unknown keys, a node count other than 2, bad addresses or durations and secret files readable by group or others are refused with file:line: key: reason (exit 78). Secrets are never accepted on the command line and never printed. Durations are written like 3s, 500ms or 2m.",
];

/// A configuration table: (its header, what it is, [(key, meaning)]).
pub type ConfigTable = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// Every table; the top-level keys are under "cluster".
pub const CONFIG: &[ConfigTable] = &[
    (
        "cluster",
        "Top-level keys.",
        &[
            ("name", "The cluster's name (a-z, 0-9, -): the cluster label in metrics, the bundle name."),
            ("vip", "The virtual IP keepalived moves between the nodes."),
        ],
    ),
    (
        "[[node]]",
        "Exactly two.",
        &[
            ("name", "The node's name (a-z, 0-9, -)."),
            ("address", "Its own IP address (not the VIP): SSH, SQL and the status table use it."),
        ],
    ),
    (
        "[ssh]",
        "How pairctl reaches the nodes: one connection per node, every probe a channel on it.",
        &[
            ("user", "Default root."),
            ("port", "Default 22."),
            ("identity_file", "A private key; default ssh-agent, then ~/.ssh/id_ed25519, id_ecdsa, id_rsa."),
            ("known_hosts", "Default ~/.ssh/known_hosts."),
            ("host_key_policy", "strict (default) or accept-new (learn unknown keys; a changed key is always refused)."),
            ("connect_timeout", "Default 3s (or ssh_config's ConnectTimeout, per hop)."),
            ("config_file", "An ssh_config to read for each node (Host patterns on the node's address): HostName, User, Port, IdentityFile, IdentitiesOnly, IdentityAgent, ProxyJump, UserKnownHostsFile, StrictHostKeyChecking, ConnectTimeout, Include; values set here win. Default ~/.ssh/config when it exists; \"none\": not read."),
            ("jump", "Jump host(s) as [user@]host[:port], comma-separated, first one first (\"none\": none, whatever ssh_config says); one connection for both nodes."),
            ("tunnel", "true: SQL and HTTPS through the SSH connections (always so through a jump host)."),
        ],
    ),
    (
        "[galera]",
        "The monitoring user pairctl queries each node's MariaDB with.",
        &[
            ("port", "Default 3306."),
            ("user", "Default pairctl."),
            ("password_file", "Mode 0600 or stricter; or $PAIRCTL_DB_PASSWORD."),
            ("ca_file", "Verify the server's TLS certificate against this CA."),
            ("cert_file", "A client certificate for TLS (with key_file)."),
            ("key_file", "The client certificate's key (0600)."),
        ],
    ),
    (
        "[gluster]",
        "The replicated volumes.",
        &[("volumes", "Volume names, e.g. [\"shared\"].")],
    ),
    (
        "[k3s]",
        "The services on the active and the state replica on the standby.",
        &[
            ("services", "The enabled services: one Deployment and one health endpoint each."),
            ("namespace", "Their Kubernetes namespace."),
            ("state_path", "k3s's state database on the active."),
            ("replica_path", "Its litestream replica (SFTP) on the standby (default /var/lib/litestream/replica)."),
            ("replica_max_age", "How long the replica may trail the database, by litestream's view, before the replica check fails (default 30s)."),
            ("bundle_dir", "For deploy: the offline bundle with k3s and litestream."),
        ],
    ),
    (
        "[ingress]",
        "The HTTPS endpoint on the VIP.",
        &[
            ("url", "Default https://<vip>; must be https."),
            ("ca_file", "Trust only this CA (default: the system roots)."),
            ("token_file", "An optional bearer token (0600); or $PAIRCTL_INGRESS_TOKEN."),
            ("health_path", "Per service, default /v1/{service}/health."),
        ],
    ),
    (
        "[deploy]",
        "Optional: what deploy writes.",
        &[
            ("version", "The deployment record's version (the status header)."),
            ("build", "Its build."),
            ("mode", "Its mode, e.g. secure."),
            ("type", "Its deployment type, e.g. multi-node."),
            ("platform", "Its deployment platform."),
            ("suite", "Its deployment suite."),
            ("vrrp_router_id", "keepalived's virtual_router_id (1-255)."),
            ("brick_root", "Gluster bricks at <brick_root>/<volume>."),
            ("mount_root", "Volumes mounted at <mount_root>/<volume>."),
            ("db_client_hosts", "Where the monitoring user may connect from (default: the nodes' subnet)."),
            ("innodb_buffer_pool_size", "MariaDB's buffer pool, e.g. 64M."),
            ("ingress_upstream", "Where the ingress forwards to."),
            ("tls_cert_file", "With tls_key_file: install this certificate for the ingress."),
            ("tls_key_file", "Its key (0600)."),
            ("ca_key_file", "Otherwise one is issued by this CA key (or the CA on node 1)."),
        ],
    ),
    (
        "[witness]",
        "Optional: the third vote (garbd and the Gluster arbiter bricks) that makes the automatic takeover safe; reached with the [ssh] settings.",
        &[
            ("name", "Its name (not a node's)."),
            ("address", "Its address (not a node's, not the VIP)."),
        ],
    ),
];

pub const CONFIG_EXAMPLE: &str = r#"name = "fabric-a"
vip = "10.20.246.103"

[[node]]
name = "tpvm"
address = "10.20.246.101"
[[node]]
name = "tpvm2"
address = "10.20.246.102"

[ssh]
user = "root"
known_hosts = "/etc/pairctl/known_hosts"

[galera]
user = "pairctl"
password_file = "/etc/pairctl/db_password"

[gluster]
volumes = ["shared"]

[k3s]
services = ["auth", "rbac", "tenant"]
namespace = "efa"
replica_max_age = "30s"

[ingress]
ca_file = "/etc/pairctl/ca.pem"
"#;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Every key the page documents is one the parser knows: set alone in its table, it may
    /// be refused for its value (0 is not a path) but never as an unknown key, as an invented
    /// one is.
    #[test]
    fn every_documented_key_is_a_real_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pairctl.toml");
        let error_for = |table: &str, key: &str| {
            let text = format!(
                "name = \"a\"\nvip = \"10.0.0.10\"\n[[node]]\nname = \"n1\"\naddress = \"10.0.0.11\"\n\
                 [[node]]\nname = \"n2\"\naddress = \"10.0.0.12\"\n{table}\n{key} = 0\n"
            );
            std::fs::write(&path, text).unwrap();
            crate::config::load(Some(&path))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        let unknown = |e: &str| e.contains("unknown");
        assert!(
            unknown(&error_for("[ssh]", "no_such_key")),
            "{}",
            error_for("[ssh]", "no_such_key")
        );
        for (table, _, keys) in CONFIG {
            if *table == "cluster" || *table == "[[node]]" {
                continue;
            }
            for (key, _) in *keys {
                let e = error_for(table, key);
                assert!(!unknown(&e), "{table} {key}: {e}");
            }
        }
    }

    /// Every key of the README's configuration example is documented.
    #[test]
    fn the_readme_example_is_covered() {
        let readme = include_str!("../../README.md");
        let start = readme.find("## Configuration").unwrap();
        let block = &readme[start..];
        let block = &block[block.find("```toml").unwrap()..];
        let block = &block[..block[7..].find("```").unwrap() + 7];
        let mut table = "cluster";
        for line in block.lines().skip(1) {
            // `# key = value` lines are documented options too.
            let line = line.trim().trim_start_matches("# ");
            if line.starts_with('[') {
                table = line.split('#').next().unwrap().trim();
                continue;
            }
            let Some((key, _)) = line.split_once('=') else {
                continue;
            };
            let key = key.trim();
            let documented = CONFIG
                .iter()
                .find(|(t, _, _)| *t == table)
                .is_some_and(|(_, _, keys)| keys.iter().any(|(k, _)| *k == key));
            assert!(
                documented,
                "{table} {key} is in the README but not in pairctl.toml(5)"
            );
        }
    }
}
