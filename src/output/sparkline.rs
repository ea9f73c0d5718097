//! Sparklines for the statistics screens: one character per value, its height in eighths of
//! the largest value; zero is a low dot, so an empty hour is told apart from a quiet one.

/// Heights 1/8 … 8/8.
const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
/// A value of zero.
const ZERO: char = '·';

/// One character per value, scaled to the largest.
pub fn sparkline(values: &[u64]) -> String {
    let max = values.iter().copied().max().unwrap_or(0);
    values
        .iter()
        .map(|&v| {
            if v == 0 || max == 0 {
                ZERO
            } else {
                let level = (u128::from(v) * 8).div_ceil(u128::from(max));
                LEVELS[usize::try_from(level).unwrap_or(8).clamp(1, 8) - 1]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_scale_to_the_largest_and_zero_is_a_dot() {
        assert_eq!(sparkline(&[]), "");
        assert_eq!(sparkline(&[0, 0]), "··");
        assert_eq!(sparkline(&[0, 1, 4, 8]), "·▁▄█");
        assert_eq!(sparkline(&[1, 1000]), "▁█", "a small value still shows");
        assert_eq!(sparkline(&[5, 5, 5]), "███");
    }
}
