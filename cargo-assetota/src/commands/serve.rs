//! `cargo assetota serve DIR|BUNDLE [--addr 127.0.0.1:8080]`: a development
//! HTTP server for an `export` directory (README.md, "Delivery: export and serve"), over
//! `assetota_serve::router`, printing one line per request through the shell
//! (method, path, status, bytes sent, range) when its body is finished or
//! dropped, so a download cut short says how far it got.
//!
//! Ctrl-C (or SIGTERM) stops accepting, lets the requests in flight finish
//! for up to [`GRACE`], then exits 0; a second Ctrl-C exits at once.

use std::path::PathBuf;
use std::time::Duration;

use assetota_serve::RequestLine;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::cli::ServeArgs;
use crate::error::{Error, Result};
use crate::files::display_path;
use crate::shell::Shell;

/// How long requests in flight may take to finish after Ctrl-C.
pub const GRACE: Duration = Duration::from_secs(3);

pub fn run(args: ServeArgs, shell: &mut Shell) -> Result<()> {
    let serve_err = |what: &str, e: std::io::Error| Error::Serve(format!("{what}: {e}"));
    let meta = std::fs::metadata(&args.path).map_err(|source| Error::Read {
        path: args.path.clone(),
        source,
    })?;
    // Two threads at most: this one drives every connection; tokio's
    // blocking pool reads the files (ServeDir uses tokio::fs).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .max_blocking_threads(2)
        .build()
        .map_err(|e| serve_err("cannot start the runtime", e))?;

    let (listener, mut signals) = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .map_err(|source| Error::Bind {
                addr: args.addr.to_string(),
                source,
            })?;
        // Handlers in place before the address is printed: a Ctrl-C that
        // follows the first line stops the server cleanly.
        let signals = Signals::new().map_err(|e| serve_err("cannot catch Ctrl-C", e))?;
        Ok::<_, Error>((listener, signals))
    })?;
    let addr = listener
        .local_addr()
        .map_err(|e| serve_err("cannot read the bound address", e))?;
    shell.status(
        "Serving",
        format_args!(
            "{} at http://{addr}/ (Ctrl-C stops)",
            display_path(&args.path)
        ),
    );

    // A bundle is exported into a temporary directory, removed on exit.
    let (dir, _temp) = if meta.is_dir() {
        (args.path.clone(), None)
    } else {
        let temp = tempfile::Builder::new()
            .prefix("assetota-serve-")
            .tempdir()
            .map_err(|source| Error::Write {
                path: std::env::temp_dir(),
                source,
            })?;
        let summary = super::export::export(&args.path, temp.path(), shell)?;
        super::export::report(shell, &summary);
        (temp.path().to_owned(), Some(temp))
    };
    let root = dir.canonicalize().map_err(|source| Error::Read {
        path: dir.clone(),
        source,
    })?;
    if !root.join(assetota_bundle::MANIFEST_JSON).is_file() {
        shell.warn(format_args!(
            "`{}` has no manifest.json; is it a directory `cargo assetota export` wrote?",
            display_path(&dir)
        ));
    }

    let (log, mut lines) = unbounded_channel::<RequestLine>();
    let result = runtime.block_on(serve(listener, root, log, &mut lines, &mut signals, shell));
    // Connections still open after the grace period end with the runtime
    // (their lines are printed now), before the temporary directory is removed.
    drop(runtime);
    while let Ok(line) = lines.try_recv() {
        print(shell, &line);
    }
    shell.status("Stopped", "the server");
    result
}

/// Runs the server until a signal, printing a line per request.
async fn serve(
    listener: tokio::net::TcpListener,
    root: PathBuf,
    log: UnboundedSender<RequestLine>,
    lines: &mut UnboundedReceiver<RequestLine>,
    signals: &mut Signals,
    shell: &mut Shell,
) -> Result<()> {
    let app = assetota_serve::router(root, log);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async {
        let _ = stopped.await;
    });
    let mut server = tokio::spawn(std::future::IntoFuture::into_future(server));
    let mut stop = Some(stop);
    let grace = tokio::time::sleep(Duration::from_secs(365 * 86_400));
    tokio::pin!(grace);
    let result = loop {
        tokio::select! {
            Some(line) = lines.recv() => print(shell, &line),
            () = signals.recv() => match stop.take() {
                Some(stop) => {
                    let _ = stop.send(());
                    grace.as_mut().reset(tokio::time::Instant::now() + GRACE);
                    shell.status("Stopping", "no new connections; finishing the requests in flight");
                }
                None => {
                    server.abort();
                    break Ok(());
                }
            },
            () = &mut grace, if stop.is_none() => {
                shell.note(format_args!("closed the connections still open after {} s", GRACE.as_secs()));
                server.abort();
                break Ok(());
            }
            joined = &mut server => break match joined {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(Error::Serve(e.to_string())),
                Err(e) => Err(Error::Serve(e.to_string())),
            },
        }
    };
    while let Ok(line) = lines.try_recv() {
        print(shell, &line);
    }
    result
}

fn print(shell: &mut Shell, line: &RequestLine) {
    let bytes = match line.length {
        Some(length) if !line.complete => format!("{} of {length} B, cut short", line.sent),
        _ => format!("{} B", line.sent),
    };
    let range = line
        .range
        .as_deref()
        .map(|r| format!(" range {r}"))
        .unwrap_or_default();
    shell.request(
        &line.method,
        format_args!("{} {} {bytes}{range}", line.path, line.status.as_u16()),
    );
}

/// SIGINT and SIGTERM, caught from the moment this is built.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
