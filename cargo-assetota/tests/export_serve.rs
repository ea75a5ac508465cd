//! `cargo assetota export` and `cargo assetota serve`, end to end: two
//! releases of a real project built by the real cargo, exported into a
//! directory checked with independent decoders (Python's zlib, lzma and
//! hashlib), then served by the real binary to real clients (curl, Python's
//! urllib and raw sockets) and stopped with SIGINT. Unix only: symlinks,
//! inodes and signals.
#![cfg(unix)]

#[allow(dead_code)]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};
use support::*;

/// Generous: CI machines are small and busy.
const LONG: Duration = Duration::from_secs(120);

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Two releases of one package, built once for every test of this file.
struct Releases {
    r1: PathBuf,
    r2: PathBuf,
}

fn releases() -> &'static Releases {
    static RELEASES: OnceLock<Releases> = OnceLock::new();
    RELEASES.get_or_init(|| {
        let out = target_dir().join("export-serve");
        std::fs::create_dir_all(&out).unwrap();
        let p = Project::host("export_serve_fixture", META).with_assets();
        // Big enough that a download can be cut mid-way; two assets with
        // equal bytes, which share one blob.
        p.write("assets/noise.bin", noise(300 << 10, 1));
        p.write("assets/dup-a.txt", "the same bytes\n".repeat(20));
        p.write("assets/sub/dup-b.txt", "the same bytes\n".repeat(20));
        p.cli(&["build"]).success();
        let r1 = out.join("r1.assetota.zip");
        std::fs::copy(p.bundle(None, "debug"), &r1).unwrap();

        // Release 2: one asset changed, one added, one removed, a new version.
        p.write("assets/text.txt", "hello release two\n".repeat(50));
        p.write("assets/new/extra.bin", noise(5000, 2));
        std::fs::remove_file(p.path().join("assets/config.json")).unwrap();
        let toml = std::fs::read_to_string(p.path().join("Cargo.toml")).unwrap();
        p.write(
            "Cargo.toml",
            toml.replacen("version = \"0.1.0\"", "version = \"0.2.0\"", 1),
        );
        remove_stale(&[&p.bundle(None, "debug")]);
        p.cli(&["build"]).success();
        let r2 = out.join("r2.assetota.zip");
        std::fs::copy(p.bundle(None, "debug"), &r2).unwrap();
        Releases { r1, r2 }
    })
}

fn cli(args: &[&str]) -> Run {
    cli_in(&std::env::temp_dir(), args)
}

fn export(bundle: &Path, dir: &Path) -> Run {
    cli(&[
        "export",
        bundle.to_str().unwrap(),
        dir.to_str().unwrap(),
        "--json",
    ])
}

/// The bundle's manifest.json, as stored.
fn manifest_json(bundle: &Path) -> Vec<u8> {
    let entries = zip_entries(bundle);
    assert_eq!(entries[0].0, "manifest.json");
    entries[0].1.clone()
}

/// Checks an export directory against its manifest.json with Python's own
/// decoders: every asset's blob decodes (raw deflate through
/// `zlib.decompressobj(-15)`, xz through `lzma`, or as is for `none`) to
/// bytes whose SHA-256 is the blob's name and whose length is the asset's
/// size; the blob's length is the asset's compressed size; the firmware
/// hashes to `firmware.sha256`. Prints the number of assets checked.
const ORACLE: &str = r#"
import hashlib, json, lzma, os, sys, zlib
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json"), "rb"))
for a in m["assets"]:
    kind = (a.get("codec") or m["codec"])["kind"]
    blob = open(os.path.join(d, "blobs", a["sha256"]), "rb").read()
    if kind == "deflate":
        z = zlib.decompressobj(-15)
        raw = z.decompress(blob) + z.flush()
        assert z.eof and not z.unused_data, a["name"]
    elif kind == "xz":
        raw = lzma.decompress(blob, format=lzma.FORMAT_XZ)
    elif kind == "none":
        raw = blob
    else:
        raise SystemExit("unknown codec " + kind)
    assert hashlib.sha256(raw).hexdigest() == a["sha256"], a["name"]
    assert len(raw) == a["size"], a["name"]
    assert len(blob) == a["compressed_size"], a["name"]
