//! The engines the scale benchmark runs on, how it seeds them in SQL, and
//! the references it measures the service against: each engine's own
//! client, count and point select, and a bare tonic server.

use numbering::proto::v1 as pb;
use numbering::proto::v1::did_service_server::{DidService, DidServiceServer};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use sea_orm_migration::MigratorTrait;
use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

/// The user every seeded row names as its writer.
pub const ADMIN: &str = "0195d7a0-0000-7000-8000-000000000001";

/// The number of the `n`th seeded DID.
pub fn number(n: u64) -> String {
    format!("+1{n:010}")
}

/// The id of the `n`th seeded DID.
fn id(n: u64) -> String {
    format!("01900000-0000-7000-8000-{n:012x}")
}

/// The columns the service reads, in its order, for the dumps.
const COLUMNS: &str = "id, number, number_key, country, description, description_key, \
                       organization_id, status, created_at, updated_at, deleted_at, \
                       created_by, updated_by, deleted_by";
const LIVE_NEWEST_FIRST: &str =
    "FROM dids WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
    MySql,
}

/// A database made for this run on one engine.
pub struct Engine {
    kind: Kind,
    /// The server's URL without a database (none for SQLite).
    server: Option<String>,
    database: String,
    rows: std::sync::atomic::AtomicU64,
}

impl Engine {
    /// SQLite, then every engine whose URL is set.
    pub async fn configured() -> Vec<Engine> {
        let mut engines = vec![Kind::Sqlite];
        let server = |variable: &str| {
            std::env::var(variable)
                .ok()
                .filter(|url| !url.is_empty())
                .map(|url| url.trim_end_matches('/').to_owned())
        };
        if server("TEST_POSTGRES_URL").is_some() {
            engines.push(Kind::Postgres);
        }
        if server("TEST_MYSQL_URL").is_some() {
            engines.push(Kind::MySql);
        }
        let mut made = Vec::new();
        for kind in engines {
            let server = match kind {
                Kind::Sqlite => None,
                Kind::Postgres => server("TEST_POSTGRES_URL"),
                Kind::MySql => server("TEST_MYSQL_URL"),
            };
            let database = format!("numbering_scale_{}", uuid::Uuid::now_v7().simple());
            if let Some(server) = &server {
                let admin = Database::connect(server).await.expect("the server answers");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {database}"))
                    .await
                    .unwrap();
                admin.close().await.ok();
            }
            made.push(Engine {
                kind,
                server,
                database,
                rows: 0.into(),
            });
        }
        made
    }

