//! Galera membership from `SHOW GLOBAL STATUS LIKE 'wsrep%'`, as rows or as the
//! tab-separated text of `mariadb -N -B`.

use std::collections::HashMap;

use serde::{Serialize, Serializer};

use super::ParseError;

const WHAT: &str = "wsrep status";

/// What one node says about the Galera cluster it is in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GaleraFacts {
    /// `wsrep_cluster_size`: 0 when no provider is loaded.
    pub cluster_size: u64,
    pub cluster_status: ClusterStatus,
    /// `wsrep_local_state_comment`; `None` when no Galera provider is loaded
    /// (`wsrep_provider=none`): the server then reports only its own wsrep variables.
    pub local_state_comment: Option<LocalState>,
    pub ready: bool,
    pub connected: bool,
    /// Empty when no provider is loaded.
    pub cluster_state_uuid: String,
    /// `u64::MAX` (18446744073709551615) outside a cluster.
    pub local_index: u64,
    /// `host:port` of every member as the cluster announces them; empty outside a cluster.
    pub incoming_addresses: Vec<String>,
    /// Fraction of time paused by flow control since the last `FLUSH STATUS`.
    pub flow_control_paused: Option<f64>,
    /// `wsrep_last_committed`: the seqno of the last transaction this node committed (when
    /// asked for; comparable between nodes of one cluster history).
    pub last_committed: Option<u64>,
    /// `wsrep_local_cached_downto`: the lowest seqno this node's gcache still holds (a joiner
    /// whose position is at or after it can catch up incrementally, by IST).
    pub cached_downto: Option<u64>,
}

/// `wsrep_cluster_status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterStatus {
    Primary,
    NonPrimary,
    Disconnected,
    Other(String),
}

impl ClusterStatus {
    fn from_wsrep(value: &str) -> Self {
        match value {
            "Primary" => Self::Primary,
            "non-Primary" => Self::NonPrimary,
            "Disconnected" => Self::Disconnected,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The text as the server prints it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Primary => "Primary",
            Self::NonPrimary => "non-Primary",
            Self::Disconnected => "Disconnected",
            Self::Other(text) => text,
        }
    }
}

impl Serialize for ClusterStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// `wsrep_local_state_comment`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalState {
    Synced,
    /// `Donor/Desynced`: serving a state transfer, or desynced on purpose (`wsrep_desync=ON`).
    Donor,
    Desynced,
    /// `Joining` or one of its phases; the full text, e.g. `Joining: receiving State Transfer`.
    Joining(String),
    Joined,
    /// Not part of a primary component (seen on the survivor of a partition).
    Initialized,
    Other(String),
}

impl LocalState {
    fn from_wsrep(value: &str) -> Self {
        match value {
            "Synced" => Self::Synced,
            "Donor/Desynced" | "Donor" => Self::Donor,
            "Desynced" => Self::Desynced,
            "Joined" => Self::Joined,
            "Initialized" => Self::Initialized,
            joining if joining.starts_with("Joining") => Self::Joining(joining.to_owned()),
            other => Self::Other(other.to_owned()),
        }
    }

    /// The text as the server prints it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Synced => "Synced",
            Self::Donor => "Donor/Desynced",
            Self::Desynced => "Desynced",
            Self::Joining(text) | Self::Other(text) => text,
            Self::Joined => "Joined",
            Self::Initialized => "Initialized",
        }
    }
}

