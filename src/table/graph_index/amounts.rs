//! BOM amounts while the graph index is built: 8 bytes a row where 16 held them.

use crate::{Error, Result};

/// Amounts at the tables' scale (12 places), in row order. Nearly every amount fits 64 bits
/// (below about 9.2·10^6 units at 12 places) and is kept so; the rest are kept beside, by
/// row, with [`Amounts::ELSEWHERE`] in their place. At 3M footprints (19.5M BOM rows) this
/// is 156 MB the index's largest step no longer holds.
#[derive(Debug, Default)]
pub(super) struct Amounts {
    small: Vec<i64>,
    /// (row, amount) of the amounts that do not fit `small`, by row.
    large: Vec<(u32, i128)>,
}

impl Amounts {
    /// The mark of an amount kept in `large` (itself an amount kept there).
    const ELSEWHERE: i64 = i64::MIN;

    pub(super) fn with_capacity(n: usize) -> Amounts {
        Amounts {
            small: Vec::with_capacity(n),
            large: Vec::new(),
        }
    }

    /// Appends the next row's amount.
    pub(super) fn push(&mut self, amount: i128) {
        match i64::try_from(amount) {
            Ok(a) if a != Amounts::ELSEWHERE => self.small.push(a),
            _ => {
                // Rows are numbered in u32 throughout the index.
                self.large.push((self.small.len() as u32, amount));
                self.small.push(Amounts::ELSEWHERE);
            }
        }
    }

    /// The amounts of `rows`, in that order.
    pub(super) fn gather(self, rows: &[u32]) -> Result<Vec<i128>> {
        // Sized once: collected from results, the list grew by doubling, copying up to
        // 312 MB at a time at 3M footprints.
        let mut out = Vec::with_capacity(rows.len());
        for &r in rows {
            out.push(match self.small.get(r as usize) {
                Some(&Amounts::ELSEWHERE) => self
                    .large
                    .binary_search_by_key(&r, |&(row, _)| row)
                    .map(|at| self.large[at].1)
                    .map_err(|_| Error::Internal(format!("BOM row {r}'s amount is not kept")))?,
                Some(&a) => i128::from(a),
                None => return Err(Error::Internal(format!("no BOM row {r}"))),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_come_back_as_pushed_small_or_large() {
        // 12.5 at 12 places fits 64 bits; 10^16 units at 12 places (10^28) does not, nor does
        // i64::MAX + 1; i64::MIN itself is the mark, so it is kept beside too.
        let values = [
            12_500_000_000_000_i128,
            10_i128.pow(28),
            -(10_i128.pow(28)),
            i128::from(i64::MAX) + 1,
            i128::from(i64::MIN),
            i128::from(i64::MAX),
            0,
        ];
        let mut amounts = Amounts::with_capacity(values.len());
        for v in values {
            amounts.push(v);
        }
        assert_eq!(amounts.large.len(), 4);
        let rows = [6, 1, 4, 4, 0, 2, 3, 5];
        let expected: Vec<i128> = rows.iter().map(|&r| values[r as usize]).collect();
        assert_eq!(amounts.gather(&rows).unwrap(), expected);
    }

    #[test]
    fn a_row_not_pushed_is_an_error() {
        let mut amounts = Amounts::default();
        amounts.push(1);
        assert!(amounts.gather(&[1]).is_err());
    }
}
