//! The harness: a fresh database per test on every configured engine, the
//! real server on an ephemeral port, and callers with real metadata.
//!
//! SQLite always runs. `TEST_POSTGRES_URL` and `TEST_MYSQL_URL` (server URLs
//! without a database name) add PostgreSQL and MariaDB; a configured server
//! that cannot be reached fails the test, it is never skipped.

use numbering::config::{AuthMode, OptionalListen, Settings};
use numbering::startup::Application;
use sea_orm::{ConnectionTrait, Database, Statement};
use std::time::Duration;
use tokio::sync::oneshot;
use tonic::Request;
use tonic::transport::Channel;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
    MySql,
}

impl Engine {
    /// SQLite, plus every engine whose URL is set.
    pub fn configured() -> Vec<Engine> {
        let mut engines = vec![Engine::Sqlite];
        if server_url(Engine::Postgres).is_some() {
            engines.push(Engine::Postgres);
        }
        if server_url(Engine::MySql).is_some() {
            engines.push(Engine::MySql);
        }
        engines
    }
}

fn server_url(engine: Engine) -> Option<String> {
    let variable = match engine {
        Engine::Sqlite => return None,
        Engine::Postgres => "TEST_POSTGRES_URL",
        Engine::MySql => "TEST_MYSQL_URL",
    };
    std::env::var(variable)
        .ok()
        .filter(|url| !url.is_empty())
        .map(|url| url.trim_end_matches('/').to_owned())
}

/// The address of `engine`'s server, for engines that have one.
pub fn server_address(engine: Engine) -> Option<std::net::SocketAddr> {
    let url = url::Url::parse(&server_url(engine)?).expect("a database URL");
    let port = url.port_or_known_default().unwrap_or(match engine {
        Engine::Postgres => 5432,
        _ => 3306,
    });
    std::net::ToSocketAddrs::to_socket_addrs(&(url.host_str()?, port))
        .ok()?
        .next()
}

/// `url` with its server's address replaced by `address`.
pub fn url_via(url: &str, address: std::net::SocketAddr) -> String {
    let mut url = url::Url::parse(url).expect("a database URL");
    url.set_ip_host(address.ip())
        .expect("a server URL has a host");
    url.set_port(Some(address.port()))
        .expect("a server URL has a port");
    url.to_string()
}

/// A database made for one test and dropped after it, even if it panics.
pub struct TestDatabase {
    engine: Engine,
    name: String,
    pub url: String,
}

impl TestDatabase {
    pub async fn create(engine: Engine) -> Self {
        let name = format!("numbering_test_{}", Uuid::now_v7().simple());
        let url = match engine {
            Engine::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                format!("sqlite://{}?mode=rwc", path.display())
            }
            Engine::Postgres | Engine::MySql => {
                let server = server_url(engine).expect("configured");
                let admin = Database::connect(&server).await.unwrap_or_else(|e| {
                    panic!("{engine:?} at {server} is configured but unreachable: {e}")
                });
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap_or_else(|e| panic!("cannot create {name} on {engine:?}: {e}"));
                admin.close().await.ok();
                format!("{server}/{name}")
            }
        };
        Self { engine, name, url }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        match self.engine {
            Engine::Sqlite => {
                let base = std::env::temp_dir().join(format!("{}.db", self.name));
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", base.display()));
                }
            }
            Engine::Postgres | Engine::MySql => {
                let server = server_url(self.engine).expect("configured");
                let drop = match self.engine {
                    Engine::Postgres => {
                        format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)
                    }
                    _ => format!("DROP DATABASE IF EXISTS {}", self.name),
                };
                // Drop runs outside any runtime that could be blocked on.
                std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    runtime.block_on(async {
                        if let Ok(admin) = Database::connect(&server).await {
                            let _ = admin.execute_unprepared(&drop).await;
                            let _ = admin.close().await;
                        }
                    });
                })
                .join()
                .ok();
            }
        }
    }
}

/// The server under test.
pub struct TestApp {
    pub engine: Engine,
    /// The admin token of a JWT server started without keys.
    pub bootstrap_token: Option<String>,
    pub address: std::net::SocketAddr,
    /// The Prometheus endpoint, if the test turned it on.
    pub metrics: Option<std::net::SocketAddr>,
    pub channel: Channel,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    database: TestDatabase,
}

impl TestApp {
    pub async fn spawn(engine: Engine) -> Self {
        Self::spawn_with(engine, |_| {}).await
    }

