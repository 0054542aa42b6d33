//! The real `numbering` binary as the benchmarks run it, and its memory.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::net::TcpStream;

/// The binary serving a new SQLite file with trusted headers and its
/// default limits.
pub struct Server {
    child: Child,
    pub address: SocketAddr,
    database: std::path::PathBuf,
}

impl Server {
    pub async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let database =
            std::env::temp_dir().join(format!("numbering-abuse-{}.db", uuid::Uuid::now_v7()));
        let child = Command::new(env!("CARGO_BIN_EXE_numbering"))
            .args(["--auth", "trusted-headers", "--metrics-listen", "off"])
            .args(["--listen", &address.to_string()])
            .arg("--database-url")
            .arg(format!("sqlite://{}?mode=rwc", database.display()))
            .env("RUST_LOG", "warn")
            // BENCH_SERVER_LOG=1 shows the server's warnings.
            .stderr(if std::env::var_os("BENCH_SERVER_LOG").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .expect("the binary runs");
        for _ in 0..200 {
            if TcpStream::connect(address).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self {
            child,
            address,
            database,
        }
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
        for suffix in ["", "-wal", "-shm"] {
            std::fs::remove_file(format!("{}{suffix}", self.database.display())).ok();
        }
    }
}
