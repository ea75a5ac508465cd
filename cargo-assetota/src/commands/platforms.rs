//! `cargo assetota platforms`: built-in and configured platforms.

use assetota_core::Config;
use assetota_core::bytesize::Bytes;
use assetota_core::platform::{Origin, Platform};
use serde::Serialize;

use crate::cargo;
use crate::cli::PlatformsArgs;
use crate::error::{Error, Result};
use crate::shell::Shell;
use assetota_bundle::{CodecJson, StorageJson, StoreJson};
use assetota_report::text::Table;

#[derive(Serialize)]
struct PlatformJson {
    name: String,
    aliases: Vec<String>,
    /// `particle` (built in), `generic` or `assetota-store`.
    kind: &'static str,
    origin: String,
    codec: CodecJson,
    limit_total: Option<u64>,
    limit_single: Option<u64>,
    block_size: u64,
    per_block_overhead: u64,
    per_asset_overhead: u64,
    name_in_container: bool,
    max_name_len: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_partition: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ota_partition: Option<u64>,
    /// The device store's flash geometry (kind `assetota-store`).
    #[serde(skip_serializing_if = "Option::is_none")]
    store: Option<StoreJson>,
}

fn to_json(p: &Platform) -> PlatformJson {
    let aliases = assetota_core::platform::builtin_names()
        .into_iter()
        .filter(|n| {
            *n != p.name
                && matches!(p.origin, Origin::BuiltIn)
                && assetota_core::platform::builtin(n).is_some_and(|b| b.name == p.name)
        })
        .map(str::to_owned)
        .collect();
    let l = p.limits.as_ref();
    PlatformJson {
        name: p.name.clone(),
        aliases,
        kind: p.kind(),
        origin: match &p.origin {
            Origin::BuiltIn => "built-in".into(),
            Origin::Config(path) => path.display().to_string(),
            Origin::Unconstrained => "none".into(),
        },
        codec: CodecJson::from_codec(p.codec),
        limit_total: l.map(|l| l.total),
        limit_single: l.and_then(|l| l.max_asset),
        block_size: l.map_or(0, |l| l.block_size),
        per_block_overhead: l.map_or(0, |l| l.per_block_overhead),
        per_asset_overhead: p.container.fixed,
        name_in_container: p.container.includes_name,
        max_name_len: p.max_name_len,
        app_partition: p.firmware_partitions.map(|(a, _)| a),
        ota_partition: p.firmware_partitions.map(|(_, o)| o),
        store: StorageJson::from_platform(p).store,
    }
}

pub fn run(args: PlatformsArgs, shell: &mut Shell) -> Result<()> {
    shell.set_json(args.json);
    let mut platforms = assetota_core::platform::builtin_platforms();
    // Custom platforms of the current package, when there is one that opted in.
    let explicit = args.packages.manifest_path.is_some() || !args.packages.package.is_empty();
    match cargo::metadata(args.packages.manifest_path.as_deref()).and_then(|m| {
        let mut customs = Vec::new();
        for p in cargo::select_packages(&m, &args.packages.package)? {
            if let Some(config) = Config::load(p.manifest_path.as_std_path())? {
                for c in config.custom_platforms {
                    if !customs.iter().any(|x: &Platform| x.name == c.name) {
                        customs.push(c);
                    }
                }
            }
        }
        Ok(customs)
    }) {
        Ok(customs) => platforms.extend(customs),
        Err(e) if explicit => return Err(e),
        Err(Error::NotCargoProject(_) | Error::NotOptedIn { .. } | Error::NoOptedInPackage(_)) => {}
        Err(e) => return Err(e),
    }

    let list: Vec<PlatformJson> = platforms.iter().map(to_json).collect();
    if args.json {
        shell.print_json(&list);
        return Ok(());
    }
    let mut t = Table::new(&[
        "PLATFORM",
        "CODEC",
        "TOTAL LIMIT",
        "SINGLE LIMIT",
        "BLOCK",
        "PER ASSET",
        "FROM",
    ])
    .left_aligned(2);
    for (p, j) in platforms.iter().zip(&list) {
        let name = if j.aliases.is_empty() {
            p.name.clone()
        } else {
            format!("{} ({})", p.name, j.aliases.join(", "))
        };
        t.row(vec![
            name,
            p.codec.to_string(),
            j.limit_total.map_or("-".into(), |v| Bytes(v).to_string()),
            j.limit_single.map_or("-".into(), |v| Bytes(v).to_string()),
            j.block_size.to_string(),
            format!(
                "{}{}",
                j.per_asset_overhead,
                if j.name_in_container { " + name" } else { "" }
            ),
            j.origin.clone(),
        ]);
    }
    shell.print(t.render().trim_end());
    Ok(())
}