impl Serialize for LocalState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Builds the facts from `Variable_name`/`Value` rows. The variables every server reports,
/// with or without a provider, are required; the provider's own are optional.
pub fn parse_wsrep_rows(rows: &[(String, String)]) -> Result<GaleraFacts, ParseError> {
    if rows.is_empty() {
        return Err(ParseError::new(
            WHAT,
            "no wsrep variables (is this a Galera server?)",
        ));
    }
    let vars: HashMap<&str, &str> = rows
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let required = |name: &'static str| -> Result<&str, ParseError> {
        vars.get(name)
            .copied()
            .ok_or_else(|| ParseError::new(WHAT, format!("{name} is missing")))
    };

    let incoming_addresses = vars
        .get("wsrep_incoming_addresses")
        .map(|value| {
            value
                .split(',')
                .map(str::trim)
                .filter(|address| !address.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let flow_control_paused = match vars.get("wsrep_flow_control_paused") {
        Some(value) => Some(value.trim().parse::<f64>().map_err(|_| {
            ParseError::new(
                WHAT,
                format!("wsrep_flow_control_paused is not a number: {value:?}"),
            )
        })?),
        None => None,
    };

    Ok(GaleraFacts {
        cluster_size: unsigned("wsrep_cluster_size", required("wsrep_cluster_size")?)?,
        cluster_status: ClusterStatus::from_wsrep(required("wsrep_cluster_status")?),
        local_state_comment: vars
            .get("wsrep_local_state_comment")
            .map(|value| LocalState::from_wsrep(value)),
        ready: on_off("wsrep_ready", required("wsrep_ready")?)?,
        connected: on_off("wsrep_connected", required("wsrep_connected")?)?,
        cluster_state_uuid: required("wsrep_cluster_state_uuid")?.to_owned(),
        local_index: unsigned("wsrep_local_index", required("wsrep_local_index")?)?,
        incoming_addresses,
        flow_control_paused,
        last_committed: vars
            .get("wsrep_last_committed")
            .and_then(|v| v.trim().parse().ok()),
        cached_downto: vars
            .get("wsrep_local_cached_downto")
            .and_then(|v| v.trim().parse().ok()),
    })
}

/// Parses `mariadb -N -B -e "SHOW GLOBAL STATUS LIKE 'wsrep%'"`: one `name<TAB>value` per
/// line, with batch-mode escapes (`\t`, `\n`, `\\`, `\0`) in values.
pub fn parse_wsrep_text(text: &str) -> Result<GaleraFacts, ParseError> {
    let mut rows = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Some((name, value)) = line.split_once('\t') else {
            return Err(ParseError::new(
                WHAT,
                format!("line {}: expected name<TAB>value, got {line:?}", number + 1),
            ));
        };
        if !name.starts_with("wsrep_") {
            return Err(ParseError::new(
                WHAT,
                format!("line {}: not a wsrep variable: {name:?}", number + 1),
            ));
        }
        rows.push((name.to_owned(), unescape_batch(value)));
    }
    parse_wsrep_rows(&rows)
}

fn unescape_batch(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('0') => out.push('\0'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn unsigned(name: &str, value: &str) -> Result<u64, ParseError> {
    value.trim().parse().map_err(|_| {
        ParseError::new(
            WHAT,
            format!("{name} is not an unsigned integer: {value:?}"),
        )
    })
}

fn on_off(name: &str, value: &str) -> Result<bool, ParseError> {
    match value.trim() {
        "ON" => Ok(true),
        "OFF" => Ok(false),
        other => Err(ParseError::new(
            WHAT,
            format!("{name} is neither ON nor OFF: {other:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYNCED: &str = include_str!("../../fixtures/galera/synced-primary.tsv");
    const NON_PRIMARY: &str = include_str!("../../fixtures/galera/non-primary.tsv");
    const DONOR: &str = include_str!("../../fixtures/galera/donor-desynced.tsv");
    const JOINING: &str = include_str!("../../fixtures/galera/joining.tsv");
    const NOT_IN_CLUSTER: &str = include_str!("../../fixtures/galera/not-in-cluster.tsv");
    const TRUNCATED: &str = include_str!("../../fixtures/galera/truncated.tsv");
    const CLIENT_ERROR: &str = include_str!("../../fixtures/galera/client-error.txt");

    const UUID: &str = "6f0b1e5a-2c4d-11ef-9a57-2b8f0c3d4e61";

    fn parse(text: &str) -> GaleraFacts {
        parse_wsrep_text(text).expect("fixture parses")
    }

    #[test]
    fn healthy_two_node_synced_primary() {
        assert_eq!(SYNCED.lines().count(), 69);
        assert_eq!(
            parse(SYNCED),
            GaleraFacts {
                cluster_size: 2,
                cluster_status: ClusterStatus::Primary,
                local_state_comment: Some(LocalState::Synced),
                ready: true,
                connected: true,
                cluster_state_uuid: UUID.to_owned(),
                local_index: 0,
                incoming_addresses: vec![
                    "10.213.57.11:3306".to_owned(),
                    "10.213.57.12:3306".to_owned()
                ],
                flow_control_paused: Some(0.0),
                last_committed: Some(48213),
                cached_downto: Some(26337),
            }
        );
    }

    #[test]
    fn survivor_of_a_partition_is_non_primary() {
        let facts = parse(NON_PRIMARY);
        assert_eq!(facts.cluster_size, 1);
        assert_eq!(facts.cluster_status, ClusterStatus::NonPrimary);
        assert_eq!(facts.local_state_comment, Some(LocalState::Initialized));
        assert!(!facts.ready);
        assert!(facts.connected);
        assert_eq!(facts.cluster_state_uuid, UUID);
        assert_eq!(facts.incoming_addresses, ["10.213.57.11:3306"]);
    }

    #[test]
    fn donor_is_desynced_but_ready() {
        let facts = parse(DONOR);
        assert_eq!(facts.local_state_comment, Some(LocalState::Donor));
        assert_eq!(
            facts.local_state_comment.as_ref().map(LocalState::as_str),
            Some("Donor/Desynced")
        );
        assert_eq!(facts.cluster_status, ClusterStatus::Primary);
        assert!(facts.ready);
        assert_eq!(facts.flow_control_paused, Some(0.0214));
    }

    #[test]
    fn joiner_keeps_the_phase_text() {
        let facts = parse(JOINING);
        assert_eq!(
            facts.local_state_comment,
            Some(LocalState::Joining(
                "Joining: receiving State Transfer".to_owned()
            ))
        );
        assert!(!facts.ready);
        assert_eq!(facts.local_index, 1);
        assert_eq!(facts.cluster_size, 2);
    }

    #[test]
    fn server_without_provider_is_disconnected_with_max_index() {
        let facts = parse(NOT_IN_CLUSTER);
        assert_eq!(facts.cluster_size, 0);
        assert_eq!(facts.cluster_status, ClusterStatus::Disconnected);
        assert_eq!(facts.local_index, 18_446_744_073_709_551_615);
        assert_eq!(facts.local_index, u64::MAX);
        assert_eq!(facts.local_state_comment, None);
        assert!(!facts.ready);
        assert!(!facts.connected);
        assert_eq!(facts.cluster_state_uuid, "");
        assert!(facts.incoming_addresses.is_empty());
        assert_eq!(facts.flow_control_paused, None);
    }

    #[test]
    fn rows_and_text_agree() {
        let rows: Vec<(String, String)> = SYNCED
            .lines()
            .filter_map(|line| line.split_once('\t'))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        assert_eq!(parse_wsrep_rows(&rows), parse_wsrep_text(SYNCED));
    }

    #[test]
    fn serializes_states_as_server_text() {
        let json = serde_json::to_value(parse(NON_PRIMARY)).expect("serialize");
        assert_eq!(json["cluster_status"], "non-Primary");
        assert_eq!(json["local_state_comment"], "Initialized");
        let json = serde_json::to_value(parse(NOT_IN_CLUSTER)).expect("serialize");
        assert_eq!(json["local_index"], serde_json::json!(u64::MAX));
    }

    #[test]
    fn other_states_are_kept_verbatim() {
        assert_eq!(
            LocalState::from_wsrep("Waiting on SST"),
            LocalState::Other("Waiting on SST".to_owned())
        );
        assert_eq!(LocalState::from_wsrep("Joined"), LocalState::Joined);
        assert_eq!(LocalState::from_wsrep("Desynced"), LocalState::Desynced);
        assert_eq!(
            ClusterStatus::from_wsrep("Destroyed"),
            ClusterStatus::Other("Destroyed".to_owned())
        );
    }

    #[test]
    fn missing_required_variables_are_errors() {
        let error = parse_wsrep_text(TRUNCATED).expect_err("truncated");
        assert_eq!(error.what, "wsrep status");
        assert_eq!(error.reason, "wsrep_cluster_size is missing");

        let without_status: String = SYNCED
            .lines()
            .filter(|line| !line.starts_with("wsrep_cluster_status\t"))
            .map(|line| format!("{line}\n"))
            .collect();
        assert_eq!(
            parse_wsrep_text(&without_status)
                .expect_err("no status")
                .reason,
            "wsrep_cluster_status is missing"
        );
        assert!(parse_wsrep_rows(&[]).is_err());
        assert!(parse_wsrep_text("").is_err());
    }

    #[test]
    fn client_error_text_is_an_error() {
        let error = parse_wsrep_text(CLIENT_ERROR).expect_err("client error");
        assert!(error.reason.contains("ERROR 2002"), "{}", error.reason);
    }

    #[test]
    fn bad_values_are_errors() {
        let bad_ready = SYNCED.replace("wsrep_ready\tON", "wsrep_ready\tYES");
        assert!(parse_wsrep_text(&bad_ready)
            .expect_err("bad ready")
            .reason
            .contains("wsrep_ready"));
        let negative = SYNCED.replace("wsrep_local_index\t0", "wsrep_local_index\t-1");
        assert!(parse_wsrep_text(&negative)
            .expect_err("negative index")
            .reason
            .contains("wsrep_local_index"));
        let bad_size = SYNCED.replace("wsrep_cluster_size\t2", "wsrep_cluster_size\ttwo");
        assert!(parse_wsrep_text(&bad_size).is_err());
    }

    #[test]
    fn batch_escapes_are_undone() {
        assert_eq!(unescape_batch(r"a\tb\nc\\d"), "a\tb\nc\\d");
        assert_eq!(unescape_batch(r"trailing\"), "trailing\\");
    }
}
