//! `diff`: the OTA transfer plan between two builds.

use crate::support::*;

#[test]
fn diff_plans_send_keep_remove_and_warns_on_downgrade() {
    let p = Project::host("cli_diff", META_P2).with_assets();
    let set_version = |v: &str| {
        let toml = std::fs::read_to_string(p.path().join("Cargo.toml")).unwrap();
        let toml = toml
            .replacen("version = \"0.1.0\"", &format!("version = \"{v}\""), 1)
            .replacen("version = \"0.2.0\"", &format!("version = \"{v}\""), 1);
        p.write("Cargo.toml", toml);
    };
    set_version("0.2.0");
    p.cli(&["build"]).success();
    let old = p.path().join("old.zip");
    std::fs::copy(p.bundle(None, "debug"), &old).unwrap();
    let old_elf = p.path().join("old.elf");
    std::fs::copy(p.exe(None, "debug"), &old_elf).unwrap();

    // Edit one asset, add one, remove one, and go back a version.
    p.write("assets/text.txt", "changed\n");
    p.write("assets/extra.json", "{\"x\": 1}\n");
    std::fs::remove_file(p.path().join("assets/config.json")).unwrap();
    set_version("0.1.0");
    p.cli(&["build"]).success();
    let new = p.bundle(None, "debug");

    let run = p
        .cli(&["diff", "--json", "old.zip", new.to_str().unwrap()])
        .success();
    assert!(
        run.stderr
            .contains("warning: the package version goes down from 0.2.0 to 0.1.0"),
        "{}",
        run.stderr
    );
    let json = run.json();
    let names = |key: &str| {
        json[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(names("send"), ["extra.json", "text.txt"]);
    assert_eq!(names("keep"), ["logo.bin"]);
    assert_eq!(names("remove"), ["config.json", "text.txt"]);
    let sent: u64 = json["send"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["compressed_size"].as_u64().unwrap())
        .sum();
    assert_eq!(json["bytes_to_send"], sent);
    for a in json["send"].as_array().unwrap() {
        for key in ["name", "size", "sha256", "compressed_size"] {
            assert!(a.get(key).is_some(), "send entry lacks {key}");
        }
    }
    assert_eq!(json["version_goes_down"], true);

    // ELFs work too (no versions there), and the human plan.
    let human = p
        .cli(&["diff", "old.elf", p.exe(None, "debug").to_str().unwrap()])
        .success();
    assert!(!human.stderr.contains("version goes down"));
    insta::assert_snapshot!("diff_elf", p.redact(&human.stdout));

    // Same build: nothing to send.
    let same = p
        .cli(&[
            "diff",
            "--json",
            new.to_str().unwrap(),
            new.to_str().unwrap(),
        ])
        .success()
        .json();
    assert_eq!(same["bytes_to_send"], 0);
    assert_eq!(same["send"].as_array().unwrap().len(), 0);
}
