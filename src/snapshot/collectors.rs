//! What is collected from each node: one remote command per item, grouped by collector, each
//! with its own timeout. Three items discover more (config files, log files under /var/log
//! within the window, pods): their output is parsed into one item per file or pod. Pure: the
//! engine in `mod.rs` runs these.

use super::Window;
use crate::config::Config;
use crate::probe::gluster;
use crate::probe::kube::{classify_kubectl_error, KubectlError};
use crate::probe::node::{
    shell_quote, DEPLOYMENT_RECORD, HISTORY_FILE, MAINTENANCE_FILE, VRRP_STATE_FILE,
};
use std::time::Duration;

/// A command exits with this when what it reads is absent (no history yet, a file rotated
/// away between listing and reading): the item is "not applicable", not failed.
pub const ABSENT_EXIT: u32 = 99;

pub const SHORT: Duration = Duration::from_secs(20);
pub const GLUSTER: Duration = Duration::from_secs(30);
pub const KUBE: Duration = Duration::from_secs(30);
pub const JOURNAL: Duration = Duration::from_secs(120);
pub const POD_LOG: Duration = Duration::from_secs(60);
pub const LOG_FILE: Duration = Duration::from_secs(300);

/// What `kubectl get` is asked for, in one call.
const KUBE_KINDS: &str = "nodes,deployments,statefulsets,daemonsets,pods,events";

/// Files a discovery may list (beyond this the listing says so and the rest is skipped).
pub const MAX_FILES: usize = 500;
pub const MAX_PODS: usize = 200;

/// The cluster's directories and files under /var/log.
const LOG_PATTERNS: &[&str] = &[
    "keepalived*",
    "mysql*",
    "mariadb*",
    "glusterfs*",
    "nginx*",
    "pairctl*",
    "litestream*",
    "k3s*",
];

/// Units whose journal is collected, with the syslog identifiers their processes log under.
const JOURNAL_UNITS: &[(&str, &[&str], &[&str])] = &[
    (
        "keepalived",
        &["keepalived.service"],
        &[
            "keepalived",
            "Keepalived",
            "Keepalived_vrrp",
            "keepalived-notify",
        ],
    ),
    (
        "mariadb",
        &["mariadb.service", "mysql.service"],
        &["mariadbd", "mysqld", "mariadb", "mysqld_safe"],
    ),
    (
        "glusterd",
        &["glusterd.service", "glusterfs-server.service"],
        &["glusterd", "glusterfs", "glusterfsd"],
    ),
    ("k3s", &["k3s.service"], &["k3s"]),
    (
        "litestream",
        &["litestream.service", "k3s-state-restore.service"],
        &["litestream", "k3s-state"],
    ),
    ("sshd", &["ssh.service", "sshd.service"], &["sshd"]),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discovery {
    None,
    ConfigFiles,
    LogFiles,
    Pods,
}

/// When a failure is expected rather than a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applicability {
    Always,
    /// k3s runs on the active node only: on the standby its API refuses connections.
    ActiveOnly,
    /// `kubectl logs --previous` fails when the container never restarted.
    PreviousLogs,
}

#[derive(Debug, Clone)]
pub struct ItemSpec {
    pub collector: &'static str,
    /// The path under `<node>/<collector>/` in the archive.
    pub name: String,
    /// A shell command run on the node.
    pub command: String,
    pub timeout: Duration,
    pub discovers: Discovery,
    pub applicability: Applicability,
    /// When not empty, the command answers several gluster questions in one CLI run and each
    /// answer is stored as its own item, under these names.
    pub parts: Vec<String>,
    pub answers: Answers,
}

/// How a gluster batch's answers are told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answers {
    /// One XML document each (`gluster::batch_command`).
    Xml,
    /// Separator lines (`gluster::text_batch_command`).
    Text,
    /// A tar stream of files, named as the parts (relative to `/`).
    Tar,
}

impl Answers {
    /// One content per part; None for a file that is not in the tar (gone when read).
    pub fn split(self, output: &[u8], parts: &[String]) -> Vec<Option<Vec<u8>>> {
        let text = || String::from_utf8_lossy(output);
        let texts = match self {
            Answers::Xml => gluster::split_batch(&text(), parts.len()),
            Answers::Text => gluster::split_text_batch(&text(), parts.len()),
            Answers::Tar => return split_tar(output, parts),
        };
        texts.into_iter().map(|t| Some(t.into_bytes())).collect()
    }
}

