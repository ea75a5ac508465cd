//! `[package.metadata.assetota]` and the custom platforms in
//! `[package.metadata.assetota.platforms.*]` and
//! `[workspace.metadata.assetota.platforms.*]`.
//!
//! A bad value is an error naming the file, line and key; nothing falls back
//! silently to a default.

use crate::bytesize::parse_byte_size;
use crate::codec::{Codec, PARTICLE_DEFLATE};
use crate::esp;
use crate::names::DEFAULT_MAX_NAME_LEN;
use crate::partition::{PartitionError, PartitionTable};
use crate::platform::{self, Container, Limits, Origin, Platform};
use assetota_store::GeometryError;
use std::path::{Path, PathBuf};
use toml_edit::{Item, TableLike, Value};

/// The environment variable that overrides the platform for one build.
pub const PLATFORM_ENV: &str = "ASSETOTA_PLATFORM";

const PACKAGE_KEYS: &[&str] = &["dir", "platform", "codec", "exclude", "platforms"];
const PLATFORM_KEYS: &[&str] = &[
    "kind",
    "total",
    "partition-table",
    "partition",
    "max-asset",
    "block-size",
    "per-block-overhead",
    "per-asset-overhead",
    "reserved-blocks",
    "codec",
    "max-name",
    "app-partition",
    "ota-partition",
    "chip",
];
/// The keys of a platform of kind `assetota-store`.
const STORE_KEYS: &[&str] = &[
    "kind",
    "partition-size",
    "total",
    "partition-table",
    "partition",
    "partition-offset",
    "erase-size",
    "write-size",
    "max-asset",
    "codec",
    "max-name",
    "app-partition",
    "ota-partition",
    "chip",
];
/// Keys of the generic block model that the store's layout fixes.
const BLOCK_MODEL_KEYS: &[&str] = &[
    "block-size",
    "per-block-overhead",
    "per-asset-overhead",
    "reserved-blocks",
];
/// Keys that only a store platform has.
const STORE_ONLY_KEYS: &[&str] = &[
    "partition-size",
    "partition-offset",
    "erase-size",
    "write-size",
];
const CODEC_KEYS: &[&str] = &["kind", "level", "window-bits", "dict-size"];