    /// A server on trusted headers, unless `configure` says otherwise.
    pub async fn spawn_with(engine: Engine, configure: impl FnOnce(&mut Settings)) -> Self {
        let database = TestDatabase::create(engine).await;
        let mut settings = Settings {
            listen: "127.0.0.1:0".parse().unwrap(),
            database_url: database.url.clone(),
            auth: AuthMode::TrustedHeaders,
            shutdown_grace: Duration::from_secs(5),
            metrics_listen: OptionalListen(None),
            ..Settings::defaults()
        };
        configure(&mut settings);
        let app = Application::build(&settings)
            .await
            .expect("the application starts");
        let address = app.local_addr().unwrap();
        let metrics = app.metrics_addr();
        let bootstrap_token = app.bootstrap_token().map(str::to_owned);
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            app.run_until(async {
                let _ = stopped.await;
            })
            .await
            .expect("the server runs");
        });
        // Lazy: a TLS server refuses this plaintext channel, and its tests
        // make their own.
        let channel = Channel::from_shared(format!("http://{address}"))
            .unwrap()
            .connect_lazy();
        Self {
            engine,
            bootstrap_token,
            address,
            metrics,
            channel,
            stop: Some(stop),
            server: Some(server),
            database,
        }
    }

    /// The URL of the test's own database.
    pub fn database_url(&self) -> &str {
        &self.database.url
    }

    /// Waits until the test database has no open transaction left (on
    /// PostgreSQL and MariaDB, which can tell; SQLite cannot), failing after
    /// a few seconds.
    pub async fn wait_for_no_open_transactions(&self) {
        let query = match self.engine {
            Engine::Sqlite => return,
            Engine::Postgres => format!(
                "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = '{}' AND xact_start IS NOT NULL AND pid <> pg_backend_pid()",
                self.database.name
            ),
            Engine::MySql => format!(
                "SELECT COUNT(*) AS n FROM information_schema.innodb_trx t JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id WHERE p.db = '{}'",
                self.database.name
            ),
        };
        let admin = Database::connect(server_url(self.engine).unwrap())
            .await
            .unwrap();
        for _ in 0..50 {
            let row = admin
                .query_one_raw(Statement::from_string(
                    admin.get_database_backend(),
                    query.clone(),
                ))
                .await
                .unwrap()
                .unwrap();
            let open: i64 = row.try_get("", "n").unwrap();
            if open == 0 {
                admin.close().await.ok();
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("a transaction is still open on {:?}", self.engine);
    }

    /// Sends the shutdown signal without waiting for the server to stop.
    pub fn begin_shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Stops the server and waits for it, so that the pool closes before the
    /// database is dropped.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

/// Runs `test` once on every configured engine, each time against a new
/// server and database; a failure names the engine.
pub async fn on_every_engine(test: impl AsyncFn(&TestApp)) {
    for engine in Engine::configured() {
        let app = TestApp::spawn(engine).await;
        let guard = NameOnFailure(engine);
        test(&app).await;
        drop(guard);
        app.stop().await;
    }
}

struct NameOnFailure(Engine);

impl Drop for NameOnFailure {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("^^^ failed on {:?}", self.0);
        }
    }
}

/// A caller, as the trusted headers name it.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user_id: Uuid,
    pub role: &'static str,
    pub organization_id: Option<Uuid>,
}

impl Identity {
    pub fn admin() -> Self {
        Self {
            user_id: Uuid::now_v7(),
            role: "admin",
            organization_id: None,
        }
    }

    pub fn accountant() -> Self {
        Self {
            user_id: Uuid::now_v7(),
            role: "accountant",
            organization_id: None,
        }
    }

    pub fn reseller(organization_id: Uuid) -> Self {
        Self {
            user_id: Uuid::now_v7(),
            role: "reseller",
            organization_id: Some(organization_id),
        }
    }

    pub fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        let metadata = request.metadata_mut();
        metadata.insert("x-user-id", self.user_id.to_string().parse().unwrap());
        metadata.insert("x-role", self.role.parse().unwrap());
        if let Some(organization) = self.organization_id {
            metadata.insert(
                "x-organization-id",
                organization.to_string().parse().unwrap(),
            );
        }
        request
    }
}

/// A new organization id.
pub fn organization() -> Uuid {
    Uuid::now_v7()
}

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
        use std::io::BufRead;
        let path = std::env::temp_dir().join(format!("numbering-bin-{}.db", Uuid::now_v7()));
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_numbering"))
            .args(["--log-format", "json", "--listen", "127.0.0.1:0"])
            .args(["--metrics-listen", "127.0.0.1:0"])
            .arg("--database-url")
            .arg(format!("sqlite://{}?mode=rwc", path.display()))
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
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

/// A channel to `address` with HTTP/2 stream windows of 64 KiB. hyper's
/// default (megabytes) lets a server send a whole list ahead into buffers;
/// with this, a large stream stays in flight while the client reads slowly.
/// The connection window stays large, so other calls on it go on.
pub fn narrow_channel(address: std::net::SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .initial_stream_window_size(65_535)
        .connect_lazy()
}

/// DIDs of values `0..count` with 500-character descriptions, created four
/// at a time: a list of 1000 of them is larger than what HTTP/2 buffers.
pub async fn seed_bulky_dids(channel: Channel, count: u32) {
    use crate::resources::Samples;
    use numbering::proto::v1::CreateDidRequest;
    use numbering::proto::v1::did_service_client::DidServiceClient;
    let seeders = (0..4).map(|worker| {
        let mut dids = DidServiceClient::new(channel.clone());
        tokio::spawn(async move {
            for n in (worker..count).step_by(4) {
                dids.create_did(Identity::admin().request(CreateDidRequest {
                    number: crate::resources::Dids::value(n),
                    country: "MA".into(),
                    description: Some("d".repeat(500)),
                    ..CreateDidRequest::default()
                }))
                .await
                .expect("a bulky DID is created");
            }
        })
    });
    for seeder in futures::future::join_all(seeders).await {
        seeder.unwrap();
    }
}