fn split_tar(output: &[u8], parts: &[String]) -> Vec<Option<Vec<u8>>> {
    let mut found: std::collections::HashMap<String, Vec<u8>> = Default::default();
    let mut archive = tar::Archive::new(output);
    if let Ok(entries) = archive.entries() {
        for mut entry in entries.flatten() {
            let Ok(path) = entry.path().map(|p| p.to_string_lossy().into_owned()) else {
                continue;
            };
            let mut data = Vec::new();
            if std::io::Read::read_to_end(&mut entry, &mut data).is_ok() {
                found.insert(path, data);
            }
        }
    }
    parts.iter().map(|p| found.remove(p)).collect()
}

impl ItemSpec {
    /// An item of `collector` stored as `name`, from one remote `command`.
    pub fn new(
        collector: &'static str,
        name: impl Into<String>,
        command: impl Into<String>,
        timeout: Duration,
    ) -> Self {
        ItemSpec {
            collector,
            name: name.into(),
            command: command.into(),
            timeout,
            discovers: Discovery::None,
            applicability: Applicability::Always,
            parts: Vec::new(),
            answers: Answers::Xml,
        }
    }
    fn discovering(mut self, d: Discovery) -> Self {
        self.discovers = d;
        self
    }
    fn split_into(mut self, parts: Vec<String>, answers: Answers) -> Self {
        self.parts = parts;
        self.answers = answers;
        self
    }
    /// The archive paths (under the node) of what this item stores.
    pub fn stored_names(&self) -> Vec<String> {
        if self.parts.is_empty() {
            vec![self.name.clone()]
        } else {
            self.parts.clone()
        }
    }
    fn when(mut self, a: Applicability) -> Self {
        self.applicability = a;
        self
    }
}

/// The witness's part of a bundle (`[witness]`): garbd's and glusterd's journals and config,
/// garbd's log file when it keeps one, its Gluster view (peers, volumes) and its own view of
/// the nodes (ping and garbd's peer port, 4567, of each), plus the basic system facts.
pub fn witness_items(cfg: &Config, window: &Window) -> Vec<ItemSpec> {
    let (since, until) = (window.since_epoch(), window.until_epoch());
    let journal = |units: &[&str], ids: &[&str]| {
        let mut m: Vec<String> = units
            .iter()
            .flat_map(|u| [format!("_SYSTEMD_UNIT={u}"), format!("UNIT={u}")])
            .collect();
        m.extend(ids.iter().map(|i| format!("SYSLOG_IDENTIFIER={i}")));
        format!(
            "exec journalctl --no-pager -o short-iso --since @{since} --until @{until} {}",
            m.join(" + ")
        )
    };
    let view: String = cfg
        .nodes
        .iter()
        .map(|n| {
            let a = n.address;
            format!(
                "echo \"{name} {a}: ping $(ping -c 1 -W 1 {a} >/dev/null 2>&1 && echo yes || echo no), \
garbd port $(timeout 2 bash -c 'exec 3<>/dev/tcp/{a}/4567' 2>/dev/null && echo open || echo closed)\"; ",
                name = n.name
            )
        })
        .collect();
    let mut items = vec![
        ItemSpec::new(
            "journal",
            "garbd.log",
            journal(&["garb.service", "garbd.service"], &["garbd"]),
            JOURNAL,
        ),
        ItemSpec::new(
            "journal",
            "glusterd.log",
            journal(&["glusterd.service"], &[]),
            JOURNAL,
        ),
        ItemSpec::new(
            "configs",
            "etc/default/garb",
            cat_if_present("/etc/default/garb"),
            SHORT,
        ),
        ItemSpec::new(
            "logs",
            "garbd/garbd.log",
            cat_if_present("/var/log/garbd/garbd.log"),
            SHORT,
        ),
        ItemSpec::new(
            "witness",
            "view-of-the-nodes.txt",
            format!("{view}true"),
            SHORT,
        ),
        ItemSpec::new(
            "gluster",
            "peer-status.txt",
            "exec gluster --mode=script peer status",
            SHORT,
        ),
        ItemSpec::new(
            "gluster",
            "volume-info.txt",
            "exec gluster --mode=script volume info",
            SHORT,
        ),
        ItemSpec::new(
            "system",
            "units.txt",
            "systemctl status --no-pager -l -n 20 garb glusterd ssh; true",
            SHORT,
        ),
    ];
    for (name, command) in [
        ("hostname.txt", "hostname; true"),
        ("uptime.txt", "exec uptime"),
        ("free.txt", "exec free -m"),
        ("ip-addr.txt", "exec ip addr"),
        ("ss-listening.txt", "exec ss -tlnp"),
    ] {
        items.push(ItemSpec::new("system", name, command, SHORT));
    }
    items
}

