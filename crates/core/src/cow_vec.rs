//! A persistent vector for the entity tables: a three-level radix tree of copy-on-write
//! nodes of [`FANOUT`] entries.
//!
//! A lookup is three dependent loads, against four or five in a general persistent vector
//! (that is what a check spends its time on). A write to a shared vector copies one path:
//! the short root, one node of pointers and one leaf of [`FANOUT`] elements, so its cost
//! does not grow with the table; a vector owned by one writer (a replay) changes in place.

use arrayvec::ArrayVec;
use std::sync::Arc;

/// Entries per node.
pub const FANOUT: usize = 64;
const SHIFT: u32 = FANOUT.trailing_zeros();
const MASK: usize = FANOUT - 1;

// Leaves and nodes keep their slots inside the `Arc`'s own allocation (an `ArrayVec`, not
// a `Vec` behind it): a lookup follows one pointer per level, not two, which at a million
// entities is one cache miss less per level.
type Leaf<T> = Arc<ArrayVec<T, FANOUT>>;
type Node<T> = Arc<ArrayVec<Leaf<T>, FANOUT>>;

/// A vector that clones in O(1) and shares unchanged nodes between clones.
#[derive(Debug)]
pub struct CowVec<T> {
    root: Arc<Vec<Node<T>>>,
    len: usize,
}

impl<T> Clone for CowVec<T> {
    fn clone(&self) -> Self {
        CowVec { root: Arc::clone(&self.root), len: self.len }
    }
}

impl<T> Default for CowVec<T> {
    fn default() -> Self {
        CowVec { root: Arc::new(Vec::new()), len: 0 }
    }
}

#[inline]
fn split(index: usize) -> (usize, usize, usize) {
    (index >> (2 * SHIFT), (index >> SHIFT) & MASK, index & MASK)
}

impl<T: Clone> CowVec<T> {
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    pub fn get(&self, index: usize) -> Option<&T> {
        if index >= self.len {
            return None;
        }
        let (a, b, c) = split(index);
        self.root.get(a)?.get(b)?.get(c)
    }

    /// Replaces the element at `index` (ignored past the end, which callers rule out).
    pub fn set(&mut self, index: usize, value: T) {
        if index >= self.len {
            return;
        }
        let (a, b, c) = split(index);
        let root = Arc::make_mut(&mut self.root);
        if let Some(node) = root.get_mut(a)
            && let Some(leaf) = Arc::make_mut(node).get_mut(b)
            && let Some(slot) = Arc::make_mut(leaf).get_mut(c)
        {
            *slot = value;
        }
    }

    pub fn push_back(&mut self, value: T) {
        let (a, b, _) = split(self.len);
        let root = Arc::make_mut(&mut self.root);
        if root.len() == a {
            root.push(Arc::new(ArrayVec::new()));
        }
        if let Some(node) = root.last_mut() {
            let node = Arc::make_mut(node);
            if node.len() == b {
                node.push(Arc::new(ArrayVec::new()));
            }
            if let Some(leaf) = node.last_mut() {
                Arc::make_mut(leaf).push(value);
            }
        }
        self.len += 1;
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.root.iter().flat_map(|node| node.iter()).flat_map(|leaf| leaf.iter())
    }
}

impl<T: Clone> std::ops::Index<usize> for CowVec<T> {
    type Output = T;
    fn index(&self, index: usize) -> &T {
        let (a, b, c) = split(index);
        &self.root[a][b][c]
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn clones_share_until_written_and_keep_their_own_values() {
        let n = 3 * FANOUT * FANOUT + 17;
        let mut a = CowVec::default();
        for i in 0..n {
            a.push_back(i as i64);
        }
        let b = a.clone();
        a.set(5_000, -1);
        a.push_back(n as i64);
        assert_eq!((a.len(), b.len()), (n + 1, n));
        assert_eq!((a[5_000], b[5_000]), (-1, 5_000));
        assert_eq!(b.iter().copied().collect::<Vec<_>>(), (0..n as i64).collect::<Vec<_>>());
        assert_eq!(a.get(n), Some(&(n as i64)));
        assert_eq!(b.get(n), None);
        assert!(Arc::ptr_eq(&a.root[0], &b.root[0]), "unchanged nodes are shared");
        assert!(!Arc::ptr_eq(&a.root[1], &b.root[1]), "the written path is copied");
    }
}
