//! A fixed-size set of permissions, so that role and entitlement arithmetic on the check
//! path is a few word operations and never allocates.

use crate::ids::PermId;
use serde::{Deserialize, Serialize};

/// The most permissions a catalog may define (checked when a catalog is loaded).
pub const MAX_PERMISSIONS: usize = 256;

const WORDS: usize = MAX_PERMISSIONS / 64;

/// A set of permission ids below [`MAX_PERMISSIONS`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct PermSet([u64; WORDS]);

impl PermSet {
    pub const EMPTY: PermSet = PermSet([0; WORDS]);

    #[inline]
    pub fn contains(&self, perm: PermId) -> bool {
        let i = perm.index();
        i < MAX_PERMISSIONS && self.0[i / 64] & (1 << (i % 64)) != 0
    }

    /// Adds `perm`; ids at or above [`MAX_PERMISSIONS`] are rejected by the catalog before
    /// they can reach here, so they are ignored.
    #[inline]
    pub fn insert(&mut self, perm: PermId) {
        let i = perm.index();
        if i < MAX_PERMISSIONS {
            self.0[i / 64] |= 1 << (i % 64);
        }
    }

    #[inline]
    pub fn remove(&mut self, perm: PermId) {
        let i = perm.index();
        if i < MAX_PERMISSIONS {
            self.0[i / 64] &= !(1 << (i % 64));
        }
    }

    #[inline]
    pub fn union(self, other: PermSet) -> PermSet {
        PermSet(std::array::from_fn(|w| self.0[w] | other.0[w]))
    }

    #[inline]
    pub fn intersect(self, other: PermSet) -> PermSet {
        PermSet(std::array::from_fn(|w| self.0[w] & other.0[w]))
    }

    #[inline]
    pub fn minus(self, other: PermSet) -> PermSet {
        PermSet(std::array::from_fn(|w| self.0[w] & !other.0[w]))
    }

    #[inline]
    pub fn is_subset_of(&self, other: &PermSet) -> bool {
        (0..WORDS).all(|w| self.0[w] & !other.0[w] == 0)
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    /// The members, in id order.
    pub fn iter(&self) -> impl Iterator<Item = PermId> + '_ {
        (0..MAX_PERMISSIONS as u32).map(PermId).filter(|p| self.contains(*p))
    }

    pub fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }
}

impl FromIterator<PermId> for PermSet {
    fn from_iter<I: IntoIterator<Item = PermId>>(iter: I) -> Self {
        let mut set = PermSet::EMPTY;
        for perm in iter {
            set.insert(perm);
        }
        set
    }
}

impl std::fmt::Debug for PermSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}
