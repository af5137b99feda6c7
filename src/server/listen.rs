//! The accept loop of `mieruka serve`: HTTP/1.1 connections served by hyper with a deadline
//! for every request's headers, and caps on open connections in all and per client address.
//!
//! `axum::serve` has neither: a client that opens connections and sends half a request holds
//! each one (and its file descriptor) for as long as it likes, and twenty thousand of them
//! leave the server answering nobody. Here a connection that has not sent a whole request
//! head within [`Connections::header_seconds`] is closed (an idle keep-alive connection
//! too: the deadline runs while hyper waits for the next head), and a connection over
//! either cap is closed as soon as it is accepted, so the descriptors a server holds stay
//! bounded whatever clients do.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tower::ServiceExt as _;

/// Connection limits, from `[limits]` in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connections {
    /// Seconds a client has to send a request's head (its line and headers); also how long
    /// an idle keep-alive connection stays open.
    pub header_seconds: u64,
    /// Connections open at once, from every client.
    pub total: usize,
    /// Connections open at once from one client address. Behind a reverse proxy every
    /// connection comes from the proxy's address: set it to `total` there.
    pub per_address: usize,
}

impl Default for Connections {
    fn default() -> Connections {
        Connections {
            header_seconds: 10,
            // Below the usual soft limit of 1,024 open files, with room for the data files.
            total: 768,
            // Enough for a load test or an office behind one address.
            per_address: 256,
        }
    }
}

/// How connections are counted: in all, and per address.
#[derive(Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// A connection admitted under the caps; dropping it frees its place.
struct Admitted {
    open: Arc<Mutex<Open>>,
    address: IpAddr,
}

impl Admitted {
    /// A place for a connection from `address`, or `None` when a cap is reached.
    fn new(open: &Arc<Mutex<Open>>, address: IpAddr, limits: &Connections) -> Option<Admitted> {
        let mut o = open.lock().ok()?;
        let from_here = o.by_address.get(&address).copied().unwrap_or(0);
        if o.total >= limits.total || from_here >= limits.per_address {
            return None;
        }
        o.total += 1;
        *o.by_address.entry(address).or_default() += 1;
        Some(Admitted {
            open: open.clone(),
            address,
        })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if let Ok(mut o) = self.open.lock() {
            o.total -= 1;
            if let Some(n) = o.by_address.get_mut(&self.address) {
                *n -= 1;
                if *n == 0 {
                    o.by_address.remove(&self.address);
                }
            }
        }
    }
}

/// Serves `app` on the connections `listener` accepts until `shutdown` completes; then stops
/// accepting, lets requests in flight finish (for at most `drain`), and returns. Handlers see
/// the client's address as [`ConnectInfo<SocketAddr>`].
pub async fn serve<L>(
    mut listener: L,
    app: Router,
    limits: Connections,
    drain: Duration,
    shutdown: impl Future<Output = ()>,
) where
    L: axum::serve::Listener<Addr = SocketAddr>,
{
    let open = Arc::new(Mutex::new(Open::default()));
    let (closing, closed) = tokio::sync::watch::channel(false);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.header_seconds.max(1)));
    let http = Arc::new(http);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (io, addr) = tokio::select! {
            c = listener.accept() => c,
            () = &mut shutdown => break,
        };
        let Some(place) = Admitted::new(&open, addr.ip(), &limits) else {
            tracing::debug!(%addr, "connection refused: too many open");
            continue;
        };
        let app = app.clone();
        let http = http.clone();
        let mut closed = closed.clone();
        tokio::spawn(async move {
            let _place = place;
            let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                let mut req = req.map(axum::body::Body::new);
                req.extensions_mut().insert(ConnectInfo(addr));
                app.clone().oneshot(req)
            });
            let conn = http.serve_connection(TokioIo::new(io), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(%addr, "connection: {e}");
                    }
                }
                _ = closed.changed() => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    drop(listener);
    let _ = closing.send(true);
    let deadline = tokio::time::Instant::now() + drain;
    while open.lock().map(|o| o.total > 0).unwrap_or(false)
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_counted_per_address_and_freed() {
        let open = Arc::new(Mutex::new(Open::default()));
        let limits = Connections {
            header_seconds: 1,
            total: 3,
            per_address: 2,
        };
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        let first = Admitted::new(&open, a, &limits).expect("first from a");
        let second = Admitted::new(&open, a, &limits).expect("second from a");
        assert!(Admitted::new(&open, a, &limits).is_none(), "a over its cap");
        let third = Admitted::new(&open, b, &limits).expect("b has its own count");
        assert!(Admitted::new(&open, b, &limits).is_none(), "total reached");
        drop(first);
        let again = Admitted::new(&open, a, &limits).expect("a place was freed");
        drop((second, third, again));
        let o = open.lock().expect("lock");
        assert_eq!((o.total, o.by_address.len()), (0, 0));
    }
}
