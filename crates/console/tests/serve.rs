//! The console's accept loop against real TCP clients on loopback: a connection beyond the
//! limit is closed at once, a client trickling its headers is cut off, and an ordinary
//! request is answered with its peer's address known (the metrics' loopback rule).

mod site;

use std::time::Duration;

use hotline_console::serve::{run_with, Limits};
use hotline_routing::SecurityConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn start(limits: Limits) -> (std::net::SocketAddr, site::Site) {
    let site = site::site(SecurityConfig::default());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let at = listener.local_addr().unwrap();
    tokio::spawn(run_with(listener, site.router.clone(), limits));
    (at, site)
}

/// Reads until the server closes, or `limit`; returns what came and whether it closed.
async fn read_until_closed(s: &mut TcpStream, limit: Duration) -> (String, bool) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(limit, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .is_ok();
    (String::from_utf8_lossy(&got).to_string(), closed)
}

#[tokio::test]
async fn a_request_is_answered_with_its_peer_known() {
    let (at, _site) = start(Limits::default()).await;
    let mut s = TcpStream::connect(at).await.unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (answer, closed) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    assert!(closed);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("hotline_callers_waiting"),
        "loopback is this machine"
    );
}

#[tokio::test]
async fn a_client_trickling_its_headers_is_cut_off() {
    let limits = Limits {
        header_read: Duration::from_millis(300),
        ..Limits::default()
    };
    let (at, _site) = start(limits).await;
    let mut s = TcpStream::connect(at).await.unwrap();
    s.write_all(b"GET /login HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let (answer, closed) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    assert!(closed, "the connection is closed");
    assert!(!answer.contains("200 OK"), "{answer}");
}

#[tokio::test]
async fn connections_beyond_the_limit_are_closed_at_once() {
    let limits = Limits {
        connections: 2,
        ..Limits::default()
    };
    let (at, _site) = start(limits).await;
    let _a = TcpStream::connect(at).await.unwrap();
    let _b = TcpStream::connect(at).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut c = TcpStream::connect(at).await.unwrap();
    c.write_all(b"GET /login HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (answer, closed) = read_until_closed(&mut c, Duration::from_secs(5)).await;
    assert!(closed && answer.is_empty(), "{answer}");
    drop(_a);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut d = TcpStream::connect(at).await.unwrap();
    d.write_all(b"GET /login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (answer, _) = read_until_closed(&mut d, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "a slot freed: {answer}");
}