fw = open(os.path.join(d, m["firmware"]["file"]), "rb").read()
assert hashlib.sha256(fw).hexdigest() == m["firmware"]["sha256"]
assert len(fw) == m["firmware"]["size"]
print(len(m["assets"]))
"#;

fn oracle(dir: &Path, bundle: &Path) {
    let checked = python(ORACLE, &[dir.to_str().unwrap()]);
    let m: Value = serde_json::from_slice(&manifest_json(bundle)).unwrap();
    assert_eq!(
        checked.trim(),
        m["assets"].as_array().unwrap().len().to_string()
    );
    assert_eq!(
        std::fs::read(dir.join("manifest.json")).unwrap(),
        manifest_json(bundle),
        "manifest.json is the bundle's, byte for byte"
    );
}

/// Every file below `dir`: (relative path) -> (inode, mtime in ns, bytes).
fn tree(dir: &Path) -> BTreeMap<PathBuf, (u64, i128, Vec<u8>)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let entry = entry.unwrap();
            let meta = std::fs::symlink_metadata(entry.path()).unwrap();
            if meta.is_dir() {
                stack.push(entry.path());
                continue;
            }
            let mtime = i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec());
            out.insert(
                entry.path().strip_prefix(dir).unwrap().to_owned(),
                (meta.ino(), mtime, std::fs::read(entry.path()).unwrap()),
            );
        }
    }
    out
}

fn blob_names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir.join("blobs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect()
}

