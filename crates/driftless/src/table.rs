//! Plain-text tables, aligned like kubectl's.

/// A table with a header row; columns are padded to their widest cell.
#[derive(Debug)]
pub struct Table<const N: usize> {
    rows: Vec<[String; N]>,
}

impl<const N: usize> Table<N> {
    /// A table with these column titles.
    pub fn new(header: [&str; N]) -> Self {
        Self {
            rows: vec![header.map(str::to_owned)],
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: [String; N]) {
        self.rows.push(cells);
    }

    /// The table as text, one line per row; the last column is not padded.
    pub fn render(&self) -> String {
        render_rows(&self.rows)
    }
}

/// Rows of any width (the first is the header) as aligned text; the last column is not padded.
/// For tables whose columns depend on options (`-o wide`, `--all-namespaces`).
pub fn render_rows<R: AsRef<[String]>>(rows: &[R]) -> String {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows {
        for (i, cell) in row.as_ref().iter().enumerate() {
            let width = cell.chars().count();
            match widths.get_mut(i) {
                Some(w) => *w = (*w).max(width),
                None => widths.push(width),
            }
        }
    }
    let mut text = String::new();
    for row in rows {
        let cells = row.as_ref();
        let mut line = String::new();
        for (i, cell) in cells.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < cells.len() {
                let width = widths.get(i).copied().unwrap_or_default();
                let pad = width.saturating_sub(cell.chars().count()) + 3;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_on_the_widest_cell() {
        let mut table = Table::new(["KIND", "NAME"]);
        table.row(["ConfigMap".to_owned(), "a".to_owned()]);
        assert_eq!(table.render(), "KIND        NAME\nConfigMap   a\n");
    }

    #[test]
    fn rows_of_any_width_align_too() {
        let rows = vec![
            vec!["A".to_owned(), "B".to_owned(), "C".to_owned()],
            vec!["long".to_owned(), String::new(), "x".to_owned()],
        ];
        assert_eq!(render_rows(&rows), "A      B   C\nlong       x\n");
    }
}
