//! Reports people look at (README.md, "Reports"): the budget, or an OTA plan, as one
//! self-contained HTML page (a squarified treemap of storage in the
//! partition, the limits, the platforms' fit and a sortable table) and as a
//! GitHub-flavoured Markdown table for CI job summaries.
//!
//! Also the terminal's side of the same numbers: the JSON of `size --json`
//! ([`size_json`]) and the plain text tables ([`text`]); the OTA plan of
//! `diff` in all three forms ([`diff`]); the platform list ([`platforms`]).
//!
//! No I/O: the commands build a [`Report`] (the model; [`size_html`] makes a
//! budget's section), [`layout`] places its
//! tiles, [`page`] and [`markdown`] turn it into a string. Every name is
//! untrusted text: [`display`] makes its control and bidirectional formatting
//! characters visible, and each renderer escapes for its own syntax.

#![warn(missing_docs)]

pub mod diff;
pub mod layout;
pub mod markdown;
pub mod page;
pub mod platforms;
pub mod size_html;
pub mod size_json;
pub mod text;

use serde::Serialize;

/// The width and height of the treemap's canvas (SVG user units).
pub const CANVAS: (f64, f64) = (1000.0, 560.0);

/// A whole report: one or more sections (one per package).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The page's title.
    pub title: String,
    /// When it was made (from SOURCE_DATE_EPOCH where set).
    pub date: String,
    /// `<meta http-equiv="refresh">` every this many seconds (`watch`).
    pub refresh_seconds: Option<u32>,
    /// The sections, in order.
    pub sections: Vec<Section>,
}

/// One package on one platform, or one OTA plan.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// The section's heading.
    pub heading: String,
    /// Facts shown under the heading: package, platform, codec, limits…
    pub meta: Vec<(String, String)>,
    /// The one-line answer ("fits: 12 KiB of 1.1 MiB") and its class.
    pub summary: String,
    /// The summary's colour.
    pub summary_class: Class,
    /// What the treemap's area stands for ("storage", "compressed bytes").
    pub area_unit: String,
    /// The treemap's tiles (assets), any order: the layout sorts them.
    pub tiles: Vec<Tile>,
    /// The free space of the partition, drawn as its own tile (0: none).
    pub free: u64,
    /// The free tile's label.
    pub free_label: String,
    /// The asset table.
    pub table: Table,
    /// The fit of every platform (`--all-platforms`).
    pub platforms: Option<Table>,
}

/// One asset in the treemap: `area` bytes of which `inner` are the payload
/// and the rest the blocks' rounding (drawn hatched).
#[derive(Debug, Clone, Serialize)]
pub struct Tile {
    /// The asset's name (untrusted: shown through [`display`]).
    pub name: String,
    /// The tile's whole area (storage bytes).
    pub area: u64,
    /// Of `area`, the payload bytes.
    pub inner: u64,
    /// Its colour.
    pub class: Class,
    /// The tooltip's second line (sizes, verdict).
    pub detail: String,
}

/// Colours: the budget verdicts, the OTA plan's actions, free space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// Within its limits.
    Fits,
    /// Within, but at 90 % or more of a limit.
    Near,
    /// Over a limit.
    Over,
    /// An OTA plan sends it.
    Send,
    /// An OTA plan keeps what the device has.
    Keep,
    /// An OTA plan removes it from the device.
    Remove,
    /// Free space of the partition.
    Free,
    /// Neutral information.
    Info,
}

impl Class {
    /// The CSS class name (lowercase).
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Fits => "fits",
            Class::Near => "near",
            Class::Over => "over",
            Class::Send => "send",
            Class::Keep => "keep",
            Class::Remove => "remove",
            Class::Free => "free",
            Class::Info => "info",
        }
    }
}

/// A table: the header, and rows of cells with a text and a sort key.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Table {
    /// The header.
    pub columns: Vec<Column>,
    /// The rows, one cell per column.
    pub rows: Vec<Vec<Cell>>,
    /// A last row (totals), not sorted with the others.
    pub footer: Option<Vec<Cell>>,
}

#[derive(Debug, Clone, Serialize)]
/// One column of a [`Table`].
pub struct Column {
    /// Its heading.
    pub title: String,
    /// Right-aligned, sorted by number.
    pub numeric: bool,
}

#[derive(Debug, Clone, Serialize)]
/// One cell of a [`Table`].
pub struct Cell {
    /// What it shows.
    pub text: String,
    /// The number a numeric column sorts by.
    pub sort: Option<u64>,
    /// A verdict or action to colour the cell with.
    pub class: Option<Class>,
}

impl Cell {
    /// A text cell.
    pub fn text(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            sort: None,
            class: None,
        }
    }

    /// A numeric cell showing `text`, sorted by `value`.
    pub fn number(text: impl Into<String>, value: u64) -> Cell {
        Cell {
            text: text.into(),
            sort: Some(value),
            class: None,
        }
    }

    /// This cell coloured with `class`.
    pub fn class(mut self, class: Class) -> Cell {
        self.class = Some(class);
        self
    }
}

impl Column {
    /// A text column.
    pub fn text(title: &str) -> Column {
        Column {
            title: title.to_owned(),
            numeric: false,
        }
    }

    /// A numeric column (right-aligned, sorted by number).
    pub fn number(title: &str) -> Column {
        Column {
            title: title.to_owned(),
            numeric: true,
        }
    }
}

/// `name` with every character that could hide or reorder text made visible:
/// C0 controls and DEL as their Unicode control pictures (U+2400…), C1
/// controls and the bidirectional formatting characters (RLO, LRI, RLM…) as
/// `<U+XXXX>`. What is left is plain text, for the renderers to escape.
pub fn display(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '\u{0}'..='\u{1f}' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}')),
            '\u{7f}' => out.push('\u{2421}'),
            '\u{80}'..='\u{9f}'
            | '\u{061c}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}' => out.push_str(&format!("<U+{:04X}>", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The date a report shows: SOURCE_DATE_EPOCH where set (so the page is
/// reproducible), else now.
pub fn report_date() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    utc_date(secs)
}

/// A UTC date and time, `YYYY-MM-DD HH:MM:SS UTC`, from seconds since the epoch.
pub fn utc_date(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_makes_hidden_characters_visible() {
        assert_eq!(display("logo.bin"), "logo.bin");
        assert_eq!(display("a\nb\u{7}\u{7f}"), "a\u{240a}b\u{2407}\u{2421}");
        assert_eq!(display("x\u{202e}txt.exe"), "x<U+202E>txt.exe");
        assert_eq!(
            display("\u{2067}\u{200f}\u{85}"),
            "<U+2067><U+200F><U+0085>"
        );
        assert_eq!(display("日本語 ✓"), "日本語 ✓");
    }

    #[test]
    fn utc_dates() {
        assert_eq!(utc_date(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_date(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_date(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(utc_date(4_102_444_799), "2099-12-31 23:59:59 UTC");
    }
}