fn asset_shas(bundle: &Path) -> BTreeSet<String> {
    let m: Value = serde_json::from_slice(&manifest_json(bundle)).unwrap();
    m["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["sha256"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn export_writes_the_content_addressed_layout() {
    let r = releases();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ota");
    let json = export(&r.r1, &dir).success().json();

    oracle(&dir, &r.r1);
    let m: Value = serde_json::from_slice(&manifest_json(&r.r1)).unwrap();
    let fw = m["firmware"]["file"].as_str().unwrap();
    let shas = asset_shas(&r.r1);
    assert_eq!(blob_names(&dir), shas, "one blob per distinct asset");
    let files: BTreeSet<PathBuf> = tree(&dir).into_keys().collect();
    let mut expected: BTreeSet<PathBuf> = shas
        .iter()
        .map(|s| PathBuf::from(format!("blobs/{s}")))
        .collect();
    expected.insert("manifest.json".into());
    expected.insert(fw.into());
    assert_eq!(
        files, expected,
        "nothing else is written (no temporary files)"
    );

    // Two assets with the same bytes share one blob.
    assert_eq!(m["assets"].as_array().unwrap().len(), shas.len() + 1);
    let shared: Vec<&Value> = json["added"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["assets"].as_array().unwrap().len() == 2)
        .collect();
    assert_eq!(shared.len(), 1, "{json:#}");
    assert_eq!(
        shared[0]["assets"],
        serde_json::json!(["dup-a.txt", "sub/dup-b.txt"])
    );

    let blob_bytes: u64 = shas
        .iter()
        .map(|s| std::fs::metadata(dir.join("blobs").join(s)).unwrap().len())
        .sum();
    assert_eq!(json["blobs"]["added"], shas.len());
    assert_eq!(json["blobs"]["added_bytes"], blob_bytes);
    assert_eq!(json["blobs"]["kept"], 0);
    assert_eq!(json["manifest"], "written");
    assert_eq!(json["firmware"]["status"], "written");
    assert_eq!(json["package"]["version"], "0.1.0");

    // The same release again: every file kept as it is, inode and mtime too.
    let before = tree(&dir);
    let again = export(&r.r1, &dir).success();
    let json = again.json();
    assert_eq!(tree(&dir), before);
    assert_eq!(json["blobs"]["added"], 0);
    assert_eq!(json["blobs"]["kept"], shas.len());
    assert_eq!(json["blobs"]["kept_bytes"], blob_bytes);
    assert_eq!(json["manifest"], "unchanged");
    assert_eq!(json["firmware"]["status"], "unchanged");
    assert!(again.stderr.contains("Verified"), "{}", again.stderr);
    assert!(
        again
            .stderr
            .contains(&format!("0 blobs added (0 B), {} kept", shas.len())),
        "{}",
        again.stderr
    );
}

#[test]
fn re_export_of_a_new_release_adds_only_new_blobs() {
    let r = releases();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ota");
    export(&r.r1, &dir).success();
    let old = tree(&dir);

    let json = export(&r.r2, &dir).success().json();
    let (s1, s2) = (asset_shas(&r.r1), asset_shas(&r.r2));
    let new: BTreeSet<String> = s2.difference(&s1).cloned().collect();
    let shared: BTreeSet<String> = s2.intersection(&s1).cloned().collect();
    assert!(!new.is_empty() && !shared.is_empty());
    let names = |key: &str| -> BTreeSet<String> {
        json[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["sha256"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names("added"), new);
    assert_eq!(names("kept"), shared);
    assert_eq!(json["blobs"]["added"], new.len());
    assert_eq!(json["package"]["version"], "0.2.0");

    // Every blob of release 1 is still there, untouched, even those release
    // 2 no longer uses; release 2's new blobs were added beside them.
    let now = tree(&dir);
    for (path, was) in &old {
        if path.starts_with("blobs") {
            assert_eq!(now.get(path), Some(was), "{} changed", path.display());
        }
    }
    assert_eq!(blob_names(&dir), s1.union(&s2).cloned().collect());
    // manifest.json is the latest release's, replaced by a rename.
    oracle(&dir, &r.r2);
    let manifest = Path::new("manifest.json");
    assert_ne!(
        now[manifest].0, old[manifest].0,
        "a new inode: renamed over"
    );
}

#[test]
fn a_blob_with_other_bytes_is_refused_and_nothing_is_written() {
    let r = releases();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ota");
    export(&r.r1, &dir).success();
    // A blob release 2 also needs, holding other bytes (here: the raw
    // asset, as if an earlier release had stored it uncompressed).
    let m: Value = serde_json::from_slice(&manifest_json(&r.r2)).unwrap();
    let logo = m["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "logo.bin")
        .unwrap();
    let sha = logo["sha256"].as_str().unwrap();
    let blob = dir.join("blobs").join(sha);
    let raw: Vec<u8> = (0..2048u32).map(|i| (i * 7 % 251) as u8).collect();
    assert_eq!(crate::sha256(&raw), sha);
    std::fs::write(&blob, &raw).unwrap();
    let before = tree(&dir);

    let run = export(&r.r2, &dir).failure(1);
    assert_eq!(tree(&dir), before, "nothing at all was written");
    let err = run
        .stderr_has(&format!("blobs/{sha}"))
        .stderr_has("`logo.bin`")
        .stderr_has("immutable")
        .stderr_has("nothing was written")
        .stderr_has("the raw asset")
        .stderr_has("new directory")
        .stderr_has("assetota::blob_conflict");
    assert!(err.stdout.is_empty(), "{}", err.stdout);
}

#[test]
fn a_bad_bundle_or_directory_is_refused_before_anything_is_written() {
    let r = releases();
    let tmp = tempfile::tempdir().unwrap();
    // One asset byte changed, the zip rewritten around it.
    let mut zip = RawZip::new();
    for (name, mut data) in zip_entries(&r.r1) {
        if name == "assets/text.txt" {
            data[0] ^= 0x20;
        }
        zip.add(RawEntry {
            name: name.as_bytes(),
            data: &data,
            declared: None,
            unix_mode: 0o100644,
        });
    }
    let bad = tmp.path().join("bad.assetota.zip");
    std::fs::write(&bad, zip.finish()).unwrap();
    let dir = tmp.path().join("ota");
    export(&bad, &dir)
        .failure(4)
        .stderr_has("`assets/text.txt`: sha256");
    assert!(!dir.exists(), "the directory was not even created");

    // A directory that is a file.
    std::fs::write(&dir, "not a directory").unwrap();
    export(&r.r1, &dir)
        .failure(1)
        .stderr_has("exists and is not a directory");
    assert_eq!(std::fs::read(&dir).unwrap(), b"not a directory");
}

/// A running `cargo-assetota serve`, its stderr collected line by line.
struct Server {
    child: Child,
    base: String,
    lines: Arc<Mutex<Vec<String>>>,
    rx: Receiver<String>,
}

impl Server {
    fn start(path: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cargo-assetota"))
            .args(["serve", path.to_str().unwrap(), "--addr", "127.0.0.1:0"])
            .env("CARGO_TERM_COLOR", "never")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = channel();
        let keep = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                keep.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        let first = rx.recv_timeout(LONG).expect("serve prints its address");
        // `     Serving PATH at http://127.0.0.1:PORT/ (Ctrl-C stops)`
        let at = first.find("http://").unwrap_or_else(|| panic!("{first}"));
        let rest = &first[at + "http://".len()..];
        let host = &rest[..rest.find('/').unwrap()];
        let port: u16 = host.rsplit(':').next().unwrap().parse().unwrap();
        assert_ne!(port, 0, "the bound port, not the one asked for");
        let mut server = Server {
            child,
            base: format!("http://{host}"),
            lines,
            rx,
        };
        if path.is_file() {
            server.wait_for("Exported");
        }
        server
    }

    fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + LONG;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!("no line with {needle:?}: {:#?}", self.lines.lock().unwrap()),
            }
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGINT, then the exit status and every line it printed.
    fn stop(mut self) -> (ExitStatus, Vec<String>) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-INT", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + LONG;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "serve did not stop on SIGINT");
            std::thread::sleep(Duration::from_millis(20));
        };
        // The reader thread ends at EOF.
        let _ = self.wait_for_eof();
        let lines = self.lines.lock().unwrap().clone();
        (status, lines)
    }

    /// Waits until the reader thread has seen EOF (the channel closes), so
    /// every line the server printed is in `lines`: a condition, not a
    /// fixed pause that a descheduled reader thread could outlast.
    fn wait_for_eof(&self) -> Option<()> {
        let deadline = Instant::now() + LONG;
        loop {
            match self
                .rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(_) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return Some(()),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => return None,
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One curl reply: status, headers (lowercased names), body.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `curl -s -i --path-as-is ARGS URL`.
fn curl(args: &[&str], url: &str) -> Reply {
    let out = Command::new("curl")
        .args(["-s", "-S", "-i", "--path-as-is", "--max-time", "30"])
        .args(args)
        .arg(url)
        .output()
        .expect("curl runs");
    assert!(
        out.status.success(),
        "curl {args:?} {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let split = out
        .stdout
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    let head = String::from_utf8_lossy(&out.stdout[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: out.stdout[split + 4..].to_vec(),
    }
}

/// The files of an export of `bundle`, to compare served bytes with.
struct Reference {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    manifest: Value,
}

impl Reference {
    fn of(bundle: &Path) -> Reference {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ref");
        export(bundle, &dir).success();
        let manifest = serde_json::from_slice(&manifest_json(bundle)).unwrap();
        Reference {
            _tmp: tmp,
            dir,
            manifest,
        }
    }

    fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.dir.join(rel)).unwrap()
    }

    fn firmware(&self) -> String {
        self.manifest["firmware"]["file"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn blob_of(&self, asset: &str) -> String {
        let a = self.manifest["assets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == asset)
            .unwrap();
        format!("blobs/{}", a["sha256"].as_str().unwrap())
    }
}

/// urllib and raw sockets against a server: a full GET of every path (status,
/// sha256, headers), a download cut after a few KiB (a socket with a small
/// receive buffer, closed early) resumed with `Range: bytes=N-`, a range past
/// the end, and 8 clients at once, each fetching every path 3 times.
const CLIENTS: &str = r#"
import concurrent.futures, hashlib, json, socket, sys, urllib.error, urllib.parse, urllib.request
base, expected, cut_path = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]

def get(path, headers={}):
    req = urllib.request.Request(base + path, headers=headers)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()

for path, sha in expected.items():
    status, headers, body = get(path)
    assert status == 200, (path, status)
    assert hashlib.sha256(body).hexdigest() == sha, path
    assert headers["accept-ranges"] == "bytes", path
    assert int(headers["content-length"]) == len(body), path

# A download cut short: read the headers and some of the body, then close.
u = urllib.parse.urlsplit(base)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((u.hostname, u.port))
s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (cut_path, u.netloc)).encode())
data = b""
while b"\r\n\r\n" not in data or len(data) - data.index(b"\r\n\r\n") - 4 < 20000:
    chunk = s.recv(4096)
    assert chunk, "server closed early"
    data += chunk
s.close()
head, partial = data.split(b"\r\n\r\n", 1)
assert head.startswith(b"HTTP/1.1 200"), head
size = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
assert len(partial) < size, (len(partial), size)
status, headers, rest = get(cut_path, {"Range": "bytes=%d-" % len(partial)})
assert status == 206, status
assert headers["content-range"] == "bytes %d-%d/%d" % (len(partial), size - 1, size), headers
assert hashlib.sha256(partial + rest).hexdigest() == expected[cut_path], "resumed bytes differ"

try:
    get(cut_path, {"Range": "bytes=999999999-"})
    raise SystemExit("no 416")
except urllib.error.HTTPError as e:
    assert e.code == 416, e.code
    assert e.headers["Content-Range"] == "bytes */%d" % size, e.headers["Content-Range"]

def fetch_all(i):
    for _ in range(3):
        for path, sha in expected.items():
            status, _, body = get(path, {"Range": "bytes=0-"} if i % 2 else {})
            assert status == (206 if i % 2 else 200), (path, status)
            assert hashlib.sha256(body).hexdigest() == sha, path
    return i
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    assert sorted(pool.map(fetch_all, range(8))) == list(range(8))
print(json.dumps({"cut_at": len(partial), "size": size}))
"#;

#[test]
fn serve_a_bundle_to_curl_and_python() {
    let r = releases();
    let reference = Reference::of(&r.r1);
    let fw = reference.firmware();
    let fw_bytes = reference.read(&fw);
    let noise = reference.blob_of("noise.bin");
    let noise_bytes = reference.read(&noise);
    let noise_sha = &noise["blobs/".len()..];
    let server = Server::start(&r.r1);
    let temp_dir = {
        let lines = server.lines.lock().unwrap();
        let exported = lines.iter().find(|l| l.contains("Exported")).unwrap();
        // `Exported hello 0.1.0 to /tmp/assetota-serve-XXXX: …`
        let from = exported.find(" to ").unwrap() + 4;
        let to = exported[from..].find(": ").unwrap() + from;
        PathBuf::from(&exported[from..to])
    };
    assert!(
        temp_dir.join("manifest.json").is_file(),
        "{}",
        temp_dir.display()
    );

    // Full GET of manifest.json: the bundle's, never cached without asking.
    let reply = curl(&[], &server.url("/manifest.json"));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, manifest_json(&r.r1));
    assert_eq!(reply.header("cache-control"), Some("no-cache"));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("accept-ranges"), Some("bytes"));
    let manifest_etag = reply.header("etag").unwrap().to_owned();
    assert!(manifest_etag.starts_with('"'), "strong: {manifest_etag}");

    // HEAD of a blob: its sha256 as a strong ETag, cached forever, no body.
    let reply = curl(&["-I"], &server.url(&format!("/{noise}")));
    assert_eq!(reply.status, 200);
    assert!(reply.body.is_empty());
    assert_eq!(
        reply.header("content-length"),
        Some(noise_bytes.len().to_string().as_str())
    );
    assert_eq!(
        reply.header("etag"),
        Some(format!("\"{noise_sha}\"").as_str())
    );
    assert_eq!(
        reply.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(reply.header("accept-ranges"), Some("bytes"));

    // GET of the blob and of the firmware, byte for byte.
    let reply = curl(&[], &server.url(&format!("/{noise}")));
    assert_eq!(sha256(&reply.body), sha256(&noise_bytes));
    let reply = curl(&[], &server.url(&format!("/{fw}")));
    assert_eq!(reply.status, 200);
    assert_eq!(sha256(&reply.body), sha256(&fw_bytes));
    assert_eq!(reply.header("cache-control"), Some("no-cache"));

    // Range: bytes=N- is 206 with the right Content-Range.
    let n = 1000;
    let reply = curl(&["-r", "1000-"], &server.url(&format!("/{fw}")));
    assert_eq!(reply.status, 206);
    assert_eq!(
        reply.header("content-range").unwrap(),
        format!("bytes {n}-{}/{}", fw_bytes.len() - 1, fw_bytes.len())
    );
    assert_eq!(reply.body, fw_bytes[n..]);

    // curl resuming a partial file (`-C -` sends Range: bytes=<its size>-).
    let tmp = tempfile::tempdir().unwrap();
    let part = tmp.path().join("noise.part");
    std::fs::write(&part, &noise_bytes[..12_345]).unwrap();
    let out = Command::new("curl")
        .args(["-s", "-S", "-C", "-", "-o", part.to_str().unwrap()])
        .arg(server.url(&format!("/{noise}")))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(sha256(&std::fs::read(&part).unwrap()), sha256(&noise_bytes));

    // 416 for a range past the end and for an inverted one.
    for range in ["bytes=999999999-", "bytes=10-5"] {
        let reply = curl(
            &["-H", &format!("Range: {range}")],
            &server.url(&format!("/{noise}")),
        );
        assert_eq!(reply.status, 416, "{range}");
        assert_eq!(
            reply.header("content-range").unwrap(),
            format!("bytes */{}", noise_bytes.len()),
            "{range}"
        );
        assert!(reply.body.is_empty(), "{range}");
    }

    // Conditional requests on the blob's ETag, and If-Range.
    let blob_url = server.url(&format!("/{noise}"));
    let etag = format!("\"{noise_sha}\"");
    let reply = curl(&["-H", &format!("If-None-Match: {etag}")], &blob_url);
    assert_eq!(reply.status, 304);
    assert_eq!(reply.header("etag"), Some(etag.as_str()));
    let reply = curl(&["-H", "If-Match: \"other\""], &blob_url);
    assert_eq!(reply.status, 412);
    let reply = curl(
        &["-r", "100-", "-H", &format!("If-Range: {etag}")],
        &blob_url,
    );
    assert_eq!(reply.status, 206);
    let reply = curl(&["-r", "100-", "-H", "If-Range: \"stale\""], &blob_url);
    assert_eq!(reply.status, 200, "a stale If-Range gets the whole file");
    assert_eq!(reply.body, noise_bytes);
    let reply = curl(
        &["-r", "100-", "-H", &format!("If-Range: {manifest_etag}")],
        &server.url("/manifest.json"),
    );
    assert_eq!(reply.status, 206, "ServeDir's own ETag works for If-Range");
    let reply = curl(&["-X", "POST"], &server.url("/manifest.json"));
    assert_eq!(reply.status, 405);

    // Several curl processes at once.
    let children: Vec<(PathBuf, Child)> = (0..6)
        .map(|i| {
            let out = tmp.path().join(format!("fw{i}"));
            let child = Command::new("curl")
                .args(["-s", "-S", "-o", out.to_str().unwrap()])
                .arg(server.url(&format!("/{fw}")))
                .spawn()
                .unwrap();
            (out, child)
        })
        .collect();
    for (out, mut child) in children {
        assert!(child.wait().unwrap().success());
        assert_eq!(sha256(&std::fs::read(out).unwrap()), sha256(&fw_bytes));
    }

    // Python: urllib, a cut download resumed, 416, 8 concurrent clients.
    let mut expected = serde_json::Map::new();
    for rel in ["manifest.json".to_owned(), fw.clone(), noise.clone()] {
        expected.insert(format!("/{rel}"), sha256(&reference.read(&rel)).into());
    }
    let result = python(
        CLIENTS,
        &[
            &server.base,
            &Value::Object(expected).to_string(),
            &format!("/{fw}"),
        ],
    );
    let result: Value = serde_json::from_str(result.trim()).unwrap();
    assert!(result["cut_at"].as_u64().unwrap() < result["size"].as_u64().unwrap());

    // SIGINT: a clean stop, exit 0, the temporary export removed.
    let (status, lines) = server.stop();
    assert_eq!(status.code(), Some(0), "{lines:#?}");
    assert!(!temp_dir.exists(), "{} is left", temp_dir.display());
    assert!(lines.iter().any(|l| l.contains("Stopped")), "{lines:#?}");
    // One line per request, with what it was.
    let requests = lines
        .iter()
        .filter(|l| l.trim_start().starts_with("GET ") || l.trim_start().starts_with("HEAD "));
    assert!(requests.count() >= 20, "{lines:#?}");
    let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
    assert!(has(&format!("HEAD /{noise} 200 0 B")), "{lines:#?}");
    assert!(
        has(&format!(
            "GET /{fw} 206 {} B range bytes=1000-",
            fw_bytes.len() - n
        )),
        "{lines:#?}"
    );
    assert!(has("416 0 B range bytes=10-5"), "{lines:#?}");
    assert!(has("cut short"), "the cut download says so: {lines:#?}");
}

/// Raw requests no HTTP library would send: absolute-form targets with
/// `..`, backslashes, percent-encoded separators.
const RAW_REQUESTS: &str = r#"
import json, socket, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
out = {}
for target in json.loads(sys.argv[2]):
    s = socket.create_connection((u.hostname, u.port), timeout=30)
    s.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (target, u.netloc)).encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    out[target] = data.decode("latin-1")
print(json.dumps(out))
"#;

#[test]
fn serve_never_leaves_the_directory() {
    let r = releases();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ota");
    export(&r.r1, &dir).success();
    let secret = tmp.path().join("secret.txt");
    std::fs::write(&secret, "SECRET OUTSIDE THE DIRECTORY\n").unwrap();
    std::os::unix::fs::symlink(&secret, dir.join("escape.txt")).unwrap();
    // A blob-shaped name that leads out.
    let fake = "f".repeat(64);
    std::os::unix::fs::symlink(&secret, dir.join("blobs").join(&fake)).unwrap();
    std::os::unix::fs::symlink(tmp.path(), dir.join("up")).unwrap();
    // Links that stay inside are fine.
    std::os::unix::fs::symlink("manifest.json", dir.join("latest.json")).unwrap();
    std::fs::write(dir.join(".hidden"), "SECRET HIDDEN\n").unwrap();
    std::fs::write(dir.join("blobs").join("notes.txt"), "SECRET NOT A BLOB\n").unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    // In the served directory's parent, as `..` would reach.
    let server = Server::start(&dir);

    let attempts = [
        "/../secret.txt",
        "/../../../../etc/passwd",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/.%2e/secret.txt",
        "/blobs/..%2f..%2fsecret.txt",
        "/blobs/..%2f..%2f..%2f..%2fetc/passwd",
        "/%2fetc%2fpasswd",
        "//etc/passwd",
        "/etc/passwd",
        "/escape.txt",
        &format!("/blobs/{fake}"),
        "/up/secret.txt",
        "/.hidden",
        "/blobs/notes.txt",
        "/blobs/",
        "/blobs",
        "/sub",
        "/",
        "/..%5csecret.txt",
        "/blobs/%00",
    ];
    for path in attempts {
        let reply = curl(&[], &server.url(path));
        assert!(
            reply.status == 400 || reply.status == 404,
            "{path}: {}",
            reply.status
        );
        let body = String::from_utf8_lossy(&reply.body);
        assert!(
            !body.contains("SECRET") && !body.contains("root:"),
            "{path}: {body}"
        );
    }
    let reply = curl(&[], &server.url("/latest.json"));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, manifest_json(&r.r1));

    // What curl would normalise: absolute-form, backslashes, raw.
    let raw = [
        format!("{}/../secret.txt", server.base),
        format!("{}/%2e%2e/secret.txt", server.base),
        "/..\\secret.txt".to_owned(),
        "/blobs/..\\..\\secret.txt".to_owned(),
        "/../secret.txt".to_owned(),
    ];
    let replies = python(
        RAW_REQUESTS,
        &[&server.base, &serde_json::to_string(&raw).unwrap()],
    );
    let replies: BTreeMap<String, String> = serde_json::from_str(replies.trim()).unwrap();
    for (target, reply) in &replies {
        assert!(
            reply.starts_with("HTTP/1.1 400") || reply.starts_with("HTTP/1.1 404"),
            "{target}: {reply}"
        );
        assert!(!reply.contains("SECRET"), "{target}: {reply}");
    }

    let (status, lines) = server.stop();
    assert_eq!(status.code(), Some(0), "{lines:#?}");
    assert!(dir.join("manifest.json").is_file(), "a served DIR is kept");
    assert!(
        lines.iter().any(|l| l.contains("GET /../secret.txt 400")),
        "{lines:#?}"
    );
}

/// A bundle-level codec other than deflate: xz blobs that Python's `lzma`
/// decodes, and `none` blobs that are the raw bytes (`sha256sum` names them).
#[test]
fn export_writes_xz_and_raw_blobs() {
    let xz = Project::host(
        "export_serve_xz",
        "[package.metadata.assetota]\ndir = \"assets\"\ncodec = { kind = \"xz\", level = 6, dict-size = \"64 KiB\" }\n",
    )
    .with_assets();
    // The helper encodes xz only with its `xz` feature.
    let toml = std::fs::read_to_string(xz.path().join("Cargo.toml")).unwrap();
    let toml = toml.replacen(
        "assetota-build = { path = ",
        "assetota-build = { features = [\"xz\"], path = ",
        1,
    );
    xz.write("Cargo.toml", toml);
    xz.cli(&["build"]).success();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("xz");
    export(&xz.bundle(None, "debug"), &dir).success();
    oracle(&dir, &xz.bundle(None, "debug"));
    for sha in blob_names(&dir) {
        let blob = std::fs::read(dir.join("blobs").join(&sha)).unwrap();
        assert!(blob.starts_with(b"\xfd7zXZ\0"), "an .xz stream");
    }

    let none = Project::host(
        "export_serve_none",
        "[package.metadata.assetota]\ndir = \"assets\"\ncodec = \"none\"\n",
    )
    .with_assets();
    none.cli(&["build"]).success();
    let dir = tmp.path().join("none");
    export(&none.bundle(None, "debug"), &dir).success();
    oracle(&dir, &none.bundle(None, "debug"));
    let out = Command::new("sha256sum")
        .args(blob_names(&dir))
        .current_dir(dir.join("blobs"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let listed = String::from_utf8(out.stdout).unwrap();
    let mut count = 0;
    for line in listed.lines() {
        let (sum, name) = line.split_once("  ").unwrap();
        assert_eq!(sum, name, "a raw blob hashes to its name");
        count += 1;
    }
    assert_eq!(count, 3);
}
