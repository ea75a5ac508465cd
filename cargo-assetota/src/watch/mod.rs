//! The `watch` session: file events in, rescans through assetota-core (the
//! code build.rs and `size` run, with the shared incremental cache), reports
//! of what changed out, and optionally a rebuild after each change.
//!
//! Events come from notify through notify-debouncer-full, which merges rename
//! pairs and duplicates within a few milliseconds and keeps each event's
//! kind: reads must be told from writes, or the scanner's own reads (and
//! build.rs's) would trigger rescan after rescan. On top of it the session
//! waits for the whole tree to be quiet for `--debounce` before it rescans,
//! so a burst (a `git checkout` of 500 files, an editor's save dance of temp
//! file, rename and backup) gives one report. A report is printed only when
//! an asset or the budget differs, so events that change nothing (a swap
//! file, a file created and deleted within the window) print nothing.

pub mod child;
pub mod paths;
pub mod report;

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant};

use assetota_core::cache::Cache;
use assetota_core::{Budget, Config, MeasureError, NoProgress, Platform, ScanError};
use notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer_opt};

use crate::error::{Error, Result};
use crate::shell::{BarProgress, GREEN, RED, Shell};
use child::{BuildChild, BuildMsg};
use paths::{Interest, Touch};

/// notify-debouncer-full's own window: long enough to pair a rename's two
/// halves and merge duplicates, short next to `--debounce`.
const PAIRING_WINDOW: Duration = Duration::from_millis(10);
/// A tree that never goes quiet (a log written into the assets) is still
/// reported at least this often.
const MIN_MAX_WAIT: Duration = Duration::from_secs(2);
/// How long a stopped build may take to exit before its group is killed.
const STOP_GRACE: Duration = Duration::from_secs(3);
/// A signal arrived.
static STOPPING: AtomicBool = AtomicBool::new(false);
/// A build child runs (or is being stopped): the session must end it itself.
static BUILDING: AtomicBool = AtomicBool::new(false);

/// A file that vanished mid-scan means the tree is still changing: rescan
/// after another quiet window, and report the error only if it persists.
const VANISHED_RETRIES: u32 = 5;

/// What `cargo assetota watch` was asked to do.
pub struct Options {
    /// Quiet time after the last event before a rescan.
    pub debounce: Duration,
    /// `--platform` or `ASSETOTA_PLATFORM`, with where it came from.
    pub platform_override: Option<(String, String)>,
    /// Where the shared measurement cache lives.
    pub target_dir: PathBuf,
    /// `--build`: the program and arguments of the build to run after a change.
    pub build: Option<(PathBuf, Vec<OsString>)>,
    /// `--report`: the HTML page kept current (rewritten after every scan).
    pub report: Option<PathBuf>,
}

/// A package to watch.
pub struct PackageSpec {
    pub name: String,
    pub manifest_path: PathBuf,
}

enum Msg {
    Fs(DebounceEventResult),
    Stop,
    Build(BuildMsg),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    /// Not scanned yet.
    New,
    Ok,
    /// The assets directory does not exist.
    Missing,
    /// The scan failed; the message was printed.
    Failed(String),
    /// The config cannot be read; the message was printed.
    BadConfig(String),
}

struct Package {
    name: String,
    manifest_path: PathBuf,
    config: Option<Config>,
    platform: Option<Platform>,
    interest: Interest,
    /// The last successful scan.
    last: Option<Budget>,
    status: Status,
    vanished: u32,
}

/// What a config reload found.
enum Reload {
    Unchanged,
    /// The assets dir, the ignore rules or the platform changed.
    Changed(String),
}

impl Package {
    fn new(spec: PackageSpec) -> Package {
        let interest = Interest {
            dir: None,
            inputs: vec![paths::normalize(&spec.manifest_path)],
        };
        Package {
            name: spec.name,
            manifest_path: spec.manifest_path,
            config: None,
            platform: None,
            interest,
            last: None,
            status: Status::New,
            vanished: 0,
        }
    }

