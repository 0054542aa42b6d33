//! The real `numbering` binary as the benchmarks run it, and its memory.
//! Each benchmark uses part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::net::TcpStream;
use tonic::transport::Channel;
use tonic_health::pb::health_client::HealthClient;

/// The binary, with trusted headers and its default limits.
pub struct Server {
    child: Child,
    pub address: SocketAddr,
    /// The SQLite file it made, removed when it stops.
    database: Option<std::path::PathBuf>,
}

impl Server {
    /// The binary serving a new SQLite file, once it accepts connections.
    pub async fn start() -> Self {
        let database =
            std::env::temp_dir().join(format!("numbering-abuse-{}.db", uuid::Uuid::now_v7()));
        let url = format!("sqlite://{}?mode=rwc", database.display());
        let mut server = Self::spawn(&url);
        server.database = Some(database);
        for _ in 0..200 {
            if TcpStream::connect(server.address).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }

    /// The binary serving `url`, once health says SERVING, and how long that
    /// took from its start (migrations included).
    pub async fn serving(url: &str) -> (Self, Duration) {
        Self::serving_with(url, &["--auth", "trusted-headers"]).await
    }

    /// The same, with `auth` (the `--auth` flag and its settings).
    pub async fn serving_with(url: &str, auth: &[&str]) -> (Self, Duration) {
        let started = std::time::Instant::now();
        let server = Self::spawn_with(url, auth);
        loop {
            if let Ok(channel) = Channel::from_shared(format!("http://{}", server.address))
                .unwrap()
                .connect()
                .await
            {
                let check = HealthClient::new(channel)
                    .check(tonic_health::pb::HealthCheckRequest::default())
                    .await;
                if check.is_ok_and(|r| r.into_inner().status == 1) {
                    return (server, started.elapsed());
                }
            }
            assert!(started.elapsed() < Duration::from_secs(120), "no SERVING");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    fn spawn(url: &str) -> Self {
        Self::spawn_with(url, &["--auth", "trusted-headers"])
    }

    fn spawn_with(url: &str, auth: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_numbering"))
            .args(auth)
            .args(["--metrics-listen", "off"])
            .args(["--listen", &address.to_string(), "--database-url", url])
            .env("RUST_LOG", "warn")
            // BENCH_SERVER_LOG=1 shows the server's warnings.
            .stderr(if std::env::var_os("BENCH_SERVER_LOG").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .expect("the binary runs");
        Self {
            child,
            address,
            database: None,
        }
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A new connection to it.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.address))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    /// (current, peak) resident set in MiB, and open file descriptors.
    pub fn memory(&self) -> (f64, f64, usize) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let field = |name: &str| -> f64 {
            let line = status.lines().find(|l| l.starts_with(name)).unwrap();
            line.split_whitespace()
                .nth(1)
                .unwrap()
                .parse::<f64>()
                .unwrap()
                / 1024.0
        };
        let fds = std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .map(|dir| dir.count())
            .unwrap_or(0);
        (field("VmRSS:"), field("VmHWM:"), fds)
    }

    pub fn report(&self, what: &str) {
        let (rss, peak, fds) = self.memory();
        println!("{what:<58} RSS {rss:>6.1} MiB  peak {peak:>6.1} MiB  fds {fds:>5}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(database) = &self.database {
            for suffix in ["", "-wal", "-shm"] {
                std::fs::remove_file(format!("{}{suffix}", database.display())).ok();
            }
        }
    }
}
