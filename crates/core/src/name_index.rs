//! A persistent index from a normalised name (a logon's collision key, a folded resource
//! or tenant key) to the id that holds it.
//!
//! Millions of names live in a deployment, so the index keeps a 64-bit hash of each key
//! rather than the key itself (the entity already stores it): an `OrdMap<u64, Id>` costs
//! about a fifth of a hash trie of `String`s. A lookup confirms the hit against the
//! entity's own key; two different keys with the same hash (astronomically rare, or
//! crafted) keep the second in a small overflow map keyed by the full string, so a
//! collision costs an entry there and never a wrong answer.

use std::borrow::Cow;
use std::hash::{Hash, Hasher};

#[derive(Debug, Clone)]
pub struct NameIndex<I: Clone> {
    by_hash: imbl::OrdMap<u64, I>,
    overflow: imbl::HashMap<String, I>,
    /// All ones; tests narrow it to force collisions.
    mask: u64,
}

impl<I: Clone> Default for NameIndex<I> {
    fn default() -> Self {
        NameIndex { by_hash: Default::default(), overflow: Default::default(), mask: u64::MAX }
    }
}

/// `DefaultHasher::new()` is SipHash with fixed keys: stable within a process, which is all an in-memory index needs;
/// a crafted collision only lands in the overflow map.
fn hash(key: &str) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

impl<I: Copy + Eq> NameIndex<I> {
    /// The id under `key`. `key_of` gives an id's stored (normalised) key.
    pub fn get<'a>(&self, key: &str, key_of: impl Fn(I) -> Option<Cow<'a, str>>) -> Option<I> {
        if let Some(&id) = self.by_hash.get(&(hash(key) & self.mask))
            && key_of(id).is_some_and(|k| k == key)
        {
            return Some(id);
        }
        if self.overflow.is_empty() { None } else { self.overflow.get(key).copied() }
    }

    /// Puts `id` under `key`, replacing whatever held `key` before.
    pub fn insert<'a>(&mut self, key: &str, id: I, key_of: impl Fn(I) -> Option<Cow<'a, str>>) {
        let h = hash(key) & self.mask;
        match self.by_hash.get(&h) {
            Some(&held) if held != id && key_of(held).is_some_and(|k| k != key) => {
                self.overflow.insert(key.to_owned(), id);
            }
            _ => {
                self.by_hash.insert(h, id);
                if !self.overflow.is_empty() {
                    self.overflow.remove(key);
                }
            }
        }
    }

    /// Removes `key` if `id` holds it.
    pub fn remove(&mut self, key: &str, id: I) {
        let h = hash(key) & self.mask;
        if self.by_hash.get(&h) == Some(&id) {
            self.by_hash.remove(&h);
        } else if self.overflow.get(key) == Some(&id) {
            self.overflow.remove(key);
        }
    }

    pub fn len(&self) -> usize {
        self.by_hash.len() + self.overflow.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::HashMap;

    proptest::proptest! {
        /// Against a plain map, with hashes narrowed to two bits so that most keys collide.
        #[test]
        fn agrees_with_a_map_under_collisions(
            ops in proptest::collection::vec((0u8..3, 0u32..12, 0u32..6), 1..80),
        ) {
            // Entity `id` is named `names[id]`; a rename moves it to another name.
            let mut names: HashMap<u32, String> = HashMap::new();
            let mut index = NameIndex::<u32> { mask: 0b11, ..Default::default() };
            for (op, name, id) in ops {
                let name = format!("n{name}");
                let taken = names.values().any(|n| *n == name);
                match op {
                    // Create or rename `id` to a free name.
                    0 | 1 if !taken => {
                        if let Some(old) = names.get(&id).cloned() {
                            index.remove(&old, id);
                        }
                        let key_of = |i: u32| names.get(&i).map(|n| Cow::Owned(n.clone()));
                        index.insert(&name, id, key_of);
                        names.insert(id, name);
                    }
                    2 => {
                        if let Some(old) = names.remove(&id) {
                            index.remove(&old, id);
                        }
                    }
                    _ => {}
                }
                let key_of = |i: u32| names.get(&i).map(|n| Cow::Owned(n.clone()));
                for probe in 0..12 {
                    let probe = format!("n{probe}");
                    let expected = names.iter().find(|(_, n)| **n == probe).map(|(i, _)| *i);
                    proptest::prop_assert_eq!(index.get(&probe, key_of), expected, "{}", probe);
                }
                proptest::prop_assert_eq!(index.len(), names.len());
            }
        }
    }

    #[test]
    fn insert_get_remove() {
        let keys: HashMap<u32, &str> = [(7, "x"), (8, "y")].into();
        let key_of = |id: u32| keys.get(&id).map(|k| Cow::Borrowed(*k));
        let mut index = NameIndex::<u32>::default();
        index.insert("x", 7, key_of);
        index.insert("y", 8, key_of);
        assert_eq!(index.get("x", key_of), Some(7));
        assert_eq!(index.get("z", key_of), None);
        // Removing with the wrong id leaves the entry.
        index.remove("x", 8);
        assert_eq!(index.get("x", key_of), Some(7));
        index.remove("x", 7);
        assert_eq!(index.get("x", key_of), None);
        assert_eq!(index.len(), 1);
    }
}