/// `cat` that exits `ABSENT_EXIT` when the file is not there.
fn cat_if_present(path: &str) -> String {
    let q = shell_quote(path);
    format!("if [ -e {q} ]; then exec cat -- {q}; else echo '{path}: absent' >&2; exit {ABSENT_EXIT}; fi")
}

fn mariadb(sql: &str) -> String {
    // As root through the unix socket: no password anywhere.
    format!(
        "if command -v mariadb >/dev/null; then c=mariadb; else c=mysql; fi; \
exec $c --batch --connect-timeout=10 -e {}",
        shell_quote(sql)
    )
}

fn kubectl(args: &str) -> String {
    format!("exec k3s kubectl {args}")
}

/// The items every node gets, discovery items first (their follow-ups start early), then the
/// slow ones (journals), then the quick ones.
pub fn static_items(cfg: &Config, window: &Window) -> Vec<ItemSpec> {
    let mut items = discovery_items(window);
    items.extend(journal_items(window));
    items.extend(system_items());
    items.extend(galera_items());
    items.extend(gluster_items(cfg));
    items.push(
        ItemSpec::new(
            "k3s",
            "resources.txt",
            kubectl(&format!("get {KUBE_KINDS} -A -o wide")),
            KUBE,
        )
        .when(Applicability::ActiveOnly),
    );
    items.extend(litestream_items(cfg));
    items.push(ItemSpec::new(
        "history",
        "history.jsonl",
        cat_if_present(HISTORY_FILE),
        SHORT,
    ));
    items
}

/// The items whose output names more items: the log files, the config files, the pods.
fn discovery_items(window: &Window) -> Vec<ItemSpec> {
    vec![
        ItemSpec::new(
            "logs",
            "files.txt",
            log_listing(window.since_epoch()),
            SHORT,
        )
        .discovering(Discovery::LogFiles),
        ItemSpec::new("configs", "files.txt", config_listing(), SHORT)
            .discovering(Discovery::ConfigFiles),
        // One kubectl for every kind (each run of the real one costs ~100 ms of CPU).
        ItemSpec::new(
            "k3s",
            "resources.json",
            kubectl(&format!("get {KUBE_KINDS} -A -o json")),
            KUBE,
        )
        .discovering(Discovery::Pods)
        .when(Applicability::ActiveOnly),
    ]
}

/// One journal per subsystem (its units and syslog identifiers) and the kernel's, in the window.
fn journal_items(window: &Window) -> Vec<ItemSpec> {
    let since = window.since_epoch();
    let until = window.until_epoch();
    let mut items = Vec::new();
    for (name, units, identifiers) in JOURNAL_UNITS {
        let mut matches: Vec<String> = Vec::new();
        for u in *units {
            matches.push(format!("_SYSTEMD_UNIT={u}"));
            matches.push(format!("UNIT={u}"));
        }
        for i in *identifiers {
            matches.push(format!("SYSLOG_IDENTIFIER={i}"));
        }
        items.push(ItemSpec::new(
            "journal",
            format!("{name}.log"),
            format!(
                "exec journalctl --no-pager -o short-iso --since @{since} --until @{until} {}",
                matches.join(" + ")
            ),
            JOURNAL,
        ));
    }
    items.push(ItemSpec::new(
        "journal",
        "kernel.log",
        format!("exec journalctl --no-pager -o short-iso --since @{since} --until @{until} -k"),
        JOURNAL,
    ));
    items
}

/// The node itself: host, time, resources, network, units, processes, VRRP and maintenance.
fn system_items() -> Vec<ItemSpec> {
    let mut items: Vec<ItemSpec> = [
        ("hostname.txt", "hostname; hostname -f 2>/dev/null; true"),
        ("date.txt", "date -u +%Y-%m-%dT%H:%M:%S.%NZ; timedatectl 2>/dev/null; true"),
        ("uname.txt", "exec uname -a"),
        ("os-release.txt", "exec cat /etc/os-release"),
        ("uptime.txt", "exec uptime"),
        ("free.txt", "exec free -m"),
        ("df.txt", "exec df -hT"),
        ("ip-addr.txt", "exec ip addr"),
        ("ip-route.txt", "exec ip route"),
        ("ss-listening.txt", "exec ss -tlnp"),
        ("systemctl-failed.txt", "exec systemctl --failed --no-pager"),
        (
            "units.txt",
            // Exits 3 when a unit is inactive (k3s on the standby): that is information.
            "systemctl status --no-pager -l -n 20 keepalived mariadb glusterd k3s nginx ssh litestream k3s-state-restore; true",
        ),
        ("processes.txt", "exec ps -eo pid,ppid,user,stat,etime,rss,args"),
    ]
    .into_iter()
    .map(|(name, command)| ItemSpec::new("system", name, command, SHORT))
    .collect();
    items.push(ItemSpec::new(
        "system",
        "keepalived-state.txt",
        format!(
            "echo \"vrrp state: $(cat {VRRP_STATE_FILE} 2>/dev/null || echo none)\"; \
if [ -e {MAINTENANCE_FILE} ]; then echo 'maintenance: yes ({MAINTENANCE_FILE})'; else echo 'maintenance: no'; fi"
        ),
        SHORT,
    ));
    items
}

