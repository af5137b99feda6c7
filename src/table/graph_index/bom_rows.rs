//! The BOM rows the index reads, as integers, and the choice of the current ones.

use super::amounts::Amounts;

/// Who a BOM row belongs to.
#[derive(Clone, Copy)]
pub(super) enum Owner {
    /// The footprint (node) whose extension declares it, with the parent product.
    Node(u32, u32),
    /// The parent product of a CSV row.
    Product(u32),
}

/// Every BOM row read, as integers, in stored order.
pub(super) struct BomRows {
    /// The owner: a node for extension rows, a parent product for CSV rows.
    pub(super) owner: Vec<u32>,
    /// The parent product of an extension row (for its identity); `u32::MAX` for CSV rows.
    pub(super) parent: Vec<u32>,
    pub(super) child: Vec<u32>,
    pub(super) amount: Amounts,
    /// 0 for none, else 1 + the interned unit.
    pub(super) unit: Vec<u32>,
}

/// The current BOM rows, grouped by owner: extension rows by node, then CSV rows by parent
/// product, each owner's rows in stored order.
pub(super) struct Current {
    /// The rows, extension rows first.
    pub(super) rows: Vec<u32>,
    /// Where each node's extension rows start in `rows`, and after the last node that has
    /// any, where they end.
    ext: Vec<u32>,
    /// Where each product's CSV rows start in `rows`, and after the last, where they end.
    csv: Vec<u32>,
}

impl Current {
    /// The extension rows of `node`, in stored order.
    pub(super) fn of_node(&self, node: u32) -> &[u32] {
        self.range(&self.ext, node)
    }

    /// The CSV rows whose parent is `product`, in stored order.
    pub(super) fn of_product(&self, product: u32) -> &[u32] {
        self.range(&self.csv, product)
    }

    fn range(&self, from: &[u32], owner: u32) -> &[u32] {
        let o = owner as usize;
        match (from.get(o), from.get(o + 1)) {
            (Some(&a), Some(&b)) => &self.rows[a as usize..b as usize],
            _ => &[],
        }
    }
}

impl BomRows {
    pub(super) fn with_capacity(n: usize) -> BomRows {
        BomRows {
            owner: Vec::with_capacity(n),
            parent: Vec::with_capacity(n),
            child: Vec::with_capacity(n),
            amount: Amounts::with_capacity(n),
            unit: Vec::with_capacity(n),
        }
    }

    pub(super) fn push(&mut self, owner: Owner, child: u32, amount: i128, unit: u32) {
        let (o, p) = match owner {
            Owner::Node(node, parent) => (node, parent),
            Owner::Product(parent) => (parent, u32::MAX),
        };
        self.owner.push(o);
        self.parent.push(p);
        self.child.push(child);
        self.amount.push(amount);
        self.unit.push(unit);
    }

    fn is_csv(&self, r: u32) -> bool {
        self.parent[r as usize] == u32::MAX
    }

