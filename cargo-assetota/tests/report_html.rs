//! The reports people look at (README.md, "Reports"), checked where people look at them:
//! the HTML page in a real headless browser (Debian's chromium, which
//! scripts/test.sh installs), the Markdown in a CommonMark/GFM parser.
//!
//! The browser runs the page with two test scripts spliced in: one first in
//! `<head>` that counts errors (window errors, console.error, CSP
//! violations), one at the end that, after `load`, measures every tile's
//! rendered rectangle, the resources fetched, the time to load and lay out,
//! clicks a table header, and writes all that (JSON, hex-encoded) into the
//! DOM that `--dump-dom` prints.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use assetota_report::{
    self as report_html, CANVAS, Cell, Class, Column, Report, Section, Table, Tile, display,
};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn chromium() -> PathBuf {
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        for name in ["chromium", "chromium-browser"] {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "chromium is not installed: `apt-get install -y chromium` (scripts/test.sh installs it)"
    );
}

const HEAD_PROBE: &str = r#"<script data-test="1">window.__errors=[];window.__t0=performance.now();
window.addEventListener("error",function(e){window.__errors.push("error: "+e.message);});
(function(){var ce=console.error;console.error=function(){window.__errors.push("console: "+Array.prototype.join.call(arguments," "));ce.apply(console,arguments);};})();
document.addEventListener("securitypolicyviolation",function(e){window.__errors.push("csp: "+e.violatedDirective+" "+e.blockedURI);});
</script>"#;

const TAIL_PROBE: &str = r#"<script data-test="1">window.addEventListener("load",function(){
var loaded=performance.now();
document.documentElement.getBoundingClientRect();
var laid=performance.now();
var sections=[];
var svgs=document.querySelectorAll("svg.treemap");
for(var s=0;s<svgs.length;s++){var svg=svgs[s],box=svg.getBoundingClientRect(),tiles=[];
var gs=svg.querySelectorAll("g.tile");
for(var i=0;i<gs.length;i++){var g=gs[i],r=g.querySelector("rect.area").getBoundingClientRect(),t=g.querySelector("title");
tiles.push({cls:g.getAttribute("class"),title:t?t.textContent:null,x:r.x-box.x,y:r.y-box.y,w:r.width,h:r.height,text:g.querySelectorAll("text").length});}
sections.push({width:box.width,height:box.height,tiles:tiles});}
var sorted=null,table=document.querySelector("table.sortable");
if(table){var heads=table.tHead.rows[0].cells,col=-1;
for(var j=0;j<heads.length;j++)if(heads[j].textContent==="Storage"||heads[j].textContent==="Compressed")col=j;
if(col>=0){heads[col].click();sorted=[];var rows=table.tBodies[0].rows;for(var k=0;k<rows.length;k++)sorted.push(+rows[k].getAttribute("data-i"));}}
var tags={};var all=document.body.getElementsByTagName("*");for(var a=0;a<all.length;a++){var n=all[a].tagName.toLowerCase();tags[n]=(tags[n]||0)+1;}
var out={errors:window.__errors,resources:performance.getEntriesByType("resource").length,
loaded_ms:loaded,layout_ms:laid,head_ms:window.__t0,nav:performance.getEntriesByType("navigation")[0].toJSON(),sections:sections,sorted:sorted,tags:tags,page_scripts:document.querySelectorAll("script:not([data-test])").length};
var json=JSON.stringify(out),bytes=new TextEncoder().encode(json),hex="";
for(var b=0;b<bytes.length;b++)hex+=(bytes[b]<16?"0":"")+bytes[b].toString(16);
var pre=document.createElement("pre");pre.id="assetota-measure";pre.textContent=hex;document.body.appendChild(pre);
});</script>"#;

