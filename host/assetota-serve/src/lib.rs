//! The HTTP side of `cargo assetota serve` (README.md, "Delivery: export and serve"): an axum
//! [`router`] that serves an `export` directory to devices the way a CDN
//! would, with the rules below. No printing: each request is reported as a
//! [`RequestLine`] on a channel when its body is finished or dropped.
//!
//! tower-http's `ServeDir` does the HTTP work: `GET`/`HEAD`, single `Range`
//! requests (206 with `Content-Range`, 416 with `Content-Range: bytes */size`),
//! `Accept-Ranges`, `Last-Modified`, a strong size+mtime `ETag` and the
//! conditional requests on it, and its own path rules. In front of it, this
//! crate:
//!
//! - refuses, before any file is looked at, request paths with `..`, `.` or
//!   empty segments, segments whose percent-decoding holds `/`, `\`, NUL or
//!   control characters, and invalid UTF-8 (400); hidden files, directories,
//!   anything whose real path (symlinks resolved) leaves DIR, and names under
//!   `blobs/` that are not 64 hex digits (404);
//! - gives blobs the strong `ETag` `"<sha256>"` (their name: a blob never
//!   changes, `export` refuses to rewrite one) and answers `If-Match` and
//!   `If-None-Match` against it, with `Cache-Control: public, max-age=31536000,
//!   immutable`; everything else gets `Cache-Control: no-cache`;
//! - honours `If-Range` (which ServeDir ignores): the range is served only if
//!   the validator is the current strong ETag or the exact `Last-Modified`,
//!   else the whole file is, so a resumed download cannot mix two versions.

#![warn(missing_docs)]

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use assetota_bundle::export::BLOBS;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use http_body::{Frame, SizeHint};
use tokio::sync::mpsc::UnboundedSender;
use tower_http::services::ServeDir;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const NO_CACHE: &str = "no-cache";

/// The router serving `root` (an existing directory; its symlinks are resolved
/// by the caller) and reporting each request on `log`.
pub fn router(root: PathBuf, log: UnboundedSender<RequestLine>) -> axum::Router {
    let site = Arc::new(Site {
        files: ServeDir::new(&root).append_index_html_on_directories(false),
        root,
        log,
    });
    axum::Router::new().fallback(handle).with_state(site)
}

struct Site {
    /// The served directory, symlinks resolved.
    root: PathBuf,
    files: ServeDir,
    log: UnboundedSender<RequestLine>,
}

/// One request, as the server's log line says it.
#[derive(Debug, Clone)]
pub struct RequestLine {
    /// `GET`, `HEAD`, …
    pub method: String,
    /// The request path with its query.
    pub path: String,
    /// The response status.
    pub status: StatusCode,
    /// The `Range` header asked for, if any.
    pub range: Option<String>,
    /// Body bytes sent.
    pub sent: u64,
    /// The body's `Content-Length`, where known.
    pub length: Option<u64>,
    /// Whether the whole body was sent (a `HEAD` always is).
    pub complete: bool,
}

async fn handle(State(site): State<Arc<Site>>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned());
    let range = header_str(req.headers(), header::RANGE).map(str::to_owned);
    let response = respond(&site, req).await;
    let length =
        header_str(response.headers(), header::CONTENT_LENGTH).and_then(|l| l.parse().ok());
    let (parts, body) = response.into_parts();
    let line = RequestLine {
        complete: method == Method::HEAD,
        method: method.to_string(),
        path,
        status: parts.status,
        range,
        sent: 0,
        length,
    };
    let body = Body::new(Counted {
        inner: body,
        line: Some(line),
        log: site.log.clone(),
    });
    Response::from_parts(parts, body)
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Why a request path is refused.
#[derive(Debug, PartialEq, Eq)]
enum Refused {
    /// 400: a path that tries to leave the directory or is malformed.
    BadRequest,
    /// 404: a hidden file or a directory.
    NotFound,
}

/// The path relative to the served directory that a request path names, or
/// why it names none. Each `/`-separated segment is percent-decoded on its
/// own, so `%2f` cannot make a separator and `%2e%2e` is `..`.
fn relative_path(path: &str) -> std::result::Result<PathBuf, Refused> {
    let rest = path.strip_prefix('/').ok_or(Refused::BadRequest)?;
    let segments: Vec<&str> = rest.split('/').collect();
    let mut out = PathBuf::new();
    for (i, raw) in segments.iter().enumerate() {
        let segment = percent_encoding::percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| Refused::BadRequest)?;
        if segment.is_empty() {
            // A trailing slash names a directory; `//` anywhere else is malformed.
            return Err(if i + 1 == segments.len() {
                Refused::NotFound
            } else {
                Refused::BadRequest
            });
        }
        if segment == "."
            || segment == ".."
            || segment.contains(['/', '\\', '\0'])
            || segment.chars().any(char::is_control)
        {
            return Err(Refused::BadRequest);
        }
        if segment.starts_with('.') {
            return Err(Refused::NotFound);
        }
        out.push(&*segment);
    }
    Ok(out)
}