fn galera_items() -> Vec<ItemSpec> {
    vec![
        ItemSpec::new(
            "galera",
            "global-status.txt",
            mariadb("SHOW GLOBAL STATUS"),
            SHORT,
        ),
        ItemSpec::new(
            "galera",
            "wsrep-variables.txt",
            mariadb("SHOW GLOBAL VARIABLES LIKE 'wsrep%'"),
            SHORT,
        ),
    ]
}

/// One CLI run answers all questions in text, one all in XML (each run of the CLI costs
/// ~100 ms of CPU); the answers are split into one item each.
fn gluster_items(cfg: &Config) -> Vec<ItemSpec> {
    // (item name, question): the question's words are safe for the shell (volume names are
    // quoted where they are added).
    let mut gluster_questions: Vec<(String, String)> = [
        ("peer-status", "peer status"),
        ("pool-list", "pool list"),
        ("volume-info", "volume info"),
        ("volume-status", "volume status all"),
    ]
    .iter()
    .map(|(n, a)| (n.to_string(), a.to_string()))
    .collect();
    for v in &cfg.gluster.volumes {
        gluster_questions.push((
            format!("heal-info-{}", path_safe(v)),
            format!("volume heal {} info", shell_quote(v)),
        ));
    }
    let (names, questions): (Vec<String>, Vec<String>) = gluster_questions.into_iter().unzip();
    let named = |ext: &str| names.iter().map(|n| format!("{n}.{ext}")).collect();
    vec![
        ItemSpec::new(
            "gluster",
            "text",
            gluster::text_batch_command(&questions),
            GLUSTER,
        )
        .split_into(named("txt"), Answers::Text),
        ItemSpec::new(
            "gluster",
            "xml",
            gluster::batch_command(&questions, GLUSTER),
            GLUSTER,
        )
        .split_into(named("xml"), Answers::Xml),
    ]
}

/// litestream's own view from the node (its configuration is among the config files, its
/// journal among the journals): the databases' status, the daemon's (where it runs), the
/// replica the node holds (every level's LTX files) and what the last takeover restored.
fn litestream_items(cfg: &Config) -> Vec<ItemSpec> {
    use crate::probe::litestream::{CONFIG, RESTORE_RECORD};
    let replica = shell_quote(&cfg.k3s.replica_path);
    let url = shell_quote(&format!("file://{}", cfg.k3s.replica_path));
    vec![
        ItemSpec::new(
            "litestream",
            "status.json",
            format!("exec litestream status -json -config {CONFIG}"),
            SHORT,
        ),
        ItemSpec::new(
            "litestream",
            "daemon.json",
            format!(
                "if [ -S /var/run/litestream.sock ]; then litestream info -json -timeout 5 && exec litestream list -json -timeout 5; \
else echo 'litestream: no daemon on this node' >&2; exit {ABSENT_EXIT}; fi"
            ),
            SHORT,
        ),
        ItemSpec::new(
            "litestream",
            "replica-ltx.txt",
            format!(
                "if [ -d {replica} ]; then exec litestream ltx -level all {url}; \
else echo '{}: absent' >&2; exit {ABSENT_EXIT}; fi",
                cfg.k3s.replica_path.replace('\'', "")
            ),
            SHORT,
        ),
        ItemSpec::new(
            "litestream",
            "state-restore.json",
            cat_if_present(RESTORE_RECORD),
            SHORT,
        ),
    ]
}

fn config_listing() -> String {
    // Key material is left on the node (PEM private keys that slip through are redacted).
    format!(
        "find /etc/keepalived /etc/mysql /etc/nginx {} /etc/default/k3s-state {DEPLOYMENT_RECORD} -xdev -type f -size -4096k \
! -name '*.key' ! -name '*key*.pem' ! -name '*.p12' ! -name '*.pfx' ! -name '*.jks' \
-printf '%s\\t%p\\n' 2>/dev/null; true",
        crate::probe::litestream::CONFIG
    )
}

