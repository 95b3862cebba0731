//! The console's own accept loop, in place of `axum::serve`, for the brakes an exposed web
//! server needs: at most [`MAX_CONNECTIONS`] connections at once (more are closed at once,
//! and counted in the log), request headers within [`HEADER_READ`] (a client that
//! trickles them, slowloris, is cut off), and HTTP/1.1 only. Handlers' own deadline is a
//! `TimeoutLayer` on the router.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// Connections served at once: wallboards, desks and scrapers of a province, with room.
pub const MAX_CONNECTIONS: usize = 512;
/// How long a client has to send a request's headers.
pub const HEADER_READ: Duration = Duration::from_secs(10);
/// How often a refused connection is logged at most.
const REFUSAL_LOG_EVERY: Duration = Duration::from_secs(10);

/// The brakes of the accept loop.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections served at once.
    pub connections: usize,
    /// How long a client has to send a request's headers.
    pub header_read: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            connections: MAX_CONNECTIONS,
            header_read: HEADER_READ,
        }
    }
}

/// Serves `app` on `listener` until the process ends.
pub async fn run(listener: TcpListener, app: Router) {
    run_with(listener, app, Limits::default()).await
}

/// As [`run`], with other `limits`.
pub async fn run_with(listener: TcpListener, app: Router, limits: Limits) {
    let slots = Arc::new(Semaphore::new(limits.connections));
    let (mut refused, mut logged) = (0u64, None::<Instant>);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, most likely: wait rather than spin.
                tracing::warn!(error = %e, "web console accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            refused += 1;
            if logged.is_none_or(|at| at.elapsed() >= REFUSAL_LOG_EVERY) {
                tracing::warn!(%peer, refused, limit = limits.connections, "web console connections at the limit: refusing");
                logged = Some(Instant::now());
            }
            drop(stream);
            continue;
        };
        let app = app.clone();
        tokio::spawn(async move {
            serve_connection(stream, peer, app, limits.header_read).await;
            drop(slot);
        });
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    app: Router,
    header_read: Duration,
) {
    let service = app.map_request(move |req: Request<Incoming>| {
        let mut req = req.map(Body::new);
        req.extensions_mut().insert(ConnectInfo(peer));
        req
    });
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read)
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
        .await;
    if let Err(e) = served {
        tracing::debug!(%peer, error = %e, "web console connection ended");
    }
}