/// The asset configuration of one package.
#[derive(Debug, Clone)]
pub struct Config {
    /// The package's Cargo.toml.
    pub manifest_path: PathBuf,
    /// The assets directory, made absolute against the package root.
    pub dir: PathBuf,
    /// The platform named in the config, if any.
    pub platform: Option<String>,
    /// A codec that overrides the platform's.
    pub codec: Option<Codec>,
    pub exclude: Vec<String>,
    /// Custom platforms: the package's first, then the workspace's.
    pub custom_platforms: Vec<Platform>,
    /// Every file the config was read from (manifests, partition tables), so
    /// build.rs can rerun when one changes.
    pub inputs: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{}` is not valid TOML: {message}", path.display())]
    Toml { path: PathBuf, message: String },
    #[error("{}{}: `{key}` {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Key {
        path: PathBuf,
        line: Option<usize>,
        key: String,
        message: String,
    },
    #[error("unknown platform `{name}` (from {source_of_name}); known platforms: {}; or define it under [package.metadata.assetota.platforms.{name}]", known.join(", "))]
    UnknownPlatform {
        name: String,
        source_of_name: String,
        known: Vec<String>,
    },
    #[error(transparent)]
    Partition(#[from] PartitionError),
}

/// Where a document came from, with its text, so errors can give a line.
struct Source<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    fn error(
        &self,
        item_span: Option<std::ops::Range<usize>>,
        key: &str,
        message: impl Into<String>,
    ) -> ConfigError {
        let line = item_span.map(|span| {
            self.text[..span.start.min(self.text.len())]
                .matches('\n')
                .count()
                + 1
        });
        ConfigError::Key {
            path: self.path.to_owned(),
            line,
            key: key.to_owned(),
            message: message.into(),
        }
    }
}

fn read_document(path: &Path) -> Result<(String, toml_edit::Document<String>), ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let doc = toml_edit::Document::parse(text.clone()).map_err(|e| ConfigError::Toml {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    Ok((text, doc))
}

fn table_at<'d>(doc: &'d toml_edit::Document<String>, path: &[&str]) -> Option<&'d dyn TableLike> {
    let mut item: &Item = doc.as_item();
    for key in path {
        item = item.as_table_like()?.get(key)?;
    }
    item.as_table_like()
}

impl Config {
    /// Reads the package's config. `Ok(None)` when the package has no
    /// `[package.metadata.assetota]` table (it has not opted in).
    pub fn load(manifest_path: &Path) -> Result<Option<Config>, ConfigError> {
        let (text, doc) = read_document(manifest_path)?;
        let src = Source {
            path: manifest_path,
            text: &text,
        };
        let Some(table) = table_at(&doc, &["package", "metadata", "assetota"]) else {
            return Ok(None);
        };
        let prefix = "package.metadata.assetota";
        check_keys(&src, table, prefix, PACKAGE_KEYS)?;
        let root = manifest_path.parent().unwrap_or(Path::new("."));

        let dir_item = table.get("dir").ok_or_else(|| {
            src.error(None, &format!("{prefix}.dir"), "is missing; add `dir = \"assets\"` (the assets directory, relative to the package)")
        })?;
        let dir = string(&src, dir_item, &format!("{prefix}.dir"))?;
        if dir.is_empty() {
            return Err(src.error(
                dir_item.span(),
                &format!("{prefix}.dir"),
                "is empty; name the assets directory, e.g. \"assets\"",
            ));
        }
        let platform = table
            .get("platform")
            .map(|i| string(&src, i, &format!("{prefix}.platform")))
            .transpose()?;
        let codec = table
            .get("codec")
            .map(|i| codec(&src, i, &format!("{prefix}.codec")))
            .transpose()?;
        let exclude = match table.get("exclude") {
            None => Vec::new(),
            Some(item) => string_array(&src, item, &format!("{prefix}.exclude"))?,
        };

        let mut custom_platforms = Vec::new();
        let mut inputs = vec![manifest_path.to_owned()];
        if let Some(item) = table.get("platforms") {
            custom_platforms.extend(platforms(
                &src,
                item,
                &format!("{prefix}.platforms"),
                root,
                &mut inputs,
            )?);
        }
        if let Some(ws) = find_workspace_manifest(root) {
            if ws != manifest_path {
                inputs.push(ws.clone());
                let (ws_text, ws_doc) = read_document(&ws)?;
                let ws_src = Source {
                    path: &ws,
                    text: &ws_text,
                };
                if let Some(item) = table_at(&ws_doc, &["workspace", "metadata", "assetota"])
                    .and_then(|t| t.get("platforms"))
                {
                    let ws_root = ws.parent().unwrap_or(Path::new("."));
                    custom_platforms.extend(platforms(
                        &ws_src,
                        item,
                        "workspace.metadata.assetota.platforms",
                        ws_root,
                        &mut inputs,
                    )?);
                }
            } else if let Some(item) = table_at(&doc, &["workspace", "metadata", "assetota"])
                .and_then(|t| t.get("platforms"))
            {
                custom_platforms.extend(platforms(
                    &src,
                    item,
                    "workspace.metadata.assetota.platforms",
                    root,
                    &mut inputs,
                )?);
            }
        }

        Ok(Some(Config {
            manifest_path: manifest_path.to_owned(),
            dir: root.join(dir),
            platform,
            codec,
            exclude,
            custom_platforms,
            inputs,
        }))
    }

    /// The platform to budget against: `override_name` (from
    /// `ASSETOTA_PLATFORM` or `--platform`) wins over the config's `platform`.
    /// Without either, sizes are computed with no limits.
    pub fn resolve_platform(
        &self,
        override_name: Option<(&str, &str)>,
    ) -> Result<Platform, ConfigError> {
        let chosen = override_name
            .map(|(name, from)| (name.to_owned(), from.to_owned()))
            .or_else(|| {
                self.platform.clone().map(|name| {
                    (
                        name,
                        format!("`platform` in {}", self.manifest_path.display()),
                    )
                })
            });
        let mut platform = match chosen {
            None => platform::unconstrained(PARTICLE_DEFLATE),
            Some((name, from)) => {
                self.find_platform(&name)
                    .ok_or_else(|| ConfigError::UnknownPlatform {
                        known: self.known_platform_names(),
                        name,
                        source_of_name: from,
                    })?
            }
        };
        if let Some(codec) = self.codec {
            platform.codec = codec;
        }
        Ok(platform)
    }

    fn find_platform(&self, name: &str) -> Option<Platform> {
        self.custom_platforms
            .iter()
            .find(|p| p.name == name)
            .cloned()
            .or_else(|| platform::builtin(name))
    }

    /// Built-in and custom platform names, for "did you mean" lists.
    pub fn known_platform_names(&self) -> Vec<String> {
        let mut names: Vec<String> = platform::builtin_names()
            .into_iter()
            .map(str::to_owned)
            .collect();
        names.extend(self.custom_platforms.iter().map(|p| p.name.clone()));
        names
    }
}

