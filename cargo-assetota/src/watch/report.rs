//! What `watch` prints: the difference between two budgets of the same
//! package, one line per asset, and the budget line, coloured by verdict.
//!
//! Pure functions from budgets to lines, so they are unit-tested here and the
//! session only decides when to print.

use std::cmp::Ordering;

use anstyle::Style;
use assetota_core::bytesize::Bytes;
use assetota_core::{AssetCost, Budget, Verdict};

use crate::shell::{RED, YELLOW};
use assetota_report::size_json::platform_name;
use assetota_report::text::budget_line;

/// At most this many asset lines per report; the header has the counts.
pub const MAX_ASSET_LINES: usize = 20;

/// One asset that is not what it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change<'a> {
    Added(&'a AssetCost),
    /// Content, size or stored size differ.
    Changed {
        old: &'a AssetCost,
        new: &'a AssetCost,
    },
    Removed(&'a AssetCost),
}

/// The assets added, changed and removed from `old` to `new`, by name.
/// Both budgets list their assets sorted by name (the scanner sorts them).
pub fn diff<'a>(old: &'a Budget, new: &'a Budget) -> Vec<Change<'a>> {
    let (mut a, mut b) = (old.assets.iter().peekable(), new.assets.iter().peekable());
    let mut out = Vec::new();
    loop {
        let order = match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(x), Some(y)) => x.name().as_bytes().cmp(y.name().as_bytes()),
        };
        match order {
            Ordering::Less => out.push(Change::Removed(a.next().expect("peeked"))),
            Ordering::Greater => out.push(Change::Added(b.next().expect("peeked"))),
            Ordering::Equal => {
                let (old, new) = (a.next().expect("peeked"), b.next().expect("peeked"));
                if old.measured.sha256 != new.measured.sha256
                    || old.measured.size != new.measured.size
                    || old.codec != new.codec
                    || old.stored_size != new.stored_size
                    || old.storage_size != new.storage_size
                {
                    out.push(Change::Changed { old, new });
                }
            }
        }
    }
    out
}

/// Whether anything a report shows differs: an asset, or the platform.
pub fn differs(old: &Budget, new: &Budget) -> bool {
    old.platform != new.platform || !diff(old, new).is_empty()
}

fn style_of(verdict: Verdict) -> Option<Style> {
    match verdict {
        Verdict::Fits => None,
        Verdict::Near => Some(YELLOW),
        Verdict::Over => Some(RED),
    }
}

/// `text` in the colour of `verdict` (plain when it fits). The shell strips
/// the escapes when colour is off.
pub fn paint(verdict: Verdict, text: &str) -> String {
    match style_of(verdict) {
        Some(style) => format!("{style}{text}{style:#}"),
        None => text.to_owned(),
    }
}

fn single_limit_note(asset: &AssetCost, budget: &Budget) -> String {
    match (asset.verdict, budget.limit_single) {
        (Verdict::Near, Some(limit)) => {
            format!(", near the single-asset limit of {}", Bytes(limit))
        }
        (Verdict::Over, Some(limit)) => {
            format!(
                ", OVER the single-asset limit of {} by {}",
                Bytes(limit),
                Bytes(asset.stored_size.saturating_sub(limit))
            )
        }
        _ => String::new(),
    }
}

/// `, stored raw` for an asset a store platform keeps uncompressed.
fn raw_note(asset: &AssetCost, budget: &Budget) -> &'static str {
    if asset.codec != budget.platform.codec && asset.codec == assetota_core::Codec::None {
        ", stored raw"
    } else {
        ""
    }
}

fn signed(delta: i128) -> String {
    let sign = if delta < 0 { "-" } else { "+" };
    format!("{sign}{}", Bytes(delta.unsigned_abs() as u64))
}

