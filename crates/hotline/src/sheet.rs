//! How the CLI prints what it lists (`qa`, `report`, `agents`): a table lined up for
//! Chinese text, CSV a spreadsheet opens safely, or JSON.

use std::io::Write;

use serde_json::Value;

/// The output format of a listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Columns lined up for a terminal (Chinese characters count two columns).
    Table,
    /// Comma-separated, a header row first, quoted where needed.
    Csv,
    /// One JSON object per line.
    Json,
}

/// A listing: named columns and rows of values (strings, numbers, or null for none).
pub struct Sheet {
    columns: Vec<&'static str>,
    rows: Vec<Vec<Value>>,
}

impl Sheet {
    /// An empty listing with these column names (the JSON keys; the table's header in
    /// capitals).
    pub fn new(columns: &[&'static str]) -> Sheet {
        Sheet {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row, one value per column.
    pub fn push(&mut self, row: Vec<Value>) {
        self.rows.push(row);
    }

    /// Whether it has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Writes it in `format`.
    pub fn write(&self, out: &mut impl Write, format: Format) -> std::io::Result<()> {
        match format {
            Format::Table => self.table(out),
            Format::Csv => self.csv(out),
            Format::Json => self.json(out),
        }
    }

    fn table(&self, out: &mut impl Write) -> std::io::Result<()> {
        let mut widths: Vec<usize> = self.columns.iter().map(|c| width(c)).collect();
        for row in &self.rows {
            for (w, v) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(&cell(v, "-")));
            }
        }
        // A column of numbers is right-aligned, its header and its empty cells too.
        let numeric: Vec<bool> = (0..self.columns.len())
            .map(|i| {
                self.rows
                    .iter()
                    .any(|r| r.get(i).is_some_and(Value::is_number))
            })
            .collect();
        let header: Vec<String> = self.columns.iter().map(|c| c.to_uppercase()).collect();
        let header: Vec<Value> = header.into_iter().map(Value::String).collect();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (i, ((v, w), right)) in row.iter().zip(&widths).zip(&numeric).enumerate() {
                let text = cell(v, "-");
                if i > 0 {
                    line.push_str("  ");
                }
                if *right {
                    line.push_str(&" ".repeat(w.saturating_sub(width(&text))));
                    line.push_str(&text);
                } else {
                    line.push_str(&pad(&text, *w));
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }

    fn csv(&self, out: &mut impl Write) -> std::io::Result<()> {
        let header: Vec<String> = self.columns.iter().map(|c| csv_field(c)).collect();
        write!(out, "{}\r\n", header.join(","))?;
        for row in &self.rows {
            let fields: Vec<String> = row
                .iter()
                .map(|v| match v {
                    Value::String(s) => csv_field(&defuse(s)),
                    other => csv_field(&cell(other, "")),
                })
                .collect();
            write!(out, "{}\r\n", fields.join(","))?;
        }
        Ok(())
    }

    fn json(&self, out: &mut impl Write) -> std::io::Result<()> {
        for row in &self.rows {
            let object: serde_json::Map<String, Value> = self
                .columns
                .iter()
                .map(|c| c.to_string())
                .zip(row.iter().cloned())
                .collect();
            writeln!(out, "{}", Value::Object(object))?;
        }
        Ok(())
    }
}

/// A value as one line of text for the table; `none` for null. Control characters (a
/// note's line breaks, a terminal escape typed into it) become spaces.
fn cell(v: &Value, none: &str) -> String {
    match v {
        Value::Null => none.to_string(),
        Value::String(s) => s
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect(),
        other => other.to_string(),
    }
}

/// Terminal columns `text` takes: CJK and full-width characters take two (East Asian
/// Wide), everything else one (`–`, `…` are narrow however high their code point).
pub fn width(text: &str) -> usize {
    const WIDE: [(char, char); 11] = [
        ('\u{1100}', '\u{115f}'),
        ('\u{2e80}', '\u{303e}'),
        ('\u{3041}', '\u{33ff}'),
        ('\u{3400}', '\u{4dbf}'),
        ('\u{4e00}', '\u{9fff}'),
        ('\u{a000}', '\u{a4cf}'),
        ('\u{ac00}', '\u{d7a3}'),
        ('\u{f900}', '\u{faff}'),
        ('\u{fe30}', '\u{fe4f}'),
        ('\u{ff00}', '\u{ff60}'),
        ('\u{ffe0}', '\u{ffe6}'),
    ];
    text.chars()
        .map(|c| {
            if WIDE.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) {
                2
            } else {
                1
            }
        })
        .sum()
}

/// `text` padded with spaces to `columns` terminal columns.
pub fn pad(text: &str, columns: usize) -> String {
    format!("{text}{}", " ".repeat(columns.saturating_sub(width(text))))
}

pub use hotline_report::table::{csv_field, defuse};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sheet() -> Sheet {
        let mut s = Sheet::new(&["agent", "note", "score"]);
        s.push(vec![json!("1003"), json!("礼貌, 答复\"准确\""), json!(85)]);
        s.push(vec![
            json!("1019"),
            json!("=cmd|' /C calc'!A0"),
            Value::Null,
        ]);
        s
    }

    #[test]
    fn an_empty_figure_and_a_negative_number_are_left_as_they_are() {
        assert_eq!(defuse("-"), "-");
        assert_eq!(defuse("-1.5"), "-1.5");
        assert_eq!(defuse("-1+2"), "'-1+2");
        assert_eq!(defuse("+8613903790000"), "'+8613903790000");
    }

    #[test]
    fn chinese_notes_line_up_in_the_table() {
        let mut out = Vec::new();
        sheet().write(&mut out, Format::Table).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "AGENT  NOTE                SCORE");
        assert_eq!(lines[1], "1003   礼貌, 答复\"准确\"       85");
        assert_eq!(width(lines[1]), width(lines[0]));
        assert_eq!(width(lines[2]), width(lines[0]), "{text}");
        assert!(lines[2].ends_with("    -"));
        assert_eq!(pad("王芳", 6), "王芳  ");
    }

    #[test]
    fn a_note_on_two_lines_stays_on_one_table_line() {
        let mut s = Sheet::new(&["note"]);
        s.push(vec![json!("第一行\n第二行\u{1b}[31m")]);
        let mut out = Vec::new();
        s.write(&mut out, Format::Table).unwrap();
        assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2);
    }

    #[test]
    fn csv_quotes_commas_and_quotes_and_defuses_formulas() {
        let mut out = Vec::new();
        sheet().write(&mut out, Format::Csv).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "agent,note,score\r\n1003,\"礼貌, 答复\"\"准确\"\"\",85\r\n1019,'=cmd|' /C calc'!A0,\r\n"
        );
    }

    #[test]
    fn json_is_one_object_per_line() {
        let mut out = Vec::new();
        sheet().write(&mut out, Format::Json).unwrap();
        let text = String::from_utf8(out).unwrap();
        let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["score"], 85);
        assert_eq!(text.lines().count(), 2);
    }
}
