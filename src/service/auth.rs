//! Bearer-token authentication: a tower layer in front of every service, so that services
//! added later are closed too without anyone remembering to wrap them.
//!
//! With tokens configured, a call needs the header `authorization: Bearer TOKEN` with one of
//! them, or it is answered UNAUTHENTICATED before any handler runs. Only the standard health
//! service (`grpc.health.v1.Health`) stays open, for load balancers and orchestrators; server
//! reflection is closed, because it describes the whole API to whoever asks (grpcurl passes a
//! token with `-H 'authorization: Bearer TOKEN'`).
//!
//! Tokens are kept only as SHA-256 digests. A presented token is hashed and compared with
//! every digest in constant time, without stopping at a match, so the response time says
//! nothing about how much of a token was right, nor which one matched.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use sha2::{Digest, Sha256};
use tonic::Status;

/// Shortest token accepted: anything shorter could be guessed or is a placeholder.
pub const MIN_TOKEN_LENGTH: usize = 16;

/// The path prefix that stays open with authentication on.
const OPEN_PREFIX: &str = "/grpc.health.v1.Health/";

/// The accepted tokens, as digests.
#[derive(Clone)]
pub struct Tokens {
    digests: Vec<[u8; 32]>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the digests: they are as good as the tokens against an offline guess.
        write!(f, "Tokens({} configured)", self.digests.len())
    }
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Equality of two digests in time independent of where they differ.
fn constant_time_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // black_box keeps the optimiser from turning the fold into an early-exit comparison.
    std::hint::black_box(difference) == 0
}