    pub fn name(&self) -> &'static str {
        match self.kind {
            Kind::Sqlite => "SQLite",
            Kind::Postgres => "PostgreSQL",
            Kind::MySql => "MariaDB",
        }
    }

    fn sqlite_path(&self) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("{}.db", self.database))
    }

    pub fn url(&self) -> String {
        match &self.server {
            Some(server) => format!("{server}/{}", self.database),
            None => format!("sqlite://{}?mode=rwc", self.sqlite_path().display()),
        }
    }

    async fn connect(&self) -> DatabaseConnection {
        Database::connect(self.url()).await.unwrap()
    }

    /// The schema by the service's own migrations, then `rows` DIDs in one
    /// statement: ten countries, a third held by a hundred organizations,
    /// 5 % inactive, 2 % reserved, 2 % deleted, one a second from 2026-01-01.
    /// Returns how long the insert took.
    pub async fn seed(&self, rows: u64) -> Duration {
        self.rows.store(rows, std::sync::atomic::Ordering::Relaxed);
        let db = self.connect().await;
        migrations::Migrator::up(&db, None).await.unwrap();
        let insert = format!("INSERT INTO dids ({COLUMNS}) ");
        let select = match self.kind {
            Kind::Postgres => format!(
                "SELECT ('01900000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, \
                 '+1' || lpad(n::text, 10, '0'), '1' || lpad(n::text, 10, '0'), \
                 (ARRAY['US','MA','FR','GB','DE','ES','IT','CA','BR','IN'])[n % 10 + 1], \
                 'line ' || n, 'line ' || n, \
                 CASE WHEN n % 3 = 0 THEN ('00000000-0000-7000-8000-' || lpad(to_hex(n % 100), 12, '0'))::uuid END, \
                 CASE WHEN n % 20 = 0 THEN 'inactive' WHEN n % 50 = 1 THEN 'reserved' ELSE 'active' END, \
                 timestamptz '2026-01-01 00:00:00+00' + n * interval '1 second', \
                 timestamptz '2026-01-01 00:00:00+00' + n * interval '1 second', \
                 CASE WHEN n % 50 = 7 THEN timestamptz '2026-06-01 00:00:00+00' END, \
                 '{ADMIN}'::uuid, '{ADMIN}'::uuid, CASE WHEN n % 50 = 7 THEN '{ADMIN}'::uuid END \
                 FROM generate_series(1, {rows}) AS n"
            ),
            Kind::MySql => format!(
                "SELECT UNHEX(CONCAT('01900000000070008000', LPAD(HEX(seq), 12, '0'))), \
                 CONCAT('+1', LPAD(seq, 10, '0')), CONCAT('1', LPAD(seq, 10, '0')), \
                 ELT(seq % 10 + 1, 'US','MA','FR','GB','DE','ES','IT','CA','BR','IN'), \
                 CONCAT('line ', seq), CONCAT('line ', seq), \
                 IF(seq % 3 = 0, UNHEX(CONCAT('00000000000070008000', LPAD(HEX(seq % 100), 12, '0'))), NULL), \
                 CASE WHEN seq % 20 = 0 THEN 'inactive' WHEN seq % 50 = 1 THEN 'reserved' ELSE 'active' END, \
                 TIMESTAMP('2026-01-01') + INTERVAL seq SECOND, \
                 TIMESTAMP('2026-01-01') + INTERVAL seq SECOND, \
                 IF(seq % 50 = 7, TIMESTAMP('2026-06-01'), NULL), \
                 UNHEX(REPLACE('{ADMIN}', '-', '')), UNHEX(REPLACE('{ADMIN}', '-', '')), \
                 IF(seq % 50 = 7, UNHEX(REPLACE('{ADMIN}', '-', '')), NULL) \
                 FROM seq_1_to_{rows}"
            ),
            Kind::Sqlite => format!(
                "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {rows}) \
                 SELECT unhex(printf('01900000000070008000%012x', n)), \
                 '+1' || printf('%010d', n), '1' || printf('%010d', n), \
                 substr('USMAFRGBDEESITCABRIN', (n % 10) * 2 + 1, 2), \
                 'line ' || n, 'line ' || n, \
                 CASE WHEN n % 3 = 0 THEN unhex(printf('00000000000070008000%012x', n % 100)) END, \
                 CASE WHEN n % 20 = 0 THEN 'inactive' WHEN n % 50 = 1 THEN 'reserved' ELSE 'active' END, \
                 strftime('%Y-%m-%dT%H:%M:%S+00:00', 1767225600 + n, 'unixepoch'), \
                 strftime('%Y-%m-%dT%H:%M:%S+00:00', 1767225600 + n, 'unixepoch'), \
                 CASE WHEN n % 50 = 7 THEN '2026-06-01T00:00:00+00:00' END, \
                 unhex(replace('{ADMIN}', '-', '')), unhex(replace('{ADMIN}', '-', '')), \
                 CASE WHEN n % 50 = 7 THEN unhex(replace('{ADMIN}', '-', '')) END \
                 FROM s"
            ),
        };
        let started = Instant::now();
        db.execute_unprepared(&format!("{insert}{select}"))
            .await
            .unwrap();
        let inserted = started.elapsed();
        // What autovacuum does after a bulk load (PostgreSQL's index-only
        // scans need the visibility map it sets).
        let analyze = match self.kind {
            Kind::MySql => "ANALYZE TABLE dids",
            Kind::Postgres => "VACUUM ANALYZE dids",
            Kind::Sqlite => "ANALYZE",
        };
        db.execute_unprepared(analyze).await.unwrap();
        db.close().await.ok();
        inserted
    }

    /// The median time of the engine's own count of live rows.
    pub async fn count_live(&self) -> Duration {
        let db = self.connect().await;
        let mut times = Vec::new();
        for _ in 0..11 {
            let started = Instant::now();
            db.execute_unprepared("SELECT COUNT(*) FROM dids WHERE deleted_at IS NULL")
                .await
                .unwrap();
            times.push(started.elapsed());
        }
        db.close().await.ok();
        times.sort();
        times[times.len() / 2]
    }

    /// Rows per second of the engine's own client dumping every live row,
    /// newest first; `None` if that client is not installed.
    pub async fn dump_rate(&self) -> Option<f64> {
        let query = format!("SELECT {COLUMNS} {LIVE_NEWEST_FIRST}");
        let mut command = match self.kind {
            Kind::Postgres => {
                let mut command = Command::new("psql");
                command
                    .arg(self.url())
                    .args(["-c", &format!("\\copy ({query}) TO '/dev/null'")]);
                command
            }
            Kind::MySql => {
                let url = url::Url::parse(self.server.as_deref()?).ok()?;
                let mut command = Command::new("mariadb");
                command
                    .args(["--quick", "-h", url.host_str()?])
                    .args(["-P", &url.port().unwrap_or(3306).to_string()])
                    .args(["-u", url.username(), &self.database, "-e", &query]);
                command
            }
            Kind::Sqlite => {
                let mut command = Command::new("sqlite3");
                command.arg(self.sqlite_path()).arg(&query);
                command
            }
        };
        let started = Instant::now();
        let status = command.stdout(std::process::Stdio::null()).status().ok()?;
        let took = started.elapsed();
        status
            .success()
            .then(|| self.live() as f64 / took.as_secs_f64())
    }

    fn live(&self) -> u64 {
        let rows = self.rows.load(std::sync::atomic::Ordering::Relaxed);
        rows - rows / 50
    }

    /// Ids of seeded DIDs, spread over the table.
    pub async fn sample_ids(&self, count: u64) -> Vec<String> {
        let rows = self.rows.load(std::sync::atomic::Ordering::Relaxed);
        (0..count).map(|i| id(1 + i * rows / count)).collect()
    }

    /// PostgreSQL's own prepared point select by id, from pgbench with 8
    /// clients: the reference for GetDid there.
    pub async fn point_select_rate(&self, _ids: &[String]) -> Option<f64> {
        if self.kind != Kind::Postgres {
            return None;
        }
        let rows = self.rows.load(std::sync::atomic::Ordering::Relaxed);
        let script = std::env::temp_dir().join(format!("{}.sql", self.database));
        std::fs::write(
            &script,
            format!(
                "\\set n random(1, {rows})\n\
                 SELECT * FROM dids WHERE id = ('01900000-0000-7000-8000-' || lpad(to_hex(CAST(:n AS bigint)), 12, '0'))::uuid;\n"
            ),
        )
        .ok()?;
        let output = Command::new("pgbench")
            .args([
                "-n", "-M", "prepared", "-c", "8", "-j", "2", "-T", "5", "-f",
            ])
            .arg(&script)
            .arg(self.url())
            .output()
            .ok()?;
        std::fs::remove_file(&script).ok();
        let text = String::from_utf8_lossy(&output.stdout);
        text.lines()
            .find_map(|line| line.strip_prefix("tps = "))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|tps| tps.parse().ok())
    }

    /// What GetDid must reach against the bare tonic server.
    pub fn get_target(&self) -> &'static str {
        match self.kind {
            Kind::Sqlite => "≥ 40 %",
            Kind::Postgres => "(see point select)",
            Kind::MySql => "≥ 25 %",
        }
    }

    pub async fn drop_database(&self) {
        match &self.server {
            Some(server) => {
                let admin = Database::connect(server).await.unwrap();
                let force = if self.kind == Kind::Postgres {
                    " WITH (FORCE)"
                } else {
                    ""
                };
                admin
                    .execute_unprepared(&format!(
                        "DROP DATABASE IF EXISTS {}{force}",
                        self.database
                    ))
                    .await
                    .ok();
                admin.close().await.ok();
            }
            None => {
                for suffix in ["", "-wal", "-shm"] {
                    std::fs::remove_file(format!("{}{suffix}", self.sqlite_path().display())).ok();
                }
            }
        }
    }
}

