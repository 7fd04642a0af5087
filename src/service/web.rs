//! The browser workspace: its page, script and style sheet, embedded in the binary and served
//! on the gRPC port to plain HTTP/1.1 `GET`s. The page then speaks gRPC-web to the same
//! services as every other client (`tonic-web` translates), so there is no second API.
//!
//! The files are built from `web/` by `npm run build` and committed under `web/dist/` with
//! fixed names, so `cargo build` needs no Node and `.ci/run` checks they are current.

use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body: include_bytes!("../../web/dist/index.html"),
    },
    Asset {
        path: "/assets/app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_bytes!("../../web/dist/assets/app.js"),
    },
    Asset {
        path: "/assets/app.css",
        content_type: "text/css; charset=utf-8",
        body: include_bytes!("../../web/dist/assets/app.css"),
    },
];

/// Whether a request is for the workspace's files rather than an RPC: gRPC and gRPC-web
/// calls are always `POST`s, so `GET` and `HEAD` are never calls. The authentication layer
/// lets these through: the page holds no data, and asks for a token before any call.
pub(crate) fn is_page_request(method: &Method) -> bool {
    method == Method::GET || method == Method::HEAD
}

/// Answers a request that no service route took: the workspace's files for `GET`, otherwise
/// the gRPC answer for an unknown method.
pub(crate) async fn fallback(method: Method, uri: Uri) -> Response {
    if !is_page_request(&method) {
        // At most a bounded prefix of what the client sent comes back.
        let path: String = uri.path().chars().take(100).collect();
        return tonic::Status::unimplemented(format!("no such method: {path}"))
            .into_http::<axum::body::Body>()
            .into_response();
    }
    let path = match uri.path() {
        "/index.html" => "/",
        other => other,
    };
    let Some(asset) = ASSETS.iter().find(|a| a.path == path) else {
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "not found: the workspace is at /\n",
        )
            .into_response();
    };
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        ),
        // The names are fixed, so a new binary's files must not be hidden by a cached old one.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
            ),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ];
    if method == Method::HEAD {
        return (headers, ()).into_response();
    }
    (headers, asset.body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_page_and_its_files_are_served_and_nothing_else() {
        for asset in ASSETS {
            let response = fallback(Method::GET, asset.path.parse().unwrap()).await;
            assert_eq!(response.status(), StatusCode::OK, "{}", asset.path);
            assert!(!asset.body.is_empty(), "{} is empty", asset.path);
        }
        let index = fallback(Method::GET, "/index.html?network=asia".parse().unwrap()).await;
        assert_eq!(index.status(), StatusCode::OK);
        let missing = fallback(Method::GET, "/etc/passwd".parse().unwrap()).await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        let call = fallback(Method::POST, "/credence.v1.Nope/Call".parse().unwrap()).await;
        assert_eq!(
            call.headers().get("grpc-status").unwrap(),
            &HeaderValue::from_static("12"),
            "an unknown RPC is UNIMPLEMENTED"
        );
    }
}