fn log_listing(since: u64) -> String {
    let paths: Vec<String> = LOG_PATTERNS
        .iter()
        .map(|p| format!("-path './{p}'"))
        .collect();
    format!(
        "cd /var/log || exit {ABSENT_EXIT}; find . -xdev \\( {} \\) -type f -newermt @{since} \
! -name '*.xz' ! -name '*.bz2' ! -name '*.zst' -printf '%s\\t%p\\n' 2>/dev/null; true",
        paths.join(" -o ")
    )
}

/// Follow-up items from a discovery item's raw output. Returns the items and, when the list
/// was cut, a note saying so.
pub fn follow_ups(
    discovery: Discovery,
    output: &[u8],
    window: &Window,
) -> (Vec<ItemSpec>, Option<String>) {
    let text = String::from_utf8_lossy(output);
    match discovery {
        Discovery::None => (Vec::new(), None),
        Discovery::ConfigFiles => file_items(&text, "configs", "/", SHORT, true),
        Discovery::LogFiles => file_items(&text, "logs", "/var/log/", LOG_FILE, false),
        Discovery::Pods => pod_items(&text, window),
    }
}

/// Small files go `TAR_BATCH_FILES` or `TAR_BATCH_BYTES` at a time in one `tar` (a remote
/// command costs the node a channel and three processes).
const TAR_BATCH_FILES: usize = 100;
const TAR_BATCH_BYTES: u64 = 4 << 20;

/// `SIZE\tPATH` lines (paths absolute, or relative to `base`) → one item per file, named by
/// its path on the node; gzip-rotated logs are decompressed on the node. With `batch`, plain
/// files are read in batches by one `tar` each, split into one item per file.
fn file_items(
    text: &str,
    collector: &'static str,
    base: &str,
    timeout: Duration,
    batch: bool,
) -> (Vec<ItemSpec>, Option<String>) {
    // Largest first: they take longest, so they start first.
    let mut listing: Vec<(u64, &str)> = text
        .lines()
        .filter_map(|line| {
            let (size, path) = line.split_once('\t')?;
            Some((size.trim().parse().unwrap_or(0), path))
        })
        .collect();
    listing.sort_by_key(|(size, _)| std::cmp::Reverse(*size));
    let mut items = Vec::new();
    let mut batches: Vec<(u64, Vec<String>)> = Vec::new();
    let mut listed = 0;
    for (size, path) in listing {
        let path = path
            .strip_prefix("./")
            .map(|p| format!("{base}{p}"))
            .unwrap_or_else(|| path.to_string());
        if !path.starts_with('/') || path.split('/').any(|c| c == "..") {
            continue;
        }
        listed += 1;
        if listed > MAX_FILES {
            continue;
        }
        if batch && !path.ends_with(".gz") {
            let fits = |(bytes, names): &&mut (u64, Vec<String>)| {
                names.len() < TAR_BATCH_FILES && bytes + size <= TAR_BATCH_BYTES
            };
            let name = path.trim_start_matches('/').to_string();
            match batches.iter_mut().find(|b| fits(b)) {
                Some((bytes, names)) => {
                    *bytes += size;
                    names.push(name);
                }
                None => batches.push((size, vec![name])),
            }
            continue;
        }
        let (name, command) = match path.strip_suffix(".gz") {
            Some(plain) => {
                let q = shell_quote(&path);
                (
                    plain.trim_start_matches('/').to_string(),
                    format!("if [ -e {q} ]; then exec gzip -dc -- {q}; else echo '{path}: absent' >&2; exit {ABSENT_EXIT}; fi"),
                )
            }
            None => (
                path.trim_start_matches('/').to_string(),
                cat_if_present(&path),
            ),
        };
        items.push(ItemSpec::new(collector, name, command, timeout));
    }
    for (k, (_, names)) in batches.into_iter().enumerate() {
        let paths: Vec<String> = names.iter().map(|n| shell_quote(n)).collect();
        let command = format!(
            "cd / && exec tar -c --ignore-failed-read --no-recursion -- {}",
            paths.join(" ")
        );
        items.push(
            ItemSpec::new(collector, format!("files-{k}.tar"), command, timeout)
                .split_into(names, Answers::Tar),
        );
    }
    let note = (listed > MAX_FILES)
        .then(|| format!("{listed} files listed; the first {MAX_FILES} were collected"));
    (items, note)
}

/// A pod from the resource list: where it is and whether a container of it restarted.
struct Pod {
    namespace: String,
    name: String,
    restarted: bool,
}