    /// Reads the config again. On failure the previous config stays in force
    /// (and its paths stay watched), the manifest is watched for the fix.
    fn reload(
        &mut self,
        platform_override: Option<&(String, String)>,
    ) -> std::result::Result<Reload, String> {
        let loaded = Config::load(&self.manifest_path)
            .map_err(|e| e.to_string())
            .and_then(|config| {
                let config = config.ok_or_else(|| {
                    format!(
                        "`{}` no longer has a [package.metadata.assetota] table",
                        self.manifest_path.display()
                    )
                })?;
                let platform = config
                    .resolve_platform(platform_override.map(|(n, f)| (n.as_str(), f.as_str())))
                    .map_err(|e| e.to_string())?;
                Ok((config, platform))
            });
        let (config, platform) = match loaded {
            Ok(loaded) => loaded,
            Err(message) => {
                let manifest = paths::normalize(&self.manifest_path);
                if !self.interest.inputs.contains(&manifest) {
                    self.interest.inputs.push(manifest);
                }
                return Err(message);
            }
        };
        let what = match (&self.config, &self.platform) {
            (Some(old), Some(old_platform)) => {
                let mut what = Vec::new();
                if old.dir != config.dir {
                    what.push(format!("assets directory `{}`", display_path(&config.dir)));
                }
                if old.exclude != config.exclude {
                    what.push("exclude rules".to_owned());
                }
                if *old_platform != platform {
                    what.push(report::platform_summary(&Budget::new(
                        &platform,
                        Vec::new(),
                    )));
                }
                what
            }
            _ => vec!["loaded".to_owned()],
        };
        self.interest = Interest {
            dir: Some(paths::normalize(&config.dir)),
            inputs: config.inputs.iter().map(|p| paths::normalize(p)).collect(),
        };
        self.config = Some(config);
        self.platform = Some(platform);
        Ok(if what.is_empty() {
            Reload::Unchanged
        } else {
            Reload::Changed(what.join(", "))
        })
    }
}

/// Watches `packages` until SIGINT, SIGTERM or SIGHUP.
pub fn run(packages: Vec<PackageSpec>, options: Options, shell: &mut Shell) -> Result<()> {
    // A bad config at the start is the command's error, with its exit code
    // and help, as `size` reports it; later ones are reported and watched.
    for spec in &packages {
        let config = Config::load(&spec.manifest_path)?.ok_or_else(|| Error::NotOptedIn {
            package: spec.name.clone(),
            manifest: spec.manifest_path.clone(),
        })?;
        let over = options.platform_override.as_ref();
        config.resolve_platform(over.map(|(n, f)| (n.as_str(), f.as_str())))?;
    }

    let (tx, rx) = channel();
    let stop = tx.clone();
    ctrlc::set_handler(move || {
        let _ = stop.send(Msg::Stop);
        if !STOPPING.swap(true, Ordering::SeqCst) {
            // The session answers at once unless it is deep in a long scan
            // (a cold one of a large tree); nothing to clean up then.
            std::thread::spawn(|| {
                std::thread::sleep(STOP_GRACE);
                while BUILDING.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(100));
                }
                anstream::eprintln!("{GREEN}{:>12}{GREEN:#} watching (during a scan)", "Stopped");
                std::process::exit(0);
            });
        }
    })
    .map_err(|e| Error::Watch(format!("cannot handle Ctrl-C: {e}")))?;
    let fs = tx.clone();
    let debouncer = new_debouncer_opt::<_, RecommendedWatcher, RecommendedCache>(
        PAIRING_WINDOW,
        Some(PAIRING_WINDOW),
        move |result: DebounceEventResult| {
            let _ = fs.send(Msg::Fs(result));
        },
        RecommendedCache::new(),
        notify::Config::default(),
    )
    .map_err(|e| Error::Watch(format!("cannot watch files: {e}")))?;

    let mut session = Session {
        multi: packages.len() > 1,
        packages: packages.into_iter().map(Package::new).collect(),
        cache: Cache::for_target_dir(&options.target_dir),
        options,
        debouncer,
        watched: Vec::new(),
        tx,
        rx,
        dirty_config: BTreeSet::new(),
        dirty_assets: BTreeSet::new(),
        first_event: None,
        last_event: None,
        shell,
    };
    if let Flow::Continue = session.start() {
        session.run();
    }
    session.shell.status("Stopped", "watching");
    session.shell.flush();
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    Stop,
}

