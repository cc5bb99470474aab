//! A minimal HTTP/1.1 server on 127.0.0.1 for wire tests: it records every request and answers
//! with scripted replies (JSON, raw bodies, delays, truncated bodies, dropped connections).
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Path and query, exactly as sent on the request line.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
    pub fn query(&self) -> Vec<(String, String)> {
        let Some((_, q)) = self.target.split_once('?') else {
            return Vec::new();
        };
        q.split('&')
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (decode(k), decode(v))
            })
            .collect()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON request body")
    }
}

fn decode(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s)
        .decode_utf8_lossy()
        .into_owned()
}

/// A scripted reply.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Status and JSON body.
    Json(u16, String),
    /// Status, extra headers and a raw body with a content type.
    Raw(u16, &'static str, Vec<(String, String)>, Vec<u8>),
    /// Wait, then reply.
    Delay(Duration, Box<Reply>),
    /// Announce a longer body than is sent, then close: a truncated response.
    Truncated(u16, String),
    /// Close the connection without answering.
    Close,
}

pub struct TestServer {
    pub base_url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
    replies: Arc<Mutex<VecDeque<Reply>>>,
}

impl TestServer {
    /// Start a server; when the script runs out it answers `200 {}`.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let replies: Arc<Mutex<VecDeque<Reply>>> = Arc::new(Mutex::new(VecDeque::new()));
        let (rq, rp) = (requests.clone(), replies.clone());
        tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let (rq, rp) = (rq.clone(), rp.clone());
                tokio::spawn(async move {
                    let (r, mut w) = sock.into_split();
                    let mut r = BufReader::new(r);
                    let mut line = String::new();
                    if r.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let mut parts = line.split_whitespace();
                    let method = parts.next().unwrap_or("").to_string();
                    let target = parts.next().unwrap_or("").to_string();
                    let mut headers = Vec::new();
                    loop {
                        let mut h = String::new();
                        if r.read_line(&mut h).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':') {
                            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                        }
                    }
                    let len = headers
                        .iter()
                        .find(|(k, _)| k == "content-length")
                        .and_then(|(_, v)| v.parse::<usize>().ok())
                        .unwrap_or(0);
                    let mut body = vec![0; len];
                    if r.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    rq.lock().unwrap().push(Recorded {
                        method,
                        target,
                        headers,
                        body,
                    });
                    let reply = rp
                        .lock()
                        .unwrap()
                        .pop_front()
                        .unwrap_or(Reply::Json(200, "{}".into()));
                    write_reply(&mut w, reply).await;
                });
            }
        });
        Self {
            base_url: format!("http://{addr}/"),
            requests,
            replies,
        }
    }

    /// Queue replies, answered in order.
    pub fn reply(&self, r: Reply) -> &Self {
        self.replies.lock().unwrap().push_back(r);
        self
    }

    pub fn json(&self, status: u16, body: impl Into<String>) -> &Self {
        self.reply(Reply::Json(status, body.into()))
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    /// A client for this server with a fixed token.
    pub fn client(&self) -> google_people::Client {
        google_people::Client::builder()
            .base_url(&self.base_url)
            .access_token("test-token")
            .retry_policy(google_people::runtime::RetryPolicy::never())
            .build()
            .unwrap()
    }
}

async fn write_reply(w: &mut tokio::net::tcp::OwnedWriteHalf, reply: Reply) {
    match reply {
        Reply::Json(status, body) => {
            write_reply_raw(
                w,
                status,
                "application/json; charset=UTF-8",
                &[],
                body.as_bytes(),
                None,
            )
            .await
        }
        Reply::Raw(status, ct, headers, body) => {
            write_reply_raw(w, status, ct, &headers, &body, None).await
        }
        Reply::Delay(d, inner) => {
            tokio::time::sleep(d).await;
            Box::pin(write_reply(w, *inner)).await
        }
        Reply::Truncated(status, body) => {
            let cut = body.len() / 2;
            write_reply_raw(
                w,
                status,
                "application/json",
                &[],
                &body.as_bytes()[..cut],
                Some(body.len()),
            )
            .await
        }
        Reply::Close => {}
    }
}

async fn write_reply_raw(
    w: &mut tokio::net::tcp::OwnedWriteHalf,
    status: u16,
    ct: &str,
    headers: &[(String, String)],
    body: &[u8],
    announced: Option<usize>,
) {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: {ct}\r\ncontent-length: {}\r\nconnection: close\r\n",
        announced.unwrap_or(body.len())
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let _ = w.write_all(head.as_bytes()).await;
    let _ = w.write_all(body).await;
    let _ = w.shutdown().await;
}

/// A real fixture from `tests/fixtures/real/`.
pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/real/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// Every method of the vendored discovery document, nested resources included.
pub fn discovery_methods() -> Vec<serde_json::Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/discovery/people.v1.json");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut out = Vec::new();
    let mut stack = vec![&doc];
    while let Some(node) = stack.pop() {
        if let Some(resources) = node["resources"].as_object() {
            stack.extend(resources.values());
        }
        out.extend(
            node["methods"]
                .as_object()
                .into_iter()
                .flat_map(|m| m.values().cloned()),
        );
    }
    out
}
