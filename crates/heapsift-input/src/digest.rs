//! The BLAKE3 hash of a plain file, computed by the reading threads as they
//! read it, block by block, rather than in a second pass.
//!
//! BLAKE3 is a tree of 1 KiB chunks: a block of 2^k chunks that starts at
//! a multiple of its size is a whole subtree, whose chaining value a thread
//! computes alone ([`blake3::hazmat`]). Joined in the tree's own shape
//! (each left subtree is the largest power of two of chunks shorter than
//! the whole, [`left_subtree_len`]) they give the hash of the file, the
//! same as `b3sum` prints. On the 957 MB benchmark dump this takes the
//! sequential pass (about 0.3 s, a fifth of an export) off the clock.

use blake3::hazmat::{
    ChainingValue, HasherExt, Mode, left_subtree_len, merge_subtrees_non_root, merge_subtrees_root,
};

/// How a file of `len` bytes read in `block_size` blocks is hashed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BlockHashing {
    len: u64,
    block_size: u64,
}

impl BlockHashing {
    /// `None` where the blocks are not whole subtrees (a block size that is
    /// not a power of two of at least one chunk, as tests use): such files
    /// are hashed in one pass after the read.
    pub(crate) fn new(len: u64, block_size: usize) -> Option<Self> {
        let block_size = block_size as u64;
        (block_size.is_power_of_two() && block_size >= blake3::CHUNK_LEN as u64)
            .then_some(BlockHashing { len, block_size })
    }

    /// The part of the hash that the block starting at `start` gives:
    /// `bytes` are the file's bytes from `start` to the block's end.
    pub(crate) fn block(&self, start: u64, bytes: &[u8]) -> BlockDigest {
        if self.len <= self.block_size {
            BlockDigest::Root(*blake3::hash(bytes).as_bytes())
        } else {
            let cv = blake3::Hasher::new()
                .set_input_offset(start)
                .update(bytes)
                .finalize_non_root();
            BlockDigest::Subtree(cv)
        }
    }

    /// The file's hash from every block's part, in file order; `None`
    /// when parts are missing (the file shrank while it was read).
    pub(crate) fn finish(&self, parts: &[BlockDigest]) -> Option<[u8; 32]> {
        let blocks = self.len.div_ceil(self.block_size) as usize;
        match parts {
            [BlockDigest::Root(hash)] => Some(*hash),
            _ if parts.len() != blocks || blocks < 2 => None,
            _ => {
                let cvs: Option<Vec<ChainingValue>> = parts
                    .iter()
                    .map(|part| match part {
                        BlockDigest::Subtree(cv) => Some(*cv),
                        BlockDigest::Root(_) => None,
                    })
                    .collect();
                let cvs = cvs?;
                let (left, right) = self.halves(&cvs, self.len);
                Some(*merge_subtrees_root(&left, &right, Mode::Hash).as_bytes())
            }
        }
    }

    /// The chaining values of the two halves of the subtree of `len` bytes
    /// whose blocks' values are `cvs` (at least two).
    fn halves(&self, cvs: &[ChainingValue], len: u64) -> (ChainingValue, ChainingValue) {
        let left_len = left_subtree_len(len);
        // A left subtree is a power of two of chunks longer than one block
        // or exactly one, so it ends at a block boundary.
        let split = (left_len / self.block_size) as usize;
        (
            self.subtree(&cvs[..split], left_len),
            self.subtree(&cvs[split..], len - left_len),
        )
    }

    fn subtree(&self, cvs: &[ChainingValue], len: u64) -> ChainingValue {
        if let [cv] = cvs {
            return *cv;
        }
        let (left, right) = self.halves(cvs, len);
        merge_subtrees_non_root(&left, &right, Mode::Hash)
    }
}

/// One block's part of a file's hash.
#[derive(Debug, Clone, Copy)]
pub(crate) enum BlockDigest {
    /// The whole file is this one block: its hash.
    Root([u8; 32]),
    /// The chaining value of the block's subtree.
    Subtree(ChainingValue),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash_in_blocks(content: &[u8], block_size: usize) -> Option<[u8; 32]> {
        let hashing = BlockHashing::new(content.len() as u64, block_size)?;
        let parts: Vec<BlockDigest> = content
            .chunks(block_size)
            .enumerate()
            .map(|(i, bytes)| hashing.block((i * block_size) as u64, bytes))
            .collect();
        hashing.finish(&parts)
    }

    #[test]
    fn blocks_give_the_hash_of_the_whole() {
        let content: Vec<u8> = (0..40_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for block_size in [1024, 2048, 4096] {
            // One block, exactly n blocks, and a short last block, for
            // every tree shape up to nine blocks.
            for blocks in 1..=9 {
                for extra in [-1i64, 0, 1, 600] {
                    let len = (blocks * block_size) as i64 + extra;
                    let Some(input) = content.get(..len as usize) else {
                        continue;
                    };
                    assert_eq!(
                        hash_in_blocks(input, block_size),
                        Some(*blake3::hash(input).as_bytes()),
                        "{len} bytes in blocks of {block_size}"
                    );
                }
            }
        }
    }

    #[test]
    fn odd_block_sizes_are_hashed_apart_and_missing_blocks_give_none() {
        assert!(BlockHashing::new(10_000, 1000).is_none());
        assert!(BlockHashing::new(10_000, 512).is_none());
        let hashing = BlockHashing::new(5000, 1024).expect("a power of two");
        let one = hashing.block(0, &[0; 1024]);
        assert_eq!(hashing.finish(&[one, one]), None);
    }
}
