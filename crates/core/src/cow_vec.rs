//! A persistent vector for the entity tables: two levels of copy-on-write chunks.
//!
//! A lookup is two dependent loads (the chunk, then the element), against three or four
//! tree levels in a general persistent vector; that is what a check spends its time on. A
//! write to a shared vector copies the chunk pointers and one chunk of
//! [`CHUNK`] elements; a vector owned by one writer (a replay) is changed in place.

use std::sync::Arc;

/// Elements per chunk: small enough that copying one on write is cheap.
pub const CHUNK: usize = 64;
const SHIFT: u32 = CHUNK.trailing_zeros();

/// A vector that clones in O(1) and shares unchanged chunks between clones.
#[derive(Debug)]
pub struct CowVec<T> {
    chunks: Arc<Vec<Arc<Vec<T>>>>,
    len: usize,
}

impl<T> Clone for CowVec<T> {
    fn clone(&self) -> Self {
        CowVec { chunks: Arc::clone(&self.chunks), len: self.len }
    }
}

impl<T> Default for CowVec<T> {
    fn default() -> Self {
        CowVec { chunks: Arc::new(Vec::new()), len: 0 }
    }
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
        self.chunks.get(index >> SHIFT).and_then(|c| c.get(index & (CHUNK - 1)))
    }

    /// Replaces the element at `index` (ignored past the end, which callers rule out).
    pub fn set(&mut self, index: usize, value: T) {
        if index >= self.len {
            return;
        }
        let chunks = Arc::make_mut(&mut self.chunks);
        if let Some(chunk) = chunks.get_mut(index >> SHIFT)
            && let Some(slot) = Arc::make_mut(chunk).get_mut(index & (CHUNK - 1))
        {
            *slot = value;
        }
    }

    pub fn push_back(&mut self, value: T) {
        let chunks = Arc::make_mut(&mut self.chunks);
        match chunks.last_mut() {
            Some(chunk) if chunk.len() < CHUNK => Arc::make_mut(chunk).push(value),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(value);
                chunks.push(Arc::new(chunk));
            }
        }
        self.len += 1;
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        self.chunks.iter().flat_map(|c| c.iter())
    }
}

impl<T: Clone> std::ops::Index<usize> for CowVec<T> {
    type Output = T;
    fn index(&self, index: usize) -> &T {
        let chunk = &self.chunks[index >> SHIFT];
        &chunk[index & (CHUNK - 1)]
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn clones_share_until_written_and_keep_their_own_values() {
        let mut a = CowVec::default();
        for i in 0..1_000 {
            a.push_back(i);
        }
        let b = a.clone();
        a.set(500, -1);
        a.push_back(1_000);
        assert_eq!((a.len(), b.len()), (1_001, 1_000));
        assert_eq!((a[500], b[500]), (-1, 500));
        assert_eq!(b.iter().copied().collect::<Vec<_>>(), (0..1_000).collect::<Vec<_>>());
        assert_eq!(a.get(1_000), Some(&1_000));
        assert_eq!(b.get(1_000), None);
        assert!(Arc::ptr_eq(&a.chunks[0], &b.chunks[0]), "unchanged chunks are shared");
    }
}