/// Opens `html` in headless chromium and returns what the probes measured.
fn browse(html: &str, dir: &Path, name: &str) -> Value {
    let probed = html
        .replacen("<head>\n", &format!("<head>\n{HEAD_PROBE}\n"), 1)
        .replacen("</body>", &format!("{TAIL_PROBE}\n</body>"), 1);
    assert_ne!(probed, html, "the page has a <head> and a </body>");
    let page = dir.join(format!("{name}.html"));
    std::fs::write(&page, probed).unwrap();
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1200,900",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout);
    let start = dom.find("id=\"assetota-measure\">").unwrap_or_else(|| {
        panic!(
            "no measurements in the DOM; chromium said:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    }) + "id=\"assetota-measure\">".len();
    let end = start + dom[start..].find('<').unwrap();
    let hex = dom[start..end].trim();
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    serde_json::from_slice(&bytes).unwrap()
}

fn screenshot(html_path: &Path, png: &Path) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1200,1400",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html_path.display()))
        .output()
        .expect("chromium runs");
    assert!(png.is_file(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The page loaded cleanly: no error, nothing fetched, and no URL in its text.
fn assert_clean(html: &str, m: &Value) {
    assert_eq!(m["errors"], serde_json::json!([]), "errors in the page");
    assert_eq!(m["resources"], 0, "the page fetched something");
    assert_eq!(m["page_scripts"], 2, "the page's own two scripts only");
    for needle in [
        "http:", "https:", "<link", "<img", "<iframe", " src=\"", " href=\"", "@import",
    ] {
        assert!(!html.contains(needle), "the page contains `{needle}`");
    }
}

/// Every tile's rendered area, against its weight: one scale for all, within 1 %.
fn assert_proportional(section: &Value, weights: &[(String, u64)]) {
    let tiles = section["tiles"].as_array().unwrap();
    assert_eq!(
        tiles.len(),
        weights.len(),
        "one rectangle per asset (and free)"
    );
    let rendered: f64 = section["width"].as_f64().unwrap() * section["height"].as_f64().unwrap();
    let total: u64 = weights.iter().map(|(_, w)| w).sum();
    let (width, height) = (
        section["width"].as_f64().unwrap(),
        section["height"].as_f64().unwrap(),
    );
    for (tile, (label, weight)) in tiles.iter().zip(weights) {
        let title = tile["title"].as_str().unwrap();
        assert!(
            title.starts_with(&format!("{label}\n")),
            "tile `{title}` is not labelled `{label}`"
        );
        let area = tile["w"].as_f64().unwrap() * tile["h"].as_f64().unwrap();
        let want = *weight as f64 / total as f64 * rendered;
        let err = (area - want).abs() / want;
        assert!(
            err < 0.01,
            "`{label}`: rendered area {area:.1} px², want {want:.1} ({:.2} %)",
            err * 100.0
        );
        // Inside the treemap.
        let (x, y) = (tile["x"].as_f64().unwrap(), tile["y"].as_f64().unwrap());
        assert!(x >= -0.5 && y >= -0.5, "{tile}");
        assert!(x + tile["w"].as_f64().unwrap() <= width + 0.5, "{tile}");
        assert!(y + tile["h"].as_f64().unwrap() <= height + 0.5, "{tile}");
    }
}

// ---------------------------------------------------------------- projects

fn noise(n: usize, mut x: u32) -> Vec<u8> {
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// A package that opts in (no dependencies: `size` needs no build).
fn size_project(dir: &Path) {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join("assets/fonts")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"report_fw\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [package.metadata.assetota]\ndir = \"assets\"\nplatform = \"p2\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/main.rs"), "fn main() {}\n").unwrap();
    let a = dir.join("assets");
    std::fs::write(a.join("splash.raw"), noise(300_000, 1)).unwrap();
    std::fs::write(a.join("chime.pcm"), noise(70_000, 2)).unwrap();
    std::fs::write(a.join("it's `odd` & co.bin"), noise(9_000, 3)).unwrap();
    std::fs::write(a.join("config.json"), "{\"brightness\": 80}\n").unwrap();
    std::fs::write(a.join("strings.txt"), "hello assets\n".repeat(2000)).unwrap();
    std::fs::write(a.join("fonts.bin"), noise(40_000, 4)).unwrap();
}

fn cli(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cargo-assetota"))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TERM_COLOR", "never")
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env_remove("ASSETOTA_PLATFORM")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn size_report_renders_the_budget_in_a_browser() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    size_project(dir);
    let (code, json, err) = cli(dir, &["size", "--json", "--report", "out/size.html"]);
    assert_eq!(code, 0, "{err}");
    let json: Value = serde_json::from_str(&json).unwrap();
    let html = std::fs::read_to_string(dir.join("out/size.html")).unwrap();
    // Reproducible: the same bytes again, with the date from SOURCE_DATE_EPOCH.
    let (code, _, _) = cli(dir, &["size", "--report", "out/again.html"]);
    assert_eq!(code, 0);
    assert_eq!(
        html,
        std::fs::read_to_string(dir.join("out/again.html")).unwrap()
    );
    assert!(html.contains("Generated 2023-11-14 22:13:20 UTC"));
    assert!(html.contains("<details class=\"table\" open><summary>6 rows</summary>"));
    // No temporary file left beside it.
    let left: Vec<_> = std::fs::read_dir(dir.join("out")).unwrap().collect();
    assert_eq!(left.len(), 2);

    let m = browse(&html, dir, "size");
    assert_clean(&html, &m);
    let assets = json["assets"].as_array().unwrap();
    let mut weights: Vec<(String, u64)> = assets
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap().to_owned(),
                a["storage_size"].as_u64().unwrap(),
            )
        })
        .collect();
    let free = json["limit_total"].as_u64().unwrap() - json["total_storage_size"].as_u64().unwrap();
    weights.push(("free".to_owned(), free));
    let section = &m["sections"][0];
    assert_proportional(section, &weights);
    // Every asset has a visible label (these are all big enough).
    let tiles = section["tiles"].as_array().unwrap();
    assert!(
        tiles
            .iter()
            .take(2)
            .all(|t| t["text"].as_u64().unwrap() >= 1)
    );
    // Clicking "Storage" sorts the table by storage, smallest first.
    let sorted: Vec<u64> = m["sorted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            assets[i.as_u64().unwrap() as usize]["storage_size"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert!(sorted.windows(2).all(|w| w[0] <= w[1]), "{sorted:?}");
    assert_eq!(sorted.len(), assets.len());

    // The geometry the browser drew is the layout's (kept as the golden).
    let golden_layout: Vec<Value> = section["tiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let scale = CANVAS.0 / section["width"].as_f64().unwrap();
            let r = |k: &str| (t[k].as_f64().unwrap() * scale * 10.0).round() / 10.0;
            serde_json::json!({
                "tile": t["title"].as_str().unwrap().split('\n').next().unwrap(),
                "x": r("x"), "y": r("y"), "w": r("w"), "h": r("h"),
            })
        })
        .collect();
    check_golden("size_layout.json", &Value::Array(golden_layout));

    if let Some(shots) = std::env::var_os("ASSETOTA_REPORT_SCREENSHOTS") {
        screenshot(
            &dir.join("out/size.html"),
            &Path::new(&shots).join("size.png"),
        );
    }

    // --all-platforms: the fit of every platform below the treemap.
    let (code, _, err) = cli(
        dir,
        &["size", "--all-platforms", "--report", "out/all.html"],
    );
    assert_eq!(code, 0, "{err}");
    let all = std::fs::read_to_string(dir.join("out/all.html")).unwrap();
    assert!(all.contains("<h3>Every platform</h3>"));
    for p in ["p2", "argon", "boron", "msom"] {
        assert!(
            all.contains(&format!("<td>{p}</td>")),
            "{p} in the fit table"
        );
    }
    let m = browse(&all, dir, "all");
    assert_clean(&all, &m);
}

