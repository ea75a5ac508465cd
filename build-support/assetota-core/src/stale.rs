//! Does the manifest embedded in a firmware still describe the assets on disk?
//! (`cargo assetota build` and `bundle` refuse a stale build; `watch` says so.)

use std::cmp::Ordering;

use crate::budget::Budget;
use crate::bytesize::Bytes;
use crate::platform::Origin;
use assetota::Manifest;

/// One line per difference, each naming the asset and what differs.
pub fn compare(manifest: &Manifest<'_>, budget: &Budget) -> Vec<String> {
    let mut out = Vec::new();
    let now_platform = match budget.platform.origin {
        Origin::Unconstrained => None,
        _ => Some(budget.platform.name.as_str()),
    };
    if manifest.platform() != now_platform {
        out.push(format!(
            "platform: built for {}, now {}",
            manifest
                .platform()
                .map_or("no platform".into(), |p| format!("`{p}`")),
            now_platform.map_or("no platform".into(), |p| format!("`{p}`")),
        ));
    }
    let mut built = manifest.iter().peekable();
    let mut now = budget.assets.iter().peekable();
    loop {
        let order = match (built.peek(), now.peek()) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(b), Some(n)) => b.name().as_bytes().cmp(n.measured.name.as_bytes()),
        };
        match order {
            Ordering::Less => {
                let b = built.next().expect("peeked");
                out.push(format!(
                    "`{}` was removed from the assets directory ({} when built)",
                    b.name(),
                    Bytes(b.size())
                ));
            }
            Ordering::Greater => {
                let n = now.next().expect("peeked");
                out.push(format!(
                    "`{}` was added to the assets directory ({})",
                    n.measured.name,
                    Bytes(n.measured.size)
                ));
            }
            Ordering::Equal => {
                let (b, n) = (built.next().expect("peeked"), now.next().expect("peeked"));
                let mut diffs = Vec::new();
                if b.size() != n.measured.size {
                    diffs.push(format!(
                        "size {} -> {}",
                        Bytes(b.size()),
                        Bytes(n.measured.size)
                    ));
                }
                if b.sha256() != &n.measured.sha256 {
                    diffs.push(format!(
                        "sha256 {} -> {}",
                        short(b.sha256()),
                        short(&n.measured.sha256)
                    ));
                }
                if b.compressed_size() != n.measured.compressed_size {
                    diffs.push(format!(
                        "compressed size {} -> {}",
                        Bytes(b.compressed_size()),
                        Bytes(n.measured.compressed_size)
                    ));
                }
                if b.stored_size() != n.stored_size {
                    diffs.push(format!(
                        "stored size {} -> {}",
                        Bytes(b.stored_size()),
                        Bytes(n.stored_size)
                    ));
                }
                // Each asset's own codec: a store platform keeps raw what its
                // codec does not shrink.
                let codec = n.codec.device_codec();
                if b.codec() != codec {
                    diffs.push(format!("codec {} -> {}", b.codec(), codec));
                }
                if !diffs.is_empty() {
                    out.push(format!("`{}` changed: {}", b.name(), diffs.join(", ")));
                }
            }
        }
    }
    out
}

fn short(sha: &[u8; 32]) -> String {
    let hex: String = sha.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("{hex}…")
}
