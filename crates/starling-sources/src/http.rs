//! HTTP and WebSocket connections the connectors open: every address checked against the
//! [`Policy`] before connecting (and connected to by that checked address, so a DNS answer
//! cannot change between the check and the connection), redirects followed one hop at a time
//! under the same check, bodies read with an idle timeout and a size limit.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// What may go wrong opening or reading a connection.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The address is not one the policy lets a connector reach.
    #[error("refused {url}: {reason}")]
    Refused {
        /// The URL asked for.
        url: String,
        /// Why.
        reason: String,
    },
    /// A URL that cannot be used.
    #[error("bad URL {url}: {reason}")]
    BadUrl {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// Connecting, the TLS handshake, or the exchange failed.
    #[error("{url}: {message}")]
    Io {
        /// The URL.
        url: String,
        /// What happened.
        message: String,
    },
    /// Nothing arrived for longer than the idle timeout.
    #[error("{url}: nothing received for {seconds} s")]
    Idle {
        /// The URL.
        url: String,
        /// The timeout.
        seconds: u64,
    },
    /// A body or line larger than allowed.
    #[error("{url}: {what} larger than {limit} bytes")]
    TooLarge {
        /// The URL.
        url: String,
        /// A body, a line.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// Too many redirects.
    #[error("{url}: more than {0} redirects", MAX_REDIRECTS)]
    Redirects {
        /// The URL first asked for.
        url: String,
    },
}

/// Redirects followed at most.
pub const MAX_REDIRECTS: usize = 5;

/// Which addresses connectors may reach. Public addresses always; loopback, private,
/// link-local, shared (CGNAT), multicast and unspecified ones only when listed in `allow`
/// (as `IP`, `IP:port`, `host` or `host:port`, or `*` for all): a feed URL or a redirect must
/// not make Starling fetch from inside the network it runs in.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Non-public addresses explicitly allowed.
    pub allow: Vec<String>,
}

impl Policy {
    /// Whether `address`, reached as `host`, may be connected to.
    pub fn check(&self, host: &str, address: SocketAddr) -> Result<(), String> {
        let ip = address.ip();
        if is_public(ip) {
            return Ok(());
        }
        let port = address.port();
        let allowed = self.allow.iter().any(|entry| {
            let entry = entry.trim();
            entry == "*"
                || entry == ip.to_string()
                || entry == address.to_string()
                || entry.eq_ignore_ascii_case(host)
                || entry.eq_ignore_ascii_case(&format!("{host}:{port}"))
        });
        if allowed {
            Ok(())
        } else {
            Err(format!(
                "{host} is {address}, a private, loopback or otherwise non-public address \
                 (allow it explicitly with allow_private)"
            ))
        }
    }
}