struct Session<'s> {
    shell: &'s mut Shell,
    options: Options,
    packages: Vec<Package>,
    multi: bool,
    cache: Cache,
    debouncer: Debouncer<RecommendedWatcher, RecommendedCache>,
    /// What is watched now: path, mode, and the identity (device, inode) of
    /// the directory: one removed and created again must be watched anew.
    watched: Vec<Watched>,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    dirty_config: BTreeSet<usize>,
    dirty_assets: BTreeSet<usize>,
    first_event: Option<Instant>,
    last_event: Option<Instant>,
}

impl Session<'_> {
    /// Loads every config, watches, scans, prints the first report, and
    /// builds once with `--build`.
    fn start(&mut self) -> Flow {
        for i in 0..self.packages.len() {
            let over = self.options.platform_override.clone();
            if let Err(message) = self.packages[i].reload(over.as_ref()) {
                // Checked in `run`; only a race with an editor gets here.
                self.packages[i].status = Status::BadConfig(message.clone());
                self.shell.error(message);
            }
        }
        self.reconcile_watches();
        for i in 0..self.packages.len() {
            self.rescan(i, None);
        }
        self.shell.status(
            "Watching",
            format_args!("{} (Ctrl-C to stop)", self.describe_targets()),
        );
        self.shell.flush();
        if self.options.build.is_some() {
            self.build()
        } else {
            Flow::Continue
        }
    }

    fn describe_targets(&self) -> String {
        let dirs: Vec<String> = self
            .packages
            .iter()
            .filter_map(|p| {
                p.config
                    .as_ref()
                    .map(|c| format!("`{}` in {}", p.name, display_path(&c.dir)))
            })
            .collect();
        format!("the assets of {}", dirs.join(", "))
    }

    fn run(&mut self) {
        loop {
            let msg = match self.deadline() {
                None => self.rx.recv().ok(),
                Some(deadline) => match self
                    .rx
                    .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                {
                    Ok(msg) => Some(msg),
                    Err(RecvTimeoutError::Timeout) => {
                        if self.settle() == Flow::Stop {
                            return;
                        }
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => None,
                },
            };
            match msg {
                None | Some(Msg::Stop) => return,
                Some(Msg::Fs(result)) => self.note_events(result),
                Some(Msg::Build(_)) => {} // from a build that was already reaped
            }
        }
    }

    /// When the pending changes are due: once the tree has been quiet for the
    /// debounce window, or after a longer cap if it never goes quiet.
    fn deadline(&self) -> Option<Instant> {
        if self.dirty_config.is_empty() && self.dirty_assets.is_empty() {
            return None;
        }
        let quiet = self.last_event? + self.options.debounce;
        let cap = self.first_event? + (self.options.debounce * 10).max(MIN_MAX_WAIT);
        Some(quiet.min(cap))
    }

    /// Marks the packages an event batch may have changed.
    fn note_events(&mut self, result: DebounceEventResult) {
        let events = match result {
            Ok(events) => events,
            Err(errors) => {
                for e in errors {
                    self.shell
                        .warn(format_args!("file watching: {e}{}", watch_error_help(&e)));
                }
                return;
            }
        };
        // The quiet window runs from when each event happened (the debouncer
        // stamps it on arrival), so its own pairing delay is not added.
        let mut latest: Option<Instant> = None;
        for event in &events {
            let mut any = false;
            if event.need_rescan() {
                // The OS dropped events (queue overflow): rescan everything.
                self.dirty_assets.extend(0..self.packages.len());
                latest = latest.max(Some(event.time));
                continue;
            }
            if !paths::kind_matters(&event.kind) {
                continue;
            }
            for path in &event.paths {
                for (i, package) in self.packages.iter().enumerate() {
                    match package.interest.touch(path) {
                        Some(Touch::Config) => {
                            self.dirty_config.insert(i);
                            any = true;
                        }
                        Some(Touch::Assets) => {
                            self.dirty_assets.insert(i);
                            any = true;
                        }
                        None => {}
                    }
                }
            }
            if any {
                latest = latest.max(Some(event.time));
            }
        }
        if let Some(time) = latest {
            self.last_event = self.last_event.max(Some(time));
            self.first_event.get_or_insert(time);
        }
    }

    /// The tree is quiet: reload what needs it, rescan, report, rebuild.
    fn settle(&mut self) -> Flow {
        let configs = std::mem::take(&mut self.dirty_config);
        let mut assets = std::mem::take(&mut self.dirty_assets);
        self.first_event = None;
        self.last_event = None;

        let mut reasons: Vec<Option<String>> = vec![None; self.packages.len()];
        for i in configs {
            let over = self.options.platform_override.clone();
            let package = &mut self.packages[i];
            match package.reload(over.as_ref()) {
                Ok(Reload::Unchanged) => {
                    if matches!(package.status, Status::BadConfig(_)) {
                        package.status = Status::New;
                        reasons[i] = Some("config: fixed".to_owned());
                        assets.insert(i);
                    }
                }
                Ok(Reload::Changed(what)) => {
                    if matches!(package.status, Status::BadConfig(_)) {
                        package.status = Status::New;
                    }
                    reasons[i] = Some(format!("config: {what}"));
                    assets.insert(i);
                }
                Err(message) => {
                    if package.status != Status::BadConfig(message.clone()) {
                        self.shell.error(format_args!(
                            "{message}\n       (the previous config stays in force; still watching)"
                        ));
                    }
                    package.status = Status::BadConfig(message);
                    assets.remove(&i);
                }
            }
        }
        self.reconcile_watches();
        let mut reported = false;
        for i in assets {
            if matches!(self.packages[i].status, Status::BadConfig(_)) {
                continue;
            }
            reported |= self.rescan(i, reasons[i].take());
        }
        self.shell.flush();
        if reported && self.options.build.is_some() {
            return self.build();
        }
        Flow::Continue
    }

    /// Makes the watches match what the packages need now.
    fn reconcile_watches(&mut self) {
        let wanted = paths::merge(self.packages.iter().flat_map(|p| p.interest.watches()));
        let wanted: Vec<Watched> = wanted
            .into_iter()
            .map(|(path, mode)| {
                let id = identity(&path);
                (path, mode, id)
            })
            .collect();
        for old in &self.watched {
            if !wanted.contains(old) {
                let _ = self.debouncer.unwatch(&old.0);
            }
        }
        let mut now_watched = Vec::new();
        for entry in wanted {
            if self.watched.contains(&entry) {
                now_watched.push(entry);
                continue;
            }
            // A stale watch under the same path (the directory was replaced)
            // goes first, or notify would merge into it.
            let _ = self.debouncer.unwatch(&entry.0);
            match self.debouncer.watch(&entry.0, entry.1) {
                Ok(()) => now_watched.push(entry),
                Err(e) if matches!(e.kind, notify::ErrorKind::PathNotFound) => {} // gone meanwhile; its parent's event follows
                Err(e) => self.shell.warn(format_args!(
                    "cannot watch `{}`: {e}{}",
                    display_path(&entry.0),
                    watch_error_help(&e)
                )),
            }
        }
        self.watched = now_watched;
    }

    fn print(&mut self, package: usize, line: &str) {
        if self.multi {
            let name = &self.packages[package].name;
            self.shell.print(format_args!("[{name}] {line}"));
        } else {
            self.shell.print(line);
        }
    }

    /// Rescans one package and prints what changed, if anything did.
    /// Returns whether a report was printed.
    fn rescan(&mut self, i: usize, reason: Option<String>) -> bool {
        let (Some(config), Some(platform)) = (
            self.packages[i].config.clone(),
            self.packages[i].platform.clone(),
        ) else {
            return false;
        };
        let started = Instant::now();
        let (hits, misses) = self.cache.stats();
        let result = if self.packages[i].status == Status::New && self.packages[i].last.is_none() {
            // The first scan may measure everything: a bar on a terminal.
            let bar = BarProgress(self.shell.progress("Measuring", 0));
            assetota_core::analyze_cached(&config, &platform, &bar, &mut self.cache)
        } else {
            assetota_core::analyze_cached(&config, &platform, &NoProgress, &mut self.cache)
        };
        let (hits2, misses2) = self.cache.stats();
        self.shell.verbose(
            "Rescanned",
            format_args!(
                "`{}`: {} from the cache, {} measured, in {:.1} ms",
                self.packages[i].name,
                hits2 - hits,
                misses2 - misses,
                started.elapsed().as_secs_f64() * 1e3
            ),
        );
        let dir = display_path(&config.dir);
        match result {
            Ok(budget) => {
                self.packages[i].vanished = 0;
                let status = std::mem::replace(&mut self.packages[i].status, Status::Ok);
                let last = self.packages[i].last.take();
                let printed = match (&last, &status) {
                    (None, _) => {
                        let count = budget.assets.len();
                        self.print(
                            i,
                            &format!(
                                "watching `{}`: {count} asset{} in {dir}, {}",
                                self.packages[i].name,
                                if count == 1 { "" } else { "s" },
                                report::platform_summary(&budget)
                            ),
                        );
                        self.print_budget(i, &budget);
                        status != Status::New
                    }
                    (Some(old), _) => {
                        let changes = report::diff(old, &budget);
                        let header = match (&status, reason) {
                            (Status::Missing, _) => Some(format!(
                                "back: assets directory `{dir}` is here again; {}",
                                report::counts(&changes)
                            )),
                            (Status::Failed(_), _) => Some(format!(
                                "fixed: the assets scan again; {}",
                                report::counts(&changes)
                            )),
                            (_, Some(reason)) => {
                                Some(format!("{reason}; {}", report::counts(&changes)))
                            }
                            (_, None) if report::differs(old, &budget) => {
                                Some(format!("change: {}", report::counts(&changes)))
                            }
                            _ => None,
                        };
                        match header {
                            Some(header) => {
                                self.print(i, &header);
                                for line in report::change_lines(&changes, &budget) {
                                    self.print(i, &line);
                                }
                                self.print_budget(i, &budget);
                                true
                            }
                            None => false,
                        }
                    }
                };
                self.packages[i].last = Some(budget);
                self.write_report();
                printed
            }
            Err(assetota_core::Error::Scan(ScanError::DirMissing(_))) => {
                let previous = std::mem::replace(&mut self.packages[i].status, Status::Missing);
                if previous != Status::Missing {
                    let gone = self.packages[i].last.as_ref().map_or(0, |b| b.assets.len());
                    self.shell.warn(format_args!(
                        "assets directory `{dir}` does not exist{}; watching for it to appear",
                        if previous == Status::New {
                            String::new()
                        } else {
                            format!(
                                " any more ({gone} asset{} gone)",
                                if gone == 1 { "" } else { "s" }
                            )
                        }
                    ));
                    if self.packages[i].last.is_none() {
                        // Nothing to compare with when it appears: compare with empty.
                        self.packages[i].last = Some(Budget::new(&platform, Vec::new()));
                    }
                }
                false
            }
            Err(assetota_core::Error::Measure(MeasureError::Vanished { .. }))
                if self.packages[i].vanished < VANISHED_RETRIES =>
            {
                // Still changing: its removal event is on the way; look again.
                self.packages[i].vanished += 1;
                self.dirty_assets.insert(i);
                let now = Instant::now();
                self.last_event = Some(now);
                self.first_event.get_or_insert(now);
                false
            }
            Err(e) => {
                let message = e.to_string();
                let previous = std::mem::replace(
                    &mut self.packages[i].status,
                    Status::Failed(message.clone()),
                );
                if previous != Status::Failed(message.clone()) {
                    self.shell.error(format_args!("{message}\n       (still watching; the report resumes once the assets scan again)"));
                }
                if self.packages[i].last.is_none() {
                    self.packages[i].last = Some(Budget::new(&platform, Vec::new()));
                }
                false
            }
        }
    }

    /// `--report`: the page of every package's last budget, written
    /// atomically; it reloads itself every 2 s. A failed write is a warning.
    fn write_report(&mut self) {
        let Some(path) = self.options.report.clone() else {
            return;
        };
        let sections: Vec<_> = self
            .packages
            .iter()
            .filter_map(|p| {
                p.last
                    .as_ref()
                    .map(|b| assetota_report::size_html::size_section(&p.name, b, None))
            })
            .collect();
        let page = assetota_report::Report {
            title: match sections.as_slice() {
                [one] => format!("Asset budget: {} (watch)", one.heading),
                _ => "Asset budgets (watch)".to_owned(),
            },
            date: assetota_report::report_date(),
            refresh_seconds: Some(2),
            sections,
        };
        let html = assetota_report::page::render(&page);
        if let Err(e) = crate::files::write_atomically(&path, html.as_bytes()) {
            self.shell.warn(format_args!("{e}"));
        }
    }

    fn print_budget(&mut self, i: usize, budget: &Budget) {
        for line in report::findings(budget) {
            self.print(i, &line);
        }
        self.print(i, &report::budget(budget));
    }

    /// Runs the build child to its end, or stops it on a signal. File
    /// events that arrive meanwhile are kept for afterwards.
    fn build(&mut self) -> Flow {
        let Some((program, args)) = self.options.build.clone() else {
            return Flow::Continue;
        };
        self.shell.status("Building", "cargo assetota build");
        self.shell.flush();
        let tx = self.tx.clone();
        let started = Instant::now();
        // Set until the child is reaped; left set when it is being stopped,
        // as the session ends then anyway.
        BUILDING.store(true, Ordering::SeqCst);
        let mut child =
            match BuildChild::spawn(&program, &args, move |m| tx.send(Msg::Build(m)).is_ok()) {
                Ok(child) => child,
                Err(e) => {
                    BUILDING.store(false, Ordering::SeqCst);
                    self.shell.error(format_args!(
                        "cannot run `{}`: {e}; still watching",
                        program.display()
                    ));
                    return Flow::Continue;
                }
            };
        let mut bundles = Vec::new();
        // Both its exit and the end of its stdout (the last lines may come
        // after the exit); a grandchild that kept the pipe open is not waited
        // for long.
        let (mut exited, mut eof) = (None, false);
        let status = loop {
            if exited.is_some() && eof {
                break exited.take().expect("checked");
            }
            let msg = match &exited {
                None => self.rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                Some(_) => self.rx.recv_timeout(Duration::from_secs(2)),
            };
            match msg {
                Ok(Msg::Build(BuildMsg::Line(line))) => bundles.extend(bundle_of(&line)),
                Ok(Msg::Build(BuildMsg::Eof)) => eof = true,
                Ok(Msg::Build(BuildMsg::Exited(status))) => {
                    child.mark_done();
                    BUILDING.store(false, Ordering::SeqCst);
                    exited = Some(status);
                }
                Ok(Msg::Fs(result)) => self.note_events(result),
                Err(RecvTimeoutError::Timeout) => eof = true,
                Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => {
                    if exited.is_none() {
                        self.stop_build(child);
                    }
                    return Flow::Stop;
                }
            }
        };
        let secs = started.elapsed().as_secs_f64();
        match status {
            Ok(status) if status.success() => {
                for (bundle, fits) in &bundles {
                    let over = if *fits { "" } else { " (over budget)" };
                    self.shell.print(format_args!(
                        "{GREEN}build: ok{GREEN:#} in {secs:.1} s, bundle {}{over}",
                        display_path(Path::new(bundle))
                    ));
                }
                if bundles.is_empty() {
                    self.shell
                        .print(format_args!("{GREEN}build: ok{GREEN:#} in {secs:.1} s"));
                }
            }
            Ok(status) => {
                self.shell.print(format_args!(
                    "{RED}build: FAILED{RED:#} ({}) in {secs:.1} s; still watching",
                    child::describe_failure(&status)
                ));
            }
            Err(e) => self.shell.print(format_args!(
                "{RED}build: FAILED{RED:#} (cannot wait for it: {e}); still watching"
            )),
        }
        self.shell.flush();
        Flow::Continue
    }

    /// SIGTERM to the build's process group; SIGKILL to whatever is left
    /// after a grace period (at once on a second Ctrl-C).
    fn stop_build(&mut self, mut child: BuildChild) {
        self.shell.status("Stopping", "the build");
        self.shell.flush();
        child.terminate();
        let mut reaped = false;
        let deadline = Instant::now() + STOP_GRACE;
        while !reaped {
            match self
                .rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(Msg::Build(BuildMsg::Exited(_))) => {
                    child.mark_done();
                    reaped = true;
                }
                Ok(Msg::Stop) | Err(_) => break,
                Ok(_) => {}
            }
        }
        if child.group_alive() {
            child.kill();
        }
        if !reaped {
            // Reap it, so no zombie outlives us either.
            let deadline = Instant::now() + STOP_GRACE;
            while let Ok(msg) = self
                .rx
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                if let Msg::Build(BuildMsg::Exited(_)) = msg {
                    child.mark_done();
                    break;
                }
            }
        }
    }
}