/// The nearest `Cargo.toml` at or above `start` that has a `[workspace]` table.
pub fn find_workspace_manifest(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join("Cargo.toml"))
        .find(|candidate| {
            std::fs::read_to_string(candidate)
                .ok()
                .and_then(|text| toml_edit::Document::parse(text).ok())
                .is_some_and(|doc| doc.as_table().contains_key("workspace"))
        })
}

fn check_keys(
    src: &Source,
    table: &dyn TableLike,
    prefix: &str,
    known: &[&str],
) -> Result<(), ConfigError> {
    for (key, item) in table.iter() {
        if !known.contains(&key) {
            return Err(src.error(
                item.span(),
                &format!("{prefix}.{key}"),
                format!("is not a known key; known keys here: {}", known.join(", ")),
            ));
        }
    }
    Ok(())
}

fn string(src: &Source, item: &Item, key: &str) -> Result<String, ConfigError> {
    item.as_str()
        .map(str::to_owned)
        .ok_or_else(|| src.error(item.span(), key, "must be a string"))
}

fn string_array(src: &Source, item: &Item, key: &str) -> Result<Vec<String>, ConfigError> {
    let array = item.as_array().ok_or_else(|| {
        src.error(
            item.span(),
            key,
            "must be an array of strings, e.g. [\"*.psd\"]",
        )
    })?;
    array
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or_else(|| src.error(v.span(), key, "must contain only strings"))
        })
        .collect()
}

fn size(src: &Source, item: &Item, key: &str) -> Result<u64, ConfigError> {
    match item.as_value() {
        Some(Value::Integer(i)) => u64::try_from(*i.value())
            .map_err(|_| src.error(item.span(), key, "must not be negative")),
        Some(Value::String(s)) => {
            parse_byte_size(s.value()).map_err(|e| src.error(item.span(), key, e.to_string()))
        }
        _ => Err(src.error(
            item.span(),
            key,
            "must be a byte count (4096) or a size string (\"64 KiB\")",
        )),
    }
}

fn small_int(src: &Source, item: &Item, key: &str) -> Result<u32, ConfigError> {
    item.as_integer()
        .and_then(|i| u32::try_from(i).ok())
        .ok_or_else(|| src.error(item.span(), key, "must be a non-negative integer"))
}

