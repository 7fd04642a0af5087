//! A server in this test process on 127.0.0.1 (ephemeral port), configured by the test.

use credence::service::{self, Config};
use std::path::PathBuf;
use tokio::sync::oneshot;

pub struct InProcess {
    /// `127.0.0.1:port`.
    pub address: String,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
    pub dir: PathBuf,
}

impl InProcess {
    /// Serves copies of the named bundled networks; `configure` adjusts the rest.
    pub async fn start(networks: &[&str], configure: impl FnOnce(&mut Config)) -> InProcess {
        let dir = super::server::temporary_dir("inprocess");
        let networks = super::server::networks_dir(&dir, networks);
        let mut config = Config::new(&networks);
        config.data_dir = dir.join("data");
        configure(&mut config);
        let (shared, problems) = service::open(&config).unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            service::serve(
                listener,
                shared,
                async {
                    let _ = stopped.await;
                },
                std::time::Duration::from_secs(2),
            )
            .await
            .unwrap();
        });
        InProcess {
            address,
            stop: Some(stop),
            handle: Some(handle),
            dir,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub async fn channel(&self) -> tonic::transport::Channel {
        tonic::transport::Channel::from_shared(self.url())
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    pub async fn shutdown(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.handle.take().unwrap().await.unwrap();
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
