//! The two nodes of the pair: `NodeId` (the first or the second `[[node]]`, with its `peer`)
//! and `Pair<T>` (one value per node, indexed by `NodeId`), instead of indexes and `1 - i`.

use std::ops::{Deref, DerefMut, Index, IndexMut};

/// One of the two nodes, in config order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeId {
    First,
    Second,
}

impl NodeId {
    pub const BOTH: [NodeId; 2] = [NodeId::First, NodeId::Second];

    /// The other node.
    pub const fn peer(self) -> NodeId {
        match self {
            NodeId::First => NodeId::Second,
            NodeId::Second => NodeId::First,
        }
    }

    /// The node's position in the config (and in per-host lists such as deploy's).
    pub const fn index(self) -> usize {
        match self {
            NodeId::First => 0,
            NodeId::Second => 1,
        }
    }

    /// The node at `index`; `None` past the pair (deploy numbers the witness after it).
    pub const fn at(index: usize) -> Option<NodeId> {
        match index {
            0 => Some(NodeId::First),
            1 => Some(NodeId::Second),
            _ => None,
        }
    }
}

impl From<NodeId> for usize {
    fn from(id: NodeId) -> usize {
        id.index()
    }
}

/// One value per node. Derefs to a slice of the two (in config order) for iteration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair<T>([T; 2]);

/// Exactly two values, or the ones given back.
impl<T> TryFrom<Vec<T>> for Pair<T> {
    type Error = Vec<T>;
    fn try_from(v: Vec<T>) -> Result<Self, Vec<T>> {
        <[T; 2]>::try_from(v).map(Pair)
    }
}

impl<T> Index<NodeId> for Pair<T> {
    type Output = T;
    fn index(&self, id: NodeId) -> &T {
        &self.0[id.index()]
    }
}

impl<T> IndexMut<NodeId> for Pair<T> {
    fn index_mut(&mut self, id: NodeId) -> &mut T {
        &mut self.0[id.index()]
    }
}

/// By position, as deploy numbers its hosts (the nodes first, then the witness).
impl<T> Index<usize> for Pair<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        &self.0[i]
    }
}

impl<T> IndexMut<usize> for Pair<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.0[i]
    }
}

impl<T> Deref for Pair<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T> DerefMut for Pair<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.0
    }
}

impl<'a, T> IntoIterator for &'a Pair<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn each_node_has_the_other_as_peer_and_its_own_value() {
        let p = Pair::try_from(vec!["n1", "n2"]).unwrap();
        for id in NodeId::BOTH {
            assert_eq!(p[id], p[id.index()]);
            assert_ne!(p[id.peer()], p[id]);
            assert_eq!(id.peer().peer(), id);
            assert_eq!(NodeId::at(id.index()), Some(id));
        }
        assert_eq!(NodeId::at(2), None);
        assert_eq!(p[NodeId::First], "n1");
        assert_eq!(Pair::try_from(vec![1, 2, 3]), Err(vec![1, 2, 3]));
    }
}
