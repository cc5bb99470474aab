//! URLs as this crate uses them: checking a configured base or endpoint URL (https, or plain http
//! to a local host only) and joining a request's path and query onto a base. Parsing is the `url`
//! crate's (what reqwest sends): ports are range-checked, a base's path is normalized (`.` and
//! `..` resolved) and percent-encoded, Unicode host names are IDNA-encoded.

use std::net::{Ipv4Addr, Ipv6Addr};

use percent_encoding::{AsciiSet, utf8_percent_encode};

use super::Error;

/// An absolute `http(s)` URL, split into what the checks look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Url {
    /// `http` or `https`, lower case.
    pub(crate) scheme: String,
    /// `host[:port]`, lower case; IPv6 hosts in brackets.
    pub(crate) authority: String,
    pub(crate) host: Host,
    /// From the first `/` (always present), query excluded.
    pub(crate) path: String,
    pub(crate) query: Option<String>,
}

/// A URL's host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Host {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
    Domain(String),
}

impl Host {
    /// `127.0.0.0/8`, `::1` or `localhost`.
    pub(crate) fn is_loopback(&self) -> bool {
        match self {
            Host::V4(ip) => ip.is_loopback(),
            Host::V6(ip) => ip.is_loopback(),
            Host::Domain(d) => d == "localhost",
        }
    }

    /// Loopback, or link-local (`169.254.0.0/16`, `fe80::/10`: cloud metadata endpoints).
    pub(crate) fn is_local(&self) -> bool {
        self.is_loopback()
            || match self {
                Host::V4(ip) => ip.is_link_local(),
                Host::V6(ip) => (ip.segments()[0] & 0xffc0) == 0xfe80,
                Host::Domain(_) => false,
            }
    }
}

impl Url {
    /// Parse an absolute `http` or `https` URL. Refused: another scheme, a relative reference,
    /// user info (`user:password@`, which would put a secret where URLs get logged), a fragment,
    /// a port out of range, and what `url` cannot parse.
    pub(crate) fn parse(text: &str) -> Result<Url, String> {
        if text.contains('#') {
            return Err("a fragment (`#…`) has no place in a request URL".into());
        }
        let url = url::Url::parse(text).map_err(|e| e.to_string())?;
        let scheme = url.scheme().to_string();
        if scheme != "http" && scheme != "https" {
            return Err(format!("unsupported URL scheme {scheme:?}"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("user info (`user@`) is not accepted in a URL".into());
        }
        let host = match url.host() {
            Some(url::Host::Ipv4(ip)) => Host::V4(ip),
            Some(url::Host::Ipv6(ip)) => Host::V6(ip),
            Some(url::Host::Domain(d)) if !d.is_empty() => Host::Domain(d.to_ascii_lowercase()),
            _ => return Err("no host".into()),
        };
        let name = match url.host_str() {
            Some(h) => h.to_ascii_lowercase(),
            None => return Err("no host".into()),
        };
        let authority = match url.port() {
            Some(p) => format!("{name}:{p}"),
            None => name,
        };
        Ok(Url {
            scheme,
            authority,
            host,
            path: url.path().to_string(),
            query: url.query().map(str::to_string),
        })
    }
}

/// Check a base URL: absolute, `https`, or `http` to a loopback host only. Returns it with a
/// trailing slash so that relative paths join below it.
pub fn check_base_url(base: &str) -> Result<String, Error> {
    let url = Url::parse(base).map_err(|e| {
        // A URL with user info may carry a password: it is not repeated.
        let shown = if base.contains('@') {
            "(with user info)".to_string()
        } else {
            format!("{base:?}")
        };
        Error::config(format!("invalid base URL {shown}: {e}"))
    })?;
    if url.scheme == "http" && !url.host.is_loopback() {
        return Err(Error::config(format!(
            "refusing plain http:// to {}: HTTPS is required except for loopback hosts",
            url.authority
        )));
    }
    if url.query.is_some() {
        return Err(Error::config(
            "the base URL must not have a query or fragment",
        ));
    }
    let mut s = format!("{}://{}{}", url.scheme, url.authority, url.path);
    if !s.ends_with('/') {
        s.push('/');
    }
    Ok(s)
}

/// What a path keeps as it is: what a reserved expansion keeps (RFC 3986's `pchar`s and `/`), and
/// `%` (the path is already encoded where it needs to be). Anything else (spaces, `?`, `#`, `\`,
/// non-ASCII) is percent-encoded rather than allowed to end the path or be read as a separator.
const PATH: &AsciiSet = &super::request::RESERVED_EXPANSION.remove(b'%');

/// `base` (from [`check_base_url`]: no query) with `path` below it and `query`
/// form-encoded. The path is always relative to the base: leading slashes are dropped, so no
/// path can reach another host (`//host`) or leave the base's prefix.
pub(crate) fn join(base: &str, path: &str, query: &[(&str, String)]) -> String {
    let path = path.trim_start_matches('/');
    let mut url = String::with_capacity(base.len() + path.len() + 16);
    url.push_str(base);
    if !base.ends_with('/') {
        url.push('/');
    }
    url.extend(utf8_percent_encode(path, PATH));
    if !query.is_empty() {
        url.push('?');
        let start = url.len();
        let mut form = form_urlencoded::Serializer::for_suffix(url, start);
        for (k, v) in query {
            form.append_pair(k, v);
        }
        return form.finish();
    }
    url
}

/// `endpoint` (an `https` URL, or plain `http` to a loopback host) with `pairs` form-encoded into
/// its query, after any query it has.
pub(crate) fn with_query(endpoint: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = endpoint.to_string();
    url.push(if endpoint.contains('?') { '&' } else { '?' });
    let start = url.len();
    let mut form = form_urlencoded::Serializer::for_suffix(url, start);
    form.extend_pairs(pairs);
    form.finish()
}

/// A form body (`application/x-www-form-urlencoded`).
pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A query string's pairs, decoded.
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked_and_normalized() {
        assert_eq!(
            check_base_url("https://People.Googleapis.com").unwrap(),
            "https://people.googleapis.com/"
        );
        assert_eq!(
            check_base_url("HTTP://127.0.0.1:8080/emu").unwrap(),
            "http://127.0.0.1:8080/emu/"
        );
        assert_eq!(
            check_base_url("http://[::1]:9/").unwrap(),
            "http://[::1]:9/"
        );
        assert_eq!(
            check_base_url("http://localhost:1/").unwrap(),
            "http://localhost:1/"
        );
        for bad in [
            "http://example.com/",
            "http://10.0.0.1/",
            "ftp://127.0.0.1/",
            "people.googleapis.com",
            "/v1/",
            "https://a.example/?x=1",
            "https://a.example/#top",
            "https://user:secret@a.example/",
            "https://exa mple.com/",
            "http://127.0.0.1:65536/",
            "http://127.0.0.1:65616/",
            "http://127.0.0.1:99999999999/",
            "",
        ] {
            let e = check_base_url(bad).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Config, "{bad}");
            assert!(!e.to_string().contains("secret"), "{e}");
        }
    }

