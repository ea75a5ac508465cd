//! The results table and its Markdown and JSON files.

use serde_json::Value;
use std::collections::BTreeMap;

use crate::machine::load_average;

/// One line of the summary table.
pub(crate) struct Row {
    pub(crate) measure: String,
    pub(crate) value: String,
    pub(crate) target: String,
    pub(crate) met: Option<bool>,
}

pub(crate) struct Report {
    pub(crate) load: Option<String>,
    pub(crate) rows: Vec<Row>,
    pub(crate) details: String,
    pub(crate) json: BTreeMap<String, Value>,
}

impl Report {
    pub(crate) fn row(&mut self, measure: &str, value: String, target: &str, met: Option<bool>) {
        println!(
            "  {measure}: {value}{}",
            match met {
                Some(true) => format!("  [target {target}: met]"),
                Some(false) => format!("  [target {target}: MISSED]"),
                None => String::new(),
            }
        );
        self.rows.push(Row {
            measure: measure.to_owned(),
            value,
            target: target.to_owned(),
            met,
        });
    }

    /// Marks the start of a measurement: its detail records the load then.
    pub(crate) fn begin(&mut self, what: &str) {
        println!("\n{what} …");
        self.load = load_average();
    }

    pub(crate) fn detail(&mut self, text: &str) {
        let text = match (text.split_once('\n'), self.load.take()) {
            (Some((heading, rest)), Some(load)) if heading.starts_with("### ") => {
                format!("{heading}\n\n_Load average when it started: {load}._\n{rest}")
            }
            _ => text.to_owned(),
        };
        println!("{text}");
        self.details.push_str(&text);
        self.details.push('\n');
    }

    pub(crate) fn set(&mut self, key: &str, value: Value) {
        self.json.insert(key.to_owned(), value);
    }
}
