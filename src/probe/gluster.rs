//! GlusterFS state from `gluster --xml`: peer status, volume status, heal info summary.
//!
//! The CLI prints XML only when glusterd answered; when it cannot reach glusterd it prints
//! a plain sentence ("Connection failed. Please check if gluster daemon is operational."),
//! even with `--xml`. Both a failed command (`opRet` ≠ 0) and such text are errors here.

use serde::{Deserialize, Serialize};

use super::ParseError;

/// The peers this node knows (never itself).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeerFacts {
    pub peers: Vec<Peer>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Peer {
    pub hostname: String,
    pub uuid: String,
    pub connected: bool,
    /// `stateStr`, e.g. `Peer in Cluster`. The XML keeps it without the `(Disconnected)`
    /// suffix the plain-text CLI adds: look at `connected`.
    pub state: String,
}

/// One volume's processes as glusterd sees them. Bricks of a peer whose glusterd is
/// unreachable are absent, not offline: compare with the bricks you expect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VolumeStatusFacts {
    pub volume: String,
    pub bricks: Vec<Brick>,
    pub self_heal_daemons: Vec<SelfHealDaemon>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Brick {
    pub host: String,
    pub path: String,
    pub peer_id: String,
    pub online: bool,
    /// `None` when offline (`N/A`).
    pub port: Option<u16>,
    /// `None` when offline (`-1`).
    pub pid: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SelfHealDaemon {
    /// The peer's hostname, or `localhost` for the node that ran the command.
    pub host: String,
    pub peer_id: String,
    pub online: bool,
    pub pid: Option<u32>,
}

/// `volume heal <vol> info summary`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealFacts {
    pub bricks: Vec<BrickHeal>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BrickHeal {
    /// `host:/path`.
    pub name: String,
    /// `status` is exactly `Connected`.
    pub connected: bool,
    /// `Connected`, or why not (`Transport endpoint is not connected`).
    pub status: String,
    /// The counts are `None` when the brick could not be read (`-`).
    pub total: Option<u64>,
    pub pending: Option<u64>,
    pub split_brain: Option<u64>,
    pub possibly_healing: Option<u64>,
}

// ---- raw XML shapes (only the fields we read; the rest is ignored) ----

// One shape for every command: each fills in only its own body element.
#[derive(Deserialize)]
struct CliOutput {
    #[serde(rename = "opRet")]
    op_ret: String,
    #[serde(rename = "opErrno", default)]
    op_errno: Option<String>,
    #[serde(rename = "opErrstr", default)]
    op_errstr: Option<String>,
    #[serde(default)]
    output: Option<String>,
    #[serde(rename = "peerStatus", default)]
    peer_status: Option<RawPeerStatus>,
    #[serde(rename = "volStatus", default)]
    vol_status: Option<RawVolStatus>,
    #[serde(rename = "healInfo", default)]
    heal_info: Option<RawHealInfo>,
}

#[derive(Deserialize, Default)]
struct RawPeerStatus {
    #[serde(rename = "peer", default)]
    peers: Vec<RawPeer>,
}

#[derive(Deserialize)]
struct RawPeer {
    uuid: String,
    hostname: String,
    connected: u8,
    #[serde(rename = "stateStr", default)]
    state_str: String,
}

#[derive(Deserialize, Default)]
struct RawVolStatus {
    #[serde(default)]
    volumes: RawVolumes,
}

#[derive(Deserialize, Default)]
struct RawVolumes {
    #[serde(rename = "volume", default)]
    volumes: Vec<RawVolume>,
}

#[derive(Deserialize)]
struct RawVolume {
    #[serde(rename = "volName")]
    vol_name: String,
    #[serde(rename = "node", default)]
    nodes: Vec<RawNode>,
}

#[derive(Deserialize)]
struct RawNode {
    hostname: String,
    path: String,
    #[serde(default)]
    peerid: String,
    status: i32,
    #[serde(default)]
    port: Option<String>,
    #[serde(default)]
    pid: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawHealInfo {
    #[serde(default)]
    bricks: RawHealBricks,
}

#[derive(Deserialize, Default)]
struct RawHealBricks {
    #[serde(rename = "brick", default)]
    bricks: Vec<RawHealBrick>,
}

#[derive(Deserialize)]
struct RawHealBrick {
    name: String,
    #[serde(default)]
    status: String,
    #[serde(rename = "totalNumberOfEntries", default)]
    total: Option<String>,
    #[serde(rename = "numberOfEntriesInHealPending", default)]
    pending: Option<String>,
    #[serde(rename = "numberOfEntriesInSplitBrain", default)]
    split_brain: Option<String>,
    #[serde(rename = "numberOfEntriesPossiblyHealing", default)]
    possibly_healing: Option<String>,
}

/// Parses `gluster --xml peer status`.
pub fn parse_peer_status(text: &str) -> Result<PeerFacts, ParseError> {
    const WHAT: &str = "gluster peer status";
    let body = cli_output(WHAT, text)?;
    let peers = body
        .peer_status
        .unwrap_or_default()
        .peers
        .into_iter()
        .map(|raw| Peer {
            hostname: raw.hostname,
            uuid: raw.uuid,
            connected: raw.connected == 1,
            state: raw.state_str,
        })
        .collect();
    Ok(PeerFacts { peers })
}

/// Parses `gluster --xml volume status <vol>` or `volume status all`: one entry per volume.
pub fn parse_volume_status(text: &str) -> Result<Vec<VolumeStatusFacts>, ParseError> {
    const WHAT: &str = "gluster volume status";
    let body = cli_output(WHAT, text)?;
    let Some(status) = body.vol_status else {
        return Err(ParseError::new(WHAT, "no <volStatus> in the output"));
    };
    status
        .volumes
        .volumes
        .into_iter()
        .map(|volume| {
            let mut bricks = Vec::new();
            let mut self_heal_daemons = Vec::new();
            for node in volume.nodes {
                let online = node.status == 1;
                let pid = optional_number::<u32>(node.pid.as_deref())
                    .map_err(|value| ParseError::new(WHAT, format!("bad pid {value:?}")))?;
                if node.hostname == "Self-heal Daemon" {
                    self_heal_daemons.push(SelfHealDaemon {
                        host: node.path,
                        peer_id: node.peerid,
                        online,
                        pid,
                    });
                } else if node.path.starts_with('/') {
                    let port = optional_number::<u16>(node.port.as_deref())
                        .map_err(|value| ParseError::new(WHAT, format!("bad port {value:?}")))?;
                    bricks.push(Brick {
                        host: node.hostname,
                        path: node.path,
                        peer_id: node.peerid,
                        online,
                        port,
                        pid,
                    });
                }
                // Other daemons (NFS Server, Quota Daemon, Bitrot…) are not ours to judge.
            }
            Ok(VolumeStatusFacts {
                volume: volume.vol_name,
                bricks,
                self_heal_daemons,
            })
        })
        .collect()
}

/// Parses `gluster --xml volume heal <vol> info summary`.
pub fn parse_heal_summary(text: &str) -> Result<HealFacts, ParseError> {
    const WHAT: &str = "gluster volume heal info summary";
    let body = cli_output(WHAT, text)?;
    let Some(heal_info) = body.heal_info else {
        return Err(ParseError::new(WHAT, "no <healInfo> in the output"));
    };
    let count = |name: &str, value: Option<String>| {
        optional_number::<u64>(value.as_deref())
            .map_err(|value| ParseError::new(WHAT, format!("brick {name}: bad count {value:?}")))
    };
    let bricks = heal_info
        .bricks
        .bricks
        .into_iter()
        .map(|raw| {
            Ok(BrickHeal {
                connected: raw.status == "Connected",
                total: count(&raw.name, raw.total)?,
                pending: count(&raw.name, raw.pending)?,
                split_brain: count(&raw.name, raw.split_brain)?,
                possibly_healing: count(&raw.name, raw.possibly_healing)?,
                status: raw.status,
                name: raw.name,
            })
        })
        .collect::<Result<Vec<_>, ParseError>>()?;
    Ok(HealFacts { bricks })
}

/// What a batch prints instead of asking when glusterd's unit is not running.
pub const GLUSTERD_NOT_RUNNING: &str = "glusterd is not running (systemctl is-active: inactive)";

/// One gluster CLI run for several questions (`peer status`, `volume status V`, …), read from
/// its stdin, each answered by its own XML document. Every run of the CLI costs ~100 ms of
/// CPU, most of it the `gsyncd --version` (Python) it starts to learn whether geo-replication
/// is there; one run per node per round is what keeps `status` fast. Fed on stdin, the CLI
/// does not give up when glusterd is down (it waits out its 120 s timeout), so the unit is
/// checked first.
/// `limit`: the CLI is killed on the node after it (a process whose channel was dropped
/// would go on, and hold glusterd's volume lock while it waits on an unreachable brick).
pub fn batch_command(questions: &[String], limit: std::time::Duration) -> String {
    format!(
        "{}printf '%s\\n' {} | {}",
        unit_check(""),
        quoted(questions),
        xml_cli(limit)
    )
}

/// The CLI reading questions on stdin, killed after `limit`.
fn xml_cli(limit: std::time::Duration) -> String {
    format!(
        "timeout -k 1 {} gluster --xml --mode=script",
        limit.as_secs().max(1)
    )
}

/// A batch of `questions`, and `unless_vip_here` too when the node does not hold `vip`: the
/// node decides, so the batch need not wait for another round trip to learn who holds it.
/// The output starts with `ASKED_PREFIX<n>` (how many questions were asked).
pub fn batch_command_unless_vip(
    questions: &[String],
    unless_vip_here: &[String],
    vip: &str,
    limit: std::time::Duration,
) -> String {
    format!(
        "{}set -- {}; if ! ip -o addr show | grep -qF ' {vip}/'; then set -- \"$@\" {}; fi; \
echo \"{ASKED_PREFIX}$#\"; printf '%s\\n' \"$@\" | {}",
        unit_check(""),
        quoted(questions),
        quoted(unless_vip_here),
        xml_cli(limit)
    )
}

/// The first line of a `batch_command_unless_vip` output.
pub const ASKED_PREFIX: &str = "@@pairctl-asked ";

/// `ASKED_PREFIX<n>` → (n, the rest); None when the line is not there (the unit check
/// failed first).
pub fn asked(stdout: &str) -> Option<(usize, &str)> {
    let rest = stdout.strip_prefix(ASKED_PREFIX)?;
    let (n, rest) = rest.split_once('\n').unwrap_or((rest, ""));
    Some((n.trim().parse().ok()?, rest))
}

/// Says so (on stdout, or where `redirect` sends it) and exits 1 unless glusterd runs.
fn unit_check(redirect: &str) -> String {
    format!(
        "if ! systemctl is-active --quiet glusterd glusterfs-server; then \
echo '{GLUSTERD_NOT_RUNNING}'{redirect}; exit 1; fi; "
    )
}

fn quoted(questions: &[String]) -> String {
    let words: Vec<String> = questions
        .iter()
        .map(|q| super::node::shell_quote(q))
        .collect();
    words.join(" ")
}

/// The plain-text answers of several questions from one CLI run. Text answers have no
/// boundaries, so each question is followed by `system:: uuid get`, whose `UUID: <uuid>`
/// line no answer has (peer status says `Uuid:`). In text mode the CLI stops at the first
/// failed question (its message goes to stderr): the questions after it are then asked one
/// run each, each followed by a `UUID: -` line of the shell's.
pub fn text_batch_command(questions: &[String]) -> String {
    format!(
        "{}set -- {}; \
out=$(for q do printf '%s\\nsystem:: uuid get\\n' \"$q\"; done | gluster --mode=script); rc=$?; \
printf '%s\\n' \"$out\"; \
if [ $rc -ne 0 ]; then \
n=$(printf '%s\\n' \"$out\" | grep -c '^{TEXT_SEPARATOR_PREFIX}'); shift $((n + 1)) 2>/dev/null || shift $#; \
echo '{TEXT_SEPARATOR_PREFIX}-'; \
for q do gluster --mode=script $q; echo '{TEXT_SEPARATOR_PREFIX}-'; done; fi; exit $rc",
        unit_check(" >&2"),
        quoted(questions)
    )
}

const TEXT_SEPARATOR_PREFIX: &str = "UUID: ";

/// A text batch's output → one answer per question, in order (empty when the CLI printed
/// nothing for it: its message is in the command's stderr).
pub fn split_text_batch(stdout: &str, questions: usize) -> Vec<String> {
    let mut answers = Vec::new();
    let mut current = String::new();
    for line in stdout.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        let is_separator = bare.strip_prefix(TEXT_SEPARATOR_PREFIX).is_some_and(|id| {
            id == "-" || (id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
        });
        if is_separator {
            answers.push(std::mem::take(&mut current));
        } else {
            current.push_str(line);
        }
    }
    if !current.trim().is_empty() {
        answers.push(current);
    }
    answers.truncate(questions);
    answers.resize(questions, String::new());
    answers
}

/// A batch's output → one text per question, in order, for the `parse_*` functions. What
/// the CLI printed instead of XML (glusterd down or not running) answers every question it
/// left unanswered.
pub fn split_batch(stdout: &str, questions: usize) -> Vec<String> {
    let starts: Vec<usize> = stdout.match_indices("<?xml").map(|(i, _)| i).collect();
    let before = stdout[..starts.first().copied().unwrap_or(stdout.len())].trim();
    let mut answers: Vec<String> = starts
        .iter()
        .enumerate()
        .map(|(k, &start)| {
            let end = starts.get(k + 1).copied().unwrap_or(stdout.len());
            stdout[start..end].to_string()
        })
        .collect();
    answers.truncate(questions);
    let missing = if before.is_empty() {
        "no answer: the gluster CLI ended early".to_string()
    } else {
        before.to_string()
    };
    answers.resize(questions, missing);
    answers
}

/// Checks that `text` is the `<cliOutput>` document of a successful command.
fn cli_output(what: &'static str, text: &str) -> Result<CliOutput, ParseError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(ParseError::new(what, "empty output"));
    }
    if !trimmed.starts_with('<') {
        // glusterd unreachable, or a usage error: the CLI's own sentence says it best.
        return Err(ParseError::new(what, trimmed.to_owned()));
    }
    let output: CliOutput = quick_xml::de::from_str(trimmed)
        .map_err(|error| ParseError::new(what, format!("malformed XML: {error}")))?;
    if output.op_ret.trim() != "0" {
        let message = [output.op_errstr, output.output]
            .into_iter()
            .flatten()
            .map(|message| message.trim().to_owned())
            .find(|message| !message.is_empty())
            .unwrap_or_else(|| {
                format!(
                    "command failed: opRet {}, opErrno {}",
                    output.op_ret,
                    output.op_errno.as_deref().unwrap_or("?")
                )
            });
        return Err(ParseError::new(what, message));
    }
    Ok(output)
}

/// `N/A`, `-`, `-1` and absence mean "none"; anything else must be a number.
/// The error is the text that is not a number.
fn optional_number<N: std::str::FromStr>(value: Option<&str>) -> Result<Option<N>, &str> {
    match value.map(str::trim) {
        None | Some("" | "N/A" | "-" | "-1") => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEER_HEALTHY: &str = include_str!("../../fixtures/gluster/peer-status-healthy.xml");
    const PEER_DISCONNECTED: &str =
        include_str!("../../fixtures/gluster/peer-status-disconnected.xml");
    const PEER_ALONE: &str = include_str!("../../fixtures/gluster/peer-status-alone.xml");
    const VOLUME_HEALTHY: &str = include_str!("../../fixtures/gluster/volume-status-healthy.xml");
    const VOLUME_BRICK_OFFLINE: &str =
        include_str!("../../fixtures/gluster/volume-status-brick-offline.xml");
    const VOLUME_NOT_STARTED: &str =
        include_str!("../../fixtures/gluster/volume-status-not-started.xml");
    const VOLUME_TRUNCATED: &str =
        include_str!("../../fixtures/gluster/volume-status-truncated.xml");
    const HEAL_HEALTHY: &str = include_str!("../../fixtures/gluster/heal-summary-healthy.xml");
    const HEAL_PENDING: &str = include_str!("../../fixtures/gluster/heal-summary-pending.xml");
    const HEAL_SPLIT_BRAIN: &str =
        include_str!("../../fixtures/gluster/heal-summary-split-brain.xml");
    const HEAL_BRICK_DISCONNECTED: &str =
        include_str!("../../fixtures/gluster/heal-summary-brick-disconnected.xml");
    const GLUSTERD_DOWN: &str = include_str!("../../fixtures/gluster/glusterd-down.txt");
    /// `peer status`, `volume status shared`, `volume heal shared info summary` on stdin.
    const BATCH: &str = include_str!("../../fixtures/gluster/batch-peer-volume-heal.xml");
    /// `text_batch_command` for peer status, pool list, volume status all, heal info.
    const TEXT_BATCH: &str = include_str!("../../fixtures/gluster/text-batch.txt");
    /// Peer status, pool list, `volume status nosuch` (fails: the CLI stops), volume info.
    const TEXT_BATCH_STOPPED: &str = include_str!("../../fixtures/gluster/text-batch-stopped.txt");

    const N1: &str = "3a1f7c52-8d4e-4b1a-9c6f-2e7d5b8a9c01";
    const N2: &str = "b8e4d2a7-51c3-4f69-8a02-7c9e1d3f6b54";

    #[test]
    fn healthy_peer() {
        let facts = parse_peer_status(PEER_HEALTHY).expect("parses");
        assert_eq!(
            facts.peers,
            [Peer {
                hostname: "n2".to_owned(),
                uuid: N2.to_owned(),
                connected: true,
                state: "Peer in Cluster".to_owned(),
            }]
        );
    }

    #[test]
    fn disconnected_peer() {
        let facts = parse_peer_status(PEER_DISCONNECTED).expect("parses");
        assert_eq!(facts.peers.len(), 1);
        assert!(!facts.peers[0].connected);
        assert_eq!(facts.peers[0].state, "Peer in Cluster");
    }

    #[test]
    fn no_peers_at_all() {
        let facts = parse_peer_status(PEER_ALONE).expect("parses");
        assert!(facts.peers.is_empty());
    }

    #[test]
    fn healthy_volume_status() {
        let volumes = parse_volume_status(VOLUME_HEALTHY).expect("parses");
        assert_eq!(volumes.len(), 1);
        let volume = &volumes[0];
        assert_eq!(volume.volume, "shared");
        assert_eq!(
            volume.bricks,
            [
                Brick {
                    host: "n1".to_owned(),
                    path: "/srv/bricks/shared".to_owned(),
                    peer_id: N1.to_owned(),
                    online: true,
                    port: Some(54185),
                    pid: Some(1187),
                },
                Brick {
                    host: "n2".to_owned(),
                    path: "/srv/bricks/shared".to_owned(),
                    peer_id: N2.to_owned(),
                    online: true,
                    port: Some(58312),
                    pid: Some(1391),
                },
            ]
        );
        assert_eq!(
            volume.self_heal_daemons,
            [
                SelfHealDaemon {
                    host: "localhost".to_owned(),
                    peer_id: N1.to_owned(),
                    online: true,
                    pid: Some(1204),
                },
                SelfHealDaemon {
                    host: "n2".to_owned(),
                    peer_id: N2.to_owned(),
                    online: true,
                    pid: Some(1402),
                },
            ]
        );
    }

    #[test]
    fn offline_brick() {
        let volumes = parse_volume_status(VOLUME_BRICK_OFFLINE).expect("parses");
        let n2 = &volumes[0].bricks[1];
        assert_eq!(n2.host, "n2");
        assert!(!n2.online);
        assert_eq!(n2.port, None);
        assert_eq!(n2.pid, None);
        assert!(volumes[0].bricks[0].online);
    }

    #[test]
    fn volume_not_started_is_an_error_with_its_message() {
        let error = parse_volume_status(VOLUME_NOT_STARTED).expect_err("not started");
        assert_eq!(error.what, "gluster volume status");
        assert_eq!(error.reason, "Volume shared is not started");
    }

    #[test]
    fn truncated_xml_is_an_error() {
        let error = parse_volume_status(VOLUME_TRUNCATED).expect_err("truncated");
        assert!(
            error.reason.starts_with("malformed XML"),
            "{}",
            error.reason
        );
    }

    #[test]
    fn a_batch_asks_on_stdin_after_checking_the_unit() {
        let cmd = batch_command(
            &["peer status".into(), "volume status it's".into()],
            std::time::Duration::from_millis(2500),
        );
        assert!(
            cmd.starts_with("if ! systemctl is-active --quiet glusterd glusterfs-server; then"),
            "{cmd}"
        );
        assert!(
            cmd.ends_with(
                "printf '%s\\n' 'peer status' 'volume status it'\\''s' | timeout -k 1 2 gluster --xml --mode=script"
            ),
            "{cmd}"
        );
    }

    #[test]
    fn the_node_decides_whether_to_ask_about_volumes() {
        let cmd = batch_command_unless_vip(
            &["peer status".into()],
            &[
                "volume status shared".into(),
                "volume heal shared info summary".into(),
            ],
            "10.213.57.10",
            std::time::Duration::from_secs(9),
        );
        assert!(
            cmd.contains("set -- 'peer status'; if ! ip -o addr show | grep -qF ' 10.213.57.10/'; then set -- \"$@\" 'volume status shared' 'volume heal shared info summary'; fi; echo \"@@pairctl-asked $#\"; printf '%s\\n' \"$@\" | timeout -k 1 9 gluster --xml --mode=script"),
            "{cmd}"
        );
        let out = format!("{ASKED_PREFIX}3\n{BATCH}");
        let (n, rest) = asked(&out).expect("a count");
        assert_eq!((n, split_batch(rest, n).len()), (3, 3));
        assert_eq!(asked(&format!("{GLUSTERD_NOT_RUNNING}\n")), None);
    }

    #[test]
    fn a_text_batch_splits_on_the_uuid_lines() {
        let questions: Vec<String> = [
            "peer status",
            "pool list",
            "volume status all",
            "volume heal shared info",
        ]
        .iter()
        .map(|q| q.to_string())
        .collect();
        let cmd = text_batch_command(&questions);
        if let Ok(path) = std::env::var("PAIRCTL_PRINT_TEXT_BATCH") {
            std::fs::write(path, &cmd).expect("writes");
        }
        assert!(
            cmd.contains(
                "set -- 'peer status' 'pool list' 'volume status all' 'volume heal shared info';"
            ),
            "{cmd}"
        );
        let answers = split_text_batch(TEXT_BATCH, 4);
        assert!(
            answers[0].starts_with("Number of Peers: 1\n"),
            "{answers:?}"
        );
        assert!(answers[0].contains("Uuid: 846cf6ec-2968-4ee9-8f5d-85d45b608e76"));
        assert!(answers[1].starts_with("UUID\t"), "{answers:?}");
        assert!(
            answers[2].starts_with("Status of volume: shared"),
            "{answers:?}"
        );
        assert!(
            answers[3].starts_with("Brick n1:/srv/bricks/shared"),
            "{answers:?}"
        );
        assert!(answers.iter().all(|a| !a.contains("UUID: ")), "{answers:?}");

        // The CLI stopped at a failed question: the ones after it were asked one by one.
        let answers = split_text_batch(TEXT_BATCH_STOPPED, 4);
        assert!(answers[1].starts_with("UUID\t"), "{answers:?}");
        assert_eq!(answers[2], "");
        assert!(answers[3].contains("Volume Name: shared\n"), "{answers:?}");
        assert!(
            answers[3].ends_with("performance.client-io-threads: off\n"),
            "{answers:?}"
        );
        assert_eq!(split_text_batch("", 2), ["", ""]);
    }

    #[test]
    fn a_batch_splits_into_one_answer_per_question() {
        let answers = split_batch(BATCH, 3);
        assert_eq!(answers.len(), 3);
        assert_eq!(
            parse_peer_status(&answers[0]).expect("parses").peers.len(),
            1
        );
        assert_eq!(
            parse_volume_status(&answers[1]).expect("parses")[0].volume,
            "shared"
        );
        assert_eq!(
            parse_heal_summary(&answers[2])
                .expect("parses")
                .bricks
                .len(),
            2
        );
        // Fewer questions than answers (never happens): the first ones.
        assert_eq!(split_batch(BATCH, 1), answers[..1]);

        // glusterd stopped: the sentence answers every question.
        let answers = split_batch(&format!("{GLUSTERD_NOT_RUNNING}\n"), 2);
        for a in &answers {
            assert_eq!(
                parse_peer_status(a).expect_err("an error").reason,
                GLUSTERD_NOT_RUNNING
            );
        }
        // The CLI lost glusterd after the first answer.
        let first_only = &BATCH[..BATCH[5..].find("<?xml").expect("a second answer") + 5];
        let answers = split_batch(first_only, 2);
        assert!(parse_peer_status(&answers[0]).is_ok());
        assert_eq!(
            parse_volume_status(&answers[1])
                .expect_err("an error")
                .reason,
            "no answer: the gluster CLI ended early"
        );
        let answers = split_batch(GLUSTERD_DOWN, 1);
        assert_eq!(
            parse_peer_status(&answers[0]).expect_err("an error").reason,
            "Connection failed. Please check if gluster daemon is operational."
        );
    }

    #[test]
    fn glusterd_down_text_is_an_error_carrying_the_text() {
        for result in [
            parse_peer_status(GLUSTERD_DOWN).map(|_| ()),
            parse_volume_status(GLUSTERD_DOWN).map(|_| ()),
            parse_heal_summary(GLUSTERD_DOWN).map(|_| ()),
        ] {
            assert_eq!(
                result.expect_err("glusterd down").reason,
                "Connection failed. Please check if gluster daemon is operational."
            );
        }
        assert_eq!(
            parse_peer_status("").expect_err("empty").reason,
            "empty output"
        );
    }

    #[test]
    fn healthy_heal_summary() {
        let facts = parse_heal_summary(HEAL_HEALTHY).expect("parses");
        assert_eq!(facts.bricks.len(), 2);
        assert_eq!(
            facts.bricks[0],
            BrickHeal {
                name: "n1:/srv/bricks/shared".to_owned(),
                connected: true,
                status: "Connected".to_owned(),
                total: Some(0),
                pending: Some(0),
                split_brain: Some(0),
                possibly_healing: Some(0),
            }
        );
        assert_eq!(facts.bricks[1].name, "n2:/srv/bricks/shared");
    }

    #[test]
    fn heal_pending() {
        let facts = parse_heal_summary(HEAL_PENDING).expect("parses");
        let n1 = &facts.bricks[0];
        assert_eq!(n1.total, Some(17));
        assert_eq!(n1.pending, Some(15));
        assert_eq!(n1.possibly_healing, Some(2));
        assert_eq!(n1.split_brain, Some(0));
        assert_eq!(facts.bricks[1].pending, Some(0));
    }

    #[test]
    fn split_brain_entries() {
        let facts = parse_heal_summary(HEAL_SPLIT_BRAIN).expect("parses");
        assert!(facts
            .bricks
            .iter()
            .all(|brick| brick.split_brain == Some(3) && brick.connected));
    }

    #[test]
    fn brick_not_connected_in_heal_info() {
        let facts = parse_heal_summary(HEAL_BRICK_DISCONNECTED).expect("parses");
        let n2 = &facts.bricks[1];
        assert!(!n2.connected);
        assert_eq!(n2.status, "Transport endpoint is not connected");
        assert_eq!(n2.total, None);
        assert_eq!(n2.pending, None);
        assert_eq!(n2.split_brain, None);
        assert_eq!(n2.possibly_healing, None);
        assert_eq!(facts.bricks[0].pending, Some(9));
    }

    #[test]
    fn wrong_document_for_the_parser_is_an_error() {
        assert!(parse_volume_status(PEER_HEALTHY).is_err());
        assert!(parse_heal_summary(VOLUME_HEALTHY).is_err());
    }

    #[test]
    fn failed_command_without_errstr_reports_op_ret() {
        let text = "<cliOutput><opRet>-1</opRet><opErrno>2</opErrno><opErrstr/></cliOutput>";
        let error = parse_peer_status(text).expect_err("failed");
        assert_eq!(error.reason, "command failed: opRet -1, opErrno 2");
    }
}
