//! The HTML page: one file with its CSS, SVG and script inline and no URL at
//! all (a Content-Security-Policy forbids every fetch), so it opens from disk
//! and never touches the network. The bytes depend only on the report, so a
//! report made with SOURCE_DATE_EPOCH set is reproducible.

use std::fmt::Write as _;

use serde_json::json;

use crate::layout::{Rect, squarify};
use crate::{CANVAS, Class, Report, Section, Table, display};

/// Text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `display` then `escape`: an untrusted name as HTML text.
fn name_html(name: &str) -> String {
    escape(&display(name))
}

/// JSON that is safe inside `<script type="application/json">`: no `<`, `>`
/// or `&` (so no `</script>` or `<!--`), and no U+2028/U+2029.
fn script_json(value: &serde_json::Value) -> String {
    let text = serde_json::to_string(value).unwrap_or_else(|_| "null".into());
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
:root{--fits:#3f9b63;--near:#e2a400;--over:#d2453f;--send:#2f6fd6;--keep:#9bb8a5;--remove:#c8504a;--free:#eef0f2;--info:#7d8fa3;--ink:#1d2430;--mute:#5b6573}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);margin:24px auto;max-width:1100px;padding:0 16px}
h1{font-size:22px;margin:0 0 2px}h2{font-size:18px;margin:28px 0 6px}
.date{color:var(--mute);margin:0 0 8px}
dl.meta{display:flex;flex-wrap:wrap;gap:4px 22px;margin:6px 0}
dl.meta div{display:flex;gap:6px}dt{color:var(--mute)}dd{margin:0;font-weight:600}
.summary{font-size:16px;font-weight:600;padding:6px 10px;border-left:6px solid var(--info);background:#f6f7f9}
.summary.fits{border-color:var(--fits)}.summary.near{border-color:var(--near)}.summary.over{border-color:var(--over)}.summary.send{border-color:var(--send)}
svg.treemap{width:100%;height:auto;display:block;border:1px solid #c9ced6;background:var(--free)}
.tile rect.area{stroke:#fff;stroke-width:1}
.tile.fits rect.area{fill:var(--fits)}.tile.near rect.area{fill:var(--near)}.tile.over rect.area{fill:var(--over)}
.tile.send rect.area{fill:var(--send)}.tile.keep rect.area{fill:var(--keep)}.tile.remove rect.area{fill:var(--remove)}.tile.info rect.area{fill:var(--info)}
.tile.free rect.area{fill:var(--free);stroke:#9aa3ad;stroke-dasharray:6 4}
.tile rect.slack{fill:url(#slack);pointer-events:none}
.tile text{font-size:11px;fill:#fff;pointer-events:none;unicode-bidi:isolate}
.tile.free text,.tile.keep text,.tile.near text{fill:var(--ink)}
.tile:hover rect.area{stroke:var(--ink);stroke-width:2}
.legend{display:flex;flex-wrap:wrap;gap:14px;margin:6px 0 12px;color:var(--mute)}
.legend span::before{content:"";display:inline-block;width:12px;height:12px;margin-right:5px;vertical-align:-1px;border:1px solid #9aa3ad}
.legend .fits::before{background:var(--fits)}.legend .near::before{background:var(--near)}.legend .over::before{background:var(--over)}
.legend .send::before{background:var(--send)}.legend .keep::before{background:var(--keep)}.legend .remove::before{background:var(--remove)}
.legend .free::before{background:var(--free)}.legend .info::before{background:var(--info)}
.legend .unit::before{display:none}
.legend .slack::before{background:repeating-linear-gradient(45deg,#888 0 2px,#fff 2px 5px)}
table{border-collapse:collapse;width:100%;margin:8px 0 16px}
th,td{padding:3px 8px;border-bottom:1px solid #e1e4e8;text-align:left;white-space:nowrap}
td.name{white-space:normal;word-break:break-all;unicode-bidi:isolate}
th.num,td.num{text-align:right;font-variant-numeric:tabular-nums}
th{cursor:pointer;user-select:none;background:#f6f7f9}
th[aria-sort=ascending]::after{content:" \25B2"}th[aria-sort=descending]::after{content:" \25BC"}
details.table>summary{cursor:pointer;color:var(--mute);margin:10px 0 0}
tfoot td{font-weight:600;border-top:2px solid #c9ced6}
td.fits{color:var(--fits)}td.near{color:#9a7000}td.over{color:var(--over)}td.send{color:var(--send)}td.remove{color:var(--remove)}
td.fits,td.near,td.over,td.send,td.keep,td.remove{font-weight:600}
"#;

const SCRIPT: &str = r#"(function(){
var data=JSON.parse(document.getElementById("report-data").textContent);
var tables=document.querySelectorAll("table.sortable");
for(var t=0;t<tables.length;t++)(function(table){
var rows=data.sections[+table.getAttribute("data-section")].tables[+table.getAttribute("data-table")].rows;
var heads=table.tHead.rows[0].cells,body=table.tBodies[0];
for(var j=0;j<heads.length;j++)(function(th,j){
th.addEventListener("click",function(){
var dir=th.getAttribute("aria-sort")==="ascending"?-1:1;
for(var k=0;k<heads.length;k++)heads[k].removeAttribute("aria-sort");
th.setAttribute("aria-sort",dir>0?"ascending":"descending");
var trs=Array.prototype.slice.call(body.rows);
trs.sort(function(a,b){var i=+a.getAttribute("data-i"),n=+b.getAttribute("data-i"),x=rows[i][j],y=rows[n][j];
var c=typeof x==="number"&&typeof y==="number"?x-y:String(x).localeCompare(String(y));return dir*c||i-n;});
var f=document.createDocumentFragment();for(var r=0;r<trs.length;r++)f.appendChild(trs[r]);body.appendChild(f);});
})(heads[j],j);
})(tables[t]);
})();"#;

fn num(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

fn rect_attrs(r: &Rect) -> String {
    format!(
        "x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"",
        num(r.x),
        num(r.y),
        num(r.w),
        num(r.h)
    )
}

/// The rectangles of a section's tiles and (last, if any) of its free space.
pub fn section_layout(section: &Section) -> Vec<Rect> {
    let mut weights: Vec<u64> = section.tiles.iter().map(|t| t.area).collect();
    if section.free > 0 {
        weights.push(section.free);
    }
    squarify(&weights, CANVAS.0, CANVAS.1)
}

/// A label that fits `width` units, at about 7 units a character.
fn fit_label(text: &str, width: f64) -> Option<String> {
    let max = ((width - 6.0) / 7.0).floor();
    if max < 3.0 {
        return None;
    }
    let max = max as usize;
    let count = text.chars().count();
    if count <= max {
        return Some(text.to_owned());
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    Some(s)
}

fn tile_svg(
    out: &mut String,
    class: Class,
    i: Option<usize>,
    rect: &Rect,
    slack: Option<Rect>,
    title: &str,
    detail: &str,
) {
    let _ = write!(out, "<g class=\"tile {}\"", class.as_str());
    if let Some(i) = i {
        let _ = write!(out, " data-i=\"{i}\"");
    }
    let _ = write!(out, "><rect class=\"area\" {}/>", rect_attrs(rect));
    if let Some(s) = slack
        && s.area() > 0.0
    {
        let _ = write!(out, "<rect class=\"slack\" {}/>", rect_attrs(&s));
    }
    let _ = write!(out, "<title>{}\n{}</title>", escape(title), escape(detail));
    if rect.h >= 15.0
        && let Some(l) = fit_label(title, rect.w)
    {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\">{}</text>",
            num(rect.x + 4.0),
            num(rect.y + 13.0),
            escape(&l)
        );
        if rect.h >= 30.0
            && let Some(d) = fit_label(detail.split(", ").next().unwrap_or(""), rect.w)
        {
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\">{}</text>",
                num(rect.x + 4.0),
                num(rect.y + 26.0),
                escape(&d)
            );
        }
    }
    out.push_str("</g>");
}

/// Tables longer than this start closed: a browser does not lay out a
/// closed `<details>`, which halves the time to show 10,000 assets.
pub const OPEN_ROWS: usize = 500;

fn table_html(out: &mut String, table: &Table, section: usize, index: usize, name_column: usize) {
    let _ = write!(
        out,
        "<details class=\"table\"{}><summary>{} row{}</summary>",
        if table.rows.len() <= OPEN_ROWS {
            " open"
        } else {
            ""
        },
        table.rows.len(),
        if table.rows.len() == 1 { "" } else { "s" }
    );
    let _ = write!(
        out,
        "<table class=\"sortable\" data-section=\"{section}\" data-table=\"{index}\"><thead><tr>"
    );
    for c in &table.columns {
        let _ = write!(
            out,
            "<th{} title=\"sort\">{}</th>",
            if c.numeric { " class=\"num\"" } else { "" },
            escape(&c.title)
        );
    }
    out.push_str("</tr></thead><tbody>");
    let row = |out: &mut String, cells: &[crate::Cell]| {
        for (j, cell) in cells.iter().enumerate() {
            let numeric = table.columns.get(j).is_some_and(|c| c.numeric);
            let mut classes = Vec::new();
            if numeric {
                classes.push("num");
            }
            if j == name_column {
                classes.push("name");
            }
            if let Some(c) = cell.class {
                classes.push(c.as_str());
            }
            out.push_str("<td");
            if !classes.is_empty() {
                let _ = write!(out, " class=\"{}\"", classes.join(" "));
            }
            let _ = write!(out, ">{}</td>", name_html(&cell.text));
        }
    };
    for (i, cells) in table.rows.iter().enumerate() {
        let _ = write!(out, "<tr data-i=\"{i}\">");
        row(out, cells);
        out.push_str("</tr>");
    }
    out.push_str("</tbody>");
    if let Some(f) = &table.footer {
        out.push_str("<tfoot><tr>");
        row(out, f);
        out.push_str("</tr></tfoot>");
    }
    out.push_str("</table></details>\n");
}

fn table_json(table: &Table) -> serde_json::Value {
    json!({
        "columns": table.columns.iter().map(|c| c.title.as_str()).collect::<Vec<_>>(),
        "rows": table.rows.iter().map(|r| r.iter().map(|c| match c.sort {
            Some(n) => json!(n),
            None => json!(display(&c.text)),
        }).collect::<Vec<_>>()).collect::<Vec<_>>(),
    })
}

/// The whole page.
pub fn render(report: &Report) -> String {
    let mut out = String::with_capacity(
        4096 + report
            .sections
            .iter()
            .map(|s| s.tiles.len() * 600)
            .sum::<usize>(),
    );
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n");
    if let Some(s) = report.refresh_seconds {
        let _ = writeln!(out, "<meta http-equiv=\"refresh\" content=\"{s}\">");
    }
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", name_html(&report.title));
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
    out.push_str("<svg width=\"0\" height=\"0\" style=\"position:absolute\" aria-hidden=\"true\"><defs><pattern id=\"slack\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#ffffff\" fill-opacity=\"0.55\"/><rect width=\"2.5\" height=\"6\" fill=\"#5b6573\" fill-opacity=\"0.55\"/></pattern></defs></svg>\n");
    let _ = writeln!(
        out,
        "<h1>{}</h1>\n<p class=\"date\">Generated {}</p>",
        name_html(&report.title),
        escape(&report.date)
    );
    let mut sections_json = Vec::new();
    for (s, section) in report.sections.iter().enumerate() {
        let rects = section_layout(section);
        let _ = write!(
            out,
            "<section id=\"section-{s}\">\n<h2>{}</h2>\n<dl class=\"meta\">",
            name_html(&section.heading)
        );
        for (k, v) in &section.meta {
            let _ = write!(
                out,
                "<div><dt>{}</dt><dd>{}</dd></div>",
                escape(k),
                name_html(v)
            );
        }
        let _ = writeln!(
            out,
            "</dl>\n<p class=\"summary {}\">{}</p>",
            section.summary_class.as_str(),
            name_html(&section.summary)
        );
        let _ = write!(
            out,
            "<svg class=\"treemap\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"treemap of {}\">",
            num(CANVAS.0),
            num(CANVAS.1),
            escape(&section.area_unit)
        );
        let mut tiles_json = Vec::with_capacity(section.tiles.len());
        for (i, (tile, rect)) in section.tiles.iter().zip(&rects).enumerate() {
            let slack = (tile.inner < tile.area && tile.area > 0)
                .then(|| rect.split(tile.inner as f64 / tile.area as f64).1);
            let name = display(&tile.name);
            tile_svg(
                &mut out,
                tile.class,
                Some(i),
                rect,
                slack,
                &name,
                &display(&tile.detail),
            );
            tiles_json.push(json!({
                "name": name, "area": tile.area, "inner": tile.inner, "class": tile.class,
            }));
        }
        if section.free > 0
            && let Some(rect) = rects.last()
        {
            tile_svg(
                &mut out,
                Class::Free,
                None,
                rect,
                None,
                "free",
                &section.free_label,
            );
        }
        out.push_str("</svg>\n<p class=\"legend\">");
        let mut seen: Vec<Class> = Vec::new();
        for t in &section.tiles {
            if !seen.contains(&t.class) {
                seen.push(t.class);
            }
        }
        let order = [
            Class::Fits,
            Class::Near,
            Class::Over,
            Class::Send,
            Class::Keep,
            Class::Remove,
            Class::Info,
        ];
        for c in order.iter().filter(|c| seen.contains(c)) {
            let label = match c {
                Class::Fits => "fits",
                Class::Near => "near a limit (\u{2265} 90 %)",
                Class::Over => "over a limit",
                Class::Send => "sent by the OTA",
                Class::Keep => "kept on the device",
                Class::Remove => "removed from the device",
                _ => "asset",
            };
            let _ = write!(
                out,
                "<span class=\"{}\">{}</span>",
                c.as_str(),
                escape(label)
            );
        }
        if section.tiles.iter().any(|t| t.inner < t.area) {
            out.push_str("<span class=\"slack\">rounding to whole blocks (hatched)</span>");
        }
        if section.free > 0 {
            let _ = write!(
                out,
                "<span class=\"free\">{}</span>",
                escape(&section.free_label)
            );
        }
        let _ = writeln!(
            out,
            "<span class=\"unit\">area: {}</span></p>",
            escape(&section.area_unit)
        );
        table_html(&mut out, &section.table, s, 0, name_column(&section.table));
        let mut tables = vec![table_json(&section.table)];
        if let Some(p) = &section.platforms {
            out.push_str("<h3>Every platform</h3>\n");
            table_html(&mut out, p, s, 1, usize::MAX);
            tables.push(table_json(p));
        }
        out.push_str("</section>\n");
        sections_json.push(json!({ "tiles": tiles_json, "free": section.free, "tables": tables }));
    }
    let data =
        json!({ "title": display(&report.title), "date": report.date, "sections": sections_json });
    let _ = write!(
        out,
        "<script type=\"application/json\" id=\"report-data\">{}</script>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        script_json(&data)
    );
    out
}

/// The column holding asset names (the first non-numeric one titled "Asset").
fn name_column(table: &Table) -> usize {
    table
        .columns
        .iter()
        .position(|c| c.title == "Asset")
        .unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Cell, Column, Tile};

    fn hostile() -> Report {
        let names = [
            "<script>alert(1)</script>",
            "\"quoted\" & 'single'",
            "bell\u{7}new\nline",
            "evil\u{202e}gpj.exe",
            "</script><!--",
        ];
        let tiles = names
            .iter()
            .map(|n| Tile {
                name: (*n).into(),
                area: 4096,
                inner: 1000,
                class: Class::Fits,
                detail: format!("{n}, 4 KiB"),
            })
            .collect();
        let table = Table {
            columns: vec![Column::text("Asset"), Column::number("Storage")],
            rows: names
                .iter()
                .map(|n| vec![Cell::text(*n), Cell::number("4 KiB", 4096)])
                .collect(),
            footer: None,
        };
        Report {
            title: "<b>pkg</b>".into(),
            date: "1970-01-01 00:00:00 UTC".into(),
            refresh_seconds: None,
            sections: vec![Section {
                heading: "<i>h</i>".into(),
                meta: vec![("package".into(), "<img src=x onerror=alert(1)>".into())],
                summary: "fits".into(),
                summary_class: Class::Fits,
                area_unit: "storage".into(),
                tiles,
                free: 8192,
                free_label: "free".into(),
                table,
                platforms: None,
            }],
        }
    }

    #[test]
    fn names_are_text_never_markup() {
        let html = render(&hostile());
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(!html.contains("<img"));
        assert!(!html.contains("<b>pkg"));
        assert!(!html.contains("\u{202e}"));
        assert!(!html.contains('\u{7}'));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("evil&lt;U+202E&gt;gpj.exe"));
        // Exactly the page's own two scripts, and one end of each.
        assert_eq!(html.matches("<script").count(), 2);
        assert_eq!(html.matches("</script>").count(), 2);
        assert!(!html.contains("<!--"));
        assert!(!html.contains("http:") && !html.contains("https:"));
    }

    #[test]
    fn watch_pages_refresh_and_others_do_not() {
        let mut r = hostile();
        assert!(!render(&r).contains("http-equiv=\"refresh\""));
        r.refresh_seconds = Some(2);
        assert!(render(&r).contains("<meta http-equiv=\"refresh\" content=\"2\">"));
    }

    #[test]
    fn numbers_are_short_and_stable() {
        assert_eq!(num(0.0), "0");
        assert_eq!(num(-0.0001), "0");
        assert_eq!(num(12.5), "12.5");
        assert_eq!(num(1.0 / 3.0), "0.333");
        assert_eq!(num(1000.0), "1000");
    }
}