impl Tokens {
    /// Parses a tokens file: one token per line; blank lines and lines starting with `#` are
    /// skipped; surrounding whitespace is trimmed.
    ///
    /// # Errors
    /// A line with more than one word (per-network scopes are not supported), a token shorter
    /// than [`MIN_TOKEN_LENGTH`], or no token at all; `origin` names the file in the message.
    pub fn parse_file(text: &str, origin: &str) -> Result<Tokens, String> {
        let mut tokens = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.split_whitespace().nth(1).is_some() {
                return Err(format!(
                    "{origin}:{}: a line holds one token and nothing else (per-network scopes are not supported)",
                    index + 1
                ));
            }
            tokens.push((format!("{origin}:{}", index + 1), line));
        }
        Tokens::from_list(tokens, origin)
    }

    /// Parses tokens separated by commas or whitespace (the `CREDENCE_TOKENS` variable).
    ///
    /// # Errors
    /// A token shorter than [`MIN_TOKEN_LENGTH`], or none at all.
    pub fn parse_list(text: &str, origin: &str) -> Result<Tokens, String> {
        let tokens = text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty())
            .enumerate()
            .map(|(i, t)| (format!("{origin}, token {}", i + 1), t))
            .collect();
        Tokens::from_list(tokens, origin)
    }

    fn from_list(tokens: Vec<(String, &str)>, origin: &str) -> Result<Tokens, String> {
        if tokens.is_empty() {
            return Err(format!(
                "{origin} holds no token: authentication would refuse every call"
            ));
        }
        let mut digests = Vec::with_capacity(tokens.len());
        for (place, token) in tokens {
            if token.chars().count() < MIN_TOKEN_LENGTH {
                return Err(format!(
                    "{place}: the token is shorter than {MIN_TOKEN_LENGTH} characters; use a long random one (e.g. openssl rand -hex 32)"
                ));
            }
            digests.push(digest(token));
        }
        Ok(Tokens { digests })
    }

    /// Whether `presented` is one of the tokens (constant time in where it differs).
    pub fn accepts(&self, presented: &str) -> bool {
        let presented = digest(presented);
        self.digests
            .iter()
            .fold(false, |found, d| found | constant_time_eq(d, &presented))
    }

    /// Why the call with these headers is refused, if it is.
    fn refusal(&self, headers: &http::HeaderMap) -> Option<Status> {
        let Some(value) = headers.get(http::header::AUTHORIZATION) else {
            return Some(Status::unauthenticated(
                "this server requires a bearer token: send the header 'authorization: Bearer TOKEN'",
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim);
        match token {
            Some(token) if self.accepts(token) => None,
            Some(_) => Some(Status::unauthenticated("the bearer token is not valid")),
            None => Some(Status::unauthenticated(
                "the authorization header must read 'Bearer TOKEN'",
            )),
        }
    }
}

/// The layer; with no tokens it lets everything through.
#[derive(Clone, Debug, Default)]
pub struct AuthLayer {
    tokens: Option<Arc<Tokens>>,
}

impl AuthLayer {
    /// Checks every call except health against `tokens`, or none when `None`.
    pub fn new(tokens: Option<Arc<Tokens>>) -> AuthLayer {
        AuthLayer { tokens }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Auth<S> {
        Auth {
            inner,
            tokens: self.tokens.clone(),
        }
    }
}

/// The service [`AuthLayer`] makes.
#[derive(Clone, Debug)]
pub struct Auth<S> {
    inner: S,
    tokens: Option<Arc<Tokens>>,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B, R> tower::Service<http::Request<B>> for Auth<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: Default + Send + 'static,
{
    type Response = http::Response<R>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if let Some(tokens) = &self.tokens
            && !request.uri().path().starts_with(OPEN_PREFIX)
            && !super::web::is_page_request(request.method())
            && let Some(status) = tokens.refusal(request.headers())
        {
            tracing::info!(
                method = request.uri().path(),
                code = ?status.code(),
                message = status.message(),
                "rpc refused"
            );
            return Box::pin(std::future::ready(Ok(status.into_http())));
        }
        Box::pin(self.inner.call(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0123456789abcdef0123";
    const B: &str = "fedcba9876543210fedc";

    #[test]
    fn tokens_from_a_file_and_a_list() {
        let tokens = Tokens::parse_file(&format!("# analysts\n\n  {A}  \n{B}\n"), "t").unwrap();
        assert!(tokens.accepts(A) && tokens.accepts(B));
        assert!(!tokens.accepts("0123456789abcdef012"));
        assert!(!tokens.accepts(""));
        let tokens = Tokens::parse_list(&format!("{A}, {B}"), "CREDENCE_TOKENS").unwrap();
        assert!(tokens.accepts(B));
        assert_eq!(format!("{tokens:?}"), "Tokens(2 configured)");
    }

    #[test]
    fn bad_token_files_are_refused_with_the_line() {
        let short = Tokens::parse_file("# x\nshort\n", "tokens.txt").unwrap_err();
        assert_eq!(
            short,
            "tokens.txt:2: the token is shorter than 16 characters; use a long random one (e.g. openssl rand -hex 32)"
        );
        let scoped = Tokens::parse_file(&format!("{A} asia,alarm\n"), "tokens.txt").unwrap_err();
        assert!(
            scoped.starts_with("tokens.txt:1: a line holds one token"),
            "{scoped}"
        );
        let empty = Tokens::parse_list(" , ", "CREDENCE_TOKENS").unwrap_err();
        assert!(empty.contains("holds no token"), "{empty}");
    }

    #[test]
    fn headers_are_checked() {
        let tokens = Tokens::parse_list(A, "x").unwrap();
        let mut headers = http::HeaderMap::new();
        assert!(
            tokens
                .refusal(&headers)
                .unwrap()
                .message()
                .contains("requires a bearer token")
        );
        headers.insert("authorization", format!("Bearer {B}").parse().unwrap());
        assert_eq!(
            tokens.refusal(&headers).unwrap().message(),
            "the bearer token is not valid"
        );
        headers.insert("authorization", format!("Basic {A}").parse().unwrap());
        assert!(tokens.refusal(&headers).is_some());
        headers.insert("authorization", format!("Bearer {A}").parse().unwrap());
        assert!(tokens.refusal(&headers).is_none());
    }
}
