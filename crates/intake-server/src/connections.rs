//! The local server's client connections, guarded against slow and idle clients: a connection must
//! send a whole request head within the header timeout (also the longest an idle keep-alive
//! connection is kept), request bodies must keep up a minimum rate, at most a fixed number of
//! connections are open at once (below the process's open-file limit, so the server always has files
//! left for its database and objects), and a failed `accept` (no file left, no memory) is waited out
//! with a short back-off instead of ending the server.

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use bytes::Bytes;
use futures::{Stream, StreamExt as _};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};
use tokio::time::Instant;

/// How long a client may take to send a request head, and an idle connection may wait for the next.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// The slowest a request body may arrive once its grace period is over, in bytes per second.
pub const DEFAULT_MIN_BODY_RATE: u64 = 1024;
/// How long a request body may take before the minimum rate applies.
pub const DEFAULT_BODY_GRACE: Duration = Duration::from_secs(10);
/// How long the server waits after a failed `accept` before accepting again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Limits on client connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionLimits {
    /// The longest a client may take to send a whole request head; also the longest an idle
    /// keep-alive connection is kept (default 10 s).
    pub header_timeout: Duration,
    /// The most connections open at once (default: half the process's open-file limit, at most
    /// 1024); further clients wait in the listen backlog until one closes.
    pub max_connections: usize,
    /// The slowest a request body may arrive after [`ConnectionLimits::body_grace`], in bytes per
    /// second (default 1 KiB/s; 0 turns the check off). A body that falls behind is cut off.
    pub min_body_rate: u64,
    /// How long a body may take before the minimum rate applies (default 10 s).
    pub body_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            max_connections: default_max_connections(),
            min_body_rate: DEFAULT_MIN_BODY_RATE,
            body_grace: DEFAULT_BODY_GRACE,
        }
    }
}

impl ConnectionLimits {
    /// With a header timeout.
    #[must_use]
    pub fn with_header_timeout(mut self, timeout: Duration) -> Self {
        self.header_timeout = timeout;
        self
    }
    /// With a cap on open connections.
    #[must_use]
    pub fn with_max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }
    /// With a minimum body rate (bytes per second; 0: no minimum) after a grace period.
    #[must_use]
    pub fn with_min_body_rate(mut self, bytes_per_second: u64, grace: Duration) -> Self {
        self.min_body_rate = bytes_per_second;
        self.body_grace = grace;
        self
    }
}

/// Half the process's soft open-file limit, between 16 and 1024: the other half stays for the
/// database, objects being written and read, and the OCR engine.
pub fn default_max_connections() -> usize {
    let soft = rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(u64::MAX);
    usize::try_from(soft / 2)
        .unwrap_or(usize::MAX)
        .clamp(16, 1024)
}

/// Serves `router` on `listener` within `limits` until `stop` fires, then lets the requests in
/// progress finish (idle connections are closed at once) and returns.
///
/// # Errors
/// None today: a failed accept is logged and retried; the result type is the server task's.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    stop: oneshot::Receiver<()>,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let mut stop = pin!(stop);
    loop {
        // A free slot first: at the cap, new clients wait in the backlog, not in the server.
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            _ = &mut stop => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    accept_failed(&error).await;
                    continue;
                }
            },
            _ = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let connection = graceful.watch(http.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(router.clone()),
        ));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection ended with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// A failed accept: the client's own trouble (it hung up) is skipped; the server's (no file or
/// memory left) is logged and waited out briefly, so the server keeps running and recovers when
/// resources come back.
async fn accept_failed(error: &std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::Interrupted
    ) {
        return;
    }
    tracing::warn!(%error, "accepting a connection failed; retrying shortly");
    tokio::time::sleep(ACCEPT_BACKOFF).await;
}

/// A request body that fell behind the minimum rate, or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PacedBodyError {
    /// The body arrived slower than the minimum rate allows.
    #[error(
        "the request body arrived too slowly ({received} bytes in {seconds} s; at least {min_rate} bytes/s after the first {grace_seconds} s)"
    )]
    TooSlow {
        /// Bytes received before it was cut off.
        received: u64,
        /// Seconds since the body started.
        seconds: u64,
        /// The minimum rate, in bytes per second.
        min_rate: u64,
        /// The grace period, in seconds.
        grace_seconds: u64,
    },
    /// The body failed on its own (the client hung up, ...).
    #[error("the request body failed")]
    Body(#[source] axum::Error),
}