/// The line for one change (without colour); `new` is the budget it belongs to.
pub fn change_line(change: &Change<'_>, new: &Budget) -> (Verdict, String) {
    match change {
        Change::Added(a) => (
            a.verdict,
            format!(
                "  added    {}  {} stored ({} raw{}){}",
                a.name(),
                Bytes(a.stored_size),
                Bytes(a.measured.size),
                raw_note(a, new),
                single_limit_note(a, new)
            ),
        ),
        Change::Changed { old, new: a } => {
            let delta = a.stored_size as i128 - old.stored_size as i128;
            let was = if delta == 0 {
                if old.measured.sha256 == a.measured.sha256 {
                    "same stored size".to_owned()
                } else {
                    "new content, same stored size".to_owned()
                }
            } else {
                format!("was {}, {}", Bytes(old.stored_size), signed(delta))
            };
            (
                a.verdict,
                format!(
                    "  changed  {}  {} stored ({was}{}){}",
                    a.name(),
                    Bytes(a.stored_size),
                    raw_note(a, new),
                    single_limit_note(a, new)
                ),
            )
        }
        Change::Removed(a) => (
            Verdict::Fits,
            format!(
                "  removed  {}  (was {} stored)",
                a.name(),
                Bytes(a.stored_size)
            ),
        ),
    }
}

