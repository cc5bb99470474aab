//! HTTPS through a proxy: a CONNECT tunnel to the API host, with the proxy's credentials, which
//! never show in errors or `Debug`; plain http to a loopback emulator goes direct.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use google_people::*;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

/// What a fake proxy saw on its one connection: the request head, and the first bytes sent
/// through the tunnel when it answered 200.
#[derive(Default)]
struct Seen {
    head: String,
    tunnelled: Vec<u8>,
}

/// A proxy that answers every CONNECT with `answer`, then (for a 200) reads what the client
/// sends through the tunnel and hangs up.
async fn fake_proxy(answer: &'static str) -> (String, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let log = seen.clone();
    tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 1024];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = sock.read(&mut chunk).await.unwrap();
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        log.lock().unwrap().head = String::from_utf8_lossy(&buf).into_owned();
        sock.write_all(answer.as_bytes()).await.unwrap();
        if answer.starts_with("HTTP/1.1 200") {
            let n = tokio::time::timeout(Duration::from_secs(5), sock.read(&mut chunk))
                .await
                .map_or(0, |r| r.unwrap_or(0));
            log.lock().unwrap().tunnelled = chunk[..n].to_vec();
        }
    });
    (format!("http://{addr}"), seen)
}

fn https_client(builder: ClientBuilder) -> Client {
    builder
        .base_url("https://people.example.test/")
        .access_token("ya29.secret-token")
        .retry_policy(runtime::RetryPolicy::never())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[tokio::test]
async fn https_goes_through_the_proxy_in_a_connect_tunnel_with_its_credentials() {
    let (proxy, seen) =
        fake_proxy("HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\n\r\n").await;
    let with_credentials = proxy.replace("http://", "http://alice:pr0xy-pass@");
    let builder = Client::builder().proxy(&with_credentials);
    assert!(!format!("{builder:?}").contains("pr0xy-pass"));
    let client = https_client(builder);
    assert!(!format!("{client:?}").contains("pr0xy-pass"));

    let e = client.people().get("people/c1").send().await.unwrap_err();
    // The proxy refused the tunnel: nothing reached the API.
    assert!(e.is_transport() && e.is_connect(), "{e:?}");
    assert!(!e.may_have_reached_server(), "{e:?}");
    for shown in [e.to_string(), format!("{e:?}")] {
        assert!(!shown.contains("pr0xy-pass"), "{shown}");
        assert!(!shown.contains("ya29.secret-token"), "{shown}");
    }

    let head = seen.lock().unwrap().head.clone();
    let mut lines = head.lines();
    assert_eq!(
        lines.next(),
        Some("CONNECT people.example.test:443 HTTP/1.1")
    );
    // RFC 7617: base64("alice:pr0xy-pass").
    assert!(
        head.to_ascii_lowercase()
            .contains("proxy-authorization: basic ywxpy2u6chiwehktcgfzcw=="),
        "{head}"
    );
    // The API's token is for the API, never for the proxy.
    assert!(!head.contains("ya29.secret-token"), "{head}");
}

#[tokio::test]
async fn the_tunnel_carries_tls_to_the_api_host() {
    let (proxy, seen) = fake_proxy("HTTP/1.1 200 Connection Established\r\n\r\n").await;
    let client = https_client(Client::builder().proxy(proxy));
    let e = client.people().get("people/c1").send().await.unwrap_err();
    // The fake proxy hangs up after the ClientHello: the handshake failed, nothing was sent.
    assert!(e.is_transport() && e.is_connect(), "{e:?}");
    let seen = seen.lock().unwrap();
    assert!(
        seen.head
            .starts_with("CONNECT people.example.test:443 HTTP/1.1\r\n"),
        "{}",
        seen.head
    );
    // A TLS handshake record (0x16, version 3.x): the request itself went inside TLS.
    assert_eq!(
        seen.tunnelled.get(..2),
        Some(&[0x16, 0x03][..]),
        "{:?}",
        seen.tunnelled
    );
}

#[tokio::test]
async fn plain_http_to_a_loopback_emulator_never_uses_the_proxy() {
    let emu = google_people_emulator::Emulator::start().await.unwrap();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let client = Client::builder()
        .base_url(emu.base_url())
        .access_token(emu.issue_token("user@example.com"))
        .proxy(format!("http://{closed}"))
        .build()
        .unwrap();
    client
        .people()
        .get("people/me")
        .person_fields([PersonField::Names])
        .send()
        .await
        .unwrap();
}

#[test]
fn proxies_other_than_plain_http_are_refused_when_the_client_is_built() {
    for bad in [
        "https://proxy.example:3128",
        "socks5://127.0.0.1:1080",
        "proxy.example:3128",
        "not a url",
    ] {
        let e = Client::builder().proxy(bad).build().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{bad}");
    }
}