/// A tonic server that answers GetDid from a map in memory and nothing else:
/// what the transport alone costs.
pub struct BareTonic {
    address: std::net::SocketAddr,
    server: tokio::task::JoinHandle<()>,
}

struct FromMemory(Arc<HashMap<String, pb::Did>>);

type Pages<T> = std::pin::Pin<Box<dyn futures::Stream<Item = Result<T, Status>> + Send>>;

#[tonic::async_trait]
impl DidService for FromMemory {
    type ListDidsStream = Pages<pb::ListDidsResponse>;
    type ListAvailableDidsStream = Pages<pb::ListAvailableDidsResponse>;
    type ListDidHistoryStream = Pages<pb::ListDidHistoryResponse>;
    type WatchDidsStream = Pages<pb::WatchDidsResponse>;
    type ImportDidsStream = Pages<pb::ImportDidsResponse>;

    async fn hold_did(
        &self,
        _: Request<pb::HoldDidRequest>,
    ) -> Result<Response<pb::HoldDidResponse>, Status> {
        Err(Status::unimplemented("bare"))
    }

    async fn release_did_hold(
        &self,
        _: Request<pb::ReleaseDidHoldRequest>,
    ) -> Result<Response<pb::ReleaseDidHoldResponse>, Status> {
        Err(Status::unimplemented("bare"))
    }

