//! A column of integers kept as `i64` while every value fits, else as `i128`.
//!
//! The amounts and edge coefficients of a resolved graph are `i128` at 12 decimal places, but
//! nearly always below 9.2·10^6 (so within `i64`). At a million footprints the two columns
//! are 6.5 million values each; keeping them narrow halves the memory a question allocates
//! and touches, which on the machines measured is most of its cost (fresh pages are zeroed).

/// Integers, narrow while they fit.
#[derive(Debug, Clone)]
pub enum Ints {
    /// Every value fits `i64`.
    Narrow(Vec<i64>),
    /// Some value does not.
    Wide(Vec<i128>),
}

impl Ints {
    /// An empty column with room for `n` values.
    pub fn with_capacity(n: usize) -> Ints {
        Ints::Narrow(Vec::with_capacity(n))
    }

    /// Appends `v`, widening the column the first time a value does not fit `i64`.
    pub fn push(&mut self, v: i128) {
        match self {
            Ints::Narrow(vs) => match i64::try_from(v) {
                Ok(x) => vs.push(x),
                Err(_) => {
                    let mut wide: Vec<i128> = Vec::with_capacity(vs.capacity().max(vs.len() + 1));
                    wide.extend(vs.iter().map(|&x| i128::from(x)));
                    wide.push(v);
                    *self = Ints::Wide(wide);
                }
            },
            Ints::Wide(vs) => vs.push(v),
        }
    }

    /// Value `i`.
    pub fn get(&self, i: usize) -> i128 {
        match self {
            Ints::Narrow(vs) => i128::from(vs[i]),
            Ints::Wide(vs) => vs[i],
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Ints::Narrow(vs) => vs.len(),
            Ints::Wide(vs) => vs.len(),
        }
    }

    /// Whether there is no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held.
    pub fn heap_bytes(&self) -> usize {
        match self {
            Ints::Narrow(vs) => vs.capacity() * 8,
            Ints::Wide(vs) => vs.capacity() * 16,
        }
    }

    /// Values `a..b`.
    pub fn iter_range(&self, a: usize, b: usize) -> impl Iterator<Item = i128> + '_ {
        let (narrow, wide): (&[i64], &[i128]) = match self {
            Ints::Narrow(vs) => (&vs[a..b], &[]),
            Ints::Wide(vs) => (&[], &vs[a..b]),
        };
        narrow
            .iter()
            .map(|&x| i128::from(x))
            .chain(wide.iter().copied())
    }
}

impl FromIterator<i128> for Ints {
    fn from_iter<I: IntoIterator<Item = i128>>(iter: I) -> Ints {
        let iter = iter.into_iter();
        let mut out = Ints::with_capacity(iter.size_hint().0);
        for v in iter {
            out.push(v);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widens_on_the_first_value_that_does_not_fit() {
        let mut c = Ints::with_capacity(2);
        c.push(-5);
        c.push(i128::from(i64::MAX));
        assert!(matches!(c, Ints::Narrow(_)));
        c.push(i128::from(i64::MAX) + 1);
        assert!(matches!(c, Ints::Wide(_)));
        c.push(i128::MIN);
        assert_eq!(c.len(), 4);
        assert_eq!(
            c.iter_range(0, 4).collect::<Vec<_>>(),
            vec![
                -5,
                i128::from(i64::MAX),
                i128::from(i64::MAX) + 1,
                i128::MIN
            ]
        );
        assert_eq!(c.get(2), i128::from(i64::MAX) + 1);
        let n: Ints = [1_i128, 2, 3].into_iter().collect();
        assert!(matches!(n, Ints::Narrow(_)));
        assert_eq!(n.iter_range(1, 3).collect::<Vec<_>>(), vec![2, 3]);
    }
}