/// `1 added, 2 changed, 1 removed` (only the non-zero parts).
pub fn counts(changes: &[Change<'_>]) -> String {
    let count = |f: fn(&Change<'_>) -> bool| changes.iter().filter(|c| f(c)).count();
    let parts = [
        (count(|c| matches!(c, Change::Added(_))), "added"),
        (count(|c| matches!(c, Change::Changed { .. })), "changed"),
        (count(|c| matches!(c, Change::Removed(_))), "removed"),
    ];
    let text: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
    if text.is_empty() {
        "no asset changed".to_owned()
    } else {
        text.join(", ")
    }
}

/// The asset lines of a report, at most [`MAX_ASSET_LINES`] of them.
pub fn change_lines(changes: &[Change<'_>], new: &Budget) -> Vec<String> {
    let mut out: Vec<String> = changes
        .iter()
        .take(MAX_ASSET_LINES)
        .map(|c| {
            let (verdict, text) = change_line(c, new);
            paint(verdict, &text)
        })
        .collect();
    if changes.len() > MAX_ASSET_LINES {
        out.push(format!("  … and {} more", changes.len() - MAX_ASSET_LINES));
    }
    out
}

/// `budget: 3 assets take … on `p2` (1%)`, yellow when near, red when over.
pub fn budget(budget: &Budget) -> String {
    paint(
        budget.verdict(),
        &format!("budget: {}", budget_line(budget)),
    )
}

/// The limits the budget is near or over, one coloured line each (at most
/// [`MAX_ASSET_LINES`]), as `size` words them.
pub fn findings(budget: &Budget) -> Vec<String> {
    let platform = platform_name(&budget.platform).unwrap_or_default();
    let findings = budget.findings();
    let mut out: Vec<String> = findings
        .iter()
        .take(MAX_ASSET_LINES)
        .map(|f| {
            paint(
                f.verdict(),
                &format!(
                    "  {}: {}",
                    if f.verdict() == Verdict::Over {
                        "over"
                    } else {
                        "near"
                    },
                    f.message(&platform)
                ),
            )
        })
        .collect();
    if findings.len() > MAX_ASSET_LINES {
        out.push(format!("  … and {} more", findings.len() - MAX_ASSET_LINES));
    }
    out
}

/// Where the budget is computed: `platform `p2`, deflate (level 6, window 15)`.
pub fn platform_summary(budget: &Budget) -> String {
    match platform_name(&budget.platform) {
        Some(name) => format!("platform `{name}`, {}", budget.platform.codec),
        None => format!("no platform (sizes only), {}", budget.platform.codec),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assetota_core::measure::Measured;
    use assetota_core::platform;

    fn measured(name: &str, size: u64, byte: u8, compressed: u64) -> Measured {
        Measured {
            name: name.into(),
            path: format!("/a/{name}").into(),
            size,
            sha256: [byte; 32],
            compressed_size: compressed,
        }
    }

    fn p2(assets: Vec<Measured>) -> Budget {
        Budget::new(&platform::builtin("p2").unwrap(), assets)
    }

    #[test]
    fn diff_lists_added_changed_and_removed_in_name_order() {
        let old = p2(vec![
            measured("a.bin", 10, 1, 8),
            measured("b.bin", 10, 2, 8),
            measured("c.bin", 10, 3, 8),
        ]);
        let new = p2(vec![
            measured("a.bin", 10, 1, 8),
            measured("b.bin", 12, 9, 9),
            measured("d.bin", 5, 4, 5),
        ]);
        let changes = diff(&old, &new);
        let names: Vec<(&str, &str)> = changes
            .iter()
            .map(|c| match c {
                Change::Added(a) => ("added", a.name()),
                Change::Changed { new, .. } => ("changed", new.name()),
                Change::Removed(a) => ("removed", a.name()),
            })
            .collect();
        assert_eq!(
            names,
            [
                ("changed", "b.bin"),
                ("removed", "c.bin"),
                ("added", "d.bin")
            ]
        );
        assert_eq!(counts(&changes), "1 added, 1 changed, 1 removed");
        assert!(diff(&new, &new).is_empty());
        assert!(!differs(&new, &new));
        assert_eq!(counts(&[]), "no asset changed");
    }

    #[test]
    fn same_content_same_size_is_no_change_but_new_content_is() {
        let old = p2(vec![measured("a.bin", 10, 1, 8)]);
        let touched = p2(vec![measured("a.bin", 10, 1, 8)]);
        assert!(diff(&old, &touched).is_empty());
        let rewritten = p2(vec![measured("a.bin", 10, 7, 8)]);
        let changes = diff(&old, &rewritten);
        let (_, line) = change_line(&changes[0], &rewritten);
        assert_eq!(
            line,
            "  changed  a.bin  137 B stored (new content, same stored size)"
        );
    }

    #[test]
    fn lines_show_stored_sizes_and_the_change() {
        let old = p2(vec![
            measured("logo.png", 5000, 1, 4000),
            measured("old.bin", 100, 2, 90),
        ]);
        let new = p2(vec![
            measured("logo.png", 4000, 3, 3000),
            measured("new.bin", 200, 4, 150),
        ]);
        let changes = diff(&old, &new);
        let lines: Vec<String> = changes.iter().map(|c| change_line(c, &new).1).collect();
        // p2 stores deflate payload + 124 B + the name.
        assert_eq!(
            lines,
            [
                "  changed  logo.png  3,132 B stored (was 4,132 B, -1,000 B)",
                "  added    new.bin  281 B stored (200 B raw)",
                "  removed  old.bin  (was 221 B stored)",
            ]
        );
    }

    #[test]
    fn near_and_over_are_yellow_and_red() {
        let limit = platform::builtin("p2")
            .unwrap()
            .limits
            .unwrap()
            .max_asset
            .unwrap();
        let near = p2(vec![measured("big.bin", limit, 1, limit - 200)]);
        let over = p2(vec![measured("big.bin", limit * 2, 1, limit + 1)]);
        assert_eq!(near.verdict(), Verdict::Near);
        assert_eq!(over.verdict(), Verdict::Over);
        assert!(
            budget(&near).starts_with(&YELLOW.render().to_string()),
            "{:?}",
            budget(&near)
        );
        assert!(
            budget(&over).starts_with(&RED.render().to_string()),
            "{:?}",
            budget(&over)
        );
        let fits = p2(vec![measured("small.bin", 10, 1, 8)]);
        assert!(
            budget(&fits).starts_with("budget: 1 asset"),
            "{:?}",
            budget(&fits)
        );

        let changes = diff(&near, &over);
        let lines = change_lines(&changes, &over);
        assert!(lines[0].starts_with(&RED.render().to_string()), "{lines:?}");
        assert!(
            lines[0].contains("OVER the single-asset limit of 1,114,112 B by"),
            "{lines:?}"
        );
        assert!(
            findings(&over)[0].contains("over the single-asset limit"),
            "{:?}",
            findings(&over)
        );
    }

    #[test]
    fn long_reports_are_cut() {
        let new = p2((0..30)
            .map(|i| measured(&format!("f{i:02}"), 10, i as u8, 8))
            .collect());
        let old = p2(vec![]);
        let lines = change_lines(&diff(&old, &new), &new);
        assert_eq!(lines.len(), MAX_ASSET_LINES + 1);
        assert_eq!(lines.last().unwrap(), "  … and 10 more");
    }
}
