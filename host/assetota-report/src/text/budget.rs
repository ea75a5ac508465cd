//! One package's budget as plain text: the table of `size`, the fit matrix of
//! `size --all-platforms`, and the one-line status.

use assetota_core::budget::percent;
use assetota_core::bytesize::Bytes;
use assetota_core::{Budget, Verdict};

use super::table::{Table, count};
use crate::size_json::platform_name;

fn pct(used: u64, limit: Option<u64>) -> String {
    match limit {
        Some(l) if l > 0 => format!("{:.1}%", used as f64 * 100.0 / l as f64),
        _ => "-".into(),
    }
}

fn mark(v: Verdict) -> &'static str {
    match v {
        Verdict::Fits => "",
        Verdict::Near => "near",
        Verdict::Over => "OVER",
    }
}

/// The budget table of one package on one platform.
pub fn budget_table(package: &str, budget: &Budget) -> String {
    let p = &budget.platform;
    let title = match platform_name(p) {
        Some(name) => format!(
            "Assets of `{package}` on platform `{name}`, codec {}",
            p.codec
        ),
        None => format!(
            "Assets of `{package}` (no platform configured: sizes only, no limits), codec {}",
            p.codec
        ),
    };
    // A CODEC column only when some asset is not stored with the platform's
    // codec (a store platform keeps raw what its codec does not shrink).
    let raw = budget.assets.iter().filter(|a| a.codec != p.codec).count();
    let mut header = vec!["ASSET", "RAW", "COMPRESSED"];
    if raw > 0 {
        header.push("CODEC");
    }
    header.extend(["STORED", "STORAGE", "% OF LIMIT", ""]);
    let mut t = Table::new(&header);
    for a in &budget.assets {
        let mut row = vec![
            a.measured.name.clone(),
            Bytes(a.measured.size).to_string(),
            Bytes(a.measured.compressed_size).to_string(),
        ];
        if raw > 0 {
            row.push(a.codec.kind().to_owned());
        }
        row.extend([
            Bytes(a.stored_size).to_string(),
            Bytes(a.storage_size).to_string(),
            pct(a.stored_size, budget.limit_single),
            mark(a.verdict).to_owned(),
        ]);
        t.row(row);
    }
    let count = budget.assets.len();
    let mut total = vec![
        format!("total ({count} asset{})", if count == 1 { "" } else { "s" }),
        Bytes(budget.total_size).to_string(),
        Bytes(budget.total_compressed_size).to_string(),
    ];
    if raw > 0 {
        total.push(String::new());
    }
    total.extend([
        Bytes(budget.total_stored_size).to_string(),
        Bytes(budget.total_storage_size).to_string(),
        pct(budget.total_storage_size, budget.limit_total),
        mark(budget.total_verdict).to_owned(),
    ]);
    t.row(total);
    let mut out = format!("{title}\n{}", t.render());
    if raw > 0 {
        out.push_str(&format!(
            "  {} stored raw: {} does not make {} smaller\n",
            self::count(raw, "asset"),
            p.codec.kind(),
            if raw == 1 { "it" } else { "them" }
        ));
    }
    if let Some(total) = budget.limit_total {
        out.push_str(&format!(
            "  limits: {} total storage{}; per asset % is of the single-asset limit, total % of the total\n",
            Bytes(total),
            budget.limit_single.map(|s| format!(", {} per asset (stored size)", Bytes(s))).unwrap_or_default()
        ));
    }
    if let Some(store) = &p.store {
        let block = u64::from(store.erase_size);
        out.push_str(&format!(
            "  store: {} erase blocks of {}{}, {} B writes; every asset takes whole blocks\n",
            store.usable_size() / block.max(1),
            Bytes(block),
            store
                .partition_offset
                .map(|o| format!(" at {o:#x}"))
                .unwrap_or_default(),
            store.write_size
        ));
    }
    out
}

/// The fit matrix of `size --all-platforms`: one row per platform, or the
/// reason a platform refuses the assets.
pub fn fit_matrix(package: &str, rows: &[(String, Result<Budget, String>)]) -> String {
    let title = match rows.iter().find_map(|(_, r)| r.as_ref().ok()) {
        Some(b) => format!(
            "Platforms that can take the assets of `{package}` ({}, {} raw)",
            count(b.assets.len(), "asset"),
            Bytes(b.total_size)
        ),
        None => format!("Platforms that can take the assets of `{package}`"),
    };
    let mut t = Table::new(&[
        "PLATFORM",
        "CODEC",
        "STORAGE",
        "TOTAL LIMIT",
        "USED",
        "LARGEST STORED",
        "SINGLE LIMIT",
        "FITS",
    ]);
    // Refusals grouped by reason: (reason, platforms).
    let mut refusals: Vec<(String, Vec<&str>)> = Vec::new();
    for (name, row) in rows {
        let Ok(b) = row else {
            let reason = row.as_ref().err().map_or(String::new(), |e| {
                e.replace(&format!("platform `{name}`"), "the platform")
            });
            t.row(vec![
                name.clone(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                "no (refused)".into(),
            ]);
            match refusals.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, names)) => names.push(name),
                None => refusals.push((reason, vec![name])),
            }
            continue;
        };
        let largest = b.assets.iter().map(|a| a.stored_size).max().unwrap_or(0);
        t.row(vec![
            b.platform.name.clone(),
            b.platform.codec.kind().to_owned(),
            Bytes(b.total_storage_size).to_string(),
            b.limit_total.map_or("-".into(), |l| Bytes(l).to_string()),
            pct(b.total_storage_size, b.limit_total),
            Bytes(largest).to_string(),
            b.limit_single.map_or("-".into(), |l| Bytes(l).to_string()),
            match b.verdict() {
                Verdict::Fits => "yes".into(),
                Verdict::Near => "yes (near)".into(),
                Verdict::Over => "no".into(),
            },
        ]);
    }
    let refusals: String = refusals
        .iter()
        .map(|(reason, names)| format!("  refused by {}: {reason}\n", names.join(", ")))
        .collect();
    format!("{title}\n{}{refusals}", t.left_aligned(2).render())
}

/// One line for a status message: "p2: 12,288 B of 1,138,688 B (1%)".
pub fn budget_line(budget: &Budget) -> String {
    let n = budget.assets.len();
    let assets = count(n, "asset");
    match (platform_name(&budget.platform), budget.limit_total) {
        (Some(name), Some(limit)) => format!(
            "{assets} {} {} of {} on `{name}` ({}%){}",
            if n == 1 { "takes" } else { "take" },
            Bytes(budget.total_storage_size),
            Bytes(limit),
            percent(budget.total_storage_size, limit),
            match budget.verdict() {
                Verdict::Fits => "",
                Verdict::Near => ", near the limit",
                Verdict::Over => ", OVER the limit",
            }
        ),
        _ => format!(
            "{assets}, {} raw, {} stored (no platform limits)",
            Bytes(budget.total_size),
            Bytes(budget.total_stored_size)
        ),
    }
}