fn codec(src: &Source, item: &Item, key: &str) -> Result<Codec, ConfigError> {
    if let Some(kind) = item.as_str() {
        return Codec::from_parts(kind, None, None, None)
            .map_err(|e| src.error(item.span(), key, e.to_string()));
    }
    let table = item.as_table_like().ok_or_else(|| {
        src.error(item.span(), key, "must be \"deflate\", \"xz\", \"none\" or a table like { kind = \"xz\", dict-size = \"64 KiB\" }")
    })?;
    check_keys(src, table, key, CODEC_KEYS)?;
    let kind_item = table.get("kind").ok_or_else(|| {
        src.error(
            item.span(),
            &format!("{key}.kind"),
            "is missing; use \"deflate\", \"xz\" or \"none\"",
        )
    })?;
    let kind = string(src, kind_item, &format!("{key}.kind"))?;
    let level = table
        .get("level")
        .map(|i| small_int(src, i, &format!("{key}.level")))
        .transpose()?;
    let window = table
        .get("window-bits")
        .map(|i| small_int(src, i, &format!("{key}.window-bits")))
        .transpose()?;
    let dict = table
        .get("dict-size")
        .map(|i| size(src, i, &format!("{key}.dict-size")))
        .transpose()?;
    Codec::from_parts(&kind, level, window, dict)
        .map_err(|e| src.error(item.span(), key, e.to_string()))
}

fn platforms(
    src: &Source,
    item: &Item,
    prefix: &str,
    root: &Path,
    inputs: &mut Vec<PathBuf>,
) -> Result<Vec<Platform>, ConfigError> {
    let table = item
        .as_table_like()
        .ok_or_else(|| src.error(item.span(), prefix, "must be a table of platforms"))?;
    let mut out = Vec::new();
    for (name, def) in table.iter() {
        let key = format!("{prefix}.{name}");
        if platform::builtin(name).is_some() {
            return Err(src.error(
                def.span(),
                &key,
                "has the name of a built-in platform; give your platform another name",
            ));
        }
        out.push(custom_platform(src, name, def, &key, root, inputs)?);
    }
    Ok(out)
}

/// The platform's `partition-table`, read relative to the package root; the
/// file joins the inputs a rebuild watches.
fn partition_table(
    file: Option<String>,
    root: &Path,
    inputs: &mut Vec<PathBuf>,
) -> Result<Option<PartitionTable>, ConfigError> {
    let Some(file) = file else {
        return Ok(None);
    };
    let path = root.join(file);
    inputs.push(path.clone());
    Ok(Some(PartitionTable::read(&path)?))
}