/// Whether an address is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let segments = v6.segments();
            let embedded = |high: u16, low: u16| {
                let [a, b] = high.to_be_bytes();
                let [c, d] = low.to_be_bytes();
                std::net::Ipv4Addr::new(a, b, c, d)
            };
            // Addresses that carry an IPv4 address reach it through a gateway (NAT64, 6to4)
            // or stand for it (IPv4-compatible): judged by that IPv4 address.
            let nat64 = segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
                || (segments[0] == 0x64 && segments[1] == 0xff9b && segments[2] == 1);
            if nat64 {
                return is_public(IpAddr::V4(embedded(segments[6], segments[7])));
            }
            if segments[..6] == [0; 6] {
                // IPv4-compatible (deprecated), `::` and `::1`: never a public destination.
                return false;
            }
            if segments[0] == 0x2002 {
                return is_public(IpAddr::V4(embedded(segments[1], segments[2])));
            }
            let first = segments[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// The parts of a URL a connection needs.
#[derive(Debug, Clone)]
pub struct Target {
    /// `http`, `https`, `ws` or `wss`.
    pub scheme: String,
    /// Host name or address (without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Path and query.
    pub path: String,
}

impl Target {
    /// Parses an absolute http(s) or ws(s) URL.
    pub fn parse(url: &str) -> Result<Target, HttpError> {
        let bad = |reason: &str| HttpError::BadUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let uri: Uri = url.parse().map_err(|_| bad("not a URL"))?;
        let scheme = uri
            .scheme_str()
            .ok_or_else(|| bad("no scheme"))?
            .to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" | "ws" => 80,
            "https" | "wss" => 443,
            _ => return Err(bad("only http, https, ws and wss are followed")),
        };
        let host = uri
            .host()
            .ok_or_else(|| bad("no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        if uri
            .authority()
            .is_some_and(|authority| authority.as_str().contains('@'))
        {
            return Err(bad("credentials in the URL are not accepted"));
        }
        Ok(Target {
            port: uri.port_u16().unwrap_or(default_port),
            path: uri
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |path| path.as_str().to_owned()),
            scheme,
            host,
        })
    }

    fn tls(&self) -> bool {
        self.scheme == "https" || self.scheme == "wss"
    }

    /// The Host header's value.
    pub fn authority(&self) -> String {
        let default = if self.tls() { 443 } else { 80 };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// A redirect's target, resolved against the URL that answered it.
pub fn resolve(base: &str, location: &str) -> Option<String> {
    let location = location.trim();
    if location.contains("://") {
        return Some(location.to_owned());
    }
    let target = Target::parse(base).ok()?;
    let origin = format!("{}://{}", target.scheme, target.authority());
    if let Some(rest) = location.strip_prefix("//") {
        return Some(format!("{}://{rest}", target.scheme));
    }
    if location.starts_with('/') {
        return Some(format!("{origin}{location}"));
    }
    let path = target.path.split(['?', '#']).next().unwrap_or("/");
    let directory = &path[..path.rfind('/').map_or(0, |at| at + 1)];
    let directory = if directory.is_empty() { "/" } else { directory };
    Some(format!("{origin}{directory}{location}"))
}

/// Percent-encodes a query parameter's value (RFC 3986 unreserved characters kept).
pub fn percent(text: &str) -> String {
    let mut encoded = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// A byte stream a connection runs over: plain TCP or TLS.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Opens connections under a policy.
#[derive(Clone)]
pub struct Connector {
    policy: Policy,
    tls: tokio_rustls::TlsConnector,
    /// How long connecting (TCP and TLS) may take.
    pub connect_timeout: Duration,
}

impl Connector {
    /// A connector trusting the Mozilla root certificates (`webpki-roots`).
    pub fn new(policy: Policy) -> Result<Connector, HttpError> {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|error| HttpError::Io {
            url: String::new(),
            message: format!("TLS setup: {error}"),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
        Ok(Connector {
            policy,
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
            connect_timeout: Duration::from_secs(15),
        })
    }

    /// The policy addresses are checked against.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// A connection to `target`: each address the name resolves to is checked, and the
    /// checked address is the one connected to.
    pub async fn connect(&self, url: &str, target: &Target) -> Result<Box<dyn Io>, HttpError> {
        let io_error = |message: String| HttpError::Io {
            url: url.to_owned(),
            message,
        };
        let addresses: Vec<SocketAddr> = match target.host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, target.port)],
            Err(_) => tokio::time::timeout(
                self.connect_timeout,
                tokio::net::lookup_host((target.host.as_str(), target.port)),
            )
            .await
            .map_err(|_| io_error("resolving the name timed out".into()))?
            .map_err(|error| io_error(format!("cannot resolve {}: {error}", target.host)))?
            .collect(),
        };
        if addresses.is_empty() {
            return Err(io_error(format!("{} resolves to nothing", target.host)));
        }
        // Every address must pass: a name that resolves to one public and one private
        // address would otherwise be a way in.
        for address in &addresses {
            self.policy
                .check(&target.host, *address)
                .map_err(|reason| HttpError::Refused {
                    url: url.to_owned(),
                    reason,
                })?;
        }
        let mut last = String::new();
        for address in addresses {
            match tokio::time::timeout(self.connect_timeout, TcpStream::connect(address)).await {
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    if !target.tls() {
                        return Ok(Box::new(stream));
                    }
                    let name = rustls::pki_types::ServerName::try_from(target.host.clone())
                        .map_err(|error| io_error(format!("bad TLS name: {error}")))?;
                    let tls =
                        tokio::time::timeout(self.connect_timeout, self.tls.connect(name, stream))
                            .await
                            .map_err(|_| io_error("TLS handshake timed out".into()))?
                            .map_err(|error| io_error(format!("TLS: {error}")))?;
                    return Ok(Box::new(tls));
                }
                Ok(Err(error)) => last = format!("cannot connect to {address}: {error}"),
                Err(_) => last = format!("connecting to {address} timed out"),
            }
        }
        Err(io_error(last))
    }

    /// Sends one request (no redirect followed) and returns the response head and body.
    pub async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(String, String)],
        body: Option<Vec<u8>>,
    ) -> Result<Response, HttpError> {
        let target = Target::parse(url)?;
        let io = self.connect(url, &target).await?;
        let io_error = |message: String| HttpError::Io {
            url: url.to_owned(),
            message,
        };
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io))
            .await
            .map_err(|error| io_error(format!("HTTP handshake: {error}")))?;
        tokio::spawn(async move {
            // Ends with the response body or when it is dropped.
            let _ = connection.await;
        });
        let mut request = Request::builder()
            .method(method)
            .uri(target.path.as_str())
            .header(http::header::HOST, target.authority())
            .header(http::header::USER_AGENT, USER_AGENT);
        for (name, value) in headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|error| io_error(format!("bad request: {error}")))?;
        let response = tokio::time::timeout(self.connect_timeout, sender.send_request(request))
            .await
            .map_err(|_| io_error("no response headers in time".into()))?
            .map_err(|error| io_error(format!("request failed: {error}")))?;
        let (parts, body) = response.into_parts();
        Ok(Response {
            status: parts.status,
            headers: parts.headers,
            body,
            url: url.to_owned(),
        })
    }

    /// A GET, following redirects (each hop checked by the policy). A redirect to another
    /// origin (scheme, host or port) is followed without the `authorization` header and the
    /// conditional-GET validators, and one from https to http is refused: a token is never
    /// handed to a server it was not meant for, nor sent in clear.
    pub async fn get(
        &self,
        url: &str,
        headers: &[(String, String)],
    ) -> Result<Response, HttpError> {
        let mut current = url.to_owned();
        let mut headers = headers.to_vec();
        for _ in 0..=MAX_REDIRECTS {
            let response = self.send(Method::GET, &current, &headers, None).await?;
            if response.status.is_redirection()
                && response.status != StatusCode::NOT_MODIFIED
                && let Some(location) = response.header("location")
            {
                let next = resolve(&current, &location).ok_or_else(|| HttpError::BadUrl {
                    url: location.clone(),
                    reason: "a redirect to nowhere".into(),
                })?;
                redirect_headers(&current, &next, &mut headers)?;
                current = next;
                continue;
            }
            return Ok(response);
        }
        Err(HttpError::Redirects {
            url: url.to_owned(),
        })
    }
}