fn pods_of(list: &serde_json::Value) -> Vec<Pod> {
    let Some(items) = list.get("items").and_then(|i| i.as_array()) else {
        return Vec::new();
    };
    items
        .iter()
        .filter(|item| item.get("kind").and_then(|k| k.as_str()).unwrap_or("Pod") == "Pod")
        .filter_map(|p| {
            let meta = p.get("metadata")?;
            let restarted = ["containerStatuses", "initContainerStatuses"]
                .iter()
                .filter_map(|k| p.get("status")?.get(k)?.as_array())
                .flatten()
                .any(|c| c.get("restartCount").and_then(|n| n.as_u64()).unwrap_or(0) > 0);
            Some(Pod {
                namespace: meta.get("namespace")?.as_str()?.to_string(),
                name: meta.get("name")?.as_str()?.to_string(),
                restarted,
            })
        })
        .collect()
}

/// The resource list (`kubectl get …,pods,… -A -o json`) → the logs of every pod, and the
/// previous container's logs of pods whose containers restarted (kubectl has none for the
/// others: asking would cost a kubectl run per pod to learn so).
fn pod_items(text: &str, window: &Window) -> (Vec<ItemSpec>, Option<String>) {
    let Ok(list) = serde_json::from_str::<serde_json::Value>(text) else {
        return (Vec::new(), Some("the resource list is not JSON".into()));
    };
    let pods = pods_of(&list);
    let since = humantime::format_rfc3339_seconds(window.since);
    let mut items = Vec::new();
    for pod in pods.iter().take(MAX_PODS) {
        let base = format!(
            "logs/{}/{}",
            path_safe(&pod.namespace),
            path_safe(&pod.name)
        );
        let args = format!(
            "logs -n {} {} --all-containers --timestamps --since-time={since}",
            shell_quote(&pod.namespace),
            shell_quote(&pod.name)
        );
        items.push(
            ItemSpec::new("k3s", format!("{base}.log"), kubectl(&args), POD_LOG)
                .when(Applicability::ActiveOnly),
        );
        if pod.restarted {
            items.push(
                ItemSpec::new(
                    "k3s",
                    format!("{base}.previous.log"),
                    kubectl(&format!("{args} --previous")),
                    POD_LOG,
                )
                .when(Applicability::PreviousLogs),
            );
        }
    }
    let note = (pods.len() > MAX_PODS).then(|| {
        format!(
            "{} pods; the logs of the first {MAX_PODS} were collected",
            pods.len()
        )
    });
    (items, note)
}

/// A name from the node made safe as one path component.
pub fn path_safe(s: &str) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() || cleaned.chars().all(|c| c == '.') {
        "_".into()
    } else {
        cleaned
    }
}

