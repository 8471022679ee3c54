//! Who may ask: loopback only by default, a token with remote access, and
//! only requests addressed to this server.

use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Refuses an address other machines could reach unless `allow_remote`.
pub fn check_address(address: SocketAddr, allow_remote: bool) -> Result<(), String> {
    if address.ip().is_loopback() || allow_remote {
        Ok(())
    } else {
        Err(format!(
            "{address} can be reached from other machines, and a dump holds every string of \
             the process; serve on 127.0.0.1, or pass --allow-remote (API requests then need \
             the token printed at start)"
        ))
    }
}

/// A random token of 128 bits, in hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the system's random source works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The checks every request goes through.
#[derive(Debug, Clone)]
pub(crate) struct Guard {
    /// The `Host` values a loopback server accepts; `None` with a token
    /// (remote access), where the token is the check.
    hosts: Option<Vec<String>>,
    token: Option<String>,
}

impl Guard {
    pub(crate) fn new(address: SocketAddr, token: Option<String>) -> Self {
        let port = address.port();
        let hosts = token.is_none().then(|| {
            vec![
                format!("127.0.0.1:{port}"),
                format!("localhost:{port}"),
                format!("[::1]:{port}"),
                address.to_string(),
            ]
        });
        Guard { hosts, token }
    }

    fn host_allowed(&self, request: &Request) -> bool {
        let Some(hosts) = &self.hosts else {
            return true;
        };
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|host| host.to_str().ok());
        host.is_some_and(|host| hosts.iter().any(|allowed| allowed == host))
    }

    fn token_given(&self, request: &Request) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let bearer = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        let in_query = request.uri().query().and_then(|query| {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix("token="))
        });
        [bearer, in_query]
            .into_iter()
            .flatten()
            .any(|given| same_secret(given.as_bytes(), token.as_bytes()))
    }
}

/// Compares in time independent of where the texts differ.
fn same_secret(given: &[u8], token: &[u8]) -> bool {
    given.len() == token.len()
        && given
            .iter()
            .zip(token)
            .fold(0, |diff, (a, b)| diff | (a ^ b))
            == 0
}

/// The middleware: refuses foreign hosts and API requests without the
/// token; adds headers that keep the page to itself.
pub(crate) async fn check(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    if !guard.host_allowed(&request) {
        return (
            StatusCode::FORBIDDEN,
            "heapsift serves this machine's own requests only\n",
        )
            .into_response();
    }
    if request.uri().path().starts_with("/api/") && !guard.token_given(&request) {
        return crate::api::ApiError::Unauthorized.into_response();
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; img-src 'self' data:"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