/// Compares `value` with `tests/report_html/NAME` (UPDATE_GOLDEN=1 rewrites it),
/// rectangle by rectangle, within half a canvas unit (rendering rounds).
fn check_golden(name: &str, value: &Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/report_html")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, serde_json::to_string_pretty(value).unwrap() + "\n").unwrap();
    }
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("no golden {}: run with UPDATE_GOLDEN=1", path.display())),
    )
    .unwrap();
    let (got, want) = (value.as_array().unwrap(), golden.as_array().unwrap());
    assert_eq!(got.len(), want.len(), "{value}");
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g["tile"], w["tile"]);
        for k in ["x", "y", "w", "h"] {
            let (a, b) = (g[k].as_f64().unwrap(), w[k].as_f64().unwrap());
            assert!(
                (a - b).abs() <= 0.5,
                "{k} of {}: {a} vs golden {b}",
                g["tile"]
            );
        }
    }
}

// ---------------------------------------------------------------- hostile and large

const HOSTILE: [&str; 8] = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "\"quoted\" & 'single' `tick` |pipe|",
    "bell\u{7}new\nline\ttab\u{0}nul",
    "evil\u{202e}gpj.exe",
    "\u{2067}isolate\u{2069}\u{200f}rlm",
    "</script><!-- -->",
    "**bold** [link](x) ~~s~~ $math$ _e_ &amp;",
];