/// Whether a failed item was expected to fail where it ran.
pub fn failure_expected(
    applicability: Applicability,
    role: &str,
    exit_status: Option<u32>,
    stderr: &str,
) -> bool {
    if exit_status == Some(ABSENT_EXIT) {
        return true;
    }
    match applicability {
        Applicability::Always => false,
        Applicability::ActiveOnly => {
            role == "standby"
                || (role != "active"
                    && matches!(
                        classify_kubectl_error(stderr),
                        KubectlError::ConnectionRefused { .. }
                    ))
        }
        Applicability::PreviousLogs => {
            role == "standby"
                || stderr.contains("not found")
                || matches!(
                    classify_kubectl_error(stderr),
                    KubectlError::ConnectionRefused { .. }
                ) && role != "active"
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    fn window() -> Window {
        let until = SystemTime::UNIX_EPOCH + Duration::from_secs(1_714_644_000);
        Window {
            since: until - Duration::from_secs(86_400),
            until,
        }
    }

    fn cfg() -> Config {
        crate::config::parse(
            std::path::Path::new("/x/pairctl.toml"),
            "name = \"lab\"\nvip = \"10.213.57.10\"\n[[node]]\nname = \"n1\"\naddress = \"10.213.57.11\"\n[[node]]\nname = \"n2\"\naddress = \"10.213.57.12\"\n[gluster]\nvolumes = [\"shared\"]\n",
        )
        .unwrap()
    }

    #[test]
    fn every_collector_is_planned_with_its_window() {
        let items = static_items(&cfg(), &window());
        for c in [
            "system", "journal", "configs", "galera", "gluster", "k3s", "history", "logs",
        ] {
            assert!(items.iter().any(|i| i.collector == c), "no {c} items");
        }
        let keepalived = items.iter().find(|i| i.name == "keepalived.log").unwrap();
        assert!(
            keepalived
                .command
                .contains("--since @1714557600 --until @1714644000"),
            "{}",
            keepalived.command
        );
        assert!(keepalived.command.contains("_SYSTEMD_UNIT=keepalived.service + UNIT=keepalived.service + SYSLOG_IDENTIFIER=keepalived"));
        assert!(keepalived.command.contains("-o short-iso"));
        let logs = items.iter().find(|i| i.collector == "logs").unwrap();
        assert!(
            logs.command.contains("-newermt @1714557600")
                && logs.command.contains("-path './mysql*'"),
            "{}",
            logs.command
        );
        let xml = items.iter().find(|i| i.name == "xml").unwrap();
        assert!(
            xml.command.contains("'volume heal shared info'")
                && xml.command.contains("gluster --xml --mode=script"),
            "{}",
            xml.command
        );
        assert_eq!(
            xml.stored_names(),
            [
                "peer-status.xml",
                "pool-list.xml",
                "volume-info.xml",
                "volume-status.xml",
                "heal-info-shared.xml"
            ]
        );
        let text = items.iter().find(|i| i.name == "text").unwrap();
        assert!(
            text.command
                .contains("set -- 'peer status' 'pool list' 'volume info' 'volume status all' 'volume heal shared info';"),
            "{}",
            text.command
        );
        assert_eq!(text.stored_names()[4], "heal-info-shared.txt");
        let galera = items.iter().find(|i| i.collector == "galera").unwrap();
        assert!(
            !galera.command.contains("-p") && !galera.command.contains("password"),
            "no password on argv"
        );
        assert!(items
            .iter()
            .filter(|i| i.collector == "k3s")
            .all(|i| i.applicability == Applicability::ActiveOnly));
        // Unique paths.
        let mut names: Vec<String> = items
            .iter()
            .flat_map(|i| {
                i.stored_names()
                    .into_iter()
                    .map(|n| format!("{}/{n}", i.collector))
            })
            .collect();
        names.sort();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n);
    }

    #[test]
    fn the_witness_part_is_garbd_gluster_and_its_view_of_the_nodes() {
        let items = witness_items(&cfg(), &window());
        let names: Vec<String> = items
            .iter()
            .map(|i| format!("{}/{}", i.collector, i.name))
            .collect();
        for n in [
            "journal/garbd.log",
            "configs/etc/default/garb",
            "witness/view-of-the-nodes.txt",
            "gluster/peer-status.txt",
        ] {
            assert!(names.iter().any(|x| x == n), "{n} not in {names:?}");
        }
        let view = &items
            .iter()
            .find(|i| i.collector == "witness")
            .unwrap()
            .command;
        assert!(
            view.contains("/dev/tcp/10.213.57.11/4567") && view.contains("n2 10.213.57.12"),
            "{view}"
        );
        // Nothing of a node's database or k3s on the witness.
        assert!(items
            .iter()
            .all(|i| !i.command.contains("mariadb") && !i.command.contains("kubectl")));
    }

    #[test]
    fn log_listing_becomes_one_item_per_file() {
        let listing = "1024\t./mysql/error.log\n20\t./nginx/access.log.2.gz\n5\t./glusterfs/bricks/srv-bricks-shared.log\nbad line\n7\t./../etc/shadow\n";
        let (items, note) = follow_ups(Discovery::LogFiles, listing.as_bytes(), &window());
        assert!(note.is_none());
        let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "var/log/mysql/error.log",
                "var/log/nginx/access.log.2",
                "var/log/glusterfs/bricks/srv-bricks-shared.log"
            ]
        );
        assert!(items[0]
            .command
            .contains("exec cat -- /var/log/mysql/error.log"));
        assert!(items[1]
            .command
            .contains("gzip -dc -- /var/log/nginx/access.log.2.gz"));
        assert!(items
            .iter()
            .all(|i| i.timeout == LOG_FILE && i.collector == "logs"));
    }

    #[test]
    fn config_files_are_read_by_one_tar_and_split_per_file() {
        let listing = "300\t/etc/mysql/conf.d/galera.cnf\n10\t/etc/keepalived/it's here.conf\n7\t/etc/nginx/old.conf.gz\n";
        let (items, _) = follow_ups(Discovery::ConfigFiles, listing.as_bytes(), &window());
        assert_eq!(items.len(), 2, "{items:?}");
        assert_eq!(items[0].name, "etc/nginx/old.conf");
        assert!(items[0].command.contains("gzip -dc"));
        let tar = &items[1];
        assert_eq!(
            tar.command,
            "cd / && exec tar -c --ignore-failed-read --no-recursion -- \
etc/mysql/conf.d/galera.cnf 'etc/keepalived/it'\\''s here.conf'"
        );
        assert_eq!(
            tar.stored_names(),
            [
                "etc/mysql/conf.d/galera.cnf",
                "etc/keepalived/it's here.conf"
            ]
        );
        assert_eq!(tar.answers, Answers::Tar);

        // Batches stay small enough to hold in memory.
        let big: String = (0..3)
            .map(|i| format!("{}\t/etc/mysql/f{i}.cnf\n", 3 << 20))
            .collect();
        let (items, _) = follow_ups(Discovery::ConfigFiles, big.as_bytes(), &window());
        assert_eq!(items.len(), 3);
    }

    #[test]
    fn a_tar_from_gnu_tar_splits_per_file_and_misses_what_was_gone() {
        let dir = tempfile::tempdir().unwrap();
        let long = format!("etc/{}/deep.conf", "d".repeat(120));
        std::fs::create_dir_all(dir.path().join(&long).parent().unwrap()).unwrap();
        std::fs::write(dir.path().join(&long), "password = x\n").unwrap();
        std::fs::create_dir_all(dir.path().join("etc/k")).unwrap();
        std::fs::write(dir.path().join("etc/k/a.conf"), "vrrp\n").unwrap();
        let out = std::process::Command::new("tar")
            .args(["-c", "--ignore-failed-read", "--no-recursion", "--"])
            .args(["etc/k/a.conf", "etc/gone.conf", long.as_str()])
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let parts = [
            "etc/k/a.conf".to_string(),
            "etc/gone.conf".into(),
            long.clone(),
        ];
        let split = Answers::Tar.split(&out.stdout, &parts);
        assert_eq!(split[0].as_deref(), Some(&b"vrrp\n"[..]));
        assert_eq!(split[1], None);
        assert_eq!(split[2].as_deref(), Some(&b"password = x\n"[..]));
    }

    #[test]
    fn too_many_files_are_capped_with_a_note() {
        let listing: String = (0..MAX_FILES + 3)
            .map(|i| format!("1\t./nginx/f{i}.log\n"))
            .collect();
        let (items, note) = follow_ups(Discovery::LogFiles, listing.as_bytes(), &window());
        assert_eq!(items.len(), MAX_FILES);
        assert!(note.unwrap().contains(&format!("{} files", MAX_FILES + 3)));
    }

    #[test]
    fn pods_get_their_logs_and_restarted_ones_the_previous_too() {
        let list = r#"{"apiVersion":"v1","items":[
            {"kind":"Node","metadata":{"name":"n1"}},
            {"kind":"Pod","metadata":{"name":"auth-7d9f","namespace":"efa"},"status":{"containerStatuses":[{"name":"auth","restartCount":2}]}},
            {"kind":"Pod","metadata":{"name":"x/y","namespace":"kube-system"},"status":{"containerStatuses":[{"name":"y","restartCount":0}]}},
            {"kind":"Event","metadata":{"name":"auth-7d9f.17c","namespace":"efa"}}],"kind":"List"}"#;
        let (items, _) = follow_ups(Discovery::Pods, list.as_bytes(), &window());
        let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "logs/efa/auth-7d9f.log",
                "logs/efa/auth-7d9f.previous.log",
                "logs/kube-system/x_y.log",
            ]
        );
        assert!(
            items[0]
                .command
                .contains("--since-time=2024-05-01T10:00:00Z"),
            "{}",
            items[0].command
        );
        assert!(items[1].command.ends_with("--previous"));
        assert_eq!(items[1].applicability, Applicability::PreviousLogs);
        let (none, note) = follow_ups(Discovery::Pods, b"not json", &window());
        assert!(none.is_empty() && note.is_some());
    }

    #[test]
    fn expected_failures() {
        let refused = "The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?";
        assert!(failure_expected(
            Applicability::ActiveOnly,
            "standby",
            Some(1),
            refused
        ));
        assert!(failure_expected(
            Applicability::ActiveOnly,
            "unknown",
            Some(1),
            refused
        ));
        assert!(!failure_expected(
            Applicability::ActiveOnly,
            "active",
            Some(1),
            refused
        ));
        assert!(!failure_expected(
            Applicability::Always,
            "standby",
            Some(1),
            "boom"
        ));
        assert!(failure_expected(
            Applicability::Always,
            "active",
            Some(ABSENT_EXIT),
            ""
        ));
        assert!(failure_expected(
            Applicability::PreviousLogs,
            "active",
            Some(1),
            "Error from server (BadRequest): previous terminated container \"auth\" in pod \"auth-7d9f\" not found"
        ));
        assert!(!failure_expected(
            Applicability::PreviousLogs,
            "active",
            Some(1),
            "error: timeout"
        ));
    }
}
