//! Bearer-token authentication and identities: a tower layer in front of every service, so that
//! services added later are closed too without anyone remembering to wrap them.
//!
//! With tokens configured, a call needs exactly one header `authorization: Bearer TOKEN` (the
//! scheme in any case, as RFC 7235 says) with one of them, or it is answered UNAUTHENTICATED
//! before any handler runs. The layer puts the caller's [`Caller`] (name and scopes) in the
//! request's extensions, where handlers read it. Only the standard health service
//! (`grpc.health.v1.Health`) stays open, for load balancers and orchestrators; server
//! reflection is closed, because it describes the whole API to whoever asks (grpcurl passes a
//! token with `-H 'authorization: Bearer TOKEN'`).
//!
//! Tokens are kept only as SHA-256 digests. A presented token is hashed and compared with
//! every digest in constant time, without stopping at a match, so the response time says
//! nothing about how much of a token was right, nor which one matched. The set can be replaced
//! while the server runs ([`Tokens::replace`], on SIGHUP).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};

use sha2::{Digest, Sha256};
use tonic::Status;

use super::error::ServiceError;

/// Shortest token accepted: anything shorter could be guessed or is a placeholder.
pub const MIN_TOKEN_LENGTH: usize = 16;

/// The path prefix that stays open with authentication on.
const OPEN_PREFIX: &str = "/grpc.health.v1.Health/";

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// List and read networks, query them, read the caller's sessions (and those shared with
    /// it), run analyses.
    Read,
    /// Create, update, share and delete the caller's own sessions.
    Write,
    /// Upload networks, and replace or delete the ones the caller uploaded.
    Networks,
    /// Everything, on every tenant's sessions and uploads.
    Admin,
}

impl Scope {
    const ALL: [Scope; 4] = [Scope::Read, Scope::Write, Scope::Networks, Scope::Admin];

    /// The scope's name in a tokens file.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Networks => "networks",
            Scope::Admin => "admin",
        }
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// Who is calling: put in every request's extensions by the auth layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The token's name; empty when the server runs without authentication.
    name: Arc<str>,
    /// A bit per [`Scope`].
    scopes: u8,
}

impl Caller {
    /// The caller of a server without authentication: no name, every scope.
    pub fn unrestricted() -> Caller {
        Caller {
            name: Arc::from(""),
            scopes: Scope::ALL.iter().fold(0, |acc, s| acc | s.bit()),
        }
    }

    /// The caller a request carries. A request that did not pass the auth layer carries none
    /// and may do nothing (fail closed).
    pub fn of<T>(request: &tonic::Request<T>) -> Caller {
        request
            .extensions()
            .get::<Caller>()
            .cloned()
            .unwrap_or(Caller {
                name: Arc::from(""),
                scopes: 0,
            })
    }

    /// The token's name ("" without authentication).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the caller has `scope` (admin has them all).
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes & (scope.bit() | Scope::Admin.bit()) != 0
    }

    /// Whether the caller may act on every tenant's sessions and uploads.
    pub fn is_admin(&self) -> bool {
        self.has(Scope::Admin)
    }

    /// Fails unless the caller has `scope`, saying which scope `action` needs.
    ///
    /// # Errors
    /// [`ServiceError::PermissionDenied`].
    pub fn require(&self, scope: Scope, action: &str) -> Result<(), ServiceError> {
        if self.has(scope) {
            Ok(())
        } else {
            Err(ServiceError::PermissionDenied(format!(
                "the token '{}' lacks the '{}' scope, needed to {action}",
                self.name,
                scope.as_str()
            )))
        }
    }
}

/// Token names are stored as session owners and shown in messages: a short, safe alphabet.
pub fn valid_caller_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.@".contains(c))
}

/// One accepted token.
#[derive(Clone)]
struct Entry {
    digest: [u8; 32],
    caller: Caller,
}

