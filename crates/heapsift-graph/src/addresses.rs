//! The objects' addresses by node, in 2 bytes an object, and the node at
//! an address.
//!
//! Ruby puts objects in the slots of heap pages aligned to 16 KiB (64 KiB
//! from 3.2), and a dump lists each page's slots together, in ascending
//! order, though not the pages in order (3.1 lists a 64 KiB stretch's four
//! pages in any order). So the nodes of one 16 KiB group of addresses are
//! one run of consecutive nodes: an address is its group's number, kept
//! once per run, and its low 14 bits, kept per node. On the benchmark dump
//! (2.4 M objects) that is 5 MB instead of 19 MB for the addresses and
//! 29 MB for a sorted index of them, and finding a node is a hash of the
//! group and a binary search among its at most 409 slots. A dump listed in
//! any other order (hand-made ones) keeps every address in full, with a
//! sorted index: 20 bytes an object.

use hashbrown::HashMap;
use heapsift_scan::AddressIndex;

type FastHash = foldhash::fast::RandomState;

/// Addresses are grouped by their bits above these: 16 KiB, Ruby's
/// smallest heap page.
const GROUP_BITS: u32 = 14;
const LOW_MASK: u64 = (1 << GROUP_BITS) - 1;

/// The addresses of a graph's nodes.
#[derive(Debug)]
pub(crate) enum Addresses {
    /// Every group's nodes are one run, ascending.
    Paged(Paged),
    /// Any other order.
    Full(Full),
}

impl Default for Addresses {
    fn default() -> Self {
        Addresses::Paged(Paged::default())
    }
}

/// Addresses as runs of nodes sharing their bits above [`GROUP_BITS`].
#[derive(Debug, Default)]
pub(crate) struct Paged {
    /// Each node's address's low [`GROUP_BITS`] bits.
    low: Vec<u16>,
    /// The runs, by first node.
    runs: Vec<GroupRun>,
    /// Each group's run, by the group's number.
    run_of_group: HashMap<u64, u32, FastHash>,
}

/// The consecutive nodes whose addresses share their high bits.
#[derive(Debug, Clone, Copy)]
struct GroupRun {
    first: u32,
    group: u64,
}

/// Addresses kept whole, with an index of them.
#[derive(Debug)]
pub(crate) struct Full {
    addresses: Vec<u64>,
    /// The addresses, ascending, each once.
    sorted: AddressIndex<u64>,
    /// The node at each of them, in the same order (the first node, when
    /// two objects claim one address).
    nodes: Vec<u32>,
}

impl Paged {
    /// Appends `address` as the next node's, if it keeps the layout.
    fn push(&mut self, address: u64) -> bool {
        let group = address >> GROUP_BITS;
        let low = (address & LOW_MASK) as u16;
        match self.runs.last() {
            Some(run) if run.group == group => {
                if self.low.last().is_some_and(|&last| last >= low) {
                    return false;
                }
            }
            _ => {
                if self.run_of_group.contains_key(&group) {
                    return false;
                }
                self.run_of_group.insert(group, self.runs.len() as u32);
                self.runs.push(GroupRun {
                    first: self.low.len() as u32,
                    group,
                });
            }
        }
        self.low.push(low);
        true
    }

    /// The nodes of run `i`.
    fn run_nodes(&self, i: usize) -> std::ops::Range<usize> {
        let end = self
            .runs
            .get(i + 1)
            .map_or(self.low.len(), |next| next.first as usize);
        self.runs[i].first as usize..end
    }

    fn address(&self, node: u32) -> u64 {
        let run = self.runs.partition_point(|run| run.first <= node) - 1;
        self.runs[run].group << GROUP_BITS | u64::from(self.low[node as usize])
    }

    fn node_at(&self, address: u64) -> Option<u32> {
        let &run = self.run_of_group.get(&(address >> GROUP_BITS))?;
        let nodes = self.run_nodes(run as usize);
        let low = (address & LOW_MASK) as u16;
        let i = self.low[nodes.clone()].binary_search(&low).ok()?;
        Some((nodes.start + i) as u32)
    }

