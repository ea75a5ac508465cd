//! The plan as the terminal shows it: a table of every asset and what the OTA
//! does with it, and a one-line total.

use std::path::Path;

use assetota_core::bytesize::Bytes;

use super::plan::Plan;
use crate::text::Table;

/// The plan from `old` to `new` (the paths as given) as text.
pub fn plan_text(old: &Path, new: &Path, plan: &Plan) -> String {
    let mut t = Table::new(&["ACTION", "ASSET", "SIZE", "COMPRESSED", "SHA-256"]).left_aligned(2);
    for (action, list) in [
        ("send", &plan.send),
        ("keep", &plan.keep),
        ("remove", &plan.remove),
    ] {
        for a in list {
            t.row(vec![
                action.into(),
                a.name.clone(),
                Bytes(a.size).to_string(),
                Bytes(a.compressed_size).to_string(),
                // A bundle's manifest.json is untrusted: a short hash is shown whole.
                a.sha256.get(..16).unwrap_or(&a.sha256).to_owned(),
            ]);
        }
    }
    let version = match (&plan.old_version, &plan.new_version) {
        (Some(o), Some(n)) => format!(" (version {o} -> {n})"),
        _ => String::new(),
    };
    format!(
        "OTA plan from `{}` to `{}`{version}\n{}  send {} of {} asset{}: {} to transfer ({} to keep, {} to remove)",
        old.display(),
        new.display(),
        t.render(),
        plan.send.len(),
        plan.new_count(),
        if plan.new_count() == 1 { "" } else { "s" },
        Bytes(plan.bytes_to_send),
        plan.keep.len(),
        plan.remove.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::plan::DiffAsset;

    #[test]
    fn a_short_hash_from_a_hostile_manifest_is_shown_whole() {
        let plan = Plan {
            send: vec![DiffAsset {
                name: "a".to_owned(),
                size: 1,
                sha256: "abc".to_owned(),
                compressed_size: 1,
            }],
            keep: vec![],
            remove: vec![],
            bytes_to_send: 1,
            old_version: None,
            new_version: None,
            version_goes_down: false,
        };
        let text = plan_text(Path::new("old.elf"), Path::new("new.elf"), &plan);
        assert!(text.contains(" abc\n"), "{text}");
        assert!(text.ends_with("send 1 of 1 asset: 1 B to transfer (0 to keep, 0 to remove)"));
    }
}
