//! What every report returns: named columns and rows of typed values, each row with the
//! call ids behind its figures, so one thin printer serves the table, CSV and JSON forms
//! and every figure can be traced to its calls.

use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;

/// One column: a key for JSON and CSV, and the heading a Chinese centre reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    /// Machine name (`answered`, `asa_secs`).
    pub key: &'static str,
    /// The heading in the centres' words (`接听`).
    pub heading: &'static str,
}

/// One figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    /// Words: an interval, a number, a node name.
    Text(String),
    /// A count of calls or agents.
    Count(u64),
    /// A measured quantity (seconds, agents on average), shown with one decimal.
    Number(f64),
    /// A share, 0.0 to 1.0, shown as a percentage.
    Share(f64),
    /// Nothing to measure (no calls to average over).
    Empty,
}

impl Value {
    /// A share of `part` in `whole`, empty when there is no whole.
    pub fn share(part: u64, whole: u64) -> Value {
        if whole == 0 {
            Value::Empty
        } else {
            Value::Share(part as f64 / whole as f64)
        }
    }

    /// The mean of `values` (seconds), empty when there are none.
    pub fn mean(values: &[f64]) -> Value {
        if values.is_empty() {
            Value::Empty
        } else {
            Value::Number(values.iter().sum::<f64>() / values.len() as f64)
        }
    }

    /// How the table and CSV print it.
    pub fn text(&self) -> String {
        match self {
            Value::Text(t) => t.clone(),
            Value::Count(n) => n.to_string(),
            // `+ 0.0` turns a negative zero (an empty sum) into 0.
            Value::Number(x) => format!("{:.1}", x + 0.0),
            Value::Share(x) => format!("{:.1}%", x * 100.0 + 0.0),
            Value::Empty => "-".to_string(),
        }
    }
}

/// One line of a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// One value per column.
    pub values: Vec<Value>,
    /// The calls its figures were counted from.
    pub calls: Vec<String>,
}

/// A report: its title, its columns, its rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// What it is, for the table's first line.
    pub title: String,
    /// The columns, in order.
    pub columns: Vec<Column>,
    /// The rows, in order.
    pub rows: Vec<Row>,
}

/// JSON as the reports print it: `{"title": ..., "rows": [{column key: value, ...,
/// "calls": [...]}, ...]}`, written straight from the rows (a year lists a million ids).
impl Serialize for Report {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut doc = s.serialize_map(Some(2))?;
        doc.serialize_entry("title", &self.title)?;
        doc.serialize_entry(
            "rows",
            &Rows {
                columns: &self.columns,
                rows: &self.rows,
            },
        )?;
        doc.end()
    }
}

struct Rows<'a> {
    columns: &'a [Column],
    rows: &'a [Row],
}

impl Serialize for Rows<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.rows.len()))?;
        for row in self.rows {
            seq.serialize_element(&Keyed {
                columns: self.columns,
                row,
            })?;
        }
        seq.end()
    }
}

/// One row keyed by its columns, then its calls.
struct Keyed<'a> {
    columns: &'a [Column],
    row: &'a Row,
}

impl Serialize for Keyed<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.columns.len() + 1))?;
        for (c, v) in self.columns.iter().zip(&self.row.values) {
            map.serialize_entry(c.key, v)?;
        }
        map.serialize_entry("calls", &self.row.calls)?;
        map.end()
    }
}

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, its
/// quotes doubled.
pub fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// A text a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first: a note typed by a
/// reviewer, a `+86` number) gets a leading `'`, which spreadsheets show as text.
pub fn defuse(text: &str) -> String {
    // A lone "-" (nothing to measure) and a negative number are not formulas; a `+86`
    // number is defused, or a spreadsheet turns it into 8.6E+12.
    let harmless = text == "-" || (text.starts_with('-') && text.parse::<f64>().is_ok());
    if !harmless && text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

impl Report {
    /// The report as CSV: a header of column keys, then one line per row, with fields a
    /// spreadsheet would run as formulas defused.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let head: Vec<String> = self.columns.iter().map(|c| csv_field(c.key)).collect();
        out.push_str(&head.join(","));
        out.push('\n');
        for row in &self.rows {
            let cells: Vec<String> = row
                .values
                .iter()
                .map(|v| csv_field(&defuse(&v.text())))
                .collect();
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }
}