/// The accepted tokens, as digests with the caller each stands for. Shared by the layer and
/// whoever reloads them.
pub struct Tokens {
    entries: RwLock<Arc<Vec<Entry>>>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the digests: they are as good as the tokens against an offline guess.
        write!(f, "Tokens({} configured)", self.len())
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

/// The scopes of a comma-separated list such as `read,write`.
fn parse_scopes(list: &str, place: &str) -> Result<u8, String> {
    let mut scopes = 0;
    for word in list.split(',').filter(|w| !w.is_empty()) {
        let scope = Scope::ALL
            .iter()
            .find(|s| s.as_str() == word)
            .ok_or_else(|| {
                format!(
                    "{place}: unknown scope '{}' (valid: read, write, networks, admin)",
                    word.chars().take(32).collect::<String>()
                )
            })?;
        scopes |= scope.bit();
    }
    if scopes == 0 {
        return Err(format!("{place}: no scope given"));
    }
    Ok(scopes)
}

impl Tokens {
    /// Parses a tokens file. Each line is either `TOKEN NAME SCOPES` (scopes comma separated
    /// from read, write, networks, admin) or a bare `TOKEN`, which has every scope and the name
    /// `token-` plus the first 8 hex digits of its SHA-256 (the format before identities, kept
    /// working). Blank lines and lines starting with `#` are skipped.
    ///
    /// # Errors
    /// A line of another shape, an unknown scope, a bad name, a token shorter than
    /// [`MIN_TOKEN_LENGTH`], a token given twice, or no token at all; `origin` names the file
    /// in the message, with the line.
    pub fn parse_file(text: &str, origin: &str) -> Result<Tokens, String> {
        let mut entries = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let place = format!("{origin}:{}", index + 1);
            let words: Vec<&str> = line.split_whitespace().collect();
            let (token, named) = match words[..] {
                [token] => (token, None),
                [token, name, scopes] => {
                    if !valid_caller_name(name) {
                        return Err(format!(
                            "{place}: invalid name '{}': use 1 to 64 letters, digits, '_', '-', '.' or '@'",
                            name.chars().take(64).collect::<String>()
                        ));
                    }
                    (token, Some((name, parse_scopes(scopes, &place)?)))
                }
                _ => {
                    return Err(format!(
                        "{place}: a line is 'TOKEN NAME SCOPES' (scopes comma separated from read, write, networks, admin) or a bare 'TOKEN'; this one has {} words",
                        words.len()
                    ));
                }
            };
            entries.push(entry(token, named, &place)?);
        }
        Tokens::from_entries(entries, origin)
    }

