//! `cargo assetota export BUNDLE DIR`: verify the bundle, write its static,
//! content-addressed layout (`assetota_bundle::export`, README.md, "Delivery: export and serve"),
//! and say what was added and kept.

use std::path::Path;

use assetota_bundle::export::Summary;

use crate::cli::{ExportArgs, VerifyArgs};
use crate::error::{Error, Result};
use crate::files::display_path;
use crate::shell::Shell;

pub fn run(args: ExportArgs, shell: &mut Shell) -> Result<()> {
    let summary = export(&args.bundle, &args.dir, shell)?;
    shell.set_json(args.json);
    if args.json {
        shell.print_json(&summary);
    }
    report(shell, &summary);
    Ok(())
}

/// Prints the human summary (a status line; `-q` hides it).
pub fn report(shell: &mut Shell, s: &Summary) {
    shell.status("Exported", s.describe());
}

/// Verifies `bundle_path` (as `verify` does), then writes its layout into `dir`.
pub fn export(bundle_path: &Path, dir: &Path, shell: &mut Shell) -> Result<Summary> {
    // The whole check `verify` does, with its report; a bundle it refuses is
    // refused here before the directory is touched.
    super::verify::run(
        VerifyArgs {
            bundle: bundle_path.to_owned(),
            platform: None,
            json: false,
        },
        shell,
    )?;
    // Read once more, into memory: the layout is checked again from these
    // bytes, so a bundle replaced since it was verified cannot slip through.
    let bytes = std::fs::read(bundle_path).map_err(|source| Error::Read {
        path: bundle_path.to_owned(),
        source,
    })?;
    let mut summary = assetota_bundle::export::export(bundle_path, &bytes, dir)?;
    summary.dir = match display_path(dir) {
        shown if shown.is_empty() => ".".to_owned(),
        shown => shown,
    };
    Ok(summary)
}
