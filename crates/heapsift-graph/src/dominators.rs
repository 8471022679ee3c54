//! The dominator tree, by Lengauer and Tarjan's semidominators and the
//! semi-NCA rule, without recursion: heaps hold reference chains millions
//! of objects long.
//!
//! Object d dominates object n when every path from the roots to n passes
//! through d; n's immediate dominator is its closest strict dominator. All
//! that n retains (what would be freed with it) is its subtree in the
//! dominator tree.

use std::cmp::Ordering;

/// No node (unreachable, or the root's own dominator), no site, no class.
pub const NONE: u32 = u32::MAX;

/// The immediate dominators of a graph's nodes, from one root.
#[derive(Debug, Clone)]
pub struct Dominators {
    /// Per node, its immediate dominator; [`NONE`] for the root and for
    /// nodes the root does not reach.
    pub idom: Vec<u32>,
    /// The reachable nodes in depth-first preorder from the root, root
    /// first. Every node comes after its immediate dominator.
    pub preorder: Vec<u32>,
}

/// Computes the dominators of the `node_count` nodes from `root`, given
/// `successor(node, i)`, node's `i`th successor (`None` past the last).
/// Semidominators take O(E log V) time; the semi-NCA walk that turns them into immediate dominators is O(V²) at
/// worst but near-linear on real graphs (Georgiadis, Tarjan and Werneck
/// measured it faster than Lengauer-Tarjan's second pass). Memory: one
/// word per node, then about 6 words per reachable node plus one per edge
/// from a node numbered later at the peak.
pub fn dominators(
    node_count: usize,
    root: u32,
    successor: impl Fn(u32, usize) -> Option<u32>,
) -> Dominators {
    let successor = &successor;
    let successors = |node: u32| (0..).map_while(move |i| successor(node, i));
    // Depth-first numbering. Below, nodes are named by their number.
    let mut number = vec![NONE; node_count];
    let mut preorder: Vec<u32> = Vec::new();
    let mut parent: Vec<u32> = Vec::new();
    let mut stack: Vec<(u32, u32)> = vec![(root, 0)];
    number[root as usize] = 0;
    preorder.push(root);
    parent.push(NONE);
    while let Some(&mut (node, ref mut next)) = stack.last_mut() {
        match successor(node, *next as usize) {
            Some(successor) => {
                *next += 1;
                if number[successor as usize] == NONE {
                    number[successor as usize] = preorder.len() as u32;
                    parent.push(number[node as usize]);
                    preorder.push(successor);
                    stack.push((successor, 0));
                }
            }
            None => {
                stack.pop();
            }
        }
    }
    let reached = preorder.len();

    // A predecessor v numbered below w has not been linked into the
    // forest when w's semidominator is computed, so it contributes v
    // itself: those (the DFS parent among them) are taken into `semi`
    // now, and only the predecessors numbered above w are kept, as
    // compressed rows. In a heap graph that leaves out about half the
    // edges.
    let mut semi: Vec<u32> = (0..reached as u32).collect();
    let mut starts = vec![0u32; reached + 1];
    for (v, &node) in preorder.iter().enumerate() {
        for successor in successors(node) {
            let s = number[successor as usize];
            if s == NONE {
                continue;
            }
            match (v as u32).cmp(&s) {
                Ordering::Less => semi[s as usize] = semi[s as usize].min(v as u32),
                Ordering::Greater => starts[s as usize] += 1,
                // A reference to itself says nothing about dominators.
                Ordering::Equal => {}
            }
        }
    }
    // Each count becomes where that node's row ends; placing counts it
    // back down to where the row starts (no second copy of the starts).
    for i in 1..reached {
        starts[i] += starts[i - 1];
    }
    starts[reached] = starts[reached - 1];
    let mut later_predecessors = vec![0u32; starts[reached] as usize];
    for (v, &node) in preorder.iter().enumerate() {
        for successor in successors(node) {
            let s = number[successor as usize];
            if s != NONE && (v as u32) > s {
                starts[s as usize] -= 1;
                later_predecessors[starts[s as usize] as usize] = v as u32;
            }
        }
    }
    // From here on nodes go by their number; the by-node table is rebuilt
    // at the end, when the scratch below is gone.
    drop(number);

    let mut label: Vec<u32> = (0..reached as u32).collect();
    let mut ancestor = vec![NONE; reached];
    let mut path = Vec::new();
    for w in (1..reached).rev() {
        for &v in &later_predecessors[starts[w] as usize..starts[w + 1] as usize] {
            let u = eval(v, &mut ancestor, &mut label, &semi, &mut path);
            if semi[u as usize] < semi[w] {
                semi[w] = semi[u as usize];
            }
        }
        ancestor[w] = parent[w];
    }
    drop((later_predecessors, starts, label, ancestor));

    // Semi-NCA: a node's immediate dominator is the nearest common
    // ancestor, in the dominator tree built so far (nodes in preorder),
    // of its DFS parent and its semidominator: walk up from the parent to
    // the first node numbered no higher than the semidominator. The
    // parents become the dominators in place, and no buckets are needed
    // (Lengauer and Tarjan's second pass took two more words a node).
    let mut idom = parent;
    for w in 1..reached {
        let mut d = idom[w];
        while d > semi[w] {
            d = idom[d as usize];
        }
        idom[w] = d;
    }
    drop(semi);

    let mut by_node = vec![NONE; node_count];
    for w in 1..reached {
        by_node[preorder[w] as usize] = preorder[idom[w] as usize];
    }
    Dominators {
        idom: by_node,
        preorder,
    }
}