/// `Some(sha256)` for `blobs/<64 lowercase hex digits>`.
fn blob_name(rel: &Path) -> Option<String> {
    let mut parts = rel.iter();
    let (Some(first), Some(name), None) = (parts.next(), parts.next(), parts.next()) else {
        return None;
    };
    let name = name.to_str()?;
    (first == BLOBS
        && name.len() == 64
        && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
    .then(|| name.to_owned())
}

fn plain(status: StatusCode, text: &str) -> Response {
    let mut response = Response::new(Body::from(format!("{text}\n")));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

async fn respond(site: &Site, mut req: Request) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "405 Method Not Allowed");
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let rel = match relative_path(req.uri().path()) {
        Ok(rel) => rel,
        Err(Refused::BadRequest) => return plain(StatusCode::BAD_REQUEST, "400 Bad Request"),
        Err(Refused::NotFound) => return plain(StatusCode::NOT_FOUND, "404 Not Found"),
    };
    // Only regular files whose real path is inside the directory.
    let inside = match tokio::fs::canonicalize(site.root.join(&rel)).await {
        Ok(real) if real.starts_with(&site.root) => {
            tokio::fs::metadata(&real).await.is_ok_and(|m| m.is_file())
        }
        _ => false,
    };
    let blob = blob_name(&rel);
    let under_blobs = rel.iter().next().is_some_and(|c| c == BLOBS);
    if !inside || (under_blobs && blob.is_none()) {
        return plain(StatusCode::NOT_FOUND, "404 Not Found");
    }
    let etag = blob.as_ref().map(|sha| format!("\"{sha}\""));

    // Blobs: conditional requests against their own ETag, which is the only
    // one they show (ServeDir's size+mtime tag must not answer them).
    if let Some(etag) = &etag {
        let headers = req.headers_mut();
        if let Some(if_match) = headers.remove(header::IF_MATCH) {
            headers.remove(header::IF_UNMODIFIED_SINCE);
            if !etag_matches(&if_match, etag, true) {
                return with_cache(
                    plain(StatusCode::PRECONDITION_FAILED, "412 Precondition Failed"),
                    Some(etag),
                );
            }
        }
        if let Some(if_none_match) = headers.remove(header::IF_NONE_MATCH) {
            headers.remove(header::IF_MODIFIED_SINCE);
            if etag_matches(&if_none_match, etag, false) {
                let mut response = Response::new(Body::empty());
                *response.status_mut() = StatusCode::NOT_MODIFIED;
                return with_cache(response, Some(etag));
            }
        }
    }

    // If-Range: the range only if the client's copy is the current one.
    if let Some(if_range) = req.headers_mut().remove(header::IF_RANGE)
        && req.headers().contains_key(header::RANGE)
    {
        let uri = req.uri().clone();
        let (current_etag, last_modified) = validators(site, uri, etag.as_deref()).await;
        let fresh = match if_range.to_str() {
            Ok(v) if v.starts_with('"') => current_etag.as_deref() == Some(v),
            Ok(v) if v.starts_with("W/") => false,
            Ok(v) => last_modified.as_deref() == Some(v),
            Err(_) => false,
        };
        if !fresh {
            req.headers_mut().remove(header::RANGE);
        }
    }

    let response = match site.files.clone().try_call(req).await {
        Ok(response) => response.map(Body::new),
        Err(e) => {
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("500 Internal Server Error: {e}"),
            );
        }
    };
    with_cache(response, etag.as_deref())
}

/// The current strong ETag and Last-Modified of a file, as a `HEAD` through
/// ServeDir shows them (or the blob's own ETag).
async fn validators(
    site: &Site,
    uri: axum::http::Uri,
    blob_etag: Option<&str>,
) -> (Option<String>, Option<String>) {
    let mut head = Request::new(Body::empty());
    *head.method_mut() = Method::HEAD;
    *head.uri_mut() = uri;
    let Ok(response) = site.files.clone().try_call(head).await else {
        return (blob_etag.map(str::to_owned), None);
    };
    let get = |name| header_str(response.headers(), name).map(str::to_owned);
    let etag = blob_etag
        .map(str::to_owned)
        .or_else(|| get(header::ETAG).filter(|e| !e.starts_with("W/")));
    (etag, get(header::LAST_MODIFIED))
}

