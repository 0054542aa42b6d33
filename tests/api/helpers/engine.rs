//! The database engines, and a database made for each test.

use sea_orm::{ConnectionTrait, Database};
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

pub(super) fn server_url(engine: Engine) -> Option<String> {
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
    pub(super) name: String,
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
