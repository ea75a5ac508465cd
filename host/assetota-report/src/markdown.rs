//! The same report as GitHub-flavoured Markdown, for CI job summaries
//! (`$GITHUB_STEP_SUMMARY`): a heading, the facts, the answer, and tables.

use std::fmt::Write as _;

use crate::{Report, Table, display};

/// Untrusted text as literal Markdown inline text inside a table cell:
/// hidden characters made visible, then every character that could start
/// markup inside a paragraph or cell backslash-escaped (emphasis, code spans,
/// links and images, HTML and entities, strikethrough, GitHub's math; GFM
/// tables take `\|` as a literal pipe), so the text stays text.
pub fn escape(text: &str) -> String {
    let shown = display(text);
    let mut out = String::with_capacity(shown.len() + 8);
    for c in shown.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '&' | '~' | '$' | '!' | '#'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn table(out: &mut String, t: &Table) {
    out.push('|');
    for c in &t.columns {
        let _ = write!(out, " {} |", escape(&c.title));
    }
    out.push_str("\n|");
    for c in &t.columns {
        out.push_str(if c.numeric { " ---: |" } else { " --- |" });
    }
    out.push('\n');
    let row = |out: &mut String, cells: &[crate::Cell], bold: bool| {
        out.push('|');
        for c in cells {
            let text = escape(&c.text);
            if bold && !text.is_empty() {
                let _ = write!(out, " **{text}** |");
            } else {
                let _ = write!(out, " {text} |");
            }
        }
        out.push('\n');
    };
    for cells in &t.rows {
        row(out, cells, false);
    }
    if let Some(f) = &t.footer {
        row(out, f, true);
    }
    out.push('\n');
}

/// The whole report.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for section in &report.sections {
        let _ = writeln!(out, "### {}\n", escape(&section.heading));
        let facts: Vec<String> = section
            .meta
            .iter()
            .map(|(k, v)| format!("{}: **{}**", escape(k), escape(v)))
            .collect();
        if !facts.is_empty() {
            let _ = writeln!(out, "{}\n", facts.join(" · "));
        }
        let _ = writeln!(out, "**{}**\n", escape(&section.summary));
        table(&mut out, &section.table);
        if let Some(p) = &section.platforms {
            out.push_str("Every platform:\n\n");
            table(&mut out, p);
        }
    }
    let _ = writeln!(out, "Generated {} by cargo-assetota.", escape(&report.date));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_out() {
        assert_eq!(escape("a|b"), "a\\|b");
        assert_eq!(escape("`x`"), "\\`x\\`");
        assert_eq!(escape("<b>"), "\\<b\\>");
        assert_eq!(escape("x\ny"), "x\u{240a}y");
        assert_eq!(escape("plain name"), "plain name");
    }
}