fn hostile_report() -> Report {
    let tiles: Vec<Tile> = HOSTILE
        .iter()
        .enumerate()
        .map(|(i, n)| Tile {
            name: (*n).into(),
            area: 4096 * (i as u64 + 1),
            inner: 4096 * (i as u64 + 1) - 1000,
            class: [Class::Fits, Class::Near, Class::Over][i % 3],
            detail: format!("{} B, {n}", 4096 * (i + 1)),
        })
        .collect();
    let table = Table {
        columns: vec![Column::text("Asset"), Column::number("Storage")],
        rows: tiles
            .iter()
            .map(|t| {
                vec![
                    Cell::text(t.name.clone()),
                    Cell::number(format!("{} B", t.area), t.area),
                ]
            })
            .collect(),
        footer: None,
    };
    Report {
        title: "<b>pkg</b> \u{202e}".into(),
        date: "2023-11-14 22:13:20 UTC".into(),
        refresh_seconds: None,
        sections: vec![Section {
            heading: "<i>pkg</i> on <u>p2</u>".into(),
            meta: vec![("package".into(), "<svg onload=alert(3)>".into())],
            summary: "Fits: <blink>".into(),
            summary_class: Class::Fits,
            area_unit: "storage".into(),
            tiles,
            free: 100_000,
            free_label: "free".into(),
            table,
            platforms: None,
        }],
    }
}

#[test]
fn hostile_names_render_as_text() {
    let tmp = tempfile::tempdir().unwrap();
    let report = hostile_report();
    let html = report_html::page::render(&report);
    let m = browse(&html, tmp.path(), "hostile");
    if let Some(shots) = std::env::var_os("ASSETOTA_REPORT_SCREENSHOTS") {
        let page = Path::new(&shots).join("hostile.html");
        std::fs::write(&page, &html).unwrap();
        screenshot(&page, &Path::new(&shots).join("hostile.png"));
    }
    assert_clean(&html, &m);
    // No element the names could have made.
    let tags = m["tags"].as_object().unwrap();
    for tag in ["img", "b", "i", "u", "blink", "iframe", "a"] {
        assert!(tags.get(tag).is_none(), "a <{tag}> element: {tags:?}");
    }
    assert_eq!(tags["svg"], 2, "the defs and the treemap only");
    // Each tile's tooltip is its name as visible text.
    let section = &m["sections"][0];
    let mut weights: Vec<(String, u64)> = report.sections[0]
        .tiles
        .iter()
        .map(|t| (display(&t.name), t.area))
        .collect();
    weights.push(("free".into(), 100_000));
    assert_proportional(section, &weights);
    for (tile, name) in section["tiles"].as_array().unwrap().iter().zip(HOSTILE) {
        let title = tile["title"].as_str().unwrap();
        assert!(
            !title.contains('\u{202e}') && !title.contains('\u{7}'),
            "{title:?}"
        );
        assert!(title.starts_with(&display(name)), "{title:?}");
    }

    // Markdown: every name is one cell with exactly its visible text.
    let md = report_html::markdown::render(&report);
    let tables = gfm_tables(&md);
    assert_eq!(tables.len(), 1, "{md}");
    let rows = &tables[0];
    assert_eq!(rows[0], ["Asset", "Storage"]);
    assert_eq!(rows.len(), HOSTILE.len() + 1);
    for (row, name) in rows[1..].iter().zip(HOSTILE) {
        assert_eq!(row.len(), 2, "{row:?}");
        assert_eq!(row[0], display(name));
    }
    assert_no_markup(&md);
}