/// Whether an `If-Match` / `If-None-Match` list names `etag` (`*` names any
/// existing file). Strong comparison refuses weak tags; weak ignores `W/`.
fn etag_matches(list: &HeaderValue, etag: &str, strong: bool) -> bool {
    let Ok(list) = list.to_str() else {
        return false;
    };
    list.split(',').map(str::trim).any(|tag| {
        tag == "*"
            || if strong {
                tag == etag
            } else {
                tag.strip_prefix("W/").unwrap_or(tag) == etag
            }
    })
}

/// Blobs: their ETag and `immutable`; other files: `no-cache` (revalidate
/// every time: `manifest.json` and the firmware change with each release).
/// A blob's ETag replaces ServeDir's on every answer about it (416 too).
fn with_cache(mut response: Response, blob_etag: Option<&str>) -> Response {
    let status = response.status();
    let blob_etag = blob_etag.and_then(|e| HeaderValue::from_str(e).ok());
    let cacheable = status.is_success()
        || status == StatusCode::NOT_MODIFIED
        || status == StatusCode::PRECONDITION_FAILED;
    let headers = response.headers_mut();
    if let Some(etag) = &blob_etag
        && (cacheable || headers.contains_key(header::ETAG))
    {
        headers.insert(header::ETAG, etag.clone());
    }
    if cacheable {
        let policy = if blob_etag.is_some() {
            IMMUTABLE
        } else {
            NO_CACHE
        };
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

/// A response body that counts what it yields and sends the request's line
/// when it is dropped: after the last byte, or when the client went away.
struct Counted {
    inner: Body,
    line: Option<RequestLine>,
    log: UnboundedSender<RequestLine>,
}

impl http_body::Body for Counted {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<std::result::Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Some(line) = self.line.as_mut() {
            match &polled {
                Poll::Ready(Some(Ok(frame))) => {
                    line.sent += frame.data_ref().map_or(0, |d| d.len() as u64);
                    if line.length.is_some_and(|l| line.sent >= l) {
                        line.complete = true;
                    }
                }
                Poll::Ready(None) => line.complete = true,
                _ => {}
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        if let Some(mut line) = self.line.take() {
            if line.length == Some(0) || http_body::Body::is_end_stream(&self.inner) {
                line.complete = true;
            }
            let _ = self.log.send(line);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traversal_and_odd_paths_are_refused() {
        for bad in [
            "/../Cargo.toml",
            "/%2e%2e/Cargo.toml",
            "/blobs/..%2f..%2fetc/passwd",
            "/%2fetc%2fpasswd",
            "//etc/passwd",
            "/blobs/.",
            "/a%5cb",
            "/a%00b",
            "/a%0ab",
            "/%ff",
            "relative",
        ] {
            assert_eq!(relative_path(bad), Err(Refused::BadRequest), "{bad}");
        }
        for hidden in ["/.git/config", "/blobs/.x.tmp-1", "/blobs/", "/"] {
            assert_eq!(relative_path(hidden), Err(Refused::NotFound), "{hidden}");
        }
        assert_eq!(
            relative_path("/blobs/ab%63"),
            Ok(PathBuf::from("blobs/abc"))
        );
        assert_eq!(
            relative_path("/fw/hello.bin"),
            Ok(PathBuf::from("fw/hello.bin"))
        );
    }

    #[test]
    fn blob_names_are_64_hex_digits_under_blobs() {
        let sha = "0123456789abcdef".repeat(4);
        assert_eq!(
            blob_name(&PathBuf::from(format!("blobs/{sha}"))),
            Some(sha.clone())
        );
        assert_eq!(blob_name(&PathBuf::from(format!("x/{sha}"))), None);
        assert_eq!(blob_name(&PathBuf::from("blobs/abc")), None);
        assert_eq!(
            blob_name(&PathBuf::from(format!("blobs/{}", sha.to_uppercase()))),
            None
        );
    }

    #[test]
    fn etag_lists() {
        let tag = "\"abc\"";
        let h = |s: &'static str| HeaderValue::from_static(s);
        assert!(etag_matches(&h("\"x\", \"abc\""), tag, true));
        assert!(etag_matches(&h("*"), tag, true));
        assert!(!etag_matches(&h("W/\"abc\""), tag, true));
        assert!(etag_matches(&h("W/\"abc\""), tag, false));
        assert!(!etag_matches(&h("\"abd\""), tag, false));
    }
}