    /// Every address so far, in full.
    fn to_full(&self) -> Vec<u64> {
        (0..self.low.len() as u32)
            .map(|node| self.address(node))
            .collect()
    }
}

impl Full {
    fn new(addresses: Vec<u64>) -> Self {
        let mut pairs: Vec<(u64, u32)> = addresses
            .iter()
            .enumerate()
            .map(|(node, &address)| (address, node as u32))
            .collect();
        pairs.sort_unstable();
        pairs.dedup_by_key(|&mut (address, _)| address);
        let (sorted, nodes) = pairs.into_iter().unzip();
        Full {
            addresses,
            sorted: AddressIndex::from_sorted(sorted),
            nodes,
        }
    }

    fn node_at(&self, address: u64) -> Option<u32> {
        Some(self.nodes[self.sorted.position(&address)?])
    }
}

impl Addresses {
    /// The addresses of nodes `0..`, in node order.
    pub fn collect(addresses: impl IntoIterator<Item = u64>) -> Self {
        let mut paged = Paged::default();
        let mut addresses = addresses.into_iter();
        for address in addresses.by_ref() {
            if !paged.push(address) {
                let mut full = paged.to_full();
                drop(paged);
                full.push(address);
                full.extend(addresses);
                return Addresses::Full(Full::new(full));
            }
        }
        paged.low.shrink_to_fit();
        Addresses::Paged(paged)
    }

    /// How many nodes.
    pub fn len(&self) -> usize {
        match self {
            Addresses::Paged(paged) => paged.low.len(),
            Addresses::Full(full) => full.addresses.len(),
        }
    }

    /// The address of `node`.
    pub fn address(&self, node: u32) -> u64 {
        match self {
            Addresses::Paged(paged) => paged.address(node),
            Addresses::Full(full) => full.addresses[node as usize],
        }
    }

    /// The node at `address` (the first, if two claim it).
    pub fn node_at(&self, address: u64) -> Option<u32> {
        match self {
            Addresses::Paged(paged) => paged.node_at(address),
            Addresses::Full(full) => full.node_at(address),
        }
    }

    /// Whether the addresses are kept in 2 bytes a node.
    #[cfg(test)]
    fn is_paged(&self) -> bool {
        matches!(self, Addresses::Paged(_))
    }
}

#[cfg(test)]
mod tests {
    use super::Addresses;

    #[test]
    fn finds_addresses_in_page_runs_and_in_any_order() {
        // Two pages listed out of order, each ascending.
        let paged = [0x8010, 0x8020, 0x8030, 0x4010, 0x4040];
        // Overlapping runs and a repeated address (the first one wins).
        let shuffled = [0x30, 0x10, 0x40, 0x20, 0x10, 0x1_0000];
        // A page listed in two runs.
        let split = [0x4010, 0x8010, 0x4020];
        for (addresses, is_paged) in [(&paged[..], true), (&shuffled[..], false), (&split, false)] {
            let index = Addresses::collect(addresses.iter().copied());
            assert_eq!(index.is_paged(), is_paged, "{addresses:x?}");
            assert_eq!(index.len(), addresses.len());
            for (node, &address) in addresses.iter().enumerate() {
                let first = addresses.iter().position(|&a| a == address).unwrap();
                assert_eq!(index.address(node as u32), address);
                assert_eq!(
                    index.node_at(address),
                    Some(first as u32),
                    "{address:#x} in {addresses:x?}"
                );
            }
            assert_eq!(index.node_at(0x15), None);
            assert_eq!(index.node_at(0x4015), None);
            assert_eq!(index.node_at(0x9_0000), None);
        }
    }

    #[test]
    fn keeps_addresses_whole_across_group_boundaries() {
        let addresses = [0x7f12_3456_3ff8, 0x7f12_3456_4000, 0xffff_ffff_ffff_fff8];
        let index = Addresses::collect(addresses);
        assert!(index.is_paged());
        for (node, &address) in addresses.iter().enumerate() {
            assert_eq!(index.address(node as u32), address);
            assert_eq!(index.node_at(address), Some(node as u32));
        }
    }
}