/// What a redirect from `from` to `to` may carry: to another origin (scheme, host or port)
/// neither the token nor the validators go; from https to plain http nothing goes.
pub fn redirect_headers(
    from: &str,
    to: &str,
    headers: &mut Vec<(String, String)>,
) -> Result<(), HttpError> {
    let (source, target) = (Target::parse(from)?, Target::parse(to)?);
    if source.tls() && !target.tls() {
        return Err(HttpError::Refused {
            url: to.to_owned(),
            reason: format!("{from} redirects from https to plain http"),
        });
    }
    let origin = |target: &Target| {
        (
            target.scheme.clone(),
            target.host.to_ascii_lowercase(),
            target.port,
        )
    };
    if origin(&source) != origin(&target) {
        headers.retain(|(name, _)| {
            ![
                "authorization",
                "if-none-match",
                "if-modified-since",
                "cookie",
            ]
            .contains(&name.to_ascii_lowercase().as_str())
        });
    }
    Ok(())
}

/// The User-Agent connectors send.
pub const USER_AGENT: &str = concat!("Starling/", env!("CARGO_PKG_VERSION"), " (+monitoring)");

/// A response whose body is still to be read.
pub struct Response {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Incoming,
    /// The URL that answered (after redirects).
    pub url: String,
}

impl Response {
    /// A header's value, when present and text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    }