    #[test]
    fn a_base_path_is_sent_normalized_and_encoded() {
        // What reaches the request line: no raw UTF-8, no unresolved dot segments.
        assert_eq!(
            check_base_url("http://127.0.0.1:1/ü/").unwrap(),
            "http://127.0.0.1:1/%C3%BC/"
        );
        assert_eq!(
            check_base_url("http://127.0.0.1:1/a/../../b/./").unwrap(),
            "http://127.0.0.1:1/b/"
        );
        // A Unicode host name travels IDNA-encoded.
        assert_eq!(
            check_base_url("https://bücher.example/").unwrap(),
            "https://xn--bcher-kva.example/"
        );
    }

    #[test]
    fn hosts_are_classified() {
        let host = |u: &str| Url::parse(u).unwrap().host;
        assert!(host("http://127.1.2.3/").is_loopback());
        assert!(host("http://[::1]/").is_loopback());
        assert!(host("http://LOCALHOST/").is_loopback());
        assert!(!host("http://localhost.example/").is_loopback());
        assert!(host("http://169.254.169.254/").is_local());
        assert!(host("http://[fe80::1]/").is_local());
        assert!(!host("http://[fec0::1]/").is_local());
        assert!(!host("http://8.8.8.8/").is_local());
    }

    #[test]
    fn paths_join_below_the_base_and_stay_there() {
        let base = "http://127.0.0.1:1/emu/";
        assert_eq!(
            join(base, "v1/people/c1:updateContact", &[]),
            "http://127.0.0.1:1/emu/v1/people/c1:updateContact"
        );
        assert_eq!(
            join(base, "//evil.example/x", &[]),
            "http://127.0.0.1:1/emu/evil.example/x"
        );
        assert_eq!(
            join(base, "v1/a b?c#d\\e/é%2F", &[]),
            "http://127.0.0.1:1/emu/v1/a%20b%3Fc%23d%5Ce/%C3%A9%2F"
        );
        assert_eq!(
            join(
                base,
                "v1/people/me",
                &[
                    ("personFields", "names,emailAddresses".into()),
                    ("q", "a b&c=d".into())
                ]
            ),
            "http://127.0.0.1:1/emu/v1/people/me?personFields=names%2CemailAddresses&q=a+b%26c%3Dd"
        );
        let joined = join(base, "v1/x y", &[("k", "v".into())]);
        assert!(joined.parse::<http::Uri>().is_ok(), "{joined}");
    }

    #[test]
    fn queries_append_and_forms_round_trip() {
        assert_eq!(
            with_query(
                "https://accounts.example/o/auth",
                &[("a", "1 2"), ("b", "&")]
            ),
            "https://accounts.example/o/auth?a=1+2&b=%26"
        );
        assert_eq!(
            with_query("https://accounts.example/o/auth?hd=x", &[("a", "1")]),
            "https://accounts.example/o/auth?hd=x&a=1"
        );
        let body = form(&[("code", "4/a+b"), ("state", "s t")]);
        assert_eq!(
            parse_query(&body),
            [
                ("code".into(), "4/a+b".into()),
                ("state".into(), "s t".into())
            ]
        );
    }
}
