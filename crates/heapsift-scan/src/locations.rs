//! Allocation sites (`file:line`), numbered as they are first seen.

use std::hash::{Hash, Hasher};
use std::ops::{Index, IndexMut};

use indexmap::{Equivalent, IndexMap};

type FastHash = foldhash::fast::RandomState;

/// Allocation sites with a value of type `V` each, numbered from 0 in the
/// order they were first seen. Looking one up from a record costs a compare
/// with the last site most of the time: neighbouring slots often hold
/// objects from the same site.
#[derive(Debug, Clone)]
pub struct Locations<V> {
    sites: IndexMap<LocationKey, V, FastHash>,
    last: Option<usize>,
}

impl<V> Default for Locations<V> {
    fn default() -> Self {
        Locations {
            sites: IndexMap::default(),
            last: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct LocationKey {
    file: Box<[u8]>,
    line: Option<u64>,
}

/// An allocation site, borrowed from a line, for lookups without copying.
struct LocationRef<'a> {
    file: &'a [u8],
    line: Option<u64>,
}

impl Hash for LocationKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        LocationRef {
            file: &self.file,
            line: self.line,
        }
        .hash(state);
    }
}

impl Hash for LocationRef<'_> {
    /// Hashes the line and the file's length and last 16 bytes only: paths
    /// differ mostly at their end, and equal keys still hash alike. Hashing
    /// a whole 100-byte gem path for every record cost more than the rest of
    /// the bookkeeping.
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.file.len());
        state.write(&self.file[self.file.len().saturating_sub(16)..]);
        self.line.hash(state);
    }
}

impl Equivalent<LocationKey> for LocationRef<'_> {
    fn equivalent(&self, key: &LocationKey) -> bool {
        *self.file == *key.file && self.line == key.line
    }
}

impl<V: Default> Locations<V> {
    /// The number of the site `file:line`, added with a default value when
    /// new.
    pub fn index_of(&mut self, file: &[u8], line: Option<u64>) -> usize {
        if let Some(last) = self.last
            && let Some((key, _)) = self.sites.get_index(last)
            && key.line == line
            && *key.file == *file
        {
            return last;
        }
        let index = match self.sites.get_index_of(&LocationRef { file, line }) {
            Some(index) => index,
            None => {
                let key = LocationKey {
                    file: file.into(),
                    line,
                };
                self.sites.insert_full(key, V::default()).0
            }
        };
        self.last = Some(index);
        index
    }

    /// Adds every site of `other`, combining values with `merge`, and
    /// returns the new number of each of `other`'s sites.
    pub fn absorb(&mut self, other: Locations<V>, mut merge: impl FnMut(&mut V, V)) -> Vec<u32> {
        let mut renumbered = Vec::with_capacity(other.len());
        for (key, value) in other.sites {
            let entry = self.sites.entry(key);
            renumbered.push(entry.index() as u32);
            merge(entry.or_default(), value);
        }
        renumbered
    }
}

impl<V> Locations<V> {
    /// How many sites there are.
    pub fn len(&self) -> usize {
        self.sites.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.sites.is_empty()
    }

    /// The values, in site order.
    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.sites.values()
    }

    /// Each site's file and line, in site order.
    pub fn keys(&self) -> impl Iterator<Item = (&[u8], Option<u64>)> {
        self.sites.keys().map(|key| (&*key.file, key.line))
    }

    /// Each site as users read it, `file:line` (`file:` when the line is
    /// unknown), in site order.
    pub fn names(&self) -> Vec<String> {
        self.sites
            .keys()
            .map(|key| {
                let mut text = String::from_utf8_lossy(&key.file).into_owned();
                text.push(':');
                if let Some(line) = key.line {
                    text.push_str(&line.to_string());
                }
                text
            })
            .collect()
    }
}

impl<V> Index<usize> for Locations<V> {
    type Output = V;

    fn index(&self, index: usize) -> &V {
        &self.sites[index]
    }
}

impl<V> IndexMut<usize> for Locations<V> {
    fn index_mut(&mut self, index: usize) -> &mut V {
        &mut self.sites[index]
    }
}

/// The index of `name` in `names`, added when new: for the few distinct
/// names of a dump (types, root categories), where a scan beats hashing.
pub fn intern(names: &mut Vec<Box<[u8]>>, name: &[u8]) -> usize {
    match names.iter().position(|n| **n == *name) {
        Some(i) => i,
        None => {
            names.push(name.into());
            names.len() - 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Locations;

    #[test]
    fn sites_are_numbered_in_order_and_merged_by_name() {
        let mut a = Locations::<u32>::default();
        assert_eq!(a.index_of(b"a.rb", Some(1)), 0);
        assert_eq!(a.index_of(b"b.rb", None), 1);
        assert_eq!(a.index_of(b"a.rb", Some(1)), 0);
        a[0] += 5;
        let mut b = Locations::<u32>::default();
        b.index_of(b"c.rb", Some(3));
        let a_rb = b.index_of(b"a.rb", Some(1));
        b[a_rb] += 2;
        assert_eq!(a.absorb(b, |into, from| *into += from), vec![2, 0]);
        assert_eq!(a[0], 7);
        assert_eq!(a.names(), ["a.rb:1", "b.rb:", "c.rb:3"]);
    }
}