#[test]
fn ten_thousand_assets_render_quickly() {
    let tmp = tempfile::tempdir().unwrap();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let tiles: Vec<Tile> = (0..10_000)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let area = 4096 * (1 + x % 16);
            Tile {
                name: format!("assets/dir{}/asset-{i:05}.bin", i % 37),
                area,
                inner: area - x % 4096,
                class: Class::Fits,
                detail: format!("{area} B"),
            }
        })
        .collect();
    let table = Table {
        columns: vec![Column::text("Asset"), Column::number("Storage")],
        rows: tiles
            .iter()
            .map(|t| {
                vec![
                    Cell::text(t.name.clone()),
                    Cell::number(format!("{} B", t.area), t.area),
                ]
            })
            .collect(),
        footer: None,
    };
    let report = Report {
        title: "10,000 assets".into(),
        date: "2023-11-14 22:13:20 UTC".into(),
        refresh_seconds: None,
        sections: vec![Section {
            heading: "many".into(),
            meta: Vec::new(),
            summary: "fits".into(),
            summary_class: Class::Fits,
            area_unit: "storage".into(),
            tiles,
            free: 0,
            free_label: String::new(),
            table,
            platforms: None,
        }],
    };
    let t = Instant::now();
    let html = report_html::page::render(&report);
    let render = t.elapsed();
    if let Some(shots) = std::env::var_os("ASSETOTA_REPORT_SCREENSHOTS") {
        std::fs::write(Path::new(&shots).join("many.html"), &html).unwrap();
    }
    let t = Instant::now();
    let m = browse(&html, tmp.path(), "many");
    let wall = t.elapsed();
    assert_clean(&html, &m);
    assert_eq!(m["sections"][0]["tiles"].as_array().unwrap().len(), 10_000);
    // The long table starts closed (not laid out until opened).
    assert!(html.contains("<details class=\"table\"><summary>10000 rows</summary>"));
    let ms = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    eprintln!(
        "10,000 assets: page {} KiB, written by Rust in {:.1} ms; in chromium: response end {:.0} ms, DOM interactive {:.0} ms, load {:.0} ms, laid out {:.0} ms after navigation start, {:.0} ms from the first byte parsed to laid out (whole headless run {:.2} s)",
        html.len() / 1024,
        render.as_secs_f64() * 1e3,
        ms(&m["nav"]["responseEnd"]),
        ms(&m["nav"]["domInteractive"]),
        ms(&m["loaded_ms"]),
        ms(&m["layout_ms"]),
        ms(&m["layout_ms"]) - ms(&m["head_ms"]),
        wall.as_secs_f64()
    );
}

// ---------------------------------------------------------------- Markdown

/// The cells of every GFM table in `md`, as plain text, rows of strings.
fn gfm_tables(md: &str) -> Vec<Vec<Vec<String>>> {
    let mut tables = Vec::new();
    let (mut rows, mut row, mut cell): (Vec<Vec<String>>, Vec<String>, Option<String>) =
        (Vec::new(), Vec::new(), None);
    for event in Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Start(Tag::TableCell) => cell = Some(String::new()),
            Event::End(TagEnd::TableCell) => row.push(cell.take().unwrap()),
            Event::End(TagEnd::TableHead) | Event::End(TagEnd::TableRow) => {
                rows.push(std::mem::take(&mut row))
            }
            Event::End(TagEnd::Table) => tables.push(std::mem::take(&mut rows)),
            Event::Text(t) | Event::Code(t) => {
                if let Some(c) = &mut cell {
                    c.push_str(&t);
                }
            }
            _ => {}
        }
    }
    tables
}