impl PacedBodyError {
    /// Whether `error`, or an error it was caused by, is a body cut off for being too slow.
    pub fn is_too_slow(error: &(dyn std::error::Error + 'static)) -> bool {
        let mut next = Some(error);
        while let Some(e) = next {
            if matches!(e.downcast_ref::<Self>(), Some(Self::TooSlow { .. })) {
                return true;
            }
            next = e.source();
        }
        false
    }
}

/// The minimum rate, as the middleware applies it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pace {
    min_rate: u64,
    grace: Duration,
}

impl Pace {
    /// The pace `limits` ask for, or `None` when there is no minimum rate.
    pub(crate) fn of(limits: &ConnectionLimits) -> Option<Self> {
        (limits.min_body_rate > 0).then_some(Self {
            min_rate: limits.min_body_rate,
            grace: limits.body_grace,
        })
    }
}

/// Middleware: every request body that has one is read through [`paced`].
pub(crate) async fn pace_bodies(
    State(pace): State<Pace>,
    request: Request,
    next: Next,
) -> Response {
    use http_body::Body as _;
    if request.body().size_hint().exact() == Some(0) {
        return next.run(request).await;
    }
    let request = request.map(|body| Body::from_stream(paced(body, pace)));
    next.run(request).await
}

/// `body`, cut off with [`PacedBodyError::TooSlow`] as soon as it falls behind `pace`: after the
/// grace period, at least `min_rate` bytes for every second since the body started.
fn paced(body: Body, pace: Pace) -> impl Stream<Item = Result<Bytes, PacedBodyError>> + Send {
    let start = Instant::now();
    futures::stream::unfold(
        (body.into_data_stream(), 0_u64, false),
        move |(mut inner, received, ended)| async move {
            if ended {
                return None;
            }
            // The moment the body falls behind if nothing more arrives.
            #[allow(clippy::cast_precision_loss)]
            let behind = start
                + pace.grace
                + Duration::from_secs_f64(received as f64 / pace.min_rate as f64);
            match tokio::time::timeout_at(behind, inner.next()).await {
                Ok(Some(Ok(chunk))) => {
                    let received = received.saturating_add(chunk.len() as u64);
                    Some((Ok(chunk), (inner, received, false)))
                }
                Ok(Some(Err(error))) => {
                    Some((Err(PacedBodyError::Body(error)), (inner, received, true)))
                }
                Ok(None) => None,
                Err(_) => Some((
                    Err(PacedBodyError::TooSlow {
                        received,
                        seconds: start.elapsed().as_secs(),
                        min_rate: pace.min_rate,
                        grace_seconds: pace.grace.as_secs(),
                    }),
                    (inner, received, true),
                )),
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trickle(every: Duration, chunks: usize) -> Body {
        Body::from_stream(futures::stream::unfold(0, move |n| async move {
            if n == chunks {
                return None;
            }
            tokio::time::sleep(every).await;
            Some((Ok::<_, std::io::Error>(Bytes::from_static(b"x")), n + 1))
        }))
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickled_body_is_cut_off_once_it_falls_behind() {
        let pace = Pace {
            min_rate: 100,
            grace: Duration::from_secs(2),
        };
        let mut body = pin!(paced(trickle(Duration::from_secs(1), 100), pace));
        let mut received = 0;
        let error = loop {
            match body.next().await {
                Some(Ok(chunk)) => received += chunk.len(),
                Some(Err(error)) => break error,
                None => panic!("a trickle must not pass"),
            }
        };
        assert!(PacedBodyError::is_too_slow(&error), "{error}");
        assert!(received <= 3, "cut off after {received} bytes");
        assert!(body.next().await.is_none(), "nothing after the error");
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_at_the_rate_passes_whole() {
        let pace = Pace {
            min_rate: 1,
            grace: Duration::from_secs(2),
        };
        let body = paced(trickle(Duration::from_millis(500), 20), pace);
        let chunks: Vec<_> = body.collect().await;
        assert_eq!(chunks.len(), 20);
        assert!(chunks.iter().all(Result::is_ok));
    }

    #[test]
    fn the_default_cap_leaves_files_for_the_server() {
        let cap = default_max_connections();
        assert!((16..=1024).contains(&cap), "{cap}");
    }
}
