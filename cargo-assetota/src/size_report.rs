//! One package's budget as a section of an HTML or Markdown report, shared by
//! `size --report`, `diff --report` and `watch --report`.

use std::path::Path;

use assetota_core::bytesize::Bytes;
use assetota_core::{Budget, Verdict};

use crate::error::Result;
use crate::report;
use assetota_firmware::fit::FirmwareCheck;
use assetota_report::{self as report_html, Cell, Class, Column, Section, Table, Tile};

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
    report_html::utc_date(secs)
}

/// Writes a report page atomically (readers see the old page or the new one).
pub fn write_report(path: &Path, html: &str) -> Result<()> {
    crate::files::write_atomically(path, html.as_bytes())
}

fn verdict_class(v: Verdict) -> Class {
    match v {
        Verdict::Fits => Class::Fits,
        Verdict::Near => Class::Near,
        Verdict::Over => Class::Over,
    }
}

pub fn limit_text(limit: Option<u64>) -> String {
    limit.map_or_else(|| "none".to_owned(), |l| Bytes(l).to_string())
}

fn pct_text(used: u64, limit: Option<u64>) -> String {
    limit.map_or_else(String::new, |l| {
        format!(" ({}%)", assetota_core::budget::percent(used, l))
    })
}

/// One package's budget as a report section: the treemap of storage in the
/// partition (free space as its own tile), the limits, the asset table.
pub fn size_section(package: &str, budget: &Budget, firmware: Option<&FirmwareCheck>) -> Section {
    let p = &budget.platform;
    let platform = report::platform_name(p);
    let heading = match &platform {
        Some(name) => format!("{package} on {name}"),
        None => format!("{package} (no platform: sizes only)"),
    };
    let largest = budget
        .assets
        .iter()
        .map(|a| a.stored_size)
        .max()
        .unwrap_or(0);
    let mut meta = vec![
        ("package".to_owned(), package.to_owned()),
        (
            "platform".to_owned(),
            platform.clone().unwrap_or_else(|| "none".to_owned()),
        ),
        ("codec".to_owned(), p.codec.to_string()),
        ("total limit".to_owned(), limit_text(budget.limit_total)),
        (
            "single-asset limit".to_owned(),
            limit_text(budget.limit_single),
        ),
        (
            "used".to_owned(),
            format!(
                "{}{}",
                Bytes(budget.total_storage_size),
                pct_text(budget.total_storage_size, budget.limit_total)
            ),
        ),
        (
            "largest stored".to_owned(),
            format!(
                "{}{}",
                Bytes(largest),
                pct_text(largest, budget.limit_single)
            ),
        ),
    ];
    if let Some(f) = firmware {
        meta.push(("firmware".to_owned(), f.summary()));
    }
    let verdict = match (budget.verdict(), firmware) {
        (_, Some(f)) if !f.fits => Verdict::Over,
        (v, _) => v,
    };
    let summary = format!(
        "{}: {}",
        match verdict {
            Verdict::Fits => "Fits",
            Verdict::Near => "Near a limit",
            Verdict::Over => "Over budget",
        },
        report::budget_line(budget)
    );
    let tiles = budget
        .assets
        .iter()
        .map(|a| Tile {
            name: a.measured.name.clone(),
            area: a.storage_size,
            inner: a.stored_size.min(a.storage_size),
            class: verdict_class(a.verdict),
            detail: format!(
                "{} storage, {} stored, {} compressed, {} raw, {}",
                Bytes(a.storage_size),
                Bytes(a.stored_size),
                Bytes(a.measured.compressed_size),
                Bytes(a.measured.size),
                a.verdict.as_str()
            ),
        })
        .collect();
    let free = budget
        .limit_total
        .map_or(0, |l| l.saturating_sub(budget.total_storage_size));
    let free_label = format!("{} free of {}", Bytes(free), limit_text(budget.limit_total));
    let mut table = Table {
        columns: vec![
            Column::text("Asset"),
            Column::number("Size"),
            Column::number("Compressed"),
            Column::number("Stored"),
            Column::number("Storage"),
            Column::text("Codec"),
            Column::text("Verdict"),
        ],
        ..Table::default()
    };
    for a in &budget.assets {
        table.rows.push(vec![
            Cell::text(a.measured.name.clone()),
            Cell::number(Bytes(a.measured.size).to_string(), a.measured.size),
            Cell::number(
                Bytes(a.measured.compressed_size).to_string(),
                a.measured.compressed_size,
            ),
            Cell::number(Bytes(a.stored_size).to_string(), a.stored_size),
            Cell::number(Bytes(a.storage_size).to_string(), a.storage_size),
            Cell::text(a.codec.kind()),
            Cell::text(a.verdict.as_str()).class(verdict_class(a.verdict)),
        ]);
    }
    table.footer = Some(vec![
        Cell::text(report::count(budget.assets.len(), "asset")),
        Cell::number(Bytes(budget.total_size).to_string(), budget.total_size),
        Cell::number(
            Bytes(budget.total_compressed_size).to_string(),
            budget.total_compressed_size,
        ),
        Cell::number(
            Bytes(budget.total_stored_size).to_string(),
            budget.total_stored_size,
        ),
        Cell::number(
            Bytes(budget.total_storage_size).to_string(),
            budget.total_storage_size,
        ),
        Cell::text(""),
        Cell::text(budget.verdict().as_str()).class(verdict_class(budget.verdict())),
    ]);
    Section {
        heading,
        meta,
        summary,
        summary_class: verdict_class(verdict),
        area_unit: "storage (what the partition gives each asset, in whole blocks)".to_owned(),
        tiles,
        free,
        free_label,
        table,
        platforms: None,
    }
}
