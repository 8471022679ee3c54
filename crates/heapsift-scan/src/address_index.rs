//! Finding objects by address, the way dumps lay their addresses out.

use hashbrown::HashMap;

type FastHash = foldhash::fast::RandomState;

/// Addresses are grouped by their bits above these: Ruby's heap pages are
/// 64 KiB, so a group is one page's slots.
pub const PAGE_BITS: u32 = 16;

/// What an [`AddressIndex`] holds: entries ordered by their address first
/// (a bare address, or an address with more of an object's identity).
pub trait Addressed: Ord + Copy {
    /// The object's address.
    fn address(&self) -> u64;
}

impl Addressed for u64 {
    fn address(&self) -> u64 {
        *self
    }
}

/// Entries sorted ascending, with a directory from each 64 KiB page to its
/// entries.
///
/// Why not a hash set: a lookup touches the directory (a few thousand
/// pages, which stay in cache) and one page's entries. A dump lists each
/// page's slots in ascending order, so consecutive lookups (the references
/// of one object, the records of one block) land in the same few cache
/// lines, where a hash set of millions of entries sends almost every lookup
/// to a random place in memory: a third of a three-dump diff was spent
/// waiting there.
#[derive(Debug)]
pub struct AddressIndex<K> {
    entries: Vec<K>,
    /// Each page's entries, as the range `start..end` of `entries`.
    pages: HashMap<u64, (u32, u32), FastHash>,
}

impl<K: Addressed> AddressIndex<K> {
    /// Indexes `entries`, which must be sorted ascending.
    ///
    /// # Panics
    /// With more than `u32::MAX` entries (a dump of 4 billion objects).
    pub fn from_sorted(entries: Vec<K>) -> Self {
        debug_assert!(entries.is_sorted(), "AddressIndex entries must be sorted");
        assert!(u32::try_from(entries.len()).is_ok(), "too many entries");
        let mut pages = HashMap::with_hasher(FastHash::default());
        let mut start = 0;
        while start < entries.len() {
            let page = entries[start].address() >> PAGE_BITS;
            let end =
                start + entries[start..].partition_point(|e| e.address() >> PAGE_BITS == page);
            pages.insert(page, (start as u32, end as u32));
            start = end;
        }
        AddressIndex { entries, pages }
    }

    /// The position of `key` among the (sorted) entries, if the index has
    /// it.
    pub fn position(&self, key: &K) -> Option<usize> {
        let &(start, end) = self.pages.get(&(key.address() >> PAGE_BITS))?;
        let page = &self.entries[start as usize..end as usize];
        let i = page.binary_search(key).ok()?;
        Some(start as usize + i)
    }

    /// Whether the index has `key`.
    pub fn contains(&self, key: &K) -> bool {
        self.position(key).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_entry_and_nothing_else_across_pages() {
        let entries: Vec<u64> = vec![0x10, 0x20, 0xffff, 0x1_0000, 0x1_0008, 0x5_0000];
        let index = AddressIndex::from_sorted(entries.clone());
        for (i, address) in entries.iter().enumerate() {
            assert_eq!(index.position(address), Some(i), "{address:#x}");
        }
        for absent in [0x0, 0x18, 0x1_0004, 0x2_0000, u64::MAX] {
            assert!(!index.contains(&absent), "{absent:#x}");
        }
    }

    #[test]
    fn compound_entries_match_whole() {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        struct Slot(u64, u8);
        impl Addressed for Slot {
            fn address(&self) -> u64 {
                self.0
            }
        }
        let index =
            AddressIndex::from_sorted(vec![Slot(0x10, 1), Slot(0x10, 2), Slot(0x1_0010, 1)]);
        assert_eq!(index.position(&Slot(0x10, 2)), Some(1));
        assert!(!index.contains(&Slot(0x10, 3)));
        assert!(!index.contains(&Slot(0x1_0010, 2)));
    }
}