    /// The current rows — the last of each (owner, parent, child), as the `bom` view keeps
    /// them — grouped by owner, extension rows first.
    ///
    /// Owners are dense numbers (nodes, products), so the rows are counted into their owners'
    /// places in two passes, keeping stored order, and only each owner's few rows are sorted
    /// to find the repeated ones. (A sort of all rows by their owner, parent and child, read
    /// at random for every comparison, took a second at 6.5 million rows.)
    pub(super) fn current(&self) -> Current {
        let n = self.owner.len();
        // Owner o's rows start at starts[o] (CSV owners after every node): counted first.
        // How many places each kind of owner needs: its largest owner, plus one.
        let (mut nodes, mut products) = (0usize, 0usize);
        for r in 0..n as u32 {
            let places = if self.is_csv(r) {
                &mut products
            } else {
                &mut nodes
            };
            *places = (*places).max(self.owner[r as usize] as usize + 1);
        }
        let place =
            |r: u32| self.owner[r as usize] as usize + if self.is_csv(r) { nodes } else { 0 };
        let mut starts = vec![0u32; nodes + products + 1];
        for r in 0..n as u32 {
            starts[place(r) + 1] += 1;
        }
        for o in 0..starts.len() - 1 {
            starts[o + 1] += starts[o];
        }
        let mut rows = vec![0u32; n];
        let mut next = starts.clone();
        for r in 0..n as u32 {
            let at = &mut next[place(r)];
            rows[*at as usize] = r;
            *at += 1;
        }
        drop(next);
        // Within an owner, the last row of each (parent, child) is kept, in stored order.
        let key = |r: u32| (self.parent[r as usize], self.child[r as usize]);
        let mut by_key: Vec<u32> = Vec::new();
        let mut kept = 0usize;
        let owners = starts.len() - 1;
        for o in 0..owners {
            let (from, to) = (starts[o] as usize, starts[o + 1] as usize);
            starts[o] = kept as u32;
            let own = from..to;
            if to - from < 2 {
                rows.copy_within(own, kept);
                kept += to - from;
                continue;
            }
            by_key.clear();
            by_key.extend_from_slice(&rows[own.clone()]);
            // Stored order breaks ties: the last of a run of equal keys is the latest.
            by_key.sort_unstable_by_key(|&r| (key(r), r));
            let repeated = by_key.windows(2).any(|w| key(w[0]) == key(w[1]));
            if !repeated {
                rows.copy_within(own, kept);
                kept += to - from;
                continue;
            }
            let mut latest: Vec<u32> = (0..by_key.len())
                .filter(|&i| by_key.get(i + 1).is_none_or(|&b| key(b) != key(by_key[i])))
                .map(|i| by_key[i])
                .collect();
            latest.sort_unstable();
            rows[kept..kept + latest.len()].copy_from_slice(&latest);
            kept += latest.len();
        }
        starts[owners] = kept as u32;
        rows.truncate(kept);
        if kept < n / 2 {
            rows.shrink_to_fit();
        }
        let csv = starts.split_off(nodes);
        let mut ext = starts;
        ext.push(csv[0]);
        Current { rows, ext, csv }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The choice as a sort of every row makes it: by (is CSV, owner, parent, child, row),
    /// the last of each run kept, then by (is CSV, owner, row).
    fn by_sorting(rows: &BomRows) -> Vec<u32> {
        let key = |r: u32| {
            let r = r as usize;
            (
                rows.parent[r] == u32::MAX,
                rows.owner[r],
                rows.parent[r],
                rows.child[r],
            )
        };
        let mut all: Vec<u32> = (0..rows.owner.len() as u32).collect();
        all.sort_by_key(|&r| (key(r), r));
        let mut kept: Vec<u32> = (0..all.len())
            .filter(|&i| all.get(i + 1).is_none_or(|&b| key(b) != key(all[i])))
            .map(|i| all[i])
            .collect();
        kept.sort_by_key(|&r| (key(r).0, key(r).1, r));
        kept
    }

    fn rows_of(list: &[(bool, u32, u32, u32)]) -> BomRows {
        let mut rows = BomRows::with_capacity(list.len());
        for &(csv, owner, parent, child) in list {
            let owner = if csv {
                Owner::Product(owner)
            } else {
                Owner::Node(owner, parent)
            };
            rows.push(owner, child, 1, 0);
        }
        rows
    }

    #[test]
    fn the_latest_row_of_each_edge_is_kept_in_stored_order() {
        // Rows 0..6: node 1 declares product 7 → 3 twice (row 3 is the later), CSV rows of
        // product 2 name child 4 twice (row 5 later) and child 5 once; product 0 one row.
        let rows = rows_of(&[
            (false, 1, 7, 3),
            (true, 2, 0, 4),
            (true, 2, 0, 5),
            (false, 1, 7, 3),
            (true, 0, 0, 9),
            (true, 2, 0, 4),
        ]);
        let current = rows.current();
        assert_eq!(current.rows, [3, 4, 2, 5]);
        assert_eq!(current.of_node(1), [3]);
        assert_eq!(current.of_node(0), [] as [u32; 0]);
        assert_eq!(current.of_node(9), [] as [u32; 0], "beyond every node");
        assert_eq!(current.of_product(0), [4]);
        assert_eq!(current.of_product(2), [2, 5]);
        assert_eq!(current.of_product(3), [] as [u32; 0]);
        assert_eq!(current.rows, by_sorting(&rows));
    }

    #[test]
    fn no_rows_none_current() {
        let current = rows_of(&[]).current();
        assert!(current.rows.is_empty());
        assert!(current.of_node(0).is_empty() && current.of_product(0).is_empty());
    }

    proptest::proptest! {
        #[test]
        fn the_choice_is_a_sorts(
            list in proptest::collection::vec((proptest::bool::ANY, 0u32..6, 0u32..3, 0u32..4), 0..120)
        ) {
            let rows = rows_of(&list);
            let current = rows.current();
            proptest::prop_assert_eq!(&current.rows, &by_sorting(&rows));
            // Each owner's rows are where its range says.
            let mut listed = Vec::new();
            for node in 0..7 {
                listed.extend_from_slice(current.of_node(node));
            }
            for product in 0..7 {
                listed.extend_from_slice(current.of_product(product));
            }
            proptest::prop_assert_eq!(listed, current.rows.clone());
        }
    }
}
