//! Probes: one file per subsystem. Each has an async `collect` (remote I/O through the
//! transports) and a pure `parse` that turns command output into facts, tested on fixtures.

pub mod galera;
pub mod gluster;
pub mod gluster_local;
pub mod ip;
pub mod kube;
pub mod litestream;

/// A command's output did not have the shape its parser expects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {reason}")]
pub struct ParseError {
    pub what: &'static str,
    pub reason: String,
}

impl ParseError {
    pub fn new(what: &'static str, reason: impl Into<String>) -> Self {
        Self {
            what,
            reason: reason.into(),
        }
    }
}

pub mod collect;
pub mod node;
mod properties;

use std::time::Duration;

/// A probe's outcome: its facts, or why there are none (unreachable, timed out, unparsable).
pub type Probe<T> = Result<T, crate::transport::ProbeError>;

/// Everything gathered about the pair in one round.
#[derive(Debug, Clone)]
pub struct ClusterFacts {
    pub nodes: Vec<NodeFacts>,
    /// One health request per enabled service through the VIP.
    pub services: Vec<ServiceFacts>,
}

#[derive(Debug, Clone)]
pub struct NodeFacts {
    pub name: String,
    pub address: String,
    /// Time to connect and authenticate, or why it failed.
    pub ssh: Probe<Duration>,
    pub basics: Probe<node::BasicFacts>,
    pub galera: Probe<galera::GaleraFacts>,
    pub gluster_peers: Probe<gluster::PeerFacts>,
    pub volumes: Vec<VolumeFacts>,
    pub kube_nodes: Probe<Vec<kube::KubeNode>>,
    pub workloads: Probe<Vec<kube::Workload>>,
    /// SSH from this node to the other one (the inter-node trust failover relies on).
    pub peer_ssh: Probe<()>,
}

#[derive(Debug, Clone)]
pub struct VolumeFacts {
    pub name: String,
    pub status: Probe<gluster::VolumeStatusFacts>,
    pub heal: Probe<gluster::HealFacts>,
}

#[derive(Debug, Clone)]
pub struct ServiceFacts {
    pub name: String,
    pub url: String,
    pub status: Probe<u16>,
}