/// The node with the smallest semidominator on the path from `v` up to
/// the root of its tree in the forest built so far, compressing that path.
fn eval(v: u32, ancestor: &mut [u32], label: &mut [u32], semi: &[u32], path: &mut Vec<u32>) -> u32 {
    if ancestor[v as usize] == NONE {
        return v;
    }
    // Walk up to the node just below the tree's root, then compress on the
    // way back down, as the recursive version would.
    let mut x = v;
    while ancestor[ancestor[x as usize] as usize] != NONE {
        path.push(x);
        x = ancestor[x as usize];
    }
    while let Some(y) = path.pop() {
        let a = ancestor[y as usize] as usize;
        if semi[label[a] as usize] < semi[label[y as usize] as usize] {
            label[y as usize] = label[a];
        }
        ancestor[y as usize] = ancestor[a];
    }
    label[v as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A graph as adjacency lists.
    fn compute(graph: &[Vec<u32>], root: u32) -> Dominators {
        dominators(graph.len(), root, |n, i| graph[n as usize].get(i).copied())
    }

    /// Which nodes the root reaches when `removed` is taken out.
    fn reachable_without(graph: &[Vec<u32>], root: u32, removed: Option<u32>) -> Vec<bool> {
        let mut seen = vec![false; graph.len()];
        if Some(root) == removed {
            return seen;
        }
        let mut stack = vec![root];
        seen[root as usize] = true;
        while let Some(n) = stack.pop() {
            for &s in &graph[n as usize] {
                if !seen[s as usize] && Some(s) != removed {
                    seen[s as usize] = true;
                    stack.push(s);
                }
            }
        }
        seen
    }

    /// The definition: d dominates n iff every path from the root to n
    /// passes d, i.e. n is unreachable once d is removed. The immediate
    /// dominator is the strict dominator that all the others dominate: the
    /// one with the most dominators itself.
    fn brute_force(graph: &[Vec<u32>], root: u32) -> Vec<u32> {
        let n = graph.len();
        let reachable = reachable_without(graph, root, None);
        let without: Vec<Vec<bool>> = (0..n as u32)
            .map(|d| reachable_without(graph, root, Some(d)))
            .collect();
        let strict_dominators = |node: usize| -> Vec<usize> {
            (0..n).filter(|&d| d != node && !without[d][node]).collect()
        };
        (0..n)
            .map(|node| {
                if !reachable[node] || node == root as usize {
                    return NONE;
                }
                strict_dominators(node)
                    .into_iter()
                    .max_by_key(|&d| strict_dominators(d).len())
                    .map_or(NONE, |d| d as u32)
            })
            .collect()
    }

    /// xorshift64*: enough randomness for graphs, no dependency.
    struct Random(u64);

    impl Random {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
        }
    }

    fn random_graph(random: &mut Random) -> Vec<Vec<u32>> {
        let n = 1 + random.below(40) as usize;
        let mut graph = vec![Vec::new(); n];
        match random.below(3) {
            // Sparse random edges: cycles, unreachable parts, duplicates.
            0 => {
                for _ in 0..random.below(3 * n as u64 + 1) {
                    let (a, b) = (random.below(n as u64), random.below(n as u64));
                    graph[a as usize].push(b as u32);
                }
            }
            // A long chain with random shortcuts and back edges.
            1 => {
                for i in 1..n {
                    graph[i - 1].push(i as u32);
                }
                for _ in 0..random.below(n as u64 / 2 + 1) {
                    let (a, b) = (random.below(n as u64), random.below(n as u64));
                    graph[a as usize].push(b as u32);
                }
            }
            // Dense.
            _ => {
                for successors in &mut graph {
                    for b in 0..n {
                        if random.below(3) == 0 {
                            successors.push(b as u32);
                        }
                    }
                }
            }
        }
        graph
    }

    #[test]
    fn agrees_with_the_definition_on_random_graphs() {
        let mut random = Random(0x9e37_79b9_7f4a_7c15);
        for case in 0..2000 {
            let graph = random_graph(&mut random);
            let root = random.below(graph.len() as u64) as u32;
            let fast = compute(&graph, root);
            assert_eq!(
                fast.idom,
                brute_force(&graph, root),
                "case {case}: {graph:?} from {root}"
            );
            let reachable = reachable_without(&graph, root, None);
            assert_eq!(
                fast.preorder.len(),
                reachable.iter().filter(|&&r| r).count()
            );
            let mut position = vec![usize::MAX; graph.len()];
            for (i, &node) in fast.preorder.iter().enumerate() {
                position[node as usize] = i;
            }
            for &node in &fast.preorder[1..] {
                assert!(position[fast.idom[node as usize] as usize] < position[node as usize]);
            }
        }
    }

    #[test]
    fn a_chain_of_a_million_objects_needs_no_deep_stack() {
        let n = 1_000_000;
        let graph: Vec<Vec<u32>> = (0..n)
            .map(|i| {
                if i + 1 < n {
                    vec![i as u32 + 1]
                } else {
                    Vec::new()
                }
            })
            .collect();
        let result = compute(&graph, 0);
        assert_eq!(result.idom[n - 1], n as u32 - 2);
        assert_eq!(result.preorder.len(), n);
    }

    #[test]
    fn a_diamond_is_dominated_by_its_top() {
        // 0 -> 1 -> {2, 3} -> 4
        let graph = vec![vec![1], vec![2, 3], vec![4], vec![4], vec![]];
        assert_eq!(compute(&graph, 0).idom, [NONE, 0, 1, 1, 1]);
    }
}
