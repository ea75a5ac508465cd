//! The plan as a section of an HTML or Markdown report (`diff --report`).

use std::path::Path;

use assetota_core::bytesize::Bytes;

use super::plan::Plan;
use crate::{Cell, Class, Column, Section, Table, Tile};

/// The plan as a report section: every asset of NEW (sent or kept) and of
/// OLD that goes away, by compressed size, coloured by what the OTA does.
pub fn plan_section(old: &Path, new: &Path, plan: &Plan) -> Section {
    let Plan {
        send,
        keep,
        remove,
        bytes_to_send,
        ..
    } = plan;
    let bytes_to_send = *bytes_to_send;
    let new_count = plan.new_count();
    let file = |p: &Path| {
        p.file_name().map_or_else(
            || p.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    let heading = format!("{} to {}", file(old), file(new));
    let mut meta = vec![
        ("old".to_owned(), old.display().to_string()),
        ("new".to_owned(), new.display().to_string()),
    ];
    if let (Some(o), Some(n)) = (&plan.old_version, &plan.new_version) {
        meta.push(("version".to_owned(), format!("{o} -> {n}")));
    }
    meta.push(("bytes to send".to_owned(), Bytes(bytes_to_send).to_string()));
    let summary = format!(
        "Send {} of {} asset{}: {} to transfer ({} to keep, {} to remove)",
        send.len(),
        new_count,
        if new_count == 1 { "" } else { "s" },
        Bytes(bytes_to_send),
        keep.len(),
        remove.len()
    );
    let mut tiles = Vec::new();
    let mut table = Table {
        columns: vec![
            Column::text("Action"),
            Column::text("Asset"),
            Column::number("Size"),
            Column::number("Compressed"),
            Column::text("SHA-256"),
        ],
        ..Table::default()
    };
    for (action, class, list) in [
        ("send", Class::Send, send),
        ("keep", Class::Keep, keep),
        ("remove", Class::Remove, remove),
    ] {
        for a in list {
            tiles.push(Tile {
                name: a.name.clone(),
                area: a.compressed_size,
                inner: a.compressed_size,
                class,
                detail: format!(
                    "{} compressed, {} raw, {action}",
                    Bytes(a.compressed_size),
                    Bytes(a.size)
                ),
            });
            table.rows.push(vec![
                Cell::text(action).class(class),
                Cell::text(a.name.clone()),
                Cell::number(Bytes(a.size).to_string(), a.size),
                Cell::number(Bytes(a.compressed_size).to_string(), a.compressed_size),
                Cell::text(a.sha256.get(..16).unwrap_or(&a.sha256)),
            ]);
        }
    }
    table.footer = Some(vec![
        Cell::text("to send"),
        Cell::text(format!(
            "{} asset{}",
            send.len(),
            if send.len() == 1 { "" } else { "s" }
        )),
        Cell::number(Bytes(send.iter().map(|a| a.size).sum()).to_string(), 0),
        Cell::number(Bytes(bytes_to_send).to_string(), bytes_to_send),
        Cell::text(""),
    ]);
    Section {
        heading,
        meta,
        summary,
        summary_class: Class::Send,
        area_unit: "compressed bytes (what an OTA transfers)".to_owned(),
        tiles,
        free: 0,
        free_label: String::new(),
        table,
        platforms: None,
    }
}
