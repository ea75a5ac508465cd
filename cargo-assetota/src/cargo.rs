//! Talking to cargo: `cargo metadata` to find the packages, `cargo build` with
//! JSON messages to find the artifacts. Always through `$CARGO`, so
//! `cargo +nightly assetota` builds with nightly.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use cargo_metadata::{Message, Metadata, MetadataCommand, Package};

use crate::cli::CargoBuildFlags;
use crate::error::{Error, Result};

/// The cargo that invoked us, or `cargo` from PATH.
pub fn cargo_program() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"))
}

/// Workspace metadata without dependencies (only members are needed).
pub fn metadata(manifest_path: Option<&Path>) -> Result<Metadata> {
    let mut cmd = MetadataCommand::new();
    cmd.cargo_path(cargo_program()).no_deps();
    if let Some(path) = manifest_path {
        if !path.exists() {
            return Err(Error::NotCargoProject(path.to_owned()));
        }
        cmd.manifest_path(path);
    }
    cmd.exec().map_err(|e| match e {
        cargo_metadata::Error::CargoMetadata { stderr }
            if stderr.contains("could not find `Cargo.toml`") =>
        {
            Error::NotCargoProject(manifest_path.map_or_else(
                || std::env::current_dir().unwrap_or_default(),
                Path::to_owned,
            ))
        }
        cargo_metadata::Error::CargoMetadata { stderr } => {
            Error::Metadata(stderr.trim().trim_start_matches("error: ").to_owned())
        }
        other => Error::Metadata(other.to_string()),
    })
}

/// Whether a package has opted in with `[package.metadata.assetota]`.
pub fn opted_in(package: &Package) -> bool {
    package
        .metadata
        .get("assetota")
        .is_some_and(|v| v.is_object())
}

/// The packages a command works on: those named with `-p` (each must have opted
/// in), else the current package, else the workspace's default members that
/// have opted in.
pub fn select_packages<'m>(metadata: &'m Metadata, names: &[String]) -> Result<Vec<&'m Package>> {
    let members = metadata.workspace_packages();
    if !names.is_empty() {
        let mut out = Vec::new();
        for name in names {
            let package = members
                .iter()
                .find(|p| p.name.as_str() == name || format!("{}@{}", p.name, p.version) == *name)
                .ok_or_else(|| Error::UnknownPackage(name.clone()))?;
            if !opted_in(package) {
                return Err(not_opted_in(package));
            }
            out.push(*package);
        }
        return Ok(out);
    }
    if let Some(root) = metadata.root_package() {
        if !opted_in(root) {
            return Err(not_opted_in(root));
        }
        return Ok(vec![root]);
    }
    let selected: Vec<&Package> = metadata
        .workspace_default_packages()
        .into_iter()
        .filter(|p| opted_in(p))
        .collect();
    if selected.is_empty() {
        return Err(Error::NoOptedInPackage(
            metadata.workspace_root.clone().into(),
        ));
    }
    Ok(selected)
}

pub fn not_opted_in(package: &Package) -> Error {
    Error::NotOptedIn {
        package: package.name.to_string(),
        manifest: package.manifest_path.clone().into(),
    }
}

/// The host's target triple, from `rustc -vV` (`$RUSTC` when set).
pub fn host_triple() -> Option<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| OsString::from("rustc"));
    let out = Command::new(rustc).arg("-vV").output().ok()?;
    String::from_utf8(out.stdout)
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
}

/// A binary cargo built.
#[derive(Debug, Clone)]
pub struct BuiltBinary {
    pub package_id: cargo_metadata::PackageId,
    pub bin: String,
    pub executable: PathBuf,
}

/// The `cargo build` arguments for our flags.
pub fn build_args(flags: &CargoBuildFlags, verbose: bool, quiet: bool) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        "build".into(),
        "--message-format=json-render-diagnostics".into(),
    ];
    args.extend(flags.to_args());
    if verbose {
        args.push("--verbose".into());
    }
    if quiet {
        args.push("--quiet".into());
    }
    args.extend(flags.extra.iter().cloned());
    args
}

/// Runs `cargo build`, letting its rendered diagnostics through on stderr, and
/// returns the binaries it built (fresh or not).
pub fn build(
    args: &[OsString],
    envs: &[(&str, &str)],
    shell: &mut crate::shell::Shell,
) -> Result<Vec<BuiltBinary>> {
    let program = cargo_program();
    let mut child = Command::new(&program)
        .args(args)
        .envs(envs.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|source| Error::Spawn {
            program: program.to_string_lossy().into_owned(),
            source,
        })?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut binaries = Vec::new();
    for message in Message::parse_stream(std::io::BufReader::new(stdout)) {
        let Ok(message) = message else { continue };
        match message {
            Message::CompilerArtifact(artifact) => {
                let is_bin = artifact
                    .target
                    .kind
                    .iter()
                    .any(|k| matches!(k, cargo_metadata::TargetKind::Bin));
                if let (true, Some(exe)) = (is_bin, artifact.executable) {
                    binaries.push(BuiltBinary {
                        package_id: artifact.package_id,
                        bin: artifact.target.name.clone(),
                        executable: exe.into(),
                    });
                }
            }
            Message::TextLine(line) => shell.write_err(&format!("{line}\n")),
            _ => {}
        }
    }
    let status = child.wait().map_err(|source| Error::Spawn {
        program: program.to_string_lossy().into_owned(),
        source,
    })?;
    if !status.success() {
        return Err(Error::CargoBuild(status.code()));
    }
    Ok(binaries)
}