    /// The next chunk of the body, `None` at its end; waits at most `idle`.
    pub async fn chunk(&mut self, idle: Duration) -> Result<Option<Bytes>, HttpError> {
        loop {
            let frame = tokio::time::timeout(idle, self.body.frame())
                .await
                .map_err(|_| HttpError::Idle {
                    url: self.url.clone(),
                    seconds: idle.as_secs(),
                })?;
            match frame {
                None => return Ok(None),
                Some(Err(error)) => {
                    return Err(HttpError::Io {
                        url: self.url.clone(),
                        message: format!("reading the body: {error}"),
                    });
                }
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data()
                        && !data.is_empty()
                    {
                        return Ok(Some(data));
                    }
                }
            }
        }
    }

    /// The whole body, at most `limit` bytes, each chunk within `idle`.
    pub async fn bytes(&mut self, limit: usize, idle: Duration) -> Result<Vec<u8>, HttpError> {
        let mut body = Vec::new();
        while let Some(chunk) = self.chunk(idle).await? {
            if body.len() + chunk.len() > limit {
                return Err(HttpError::TooLarge {
                    url: self.url.clone(),
                    what: "body",
                    limit,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// How long the server asks to wait (`Retry-After` in seconds or as an HTTP date, or
    /// X's `x-rate-limit-reset` epoch seconds when nothing remains).
    pub fn retry_after(&self, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
        if let Some(value) = self.header("retry-after") {
            return parse_retry_after(&value, now);
        }
        let remaining = self.header("x-rate-limit-remaining")?;
        if remaining.trim() != "0" {
            return None;
        }
        let reset: i64 = self.header("x-rate-limit-reset")?.trim().parse().ok()?;
        Some(Duration::from_secs(
            reset.saturating_sub(now.timestamp()).clamp(0, 24 * 3600) as u64,
        ))
    }
}

/// `Retry-After`: delay seconds or an HTTP date; capped at a day.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds.min(24 * 3600)));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let seconds = at
        .with_timezone(&chrono::Utc)
        .timestamp()
        .saturating_sub(now.timestamp());
    Some(Duration::from_secs(seconds.clamp(0, 24 * 3600) as u64))
}

/// Cuts a byte stream into lines (`\n`, an optional `\r` removed), none longer than a limit.
#[derive(Debug, Default)]
pub struct Lines {
    buffer: BytesMut,
    limit: usize,
}

impl Lines {
    /// Lines of at most `limit` bytes.
    pub fn new(limit: usize) -> Lines {
        Lines {
            buffer: BytesMut::new(),
            limit,
        }
    }

    /// Adds bytes; returns the complete lines, or an error when one is too long.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Bytes>, usize> {
        self.buffer.extend_from_slice(bytes);
        let mut lines = Vec::new();
        while let Some(end) = self.buffer.iter().position(|byte| *byte == b'\n') {
            let mut line = self.buffer.split_to(end + 1).freeze();
            line.truncate(end);
            if line.last() == Some(&b'\r') {
                line.truncate(end - 1);
            }
            lines.push(line);
        }
        if self.buffer.len() > self.limit {
            return Err(self.limit);
        }
        Ok(lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_need_an_allowance() {
        let policy = Policy::default();
        for address in [
            "127.0.0.1:80",
            "10.1.2.3:443",
            "172.20.0.1:80",
            "192.168.1.1:80",
            "169.254.169.254:80",
            "100.64.0.1:80",
            "0.0.0.0:80",
            "[::1]:80",
            "[fd00::1]:80",
            "[fe80::1]:80",
            "[::ffff:127.0.0.1]:80",
            "[64:ff9b::a00:5]:80",
            "[64:ff9b:1::a00:5]:80",
            "[::a00:5]:80",
            "[2002:a00:5::1]:80",
        ] {
            let address: SocketAddr = address.parse().unwrap();
            assert!(policy.check("x", address).is_err(), "{address}");
        }
        for address in [
            "93.184.216.34:443",
            "[2606:4700::1111]:443",
            "[64:ff9b::5db8:d822]:443",
        ] {
            let address: SocketAddr = address.parse().unwrap();
            assert!(policy.check("x", address).is_ok(), "{address}");
        }
        let allowed = Policy {
            allow: vec!["127.0.0.1:8080".into(), "feeds.local".into()],
        };
        assert!(
            allowed
                .check("127.0.0.1", "127.0.0.1:8080".parse().unwrap())
                .is_ok()
        );
        assert!(
            allowed
                .check("127.0.0.1", "127.0.0.1:8081".parse().unwrap())
                .is_err()
        );
        assert!(
            allowed
                .check("feeds.local", "10.0.0.5:80".parse().unwrap())
                .is_ok()
        );
    }

    #[test]
    fn urls_and_redirects() {
        let target = Target::parse("https://example.org/feed.xml?x=1").unwrap();
        assert_eq!(
            (target.host.as_str(), target.port, target.path.as_str()),
            ("example.org", 443, "/feed.xml?x=1")
        );
        assert!(Target::parse("file:///etc/passwd").is_err());
        assert!(Target::parse("http://user:pw@example.org/").is_err());
        assert_eq!(
            resolve("https://a.org/x/feed.xml", "other.xml").as_deref(),
            Some("https://a.org/x/other.xml")
        );
        assert_eq!(
            resolve("https://a.org/x/feed.xml", "/y").as_deref(),
            Some("https://a.org/y")
        );
        assert_eq!(
            resolve("http://a.org:8080/x", "//b.org/z").as_deref(),
            Some("http://b.org/z")
        );
        assert_eq!(
            resolve("http://a.org:8080/x", "http://127.0.0.1/").as_deref(),
            Some("http://127.0.0.1/")
        );
    }

    #[test]
    fn redirects_keep_the_token_only_within_its_origin() {
        let headers = || {
            vec![
                ("authorization".to_owned(), "Bearer secret".to_owned()),
                ("If-None-Match".to_owned(), "\"v1\"".to_owned()),
                ("accept".to_owned(), "application/json".to_owned()),
            ]
        };
        let mut same = headers();
        redirect_headers("https://api.x.com/a", "https://API.x.com/b", &mut same).unwrap();
        assert_eq!(same, headers());
        for other in [
            "https://evil.example/b",
            "https://api.x.com:8443/b",
            "wss://api.x.com/b",
        ] {
            let mut moved = headers();
            redirect_headers("https://api.x.com/a", other, &mut moved).unwrap();
            assert_eq!(
                moved,
                vec![("accept".to_owned(), "application/json".to_owned())],
                "{other}"
            );
        }
        let mut downgraded = headers();
        assert!(matches!(
            redirect_headers("https://api.x.com/a", "http://api.x.com/a", &mut downgraded),
            Err(HttpError::Refused { .. })
        ));
        // Plain http to https is an upgrade, but another origin all the same.
        let mut upgraded = headers();
        redirect_headers(
            "http://feeds.example/a",
            "https://feeds.example/a",
            &mut upgraded,
        )
        .unwrap();
        assert_eq!(upgraded.len(), 1);
    }

    #[test]
    fn retry_after_in_both_forms() {
        let now = chrono::DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn lines_are_cut_and_bounded() {
        let mut lines = Lines::new(8);
        assert_eq!(lines.push(b"ab\r\ncd").unwrap(), vec![Bytes::from("ab")]);
        assert_eq!(
            lines.push(b"e\n\n").unwrap(),
            vec![Bytes::from("cde"), Bytes::new()]
        );
        assert!(lines.push(b"0123456789").is_err());
    }
}