fn custom_platform(
    src: &Source,
    name: &str,
    item: &Item,
    prefix: &str,
    root: &Path,
    inputs: &mut Vec<PathBuf>,
) -> Result<Platform, ConfigError> {
    let table = item
        .as_table_like()
        .ok_or_else(|| src.error(item.span(), prefix, "must be a table"))?;
    let kind = match table.get("kind") {
        None => platform::GENERIC_KIND.to_owned(),
        Some(i) => {
            let kind = string(src, i, &format!("{prefix}.kind"))?;
            if !platform::KINDS.contains(&kind.as_str()) {
                return Err(src.error(
                    i.span(),
                    &format!("{prefix}.kind"),
                    format!(
                        "is `{kind}`, not a known platform kind; known kinds: {}",
                        platform::KINDS.join(", ")
                    ),
                ));
            }
            kind
        }
    };
    if kind == platform::STORE_KIND {
        return store_platform(src, name, item, table, prefix, root, inputs);
    }
    for (k, i) in table.iter() {
        if STORE_ONLY_KEYS.contains(&k) {
            return Err(src.error(
                i.span(),
                &format!("{prefix}.{k}"),
                format!(
                    "applies to platforms of kind \"{}\" only; add `kind = \"{}\"` to budget for the device store",
                    platform::STORE_KIND,
                    platform::STORE_KIND
                ),
            ));
        }
    }
    check_keys(src, table, prefix, PLATFORM_KEYS)?;
    let key = |k: &str| format!("{prefix}.{k}");
    let get_size = |k: &str| table.get(k).map(|i| size(src, i, &key(k))).transpose();
    let get_str = |k: &str| table.get(k).map(|i| string(src, i, &key(k))).transpose();

    let partitions = partition_table(get_str("partition-table")?, root, inputs)?;
    let total = match (get_size("total")?, &partitions) {
        (Some(_), Some(_)) => {
            return Err(src.error(
                item.span(),
                &key("total"),
                "and `partition-table` are both set; keep one",
            ));
        }
        (Some(total), None) => total,
        (None, Some(table)) => {
            let part = get_str("partition")?.ok_or_else(|| {
                src.error(
                    item.span(),
                    &key("partition"),
                    "is missing; name the assets partition of the partition table",
                )
            })?;
            table.size_of(&part)?
        }
        (None, None) => {
            return Err(src.error(
                item.span(),
                &key("total"),
                "is missing; set `total = \"1 MiB\"` or `partition-table` and `partition`",
            ));
        }
    };
    let (firmware_partitions, firmware_offsets) =
        firmware_partitions(src, item, &key, &get_str, partitions.as_ref())?;
    let esp = esp_platform(src, table, &key, partitions.as_ref())?;

    let block_size = get_size("block-size")?.unwrap_or(0);
    let per_block_overhead = get_size("per-block-overhead")?.unwrap_or(0);
    if block_size > 0 && per_block_overhead >= block_size {
        return Err(src.error(
            item.span(),
            &key("per-block-overhead"),
            "must be smaller than `block-size`",
        ));
    }
    if block_size == 0 && per_block_overhead > 0 {
        return Err(src.error(
            item.span(),
            &key("per-block-overhead"),
            "needs `block-size`",
        ));
    }
    let reserved_blocks = get_size("reserved-blocks")?.unwrap_or(0);
    let reserved = reserved_blocks.saturating_mul(block_size);
    if reserved_blocks > 0 && block_size == 0 {
        return Err(src.error(item.span(), &key("reserved-blocks"), "needs `block-size`"));
    }
    let total = total.checked_sub(reserved).ok_or_else(|| {
        src.error(
            item.span(),
            &key("reserved-blocks"),
            format!("reserves {reserved} B, more than the total of {total} B"),
        )
    })?;
    let max_name_len = match table.get("max-name") {
        Some(i) => small_int(src, i, &key("max-name"))? as usize,
        None => DEFAULT_MAX_NAME_LEN,
    };
    let codec = match table.get("codec") {
        Some(i) => codec(src, i, &key("codec"))?,
        None => PARTICLE_DEFLATE,
    };
    Ok(Platform {
        name: name.to_owned(),
        codec,
        container: Container {
            fixed: get_size("per-asset-overhead")?.unwrap_or(0),
            includes_name: false,
        },
        limits: Some(Limits {
            total,
            max_asset: get_size("max-asset")?,
            block_size,
            per_block_overhead,
        }),
        max_name_len,
        flat_names: false,
        particle_id: None,
        firmware_partitions,
        firmware_offsets,
        store: None,
        esp,
        origin: Origin::Config(src.path.to_owned()),
    })
}

/// The `chip` of an ESP platform, checked against [`esp::CHIPS`], with the
/// app slots (`factory`, `ota_N`) of its partition table.
fn esp_platform(
    src: &Source,
    table: &dyn TableLike,
    key: &KeyFn<'_>,
    partitions: Option<&PartitionTable>,
) -> Result<Option<esp::EspPlatform>, ConfigError> {
    let Some(item) = table.get("chip") else {
        return Ok(None);
    };
    let chip = string(src, item, &key("chip"))?;
    if !esp::CHIPS.contains(&chip.as_str()) {
        return Err(src.error(
            item.span(),
            &key("chip"),
            format!(
                "is `{chip}`, not an ESP chip; known chips: {}",
                esp::CHIPS.join(", ")
            ),
        ));
    }
    Ok(Some(esp::EspPlatform {
        chip,
        app_slots: partitions.map(esp::app_slots).unwrap_or_default(),
    }))
}

/// The (app, OTA) partition sizes and offsets of a platform.
type FirmwarePartitions = (Option<(u64, u64)>, Option<(u64, u64)>);
type KeyFn<'a> = dyn Fn(&str) -> String + 'a;
type StrFn<'a> = dyn Fn(&str) -> Result<Option<String>, ConfigError> + 'a;

