//! Authentication and TLS: with tokens, health stays open and everything else needs a valid
//! bearer token; with a certificate, the server speaks TLS only.

mod common;

use common::inprocess::InProcess;
use credence::service::{Tokens, pb};
use pb::inference_service_client::InferenceServiceClient;
use std::sync::Arc;
use tonic::Code;
use tonic::metadata::MetadataValue;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

const TOKEN: &str = "3f7c1e0b9a4d4c2e8f6a5b7d9c1e3f5a";

fn asia_query() -> pb::QueryRequest {
    pb::QueryRequest {
        network: "asia".into(),
        targets: vec!["lung".into()],
        ..Default::default()
    }
}

fn with_token<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        MetadataValue::try_from(format!("Bearer {token}")).unwrap(),
    );
    request
}

#[tokio::test]
async fn with_tokens_only_health_is_open() {
    let server = InProcess::start(&["asia"], |config| {
        config.tokens = Some(Arc::new(
            Tokens::parse_file(&format!("# the analysts\n{TOKEN}\n"), "tokens").unwrap(),
        ));
    })
    .await;
    let channel = server.channel().await;
    let health = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("health needs no token")
        .into_inner();
    assert_eq!(health.status, 1, "SERVING");

    let mut client = InferenceServiceClient::new(channel.clone());
    let missing = client.query(asia_query()).await.unwrap_err();
    assert_eq!(missing.code(), Code::Unauthenticated);
    assert!(
        missing.message().contains("requires a bearer token"),
        "{}",
        missing.message()
    );
    let wrong = client
        .query(with_token(asia_query(), "0000000000000000000000000000000"))
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Code::Unauthenticated);
    assert_eq!(wrong.message(), "the bearer token is not valid");
    let answer = client
        .query(with_token(asia_query(), TOKEN))
        .await
        .expect("a valid token is let in")
        .into_inner();
    assert_eq!(answer.posteriors.len(), 1);

    // Every other service is closed too: sessions, networks and reflection.
    let mut sessions = pb::session_service_client::SessionServiceClient::new(channel.clone());
    let refused = sessions
        .list_sessions(pb::ListSessionsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    let mut networks = pb::network_service_client::NetworkServiceClient::new(channel.clone());
    let refused = networks
        .list_networks(pb::ListNetworksRequest::default())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    let mut reflection =
        tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient::new(channel);
    let request = tonic_reflection::pb::v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            tonic_reflection::pb::v1::server_reflection_request::MessageRequest::ListServices(
                String::new(),
            ),
        ),
    };
    let refused = reflection
        .server_reflection_info(tokio_stream::iter(vec![request]))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    server.shutdown().await;
}

/// The scheme is matched without regard to case (RFC 7235); two authorization headers are
/// refused rather than one of them picked.
#[tokio::test]
async fn bearer_in_any_case_and_exactly_one_header() {
    let server = InProcess::start(&["asia"], |config| {
        config.tokens = Some(Arc::new(Tokens::parse_list(TOKEN, "tokens").unwrap()));
    })
    .await;
    let mut client = InferenceServiceClient::new(server.channel().await);
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let mut request = tonic::Request::new(asia_query());
        request.metadata_mut().insert(
            "authorization",
            MetadataValue::try_from(format!("{scheme} {TOKEN}")).unwrap(),
        );
        client
            .query(request)
            .await
            .unwrap_or_else(|e| panic!("{scheme}: {e}"));
    }
    let mut request = with_token(asia_query(), TOKEN);
    request.metadata_mut().append(
        "authorization",
        MetadataValue::try_from(format!("Bearer {TOKEN}")).unwrap(),
    );
    let refused = client.query(request).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert_eq!(
        refused.message(),
        "send exactly one authorization header, not 2"
    );
    server.shutdown().await;
}

/// The data directory, the database and uploaded networks are private to the server's user.
#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_and_uploads_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let server = InProcess::start(&["asia"], |_| {}).await;
    pb::network_service_client::NetworkServiceClient::new(server.channel().await)
        .upload_network(pb::UploadNetworkRequest {
            name: "mine".into(),
            content: std::fs::read_to_string(common::repo().join("networks/asia.bif")).unwrap(),
            ..Default::default()
        })
        .await
        .unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let data = server.dir.join("data");
    assert_eq!(mode(&data), 0o700);
    assert_eq!(mode(&data.join(credence::service::DATABASE_FILE)), 0o600);
    for dir in ["networks", "versions"] {
        assert_eq!(mode(&data.join(dir)), 0o700, "{dir}");
        let files: Vec<_> = std::fs::read_dir(data.join(dir)).unwrap().collect();
        assert!(!files.is_empty(), "{dir}");
        for file in files {
            let path = file.unwrap().path();
            assert_eq!(mode(&path), 0o600, "{}", path.display());
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn tls_serves_encrypted_and_refuses_plaintext() {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let certificate = generated.cert.pem();
    let key = generated.signing_key.serialize_pem();
    let server = InProcess::start(&["asia"], |config| {
        config.tls = Some((certificate.clone().into_bytes(), key.into_bytes()));
    })
    .await;
    let port = server.address.rsplit(':').next().unwrap().to_string();
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(&certificate))
        .domain_name("localhost");
    let channel = Channel::from_shared(format!("https://127.0.0.1:{port}"))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .expect("a TLS client with the server's certificate connects");
    let answer = InferenceServiceClient::new(channel)
        .query(asia_query())
        .await
        .unwrap()
        .into_inner();
    assert!((answer.posteriors[0].probabilities[0] - 0.055).abs() < 1e-12);

    // Plaintext HTTP/2 to a TLS port fails; it never reaches a handler.
    let plain = Channel::from_shared(server.url()).unwrap().connect().await;
    if let Ok(plain) = plain {
        let error = InferenceServiceClient::new(plain)
            .query(asia_query())
            .await
            .unwrap_err();
        assert_ne!(error.code(), Code::Ok);
    }
    server.shutdown().await;
}

#[test]
fn serve_refuses_bad_security_settings_at_start() {
    let dir = common::server::temporary_dir("security-cli");
    let short = dir.join("tokens.txt");
    std::fs::write(&short, "short\n").unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_credence"))
        .args(["serve", "--addr", "127.0.0.1:0", "--tokens-file"])
        .arg(&short)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("tokens.txt:1: the token is shorter than 16 characters"),
        "{stderr}"
    );
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_credence"))
        .args(["serve", "--addr", "127.0.0.1:0", "--tls-cert", "x.pem"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "--tls-cert needs --tls-key");
    let _ = std::fs::remove_dir_all(&dir);
}
