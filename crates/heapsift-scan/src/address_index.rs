//! Finding objects by address, the way dumps lay their addresses out.

use hashbrown::{HashMap, HashSet};

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

/// Entries sorted ascending within each 64 KiB page, each page's entries
/// together, with a directory from each page to its entries.
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
        // Sorted entries keep their places: a position is an index into
        // them.
        Self::new(entries)
    }

    /// Indexes `entries` in any order. Dumps list the heap page by page
    /// (Ruby 3.1: 16 KiB pages, mostly descending, each page's slots
    /// ascending), so one 64 KiB page's entries mostly lie together: those
    /// are sorted where they lie, and the entries of the few pages that
    /// lie apart (5 of 14,640 on the 9.4 GB benchmark dump) are moved
    /// after them and sorted there: about 0.4 s for each reading
    /// thread's 11 M entries on that dump, where sorting all of them took
    /// 2 s (perf).
    ///
    /// # Panics
    /// With more than `u32::MAX` entries (a dump of 4 billion objects).
    pub fn new(mut entries: Vec<K>) -> Self {
        assert!(u32::try_from(entries.len()).is_ok(), "too many entries");
        let scattered = scattered_pages(&entries);
        if !scattered.is_empty() {
            let mut apart = Vec::new();
            entries.retain(|entry| {
                let lies_apart = scattered.contains(&page_of(entry));
                if lies_apart {
                    apart.push(*entry);
                }
                !lies_apart
            });
            apart.sort_unstable();
            entries.extend(apart);
        }
        let mut pages = HashMap::with_hasher(FastHash::default());
        let mut start = 0;
        for same_page in entries.chunk_by_mut(|a, b| page_of(a) == page_of(b)) {
            let end = start + same_page.len();
            same_page.sort_unstable();
            pages.insert(page_of(&same_page[0]), (start as u32, end as u32));
            start = end;
        }
        AddressIndex { entries, pages }
    }

    /// The position of `key` among the entries (for
    /// [`AddressIndex::from_sorted`], its place in the list given), if the
    /// index has it.
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

/// The 64 KiB page an entry lies in.
fn page_of<K: Addressed>(entry: &K) -> u64 {
    entry.address() >> PAGE_BITS
}

/// The pages whose entries do not all lie together in `entries`.
fn scattered_pages<K: Addressed>(entries: &[K]) -> HashSet<u64, FastHash> {
    let mut seen = HashSet::with_hasher(FastHash::default());
    let mut scattered = HashSet::with_hasher(FastHash::default());
    for same_page in entries.chunk_by(|a, b| page_of(a) == page_of(b)) {
        let page = page_of(&same_page[0]);
        if !seen.insert(page) {
            scattered.insert(page);
        }
    }
    scattered
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first `slots` slots (of 40 bytes) of page `page`, in a fixed
    /// shuffled order.
    fn shuffled_page(page: u64, slots: u64) -> Vec<u64> {
        let base = page << PAGE_BITS;
        let mut entries: Vec<u64> = (0..slots).map(|slot| base + slot * 40).collect();
        for i in 0..entries.len() {
            let j = (i * 7919 + 13) % entries.len();
            entries.swap(i, j);
        }
        entries
    }

    /// An index made by [`AddressIndex::new`] finds each of `entries`,
    /// and no other address.
    fn assert_finds_all(entries: Vec<u64>) {
        let index = AddressIndex::new(entries.clone());
        for address in &entries {
            assert!(index.contains(address), "{address:#x}");
        }
        for absent in [0x0, 0x1_0004, 2 << PAGE_BITS, u64::MAX] {
            assert!(!index.contains(&absent), "{absent:#x}");
        }
    }

    #[test]
    fn indexes_pages_listed_together_in_any_order() {
        for pages in [[3, 4, 9, 10], [10, 9, 4, 3], [9, 3, 10, 4]] {
            assert_finds_all(
                pages
                    .into_iter()
                    .flat_map(|page| shuffled_page(page, 1600))
                    .collect(),
            );
        }
    }

    #[test]
    fn indexes_pages_listed_apart() {
        let mut entries = shuffled_page(3, 1600);
        let apart = entries.split_off(800);
        entries.extend(shuffled_page(9, 1600));
        entries.extend(apart);
        assert_finds_all(entries);
    }

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