/// The firmware limits of a partition table: the sizes of its app and OTA
/// partitions (`app-partition`, `ota-partition`, default `app` and `app_ota`),
/// and their offsets when the table gives both.
fn firmware_partitions(
    src: &Source,
    item: &Item,
    key: &KeyFn<'_>,
    get_str: &StrFn<'_>,
    partitions: Option<&PartitionTable>,
) -> Result<FirmwarePartitions, ConfigError> {
    Ok(
        match (
            partitions,
            get_str("app-partition")?,
            get_str("ota-partition")?,
        ) {
            (Some(table), app, ota) => {
                let app = app.unwrap_or_else(|| "app".to_owned());
                let ota = ota.unwrap_or_else(|| "app_ota".to_owned());
                match (table.get(&app), table.get(&ota)) {
                    (Ok(a), Ok(o)) => (Some((a.size, o.size)), a.offset.zip(o.offset)),
                    _ => (None, None),
                }
            }
            (None, None, None) => (None, None),
            (None, _, _) => {
                return Err(src.error(
                    item.span(),
                    &key("app-partition"),
                    "needs `partition-table`",
                ));
            }
        },
    )
}

/// A platform of kind `assetota-store`: the device store on a NOR flash of
/// the given erase and write sizes, its numbers from `assetota_store::Layout`.
fn store_platform(
    src: &Source,
    name: &str,
    item: &Item,
    table: &dyn TableLike,
    prefix: &str,
    root: &Path,
    inputs: &mut Vec<PathBuf>,
) -> Result<Platform, ConfigError> {
    let key = |k: &str| format!("{prefix}.{k}");
    for (k, i) in table.iter() {
        if BLOCK_MODEL_KEYS.contains(&k) {
            return Err(src.error(
                i.span(),
                &key(k),
                format!(
                    "does not apply to kind \"{}\": the store's layout sets the block (the erase size) and its overheads from `erase-size` and `write-size`; remove it",
                    platform::STORE_KIND
                ),
            ));
        }
    }
    check_keys(src, table, prefix, STORE_KEYS)?;
    let get_size = |k: &str| table.get(k).map(|i| size(src, i, &key(k))).transpose();
    let get_str = |k: &str| table.get(k).map(|i| string(src, i, &key(k))).transpose();
    let span_of = |k: &str| table.get(k).and_then(Item::span).or_else(|| item.span());

    let partitions = partition_table(get_str("partition-table")?, root, inputs)?;
    let (size_key, partition_size, table_offset) = match (
        get_size("partition-size")?,
        get_size("total")?,
        &partitions,
    ) {
        (Some(_), Some(_), _) => {
            return Err(src.error(
                span_of("total"),
                &key("total"),
                "and `partition-size` are both set; keep one",
            ));
        }
        (Some(_), None, Some(_)) | (None, Some(_), Some(_)) => {
            let k = if table.contains_key("total") {
                "total"
            } else {
                "partition-size"
            };
            return Err(src.error(
                span_of(k),
                &key(k),
                "and `partition-table` are both set; keep one",
            ));
        }
        (Some(size), None, None) => ("partition-size", size, None),
        (None, Some(size), None) => ("total", size, None),
        (None, None, Some(parts)) => {
            let part = get_str("partition")?.ok_or_else(|| {
                src.error(
                    item.span(),
                    &key("partition"),
                    "is missing; name the store's partition of the partition table",
                )
            })?;
            let p = parts.get(&part)?;
            if table.contains_key("chip")
                && let Some((kind, _)) = esp::type_and_subtype(parts, p)
                && !esp::is_data_type(&kind)
            {
                return Err(src.error(
                        span_of("partition"),
                        &key("partition"),
                        format!(
                            "is `{part}`, a partition of type `{kind}` in `{}` (line {}); the store needs a `data` partition",
                            parts.path.display(),
                            p.line
                        ),
                    ));
            }
            ("partition", p.size, p.offset)
        }
        (None, None, None) => {
            return Err(src.error(
                item.span(),
                &key("partition-size"),
                "is missing; set `partition-size = \"1 MiB\"` or `partition-table` and `partition`",
            ));
        }
    };
    if partitions.is_none() && table.contains_key("partition") {
        return Err(src.error(
            span_of("partition"),
            &key("partition"),
            "needs `partition-table`",
        ));
    }
    let partition_offset = match (get_size("partition-offset")?, table_offset) {
        (Some(_), Some(_)) => {
            return Err(src.error(
                span_of("partition-offset"),
                &key("partition-offset"),
                "and `partition-table` are both set; the offset comes from the table, keep one",
            ));
        }
        (explicit, from_table) => explicit.or(from_table),
    };
    let (firmware_partitions, firmware_offsets) =
        firmware_partitions(src, item, &key, &get_str, partitions.as_ref())?;
    let esp = esp_platform(src, table, &key, partitions.as_ref())?;

    let geometry_int = |k: &str| -> Result<u32, ConfigError> {
        // An ESP chip's flash: 4 KiB sectors, esp-storage's word writes.
        if let (None, Some(esp)) = (table.get(k), &esp) {
            return Ok(match k {
                "erase-size" => esp::ERASE_SIZE,
                _ => esp::write_size(&esp.chip),
            });
        }
        let i = table.get(k).ok_or_else(|| {
            src.error(
                item.span(),
                &key(k),
                match k {
                    "erase-size" => "is missing; set the flash's erase (sector) size, e.g. `erase-size = \"4 KiB\"`",
                    _ => "is missing; set the flash's write (program) size in bytes, e.g. `write-size = 4`",
                },
            )
        })?;
        let v = size(src, i, &key(k))?;
        u32::try_from(v).map_err(|_| {
            src.error(
                i.span(),
                &key(k),
                format!("is {v} B, more than the store supports"),
            )
        })
    };
    let erase_size = geometry_int("erase-size")?;
    let write_size = geometry_int("write-size")?;
    let geometry = platform::StoreGeometry {
        write_size,
        erase_size,
        partition_size,
        partition_offset,
    };
    // Which key a refused geometry is about.
    let geometry_error = |e: GeometryError| {
        let k = match e {
            GeometryError::WriteSize(_) => "write-size",
            GeometryError::EraseSize { .. } => "erase-size",
            GeometryError::Partition { .. } => "partition-offset",
            GeometryError::Empty => size_key,
            // The others (the driver's read size) are not about the config.
            _ => "write-size",
        };
        let message = match e {
            GeometryError::Empty => format!(
                "gives {partition_size} B: {e} of {erase_size} B; the store needs at least one"
            ),
            e => e.to_string(),
        };
        src.error(span_of(k), &key(k), message)
    };
    geometry.layout().map_err(geometry_error)?;
    if let Some(offset) = partition_offset
        && offset % u64::from(erase_size) != 0
    {
        let k = if table.contains_key("partition-offset") {
            "partition-offset"
        } else {
            "partition"
        };
        return Err(src.error(
            span_of(k),
            &key(k),
            format!(
                "puts the store at {offset:#x}, not on a {erase_size}-byte erase block boundary"
            ),
        ));
    }
    let max_name_len = match table.get("max-name") {
        Some(i) => small_int(src, i, &key("max-name"))? as usize,
        None => DEFAULT_MAX_NAME_LEN,
    };
    let codec = match table.get("codec") {
        Some(i) => codec(src, i, &key("codec"))?,
        None => PARTICLE_DEFLATE,
    };
    let mut p = platform::store_platform(
        name,
        geometry,
        get_size("max-asset")?,
        codec,
        Origin::Config(src.path.to_owned()),
    )
    .map_err(geometry_error)?;
    p.max_name_len = max_name_len;
    p.firmware_partitions = firmware_partitions;
    p.firmware_offsets = firmware_offsets;
    p.esp = esp;
    Ok(p)
}
