//! The server under test, in this process, on an ephemeral port.

use super::{Engine, TestDatabase, server_url};
use numbering::config::{AuthMode, OptionalListen, Settings};
use numbering::startup::Application;
use sea_orm::{ConnectionTrait, Database, Statement};
use std::time::Duration;
use tokio::sync::oneshot;
use tonic::transport::Channel;

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

/// Runs `test` against a new server and database on `engine`, if the engine
/// is configured (SQLite always is); an engine whose URL is not set has
/// nothing to run.
pub async fn on_engine(engine: Engine, test: impl AsyncFn(&TestApp)) {
    if !Engine::configured().contains(&engine) {
        return;
    }
    let app = TestApp::spawn(engine).await;
    test(&app).await;
    app.stop().await;
}
