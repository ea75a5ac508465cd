//! `cargo assetota inspect FILE`: the manifest of an ELF, a flat image or a
//! bundle. The report is `assetota_bundle::inspect`'s; this file loads the
//! file and prints.

use assetota_bundle::inspect::{InspectJson, ManifestJson, describe_bundle};
use assetota_core::bytesize::Bytes;

use crate::cli::InspectArgs;
use crate::error::Result;
use crate::files::display_path;
use crate::shell::Shell;
use assetota_bundle::input;
use assetota_report::text::Table;

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
    let report = InspectJson {
        file: display_path(&args.file),
        kind: loaded.kind,
        manifest: ManifestJson::of(&loaded.located, &manifest),
        bundle: loaded.bundle.as_ref().map(|b| &b.manifest),
    };
    if args.json {
        shell.print_json(&report);
        return Ok(());
    }

    let mut text = format!("{} ({})\n", report.file, loaded.kind.describe());
    if let Some(b) = report.bundle {
        text.push_str(&describe_bundle(b));
    }
    text.push_str(&report.manifest.describe());
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