    async fn allocate_dids(
        &self,
        _: Request<pb::AllocateDidsRequest>,
    ) -> Result<Response<pb::AllocateDidsResponse>, Status> {
        Err(Status::unimplemented("bare"))
    }

    async fn undelete_did(
        &self,
        _: Request<pb::UndeleteDidRequest>,
    ) -> Result<Response<pb::UndeleteDidResponse>, Status> {
        Err(Status::unimplemented("bare"))
    }

    async fn import_dids(
        &self,
        _: Request<tonic::Streaming<pb::ImportDidsRequest>>,
    ) -> Result<Response<Self::ImportDidsStream>, Status> {
        Err(Status::unimplemented("bare"))
    }

    async fn list_did_history(
        &self,
        _: Request<pb::ListDidHistoryRequest>,
    ) -> Result<Response<Self::ListDidHistoryStream>, Status> {
        Err(Status::unimplemented("bare"))
    }

    async fn get_did_as_of(
        &self,
        _: Request<pb::GetDidAsOfRequest>,
    ) -> Result<Response<pb::GetDidAsOfResponse>, Status> {
        Err(Status::unimplemented("bare"))
    }

    async fn watch_dids(
        &self,
        _: Request<pb::WatchDidsRequest>,
    ) -> Result<Response<Self::WatchDidsStream>, Status> {
        Err(Status::unimplemented("bare"))
    }

    async fn get_did(
        &self,
        request: Request<pb::GetDidRequest>,
    ) -> Result<Response<pb::GetDidResponse>, Status> {
        let did = self.0.get(&request.get_ref().id).cloned();
        match did {
            Some(did) => Ok(Response::new(pb::GetDidResponse { did: Some(did) })),
            None => Err(Status::not_found("no such DID")),
        }
    }

    async fn create_did(
        &self,
        _: Request<pb::CreateDidRequest>,
    ) -> Result<Response<pb::CreateDidResponse>, Status> {
        Err(Status::unimplemented("bare"))
    }

    async fn update_did(
        &self,
        _: Request<pb::UpdateDidRequest>,
    ) -> Result<Response<pb::UpdateDidResponse>, Status> {
        Err(Status::unimplemented("bare"))
    }

    async fn delete_did(
        &self,
        _: Request<pb::DeleteDidRequest>,
    ) -> Result<Response<pb::DeleteDidResponse>, Status> {
        Err(Status::unimplemented("bare"))
    }

    async fn assign_did(
        &self,
        _: Request<pb::AssignDidRequest>,
    ) -> Result<Response<pb::AssignDidResponse>, Status> {
        Err(Status::unimplemented("bare"))
    }

    async fn unassign_did(
        &self,
        _: Request<pb::UnassignDidRequest>,
    ) -> Result<Response<pb::UnassignDidResponse>, Status> {
        Err(Status::unimplemented("bare"))
    }

    async fn list_dids(
        &self,
        _: Request<pb::ListDidsRequest>,
    ) -> Result<Response<Self::ListDidsStream>, Status> {
        Err(Status::unimplemented("bare"))
    }

    async fn list_available_dids(
        &self,
        _: Request<pb::ListAvailableDidsRequest>,
    ) -> Result<Response<Self::ListAvailableDidsStream>, Status> {
        Err(Status::unimplemented("bare"))
    }

    async fn get_available_did(
        &self,
        _: Request<pb::GetAvailableDidRequest>,
    ) -> Result<Response<pb::GetAvailableDidResponse>, Status> {
        Err(Status::unimplemented("bare"))
    }
}

impl BareTonic {
    /// Serves a DID for each of `ids`, shaped like the seeded ones.
    pub async fn start(ids: &[String]) -> Self {
        let dids = ids
            .iter()
            .map(|id| {
                let did = pb::Did {
                    id: id.clone(),
                    number: number(1),
                    country: "MA".into(),
                    description: Some("line 1".into()),
                    status: pb::Status::Active as i32,
                    is_shared: true,
                    created_at: Some(prost_types::Timestamp::default()),
                    updated_at: Some(prost_types::Timestamp::default()),
                    created_by: Some(ADMIN.into()),
                    updated_by: Some(ADMIN.into()),
                    ..Default::default()
                };
                (id.clone(), did)
            })
            .collect();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let service = DidServiceServer::new(FromMemory(Arc::new(dids)));
        let server = tokio::spawn(async move {
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener))
                .await
                .unwrap();
        });
        Self { address, server }
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.address))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }
}

impl Drop for BareTonic {
    fn drop(&mut self) {
        self.server.abort();
    }
}
