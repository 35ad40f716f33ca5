//! Graphs of user-controlled size (the `needs:` DAG of 100,000 jobs is valid input): every
//! algorithm here is iterative, so no depth of the graph can overflow the stack, and linear in
//! nodes plus edges.

/// A directed graph over `0..n` as adjacency lists (`edges[a]` holds every `b` of an edge a → b).
pub struct Graph {
    edges: Vec<Vec<usize>>,
}

impl Graph {
    pub fn new(nodes: usize) -> Self {
        Self { edges: vec![Vec::new(); nodes] }
    }

    pub fn len(&self) -> usize {
        self.edges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.edges.is_empty()
    }

    /// Add `from → to`; both must be below `len()`.
    pub fn add_edge(&mut self, from: usize, to: usize) {
        self.edges[from].push(to);
    }

    pub fn neighbors(&self, node: usize) -> &[usize] {
        &self.edges[node]
    }

    pub fn has_edge(&self, from: usize, to: usize) -> bool {
        self.edges[from].contains(&to)
    }

    /// The strongly connected components (Tarjan's algorithm with an explicit stack), each in
    /// no particular order; components come out in reverse topological order like petgraph's.
    pub fn strongly_connected(&self) -> Vec<Vec<usize>> {
        let mut out = Vec::new();
        self.each_component(|c| out.push(c.to_vec()));
        out
    }

    /// The components of two or more nodes (the cycles, less self-edges), in the order of
    /// [`strongly_connected`](Self::strongly_connected): the single nodes of an acyclic graph
    /// of 100,000 jobs are never collected.
    pub fn cycles(&self) -> Vec<Vec<usize>> {
        let mut out = Vec::new();
        self.each_component(|c| {
            if c.len() > 1 {
                out.push(c.to_vec());
            }
        });
        out
    }

    /// Tarjan's algorithm: `found` gets each component as it is closed.
    fn each_component(&self, mut found: impl FnMut(&[usize])) {
        const UNSEEN: usize = usize::MAX;
        let n = self.edges.len();
        let mut index = vec![UNSEEN; n];
        let mut low = vec![0; n];
        let mut on_stack = vec![false; n];
        let mut stack = Vec::new();
        // The DFS path: a node and how many of its edges were followed already.
        let mut path: Vec<(usize, usize)> = Vec::new();
        let mut next_index = 0;
        // The component being handed out, in the order its nodes leave the stack.
        let mut component = Vec::new();
        for root in 0..n {
            if index[root] != UNSEEN {
                continue;
            }
            path.push((root, 0));
            index[root] = next_index;
            low[root] = next_index;
            next_index += 1;
            stack.push(root);
            on_stack[root] = true;
            while let Some(&mut (node, ref mut edge)) = path.last_mut() {
                if let Some(&next) = self.edges[node].get(*edge) {
                    *edge += 1;
                    if index[next] == UNSEEN {
                        index[next] = next_index;
                        low[next] = next_index;
                        next_index += 1;
                        stack.push(next);
                        on_stack[next] = true;
                        path.push((next, 0));
                    } else if on_stack[next] {
                        low[node] = low[node].min(index[next]);
                    }
                    continue;
                }
                path.pop();
                if let Some(&(parent, _)) = path.last() {
                    low[parent] = low[parent].min(low[node]);
                }
                if low[node] == index[node] {
                    component.clear();
                    while let Some(member) = stack.pop() {
                        on_stack[member] = false;
                        component.push(member);
                        if member == node {
                            break;
                        }
                    }
                    found(&component);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(n: usize, edges: &[(usize, usize)]) -> Graph {
        let mut g = Graph::new(n);
        for &(a, b) in edges {
            g.add_edge(a, b);
        }
        g
    }

    fn components(n: usize, edges: &[(usize, usize)]) -> Vec<Vec<usize>> {
        let mut c: Vec<Vec<usize>> = graph(n, edges)
            .strongly_connected()
            .into_iter()
            .map(|mut c| {
                c.sort_unstable();
                c
            })
            .collect();
        c.sort();
        c
    }

    /// One row per case: nodes, edges → components (sorted).
    macro_rules! cases {
        ($($name:ident: $n:expr, [$($e:expr),*] => [$($c:expr),*];)+) => {
            $( #[test] fn $name() {
                let want: Vec<Vec<usize>> = vec![$($c.to_vec()),*];
                assert_eq!(components($n, &[$($e),*]), want);
            } )+
        };
    }

    cases! {
        empty: 0, [] => [];
        single: 1, [] => [[0]];
        chain: 3, [(0, 1), (1, 2)] => [[0], [1], [2]];
        two_cycle: 3, [(0, 1), (1, 0), (1, 2)] => [[0, 1], [2]];
        self_loop: 2, [(0, 0), (0, 1)] => [[0], [1]];
        two_cycles_joined: 5, [(0, 1), (1, 0), (1, 2), (2, 3), (3, 4), (4, 2)] => [[0, 1], [2, 3, 4]];
        diamond: 4, [(0, 1), (0, 2), (1, 3), (2, 3)] => [[0], [1], [2], [3]];
    }

    #[test]
    fn cycles_are_the_components_of_two_or_more() {
        let g = graph(6, &[(0, 1), (1, 0), (1, 2), (2, 2), (3, 4), (4, 5), (5, 3)]);
        let want: Vec<Vec<usize>> = g.strongly_connected().into_iter().filter(|c| c.len() > 1).collect();
        assert_eq!(g.cycles(), want);
        assert_eq!(want.len(), 2);
        assert!(graph(3, &[(0, 1), (1, 2)]).cycles().is_empty());
    }

    #[test]
    fn reverse_topological_order() {
        let order: Vec<usize> =
            graph(3, &[(0, 1), (1, 2)]).strongly_connected().into_iter().flatten().collect();
        assert_eq!(order, [2, 1, 0]);
    }

    #[test]
    fn a_deep_chain_needs_no_deep_stack() {
        // 200,000 nodes in one chain and one big cycle, on a 64 KiB stack: recursion would overflow.
        let found = std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(|| {
                let n = 200_000;
                let mut g = Graph::new(n);
                for i in 1..n {
                    g.add_edge(i, i - 1);
                }
                let chain = g.strongly_connected().len();
                g.add_edge(0, n - 1);
                let cycle = g.strongly_connected();
                (chain, cycle.len(), cycle[0].len())
            })
            .expect("thread")
            .join()
            .expect("no stack overflow");
        assert_eq!(found, (200_000, 1, 200_000));
    }
}