    /// Parses bare tokens separated by commas or whitespace (the `CREDENCE_TOKENS`
    /// variable); each has every scope.
    ///
    /// # Errors
    /// A token shorter than [`MIN_TOKEN_LENGTH`], or none at all.
    pub fn parse_list(text: &str, origin: &str) -> Result<Tokens, String> {
        let entries = text
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty())
            .enumerate()
            .map(|(i, t)| entry(t, None, &format!("{origin}, token {}", i + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        Tokens::from_entries(entries, origin)
    }

    fn from_entries(entries: Vec<Entry>, origin: &str) -> Result<Tokens, String> {
        if entries.is_empty() {
            return Err(format!(
                "{origin} holds no token: authentication would refuse every call"
            ));
        }
        let tokens = Tokens {
            entries: RwLock::new(Arc::new(Vec::new())),
        };
        tokens.extend(Tokens {
            entries: RwLock::new(Arc::new(entries)),
        })?;
        Ok(tokens)
    }

    /// Adds the tokens of `other` (e.g. CREDENCE_TOKENS beside the file).
    ///
    /// # Errors
    /// A token given twice.
    pub fn extend(&self, other: Tokens) -> Result<(), String> {
        let other = other.entries.into_inner().expect("tokens lock");
        let mut entries = self.entries.write().expect("tokens lock");
        let mut merged: Vec<Entry> = entries.to_vec();
        for new in other.iter() {
            if merged.iter().any(|e| e.digest == new.digest) {
                return Err(format!(
                    "the token of '{}' is given twice; each token stands for one name",
                    new.caller.name
                ));
            }
            merged.push(new.clone());
        }
        *entries = Arc::new(merged);
        Ok(())
    }

    /// Replaces every token by those of `other`, for the calls that follow (SIGHUP).
    pub fn replace(&self, other: Tokens) {
        let other = other.entries.into_inner().expect("tokens lock");
        *self.entries.write().expect("tokens lock") = other;
    }

    /// How many tokens are accepted.
    pub fn len(&self) -> usize {
        self.entries.read().expect("tokens lock").len()
    }

    /// Whether no token is accepted.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The caller `presented` stands for, if it is one of the tokens (constant time in where
    /// it differs and in which one matched).
    pub fn identify(&self, presented: &str) -> Option<Caller> {
        let presented = digest(presented);
        let entries = self.entries.read().expect("tokens lock").clone();
        let mut found = false;
        let mut index = 0usize;
        for (i, entry) in entries.iter().enumerate() {
            let equal = constant_time_eq(&entry.digest, &presented);
            // Select without branching on the comparison.
            let mask = (equal as usize).wrapping_neg();
            index = (index & !mask) | (i & mask);
            found |= equal;
        }
        found.then(|| entries[index].caller.clone())
    }

    /// Whether `presented` is one of the tokens.
    pub fn accepts(&self, presented: &str) -> bool {
        self.identify(presented).is_some()
    }

    /// The caller of a call with these headers, or why it is refused.
    fn check(&self, headers: &http::HeaderMap) -> Result<Caller, Status> {
        let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            let count = headers.get_all(http::header::AUTHORIZATION).iter().count();
            return Err(Status::unauthenticated(if count == 0 {
                "this server requires a bearer token: send the header 'authorization: Bearer TOKEN'"
                    .to_string()
            } else {
                format!("send exactly one authorization header, not {count}")
            }));
        };
        // RFC 7235: the scheme is case-insensitive, followed by one or more spaces.
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        match token {
            Some(token) => self
                .identify(token)
                .ok_or_else(|| Status::unauthenticated("the bearer token is not valid")),
            None => Err(Status::unauthenticated(
                "the authorization header must read 'Bearer TOKEN'",
            )),
        }
    }
}

/// One entry: a bare token has every scope and a name from its digest.
fn entry(token: &str, named: Option<(&str, u8)>, place: &str) -> Result<Entry, String> {
    if token.chars().count() < MIN_TOKEN_LENGTH {
        return Err(format!(
            "{place}: the token is shorter than {MIN_TOKEN_LENGTH} characters; use a long random one (e.g. openssl rand -hex 32)"
        ));
    }
    let digest = digest(token);
    let caller = match named {
        Some((name, scopes)) => Caller {
            name: Arc::from(name),
            scopes,
        },
        None => Caller {
            name: Arc::from(format!(
                "token-{}",
                digest[..4]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            )),
            scopes: Caller::unrestricted().scopes,
        },
    };
    Ok(Entry { digest, caller })
}

/// The layer; with no tokens it lets everything through as [`Caller::unrestricted`].
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

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let caller = match &self.tokens {
            None => Ok(Caller::unrestricted()),
            // Health, and the workspace's page and files (which hold no data: the page asks
            // for a token before its first call), are open.
            Some(_)
                if request.uri().path().starts_with(OPEN_PREFIX)
                    || super::web::is_page_request(request.method()) =>
            {
                Ok(Caller {
                    name: Arc::from(""),
                    scopes: 0,
                })
            }
            Some(tokens) => tokens.check(request.headers()),
        };
        match caller {
            Ok(caller) => {
                request.extensions_mut().insert(caller);
                Box::pin(self.inner.call(request))
            }
            Err(status) => {
                tracing::info!(
                    method = request.uri().path(),
                    code = ?status.code(),
                    message = status.message(),
                    "rpc refused"
                );
                Box::pin(std::future::ready(Ok(status.into_http())))
            }
        }
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
        let bare = tokens.identify(A).unwrap();
        assert!(bare.is_admin(), "a bare token has every scope");
        assert!(bare.name().starts_with("token-") && bare.name().len() == 14);
        assert_ne!(bare, tokens.identify(B).unwrap());
        let tokens = Tokens::parse_list(&format!("{A}, {B}"), "CREDENCE_TOKENS").unwrap();
        assert!(tokens.accepts(B));
        assert_eq!(format!("{tokens:?}"), "Tokens(2 configured)");
    }

    #[test]
    fn named_tokens_carry_their_scopes() {
        let tokens = Tokens::parse_file(
            &format!("{A} alice read,write\n{B}   ops@example  admin\n"),
            "t",
        )
        .unwrap();
        let alice = tokens.identify(A).unwrap();
        assert_eq!(alice.name(), "alice");
        assert!(alice.has(Scope::Read) && alice.has(Scope::Write));
        assert!(!alice.has(Scope::Networks) && !alice.is_admin());
        let denied = alice
            .require(Scope::Networks, "upload a network")
            .unwrap_err();
        assert_eq!(
            denied.to_string(),
            "the token 'alice' lacks the 'networks' scope, needed to upload a network"
        );
        let ops = tokens.identify(B).unwrap();
        assert!(ops.has(Scope::Networks) && ops.is_admin());
    }

    #[test]
    fn replacing_tokens_takes_effect_at_once() {
        let tokens = Tokens::parse_list(A, "x").unwrap();
        tokens.replace(Tokens::parse_file(&format!("{B} bob read\n"), "y").unwrap());
        assert!(!tokens.accepts(A));
        assert_eq!(tokens.identify(B).unwrap().name(), "bob");
        tokens
            .extend(Tokens::parse_list(A, "CREDENCE_TOKENS").unwrap())
            .unwrap();
        assert!(tokens.accepts(A) && tokens.accepts(B));
        let twice = tokens
            .extend(Tokens::parse_list(B, "CREDENCE_TOKENS").unwrap())
            .unwrap_err();
        assert!(twice.contains("given twice"), "{twice}");
    }

    #[test]
    fn bad_token_files_are_refused_with_the_line() {
        let short = Tokens::parse_file("# x\nshort\n", "tokens.txt").unwrap_err();
        assert_eq!(
            short,
            "tokens.txt:2: the token is shorter than 16 characters; use a long random one (e.g. openssl rand -hex 32)"
        );
        let two = Tokens::parse_file(&format!("{A} alice\n"), "tokens.txt").unwrap_err();
        assert!(
            two.starts_with("tokens.txt:1: a line is 'TOKEN NAME SCOPES'")
                && two.ends_with("2 words"),
            "{two}"
        );
        let scope =
            Tokens::parse_file(&format!("\n{A} alice read,fly\n"), "tokens.txt").unwrap_err();
        assert_eq!(
            scope,
            "tokens.txt:2: unknown scope 'fly' (valid: read, write, networks, admin)"
        );
        let name = Tokens::parse_file(&format!("{A} a/b read\n"), "tokens.txt").unwrap_err();
        assert!(
            name.starts_with("tokens.txt:1: invalid name 'a/b'"),
            "{name}"
        );
        let twice = Tokens::parse_file(&format!("{A}\n{A} alice read\n"), "t").unwrap_err();
        assert!(twice.contains("given twice"), "{twice}");
        let empty = Tokens::parse_list(" , ", "CREDENCE_TOKENS").unwrap_err();
        assert!(empty.contains("holds no token"), "{empty}");
    }

    #[test]
    fn headers_are_checked() {
        let tokens = Tokens::parse_list(A, "x").unwrap();
        let mut headers = http::HeaderMap::new();
        assert!(
            tokens
                .check(&headers)
                .unwrap_err()
                .message()
                .contains("requires a bearer token")
        );
        headers.insert("authorization", format!("Bearer {B}").parse().unwrap());
        assert_eq!(
            tokens.check(&headers).unwrap_err().message(),
            "the bearer token is not valid"
        );
        headers.insert("authorization", format!("Basic {A}").parse().unwrap());
        assert!(tokens.check(&headers).is_err());
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            headers.insert("authorization", format!("{scheme} {A}").parse().unwrap());
            assert!(tokens.check(&headers).is_ok(), "{scheme}");
        }
        headers.insert("authorization", format!("Bearer  {A}").parse().unwrap());
        assert!(tokens.check(&headers).is_ok(), "several spaces");
        headers.append("authorization", format!("Bearer {A}").parse().unwrap());
        assert_eq!(
            tokens.check(&headers).unwrap_err().message(),
            "send exactly one authorization header, not 2"
        );
    }
}
