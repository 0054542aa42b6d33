//! The `numbering` binary, as an operator starts it.

use std::time::Duration;
use tonic::transport::Channel;
use uuid::Uuid;

/// The `numbering` binary serving on a new SQLite file with JSON logs, read
/// line by line.
pub struct Binary {
    pub address: std::net::SocketAddr,
    /// The metrics endpoint, unless `--metrics-listen off`.
    pub metrics: Option<std::net::SocketAddr>,
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<serde_json::Value>,
    path: std::path::PathBuf,
}

impl Binary {
    /// Starts it with `args` besides the listen, database and log settings,
    /// and waits until it serves.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        let path = std::env::temp_dir().join(format!("numbering-bin-{}.db", Uuid::now_v7()));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let mut binary = Self::start_on(&url, args, env);
        binary.path = path;
        binary
    }

    /// Starts it on the database at `url` (which it does not remove).
    pub fn start_on(url: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        use std::io::BufRead;
        let path = std::path::PathBuf::new();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_numbering"))
            .args(["--log-format", "json", "--listen", "127.0.0.1:0"])
            .args(["--metrics-listen", "127.0.0.1:0"])
            .arg("--database-url")
            .arg(url)
            .args(args)
            .envs(env.iter().copied())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the binary runs");
        let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let (sender, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let json = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {line}"));
                if sender.send(json).is_err() {
                    break;
                }
            }
        });
        let mut binary = Self {
            address: "0.0.0.0:0".parse().unwrap(),
            metrics: None,
            child,
            lines,
            path,
        };
        binary.address = loop {
            let line = binary.next_line();
            if line["message"] == "metrics at /metrics" {
                binary.metrics = line["address"].as_str().and_then(|a| a.parse().ok());
            }
            if line["message"] == "numbering is serving" {
                break line["address"].as_str().unwrap().parse().unwrap();
            }
        };
        binary
    }

    /// The next log line, failing after a while.
    pub fn next_line(&self) -> serde_json::Value {
        self.lines
            .recv_timeout(Duration::from_secs(20))
            .expect("a log line")
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.address))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    /// Sends SIGTERM, as Kubernetes does to stop a pod.
    pub fn send_sigterm(&self) {
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Waits for the process to exit, blocking the thread; true on a clean
    /// exit.
    pub fn wait(&mut self) -> bool {
        self.child.wait().unwrap().success()
    }

    /// Sends SIGTERM and waits, blocking the thread (so call it from a
    /// multi-thread runtime, or the clients cannot close their connections
    /// and the server waits out its grace period); true on a clean exit.
    pub fn terminate(&mut self) -> bool {
        self.send_sigterm();
        self.wait()
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.path.as_os_str().is_empty() {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
            }
        }
    }
}
