//! How the admin subcommands show the server's answers: the `--output` choice, aligned tables,
//! key/value blocks and UTC times. Pure string building, so it is tested without a server; it
//! prints nothing and reads nothing itself.

use std::fmt::Write as _;

use clap::ValueEnum;

/// The `--output` choice: `json` prints the server's JSON, `table` the text built here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

/// Columns aligned on the widest cell; a table without a header is a plain indented list.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// A table of one row per item, the row's cells drawn by `cells`.
    pub fn of<T>(header: &[&str], items: &[T], cells: impl Fn(&T) -> Vec<String>) -> Self {
        let mut table = Self::new(header);
        for item in items {
            table.row(cells(item));
        }
        table
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells.iter().map(|c| clean(c)).collect());
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table, each line starting with `indent` and ending in a newline.
    pub fn render(&self, indent: &str) -> String {
        let lines = std::iter::once(&self.header)
            .filter(|h| !h.is_empty())
            .chain(&self.rows);
        let mut widths: Vec<usize> = Vec::new();
        for line in lines.clone() {
            for (i, cell) in line.iter().enumerate() {
                let width = cell.chars().count();
                match widths.get_mut(i) {
                    Some(w) => *w = (*w).max(width),
                    None => widths.push(width),
                }
            }
        }
        let mut out = String::new();
        for line in lines {
            let mut text = indent.to_owned();
            for (cell, width) in line.iter().zip(&widths) {
                let _ = write!(text, "{cell:<width$}  ");
            }
            out.push_str(text.trim_end());
            out.push('\n');
        }
        out
    }
}

/// A block of `key: value` lines with the values aligned.
pub fn fields(pairs: &[(&str, String)]) -> String {
    let width = pairs.iter().map(|(k, _)| k.len() + 1).max().unwrap_or(0);
    let mut out = String::new();
    for (key, value) in pairs {
        let _ = writeln!(out, "{:<width$}  {}", format!("{key}:"), clean(value));
    }
    out
}

/// A titled sub-table under a `fields` block, or `title: none` when it has no rows.
pub fn section(title: &str, table: &Table) -> String {
    if table.is_empty() {
        format!("{title}: none\n")
    } else {
        format!("{title}:\n{}", table.render("  "))
    }
}

/// A titled list of strings (actions, address ranges), one a line.
pub fn list_section(title: &str, values: &[String]) -> String {
    section(title, &Table::of(&[], values, |value| vec![value.clone()]))
}

/// An optional value as a cell: `-` when absent.
pub fn opt(value: Option<&str>) -> String {
    value.map_or_else(|| "-".to_owned(), str::to_owned)
}

/// A list as a cell: joined with commas, `-` when empty.
pub fn list(values: &[String]) -> String {
    if values.is_empty() {
        "-".to_owned()
    } else {
        values.join(", ")
    }
}

/// A Unix time as a cell (`YYYY-MM-DD HH:MM:SS`, UTC).
pub fn time(secs: i64) -> String {
    format_time(secs)
}

/// An optional Unix time as a cell: `-` when absent.
pub fn opt_time(secs: Option<i64>) -> String {
    secs.map_or_else(|| "-".to_owned(), format_time)
}

/// Formats Unix seconds as `YYYY-MM-DD HH:MM:SS` in UTC (proleptic Gregorian calendar).
pub fn format_time(secs: i64) -> String {
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil algorithm; eras are 400-year cycles starting on 0000-03-01.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    )
}

/// Escapes control characters, so that a name chosen by someone else cannot move the cursor,
/// recolour the terminal or forge extra lines.
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc_calendar_dates() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00");
        assert_eq!(format_time(1_700_000_000), "2023-11-14 22:13:20");
        assert_eq!(format_time(951_782_400), "2000-02-29 00:00:00");
        assert_eq!(format_time(951_868_799), "2000-02-29 23:59:59");
        assert_eq!(format_time(4_107_542_400), "2100-03-01 00:00:00");
        assert_eq!(format_time(253_402_300_799), "9999-12-31 23:59:59");
        assert_eq!(format_time(-1), "1969-12-31 23:59:59");
        assert_eq!(format_time(-62_135_596_800), "0001-01-01 00:00:00");
    }

    #[test]
    fn time_cells_show_absence_as_a_dash() {
        assert_eq!(time(86_400), "1970-01-02 00:00:00");
        assert_eq!(opt_time(Some(86_400)), "1970-01-02 00:00:00");
        assert_eq!(opt_time(None), "-");
    }

    #[test]
    fn tables_align_columns_and_trim_line_ends() {
        let mut table = Table::new(&["NAME", "KIND", "CREATED"]);
        table.row(vec!["ci-pipeline".into(), "sp".into(), "x".into()]);
        table.row(vec!["a".into(), "managed_identity".into(), String::new()]);
        assert_eq!(
            table.render(""),
            "NAME         KIND              CREATED\n\
             ci-pipeline  sp                x\n\
             a            managed_identity\n"
        );
        let mut list = Table::new(&[]);
        list.row(vec!["10.0.0.0/8".into()]);
        assert_eq!(list.render("  "), "  10.0.0.0/8\n");
    }

    #[test]
    fn width_counts_characters_not_bytes() {
        let mut table = Table::new(&["N", "X"]);
        table.row(vec!["é".into(), "1".into()]);
        table.row(vec!["ab".into(), "2".into()]);
        assert_eq!(table.render(""), "N   X\né   1\nab  2\n");
    }

    #[test]
    fn fields_and_sections() {
        let block = fields(&[("id", "1".into()), ("display name", "ci".into())]);
        assert_eq!(block, "id:            1\ndisplay name:  ci\n");
        assert_eq!(section("secrets", &Table::new(&["ID"])), "secrets: none\n");
        assert_eq!(
            list_section("allowed", &["10.0.0.0/8".into(), "192.0.2.7".into()]),
            "allowed:\n  10.0.0.0/8\n  192.0.2.7\n"
        );
        assert_eq!(list_section("allowed", &[]), "allowed: none\n");
    }

    #[test]
    fn control_characters_are_escaped() {
        let mut table = Table::new(&["NAME"]);
        table.row(vec!["evil\u{1b}[2J\nname".into()]);
        assert_eq!(table.render(""), "NAME\nevil\\u{1b}[2J\\nname\n");
        assert_eq!(fields(&[("k", "a\rb".into())]), "k:  a\\rb\n");
    }

    #[test]
    fn values_as_cells() {
        assert_eq!(list(&["a".into(), "b".into()]), "a, b");
        assert_eq!(list(&[]), "-");
        assert_eq!(opt(Some("x")), "x");
        assert_eq!(opt(Some("")), "");
        assert_eq!(opt(None), "-");
    }
}
