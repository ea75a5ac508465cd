//! `cargo assetota inspect FILE`: the manifest of an ELF, a flat image or a bundle.

use assetota::Manifest;
use assetota_core::bytesize::Bytes;
use serde::Serialize;

use crate::cli::InspectArgs;
use crate::error::Result;
use crate::input::{self, Kind};
use crate::report::Table;
use crate::shell::Shell;
use assetota_bundle::{BundleManifest, hex};

use crate::files::display_path;

#[derive(Serialize)]
struct InspectJson<'a> {
    file: String,
    kind: Kind,
    manifest: ManifestJson,
    #[serde(skip_serializing_if = "Option::is_none")]
    bundle: Option<&'a BundleManifest>,
}

#[derive(Serialize)]
pub struct ManifestJson {
    pub offset: u64,
    pub size: u64,
    pub found_by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_address: Option<u64>,
    pub format_version: u16,
    pub platform: Option<String>,
    pub assets: Vec<ManifestAssetJson>,
}

#[derive(Serialize)]
pub struct ManifestAssetJson {
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub compressed_size: u64,
    pub stored_size: u64,
    pub codec: String,
}

pub fn manifest_assets(m: &Manifest<'_>) -> Vec<ManifestAssetJson> {
    m.iter()
        .map(|a| ManifestAssetJson {
            name: a.name().to_owned(),
            size: a.size(),
            sha256: hex(a.sha256()),
            compressed_size: a.compressed_size(),
            stored_size: a.stored_size(),
            codec: a.codec().to_string(),
        })
        .collect()
}

pub fn run(args: InspectArgs, shell: &mut Shell) -> Result<()> {
    if let Some(result) = crate::w800::inspect(&args, shell) {
        return result;
    }
    if let Some(result) = crate::particle::inspect::inspect(&args, shell) {
        return result;
    }
    shell.set_json(args.json);
    let loaded = input::load(&args.file)?;
    let manifest = loaded.manifest()?;
    let located = &loaded.located;
    let report = InspectJson {
        file: display_path(&args.file),
        kind: loaded.kind,
        manifest: ManifestJson {
            offset: located.offset as u64,
            size: manifest.byte_len() as u64,
            found_by: located.found_by.clone(),
            load_address: located.load_address,
            format_version: assetota::FORMAT_VERSION,
            platform: manifest.platform().map(str::to_owned),
            assets: manifest_assets(&manifest),
        },
        bundle: loaded.bundle.as_ref().map(|b| &b.manifest),
    };
    if args.json {
        shell.print_json(&report);
        return Ok(());
    }

    let mut text = format!("{} ({})\n", report.file, loaded.kind.describe());
    if let Some(b) = report.bundle {
        text.push_str(&format!(
            "  package:   {} {}\n  target:    {}\n  firmware:  {} ({}, {}, sha256 {})\n",
            b.package.name,
            b.package.version,
            b.target.as_deref().unwrap_or("-"),
            b.firmware.file,
            b.firmware.format,
            Bytes(b.firmware.size),
            b.firmware.sha256
        ));
    }
    text.push_str(&format!(
        "  manifest:  v{}, {} at offset {:#x} ({}){}\n  platform:  {}\n",
        assetota::FORMAT_VERSION,
        Bytes(report.manifest.size),
        report.manifest.offset,
        report.manifest.found_by,
        report
            .manifest
            .load_address
            .map(|a| format!(", load address {a:#010x}"))
            .unwrap_or_default(),
        report.manifest.platform.as_deref().unwrap_or("(none)"),
    ));
    let mut t =
        Table::new(&["ASSET", "SIZE", "COMPRESSED", "STORED", "CODEC", "SHA-256"]).left_aligned(1);
    for a in &report.manifest.assets {
        t.row(vec![
            a.name.clone(),
            Bytes(a.size).to_string(),
            Bytes(a.compressed_size).to_string(),
            Bytes(a.stored_size).to_string(),
            a.codec.clone(),
            a.sha256.clone(),
        ]);
    }
    let n = report.manifest.assets.len();
    text.push_str(&format!("  assets:    {n}\n{}", t.render()));
    shell.print(text.trim_end());
    Ok(())
}