/// No HTML, link, image, code span or emphasis except the report's own bold.
fn assert_no_markup(md: &str) {
    for event in Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Html(h) | Event::InlineHtml(h) => panic!("HTML in the Markdown: {h}"),
            Event::Code(c) => panic!("a code span: {c}"),
            Event::Start(
                Tag::Link { .. } | Tag::Image { .. } | Tag::Emphasis | Tag::Strikethrough,
            ) => {
                panic!("markup from a name: {event:?}")
            }
            _ => {}
        }
    }
}

#[test]
fn size_markdown_is_a_gfm_table() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    size_project(dir);
    let (code, json, _) = cli(dir, &["size", "--json"]);
    assert_eq!(code, 0);
    let json: Value = serde_json::from_str(&json).unwrap();
    let (code, md, err) = cli(dir, &["size", "--format", "markdown"]);
    assert_eq!(code, 0, "{err}");
    assert!(md.starts_with("### report\\_fw on p2\n"), "{md}");
    let tables = gfm_tables(&md);
    assert_eq!(tables.len(), 1, "{md}");
    let t = &tables[0];
    assert_eq!(
        t[0],
        [
            "Asset",
            "Size",
            "Compressed",
            "Stored",
            "Storage",
            "Codec",
            "Verdict"
        ]
    );
    let assets = json["assets"].as_array().unwrap();
    assert_eq!(t.len(), assets.len() + 2, "header, assets, total");
    for (row, a) in t[1..].iter().zip(assets) {
        assert_eq!(row[0], a["name"].as_str().unwrap());
        assert_eq!(
            row[4].replace([',', ' ', 'B'], ""),
            a["storage_size"].to_string()
        );
        assert_eq!(row[6], "fits");
    }
    assert_eq!(t.last().unwrap()[0], "6 assets");
    assert_no_markup_but_bold(&md);

    // --all-platforms adds the fit table.
    let (code, md, _) = cli(dir, &["size", "--all-platforms", "--format", "markdown"]);
    assert_eq!(code, 0);
    let tables = gfm_tables(&md);
    assert_eq!(tables.len(), 2, "{md}");
    assert_eq!(tables[1][0][0], "Platform");
    assert!(tables[1].iter().any(|r| r[0] == "p2" && r[7] == "yes"));
}

fn assert_no_markup_but_bold(md: &str) {
    assert_no_markup(md);
}

// ---------------------------------------------------------------- diff