/// A watched path, its mode, and the (device, inode) it had when watched.
type Watched = (PathBuf, RecursiveMode, Option<(u64, u64)>);

/// The (device, inode) of a directory, to notice it was replaced.
fn identity(path: &Path) -> Option<(u64, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((meta.dev(), meta.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Some((0, 0))
    }
}

fn watch_error_help(e: &notify::Error) -> &'static str {
    match e.kind {
        notify::ErrorKind::MaxFilesWatch => {
            "; raise the limit, e.g. `sudo sysctl fs.inotify.max_user_watches=524288` (changes may be missed until then)"
        }
        _ => "",
    }
}

/// The bundle path and whether it fits, from a `--message-format json` line
/// of `cargo assetota build`.
fn bundle_of(line: &str) -> Option<(String, bool)> {
    let value: serde_json::Value = serde_json::from_str(line).ok()?;
    if value.get("reason")?.as_str()? != "assetota-bundle" {
        return None;
    }
    Some((
        value.get("bundle")?.as_str()?.to_owned(),
        value.get("fits").and_then(|f| f.as_bool()).unwrap_or(true),
    ))
}

/// A path as the user would like to read it: relative to the current
/// directory when it is below it.
fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&cwd)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_lines_are_read_from_the_build_json() {
        assert_eq!(
            bundle_of(
                r#"{"reason":"assetota-bundle","bundle":"/t/debug/fw.assetota.zip","fits":true}"#
            ),
            Some(("/t/debug/fw.assetota.zip".to_owned(), true))
        );
        assert_eq!(bundle_of(r#"{"reason":"compiler-artifact"}"#), None);
        assert_eq!(bundle_of("not json"), None);
    }
}
