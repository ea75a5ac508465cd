//! `cargo assetota diff OLD NEW`: the OTA transfer plan under the (name, SHA-256)
//! identity: what to send, what the device keeps, what it can remove.

use std::path::Path;

use assetota_core::bytesize::Bytes;
use cargo_metadata::semver::Version;
use serde::Serialize;

use crate::cli::{DiffArgs, OutputFormat};
use crate::error::Result;
use crate::shell::Shell;
use assetota_bundle::hex;
use assetota_bundle::input::{self, Kind};
use assetota_report::text::Table;
use assetota_report::{self as report_html, Cell, Class, Column, Report, Section, Tile};

#[derive(Debug, Clone, Serialize)]
pub struct DiffAsset {
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub compressed_size: u64,
}

#[derive(Debug, Serialize)]
struct DiffJson {
    send: Vec<DiffAsset>,
    keep: Vec<DiffAsset>,
    remove: Vec<DiffAsset>,
    bytes_to_send: u64,
    old_version: Option<String>,
    new_version: Option<String>,
    version_goes_down: bool,
}

struct Side {
    assets: Vec<DiffAsset>,
    version: Option<String>,
}

fn load(path: &Path) -> Result<Side> {
    let loaded = input::load(path)?;
    if loaded.kind == Kind::Bundle {
        let b = &loaded
            .bundle
            .as_ref()
            .expect("bundles carry their contents")
            .manifest;
        return Ok(Side {
            assets: b
                .assets
                .iter()
                .map(|a| DiffAsset {
                    name: a.name.clone(),
                    size: a.size,
                    sha256: a.sha256.clone(),
                    compressed_size: a.compressed_size,
                })
                .collect(),
            version: Some(b.package.version.clone()),
        });
    }
    let m = loaded.manifest()?;
    Ok(Side {
        assets: m
            .iter()
            .map(|a| DiffAsset {
                name: a.name().to_owned(),
                size: a.size(),
                sha256: hex(a.sha256()),
                compressed_size: a.compressed_size(),
            })
            .collect(),
        version: None,
    })
}

pub fn run(args: DiffArgs, shell: &mut Shell) -> Result<()> {
    let format = if args.json {
        OutputFormat::Json
    } else {
        args.format.unwrap_or(OutputFormat::Human)
    };
    shell.set_json(format == OutputFormat::Json);
    let old = load(&args.old)?;
    let new = load(&args.new)?;
    let same = |a: &DiffAsset, b: &DiffAsset| a.name == b.name && a.sha256 == b.sha256;
    let (keep, send): (Vec<DiffAsset>, Vec<DiffAsset>) = new
        .assets
        .iter()
        .cloned()
        .partition(|n| old.assets.iter().any(|o| same(o, n)));
    let remove: Vec<DiffAsset> = old
        .assets
        .iter()
        .filter(|o| !new.assets.iter().any(|n| same(o, n)))
        .cloned()
        .collect();
    let bytes_to_send = send.iter().map(|a| a.compressed_size).sum();

    let goes_down = match (&old.version, &new.version) {
        (Some(o), Some(n)) => match (Version::parse(o), Version::parse(n)) {
            (Ok(o), Ok(n)) => n < o,
            _ => false,
        },
        _ => false,
    };
    if goes_down {
        shell.warn(format_args!(
            "the package version goes down from {} to {}; devices that refuse downgrades will reject this update",
            old.version.as_deref().unwrap_or("?"),
            new.version.as_deref().unwrap_or("?")
        ));
    }

    if args.report.is_some() || format == OutputFormat::Markdown {
        let section = plan_section(&args, &old, &new, &send, &keep, &remove, bytes_to_send);
        let page = Report {
            title: format!("OTA plan: {}", section.heading),
            date: report_html::report_date(),
            refresh_seconds: None,
            sections: vec![section],
        };
        if let Some(path) = &args.report {
            crate::files::write_atomically(path, report_html::page::render(&page).as_bytes())?;
        }
        if format == OutputFormat::Markdown {
            shell.print(report_html::markdown::render(&page));
            return Ok(());
        }
    }
    if format == OutputFormat::Json {
        shell.print_json(&DiffJson {
            send,
            keep,
            remove,
            bytes_to_send,
            old_version: old.version,
            new_version: new.version,
            version_goes_down: goes_down,
        });
        return Ok(());
    }
    let mut t = Table::new(&["ACTION", "ASSET", "SIZE", "COMPRESSED", "SHA-256"]).left_aligned(2);
    for (action, list) in [("send", &send), ("keep", &keep), ("remove", &remove)] {
        for a in list {
            t.row(vec![
                action.into(),
                a.name.clone(),
                Bytes(a.size).to_string(),
                Bytes(a.compressed_size).to_string(),
                a.sha256[..16].to_owned(),
            ]);
        }
    }
    let version = match (&old.version, &new.version) {
        (Some(o), Some(n)) => format!(" (version {o} -> {n})"),
        _ => String::new(),
    };
    shell.print(format!(
        "OTA plan from `{}` to `{}`{version}\n{}  send {} of {} asset{}: {} to transfer ({} to keep, {} to remove)",
        args.old.display(),
        args.new.display(),
        t.render(),
        send.len(),
        new.assets.len(),
        if new.assets.len() == 1 { "" } else { "s" },
        Bytes(bytes_to_send),
        keep.len(),
        remove.len()
    ));
    Ok(())
}

/// The plan as a report section: every asset of NEW (sent or kept) and of
/// OLD that goes away, by compressed size, coloured by what the OTA does.
fn plan_section(
    args: &DiffArgs,
    old: &Side,
    new: &Side,
    send: &[DiffAsset],
    keep: &[DiffAsset],
    remove: &[DiffAsset],
    bytes_to_send: u64,
) -> Section {
    let file = |p: &Path| {
        p.file_name().map_or_else(
            || p.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    let heading = format!("{} to {}", file(&args.old), file(&args.new));
    let mut meta = vec![
        ("old".to_owned(), args.old.display().to_string()),
        ("new".to_owned(), args.new.display().to_string()),
    ];
    if let (Some(o), Some(n)) = (&old.version, &new.version) {
        meta.push(("version".to_owned(), format!("{o} -> {n}")));
    }
    meta.push(("bytes to send".to_owned(), Bytes(bytes_to_send).to_string()));
    let summary = format!(
        "Send {} of {} asset{}: {} to transfer ({} to keep, {} to remove)",
        send.len(),
        new.assets.len(),
        if new.assets.len() == 1 { "" } else { "s" },
        Bytes(bytes_to_send),
        keep.len(),
        remove.len()
    );
    let mut tiles = Vec::new();
    let mut table = report_html::Table {
        columns: vec![
            Column::text("Action"),
            Column::text("Asset"),
            Column::number("Size"),
            Column::number("Compressed"),
            Column::text("SHA-256"),
        ],
        ..report_html::Table::default()
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