/// Builds a host package twice (the target dir the CLI tests share) and
/// reports the OTA plan between the two bundles.
#[test]
fn diff_report_colours_the_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let root = repo_root();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::create_dir_all(dir.join("assets")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"report_diff\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
             [dependencies]\nassetota = {{ path = \"{}\" }}\n\n\
             [build-dependencies]\nassetota-build = {{ path = \"{}\" }}\n\n\
             [package.metadata.assetota]\ndir = \"assets\"\nplatform = \"p2\"\n\n[workspace]\n",
            root.join("build-support/assetota").display(),
            root.join("build-support/assetota-build").display(),
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("src/main.rs"),
        "assetota::manifest!();\nfn main() {}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("build.rs"),
        "fn main() {\n    assetota_build::embed();\n}\n",
    )
    .unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let a = dir.join("assets");
    std::fs::write(a.join("keep.bin"), noise(20_000, 5)).unwrap();
    std::fs::write(a.join("change.bin"), noise(8_000, 6)).unwrap();
    std::fs::write(a.join("gone.bin"), noise(3_000, 7)).unwrap();
    let build = |dir: &Path| {
        let out = Command::new(env!("CARGO_BIN_EXE_cargo-assetota"))
            .args(["build", "-q"])
            .current_dir(dir)
            .env("CARGO_TARGET_DIR", root.join("target/e2e"))
            .env("CARGO_TERM_COLOR", "never")
            .env_remove("ASSETOTA_PLATFORM")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_BUILD_TARGET")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let bundle = root.join("target/e2e/debug/report_diff.assetota.zip");
    // The target dir is shared and kept: read only what this run builds.
    let _ = std::fs::remove_file(&bundle);
    build(dir);
    std::fs::copy(&bundle, dir.join("old.zip")).unwrap();
    std::fs::write(a.join("change.bin"), noise(9_000, 8)).unwrap();
    std::fs::write(a.join("new.bin"), noise(5_000, 9)).unwrap();
    std::fs::remove_file(a.join("gone.bin")).unwrap();
    std::fs::remove_file(&bundle).unwrap();
    build(dir);
    std::fs::copy(&bundle, dir.join("new.zip")).unwrap();

    let (code, json, err) = cli(dir, &["diff", "--json", "old.zip", "new.zip"]);
    assert_eq!(code, 0, "{err}");
    let plan: Value = serde_json::from_str(&json).unwrap();
    let (code, human_before, _) = cli(dir, &["diff", "old.zip", "new.zip"]);
    assert_eq!(code, 0);
    let (code, human, _) = cli(
        dir,
        &["diff", "old.zip", "new.zip", "--report", "plan.html"],
    );
    assert_eq!(code, 0);
    assert_eq!(human, human_before, "--report leaves the table as it is");
    let html = std::fs::read_to_string(dir.join("plan.html")).unwrap();
    let m = browse(&html, dir, "plan");
    assert_clean(&html, &m);
    let mut weights = Vec::new();
    let mut classes = Vec::new();
    for action in ["send", "keep", "remove"] {
        for asset in plan[action].as_array().unwrap() {
            weights.push((
                asset["name"].as_str().unwrap().to_owned(),
                asset["compressed_size"].as_u64().unwrap(),
            ));
            classes.push(format!("tile {action}"));
        }
    }
    assert_eq!(
        weights.len(),
        5,
        "change and new sent, keep kept, gone and the old change removed"
    );
    let section = &m["sections"][0];
    assert_proportional(section, &weights);
    let got: Vec<&str> = section["tiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["cls"].as_str().unwrap())
        .collect();
    assert_eq!(got, classes);
    let bytes = plan["bytes_to_send"].as_u64().unwrap();
    assert!(html.contains(&format!("<dt>bytes to send</dt><dd>{}", group(bytes))));

    let (code, md, _) = cli(dir, &["diff", "old.zip", "new.zip", "--format", "markdown"]);
    assert_eq!(code, 0);
    let tables = gfm_tables(&md);
    assert_eq!(
        tables[0][0],
        ["Action", "Asset", "Size", "Compressed", "SHA-256"]
    );
    let actions: Vec<&str> = tables[0][1..tables[0].len() - 1]
        .iter()
        .map(|r| r[0].as_str())
        .collect();
    assert_eq!(actions, ["send", "send", "keep", "remove", "remove"]);
    assert_no_markup(&md);
}

/// 12345 as "12,345 B", the way the reports print bytes.
fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    format!("{out} B")
}

// ---------------------------------------------------------------- watch

/// `watch --report` writes the page at the start and again after a change,
/// and only that page reloads itself.
#[test]
fn watch_keeps_the_report_current() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    size_project(dir);
    let page = dir.join("live.html");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cargo-assetota"))
        .args(["watch", "--report", "live.html", "--debounce", "50"])
        .current_dir(dir)
        .env("CARGO_TERM_COLOR", "never")
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .env_remove("ASSETOTA_PLATFORM")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let wait_for = |what: &str, ok: &dyn Fn(&str) -> bool| {
        let deadline = Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Ok(html) = std::fs::read_to_string(&page)
                && ok(&html)
            {
                return html;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    };
    let first = wait_for("the first page", &|h| h.contains("splash.raw"));
    assert!(first.contains("<meta http-equiv=\"refresh\" content=\"2\">"));
    assert!(!first.contains("late.bin"));
    std::fs::write(dir.join("assets/late.bin"), noise(5_000, 10)).unwrap();
    let second = wait_for("the page after a change", &|h| h.contains("late.bin"));
    child.kill().unwrap();
    child.wait().unwrap();
    // A whole page each time (atomic rename), never a torn one.
    assert!(second.ends_with("</html>\n"));
    let m = browse(&second, dir, "live");
    assert_clean(&second, &m);
    assert_eq!(
        m["sections"][0]["tiles"].as_array().unwrap().len(),
        8,
        "7 assets and free"
    );
}
