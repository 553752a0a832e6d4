//! A deterministic part of a sorted input list, for encoding one folder as several packs.
use std::fmt;
use std::ops::Range;
use std::str::FromStr;

/// Part `index` of `count` (`I/N`, counted from 0): the inputs, sorted by path, are split into
/// `count` contiguous runs whose lengths differ by at most one; part `I` of `n` inputs is
/// `floor(I * n / N) .. floor((I + 1) * n / N)`. Merging parts `0..N` in order gives the
/// images in the order one run over the whole folder would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which part, `0..count`.
    pub index: u32,
    /// How many parts.
    pub count: u32,
}

impl Shard {
    /// The whole input as one part.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// The positions of this part among `n` sorted inputs.
    pub fn range(&self, n: usize) -> Range<usize> {
        let at = |k: u32| (k as u128 * n as u128 / u128::from(self.count)) as usize;
        at(self.index)..at(self.index + 1)
    }
}

impl FromStr for Shard {
    type Err = String;

    /// Parses `I/N` with `0 <= I < N`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("expected I/N with 0 <= I < N (parts counted from 0), got {s:?}");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (u32, u32) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_the_inputs_once_in_order() {
        for n in [0usize, 1, 3, 4, 10, 1001] {
            for count in [1u32, 2, 3, 4, 7] {
                let mut next = 0;
                for index in 0..count {
                    let r = Shard { index, count }.range(n);
                    assert_eq!(r.start, next, "n {n}, part {index}/{count}");
                    assert!(r.len() == n / count as usize || r.len() == n / count as usize + 1);
                    next = r.end;
                }
                assert_eq!(next, n);
            }
        }
        assert_eq!(Shard::ALL.range(5), 0..5);
    }

    #[test]
    fn parses_i_of_n() {
        assert_eq!("2/4".parse(), Ok(Shard { index: 2, count: 4 }));
        assert_eq!(Shard { index: 2, count: 4 }.to_string(), "2/4");
        for bad in ["4/4", "1", "a/2", "1/0", "-1/3", "1/2/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
