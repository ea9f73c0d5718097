//! Horizontal bar charts for the statistics screens: a bar is a pure function of a value, the
//! value that fills the whole width, and the width in columns, drawn with Unicode block
//! characters in eighths of a column.

/// Block characters for 1/8 … 8/8 of a column.
const EIGHTHS: [char; 8] = ['▏', '▎', '▍', '▌', '▋', '▊', '▉', '█'];

/// A bar of `value` out of `full` across `width` columns, padded with spaces to exactly
/// `width` characters. A value above zero always shows at least an eighth, so a small count
/// is never mistaken for none.
pub fn bar(value: u64, full: u64, width: usize) -> String {
    let mut out = String::with_capacity(width * 3);
    let eighths = if full == 0 || value == 0 {
        0
    } else {
        let total = (width as u128) * 8;
        let scaled = (u128::from(value.min(full)) * total).div_ceil(u128::from(full));
        usize::try_from(scaled).unwrap_or(width * 8).max(1)
    };
    let whole = eighths / 8;
    out.extend(std::iter::repeat_n('█', whole));
    let mut used = whole;
    if eighths % 8 > 0 {
        out.push(EIGHTHS[eighths % 8 - 1]);
        used += 1;
    }
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_fill_in_eighths_and_keep_their_width() {
        assert_eq!(bar(0, 10, 4), "    ");
        assert_eq!(bar(10, 10, 4), "████");
        assert_eq!(bar(5, 10, 4), "██  ");
        assert_eq!(bar(1, 1000, 4), "▏   ", "a small value still shows");
        assert_eq!(bar(3, 16, 2), "▍ ");
        assert_eq!(bar(20, 10, 3), "███", "never past the width");
        assert_eq!(bar(7, 0, 3), "   ");
        for value in 0..=40 {
            assert_eq!(bar(value, 40, 7).chars().count(), 7, "{value}");
        }
    }
}
