//! One package's budget as a section of an HTML or Markdown report, shared by
//! `size --report`, `diff --report` and `watch --report`, and the fit of every
//! platform (`size --all-platforms --report`).

use assetota_core::bytesize::Bytes;
use assetota_core::{Budget, Verdict};
use assetota_firmware::fit::FirmwareCheck;

use crate::size_json::platform_name;
use crate::text::{budget_line, count};
use crate::{Cell, Class, Column, Section, Table, Tile};

fn verdict_class(v: Verdict) -> Class {
    match v {
        Verdict::Fits => Class::Fits,
        Verdict::Near => Class::Near,
        Verdict::Over => Class::Over,
    }
}

/// A limit's size, or `none`.
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
    let platform = platform_name(p);
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
        budget_line(budget)
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
        Cell::text(count(budget.assets.len(), "asset")),
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

/// The fit of every platform, as a table: a row per platform, with the
/// reason where one refuses the assets.
pub fn platforms_table(rows: &[(String, std::result::Result<Budget, String>)]) -> Table {
    let mut t = Table {
        columns: vec![
            Column::text("Platform"),
            Column::text("Codec"),
            Column::number("Storage"),
            Column::number("Total limit"),
            Column::number("Used"),
            Column::number("Largest stored"),
            Column::number("Single limit"),
            Column::text("Fits"),
        ],
        ..Table::default()
    };
    for (name, row) in rows {
        let Ok(b) = row else {
            let reason = row.as_ref().err().cloned().unwrap_or_default();
            t.rows.push(vec![
                Cell::text(name.clone()),
                Cell::text("-"),
                Cell::number("-", 0),
                Cell::number("-", 0),
                Cell::number("-", 0),
                Cell::number("-", 0),
                Cell::number("-", 0),
                Cell::text(format!("no (refused: {reason})")).class(Class::Over),
            ]);
            continue;
        };
        let largest = b.assets.iter().map(|a| a.stored_size).max().unwrap_or(0);
        let used = b
            .limit_total
            .map(|l| assetota_core::budget::percent(b.total_storage_size, l));
        t.rows.push(vec![
            Cell::text(b.platform.name.clone()),
            Cell::text(b.platform.codec.kind()),
            Cell::number(
                Bytes(b.total_storage_size).to_string(),
                b.total_storage_size,
            ),
            Cell::number(limit_text(b.limit_total), b.limit_total.unwrap_or(0)),
            Cell::number(
                used.map_or("-".into(), |u| format!("{u}%")),
                used.unwrap_or(0),
            ),
            Cell::number(Bytes(largest).to_string(), largest),
            Cell::number(limit_text(b.limit_single), b.limit_single.unwrap_or(0)),
            match b.verdict() {
                Verdict::Fits => Cell::text("yes").class(Class::Fits),
                Verdict::Near => Cell::text("yes (near)").class(Class::Near),
                Verdict::Over => Cell::text("no").class(Class::Over),
            },
        ]);
    }
    t
}
