//! The names of status checks: `CheckId` (what a check is about), `CheckName` (the id and,
//! for checks of one volume or one service, its subject), serialised as `gluster-volume:shared`.

use std::fmt;

/// What a status check is about. Its name in the table, the JSON and the metrics is
/// `as_str()` (with the subject, `gluster-volume:<v>`, `service:<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CheckId {
    Ssh,
    Vip,
    NodeFacts,
    Fence,
    Keepalived,
    K3s,
    Galera,
    GaleraState,
    GlusterPeers,
    /// One Gluster volume (the subject names it).
    GlusterVolume,
    StandbySsh,
    Replica,
    Workloads,
    /// One enabled service through the VIP (the subject names it).
    Service,
    Maintenance,
    Witness,
    WitnessReach,
    GlusterArbiter,
}

impl CheckId {
    /// Every check, in the order the README lists them.
    pub const ALL: [CheckId; 18] = [
        CheckId::Ssh,
        CheckId::NodeFacts,
        CheckId::Vip,
        CheckId::Fence,
        CheckId::Keepalived,
        CheckId::K3s,
        CheckId::Galera,
        CheckId::GaleraState,
        CheckId::GlusterPeers,
        CheckId::GlusterVolume,
        CheckId::StandbySsh,
        CheckId::Replica,
        CheckId::Workloads,
        CheckId::Service,
        CheckId::Maintenance,
        CheckId::Witness,
        CheckId::WitnessReach,
        CheckId::GlusterArbiter,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            CheckId::Ssh => "ssh",
            CheckId::Vip => "vip",
            CheckId::NodeFacts => "node-facts",
            CheckId::Fence => "fence",
            CheckId::Keepalived => "keepalived",
            CheckId::K3s => "k3s",
            CheckId::Galera => "galera",
            CheckId::GaleraState => "galera-state",
            CheckId::GlusterPeers => "gluster-peers",
            CheckId::GlusterVolume => "gluster-volume",
            CheckId::StandbySsh => "standby-ssh",
            CheckId::Replica => "replica",
            CheckId::Workloads => "workloads",
            CheckId::Service => "service",
            CheckId::Maintenance => "maintenance",
            CheckId::Witness => "witness",
            CheckId::WitnessReach => "witness-reach",
            CheckId::GlusterArbiter => "gluster-arbiter",
        }
    }

    /// The check of one subject (a volume, a service).
    pub fn of(self, subject: &str) -> CheckName {
        CheckName {
            id: self,
            subject: Some(subject.to_string()),
        }
    }
}

/// A check's name: its id and, for `gluster-volume` and `service`, what it is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CheckName {
    pub id: CheckId,
    pub subject: Option<String>,
}

impl From<CheckId> for CheckName {
    fn from(id: CheckId) -> Self {
        CheckName { id, subject: None }
    }
}

impl From<&CheckName> for CheckName {
    fn from(name: &CheckName) -> Self {
        name.clone()
    }
}

impl PartialEq<CheckId> for CheckName {
    /// The check of `id` without a subject.
    fn eq(&self, id: &CheckId) -> bool {
        self.id == *id && self.subject.is_none()
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for CheckName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.subject {
            Some(s) => write!(f, "{}:{s}", self.id),
            None => f.write_str(self.id.as_str()),
        }
    }
}

impl serde::Serialize for CheckName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_are_serialised_as_they_always_were() {
        let json = |n: CheckName| serde_json::to_string(&n).unwrap();
        assert_eq!(json(CheckId::StandbySsh.into()), r#""standby-ssh""#);
        assert_eq!(
            json(CheckId::GlusterVolume.of("shared")),
            r#""gluster-volume:shared""#
        );
        assert_eq!(json(CheckId::Service.of("tenant")), r#""service:tenant""#);
        let names: std::collections::BTreeSet<&str> =
            CheckId::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), CheckId::ALL.len(), "two checks share a name");
    }

    #[test]
    fn a_check_of_a_subject_is_not_the_bare_check() {
        assert_eq!(CheckName::from(CheckId::Vip), CheckId::Vip);
        assert_ne!(CheckId::Service.of("web"), CheckId::Service);
    }

    #[test]
    fn the_readme_lists_every_check_in_order() {
        let readme = include_str!("../../README.md");
        let table = readme
            .split("### What status checks")
            .nth(1)
            .and_then(|t| t.split("\n\n").nth(1))
            .unwrap();
        let listed: Vec<&str> = table
            .lines()
            .skip(2)
            .filter_map(|row| row.strip_prefix("| `")?.split(['`', ':']).next())
            .collect();
        let all: Vec<&str> = CheckId::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(listed, all);
    }
}
