//! Settings: every flag has an environment twin.

mod commands;
mod values;

pub use commands::{ClientSettings, Command, ExportCommand, ImportCommand, ItemKind, TokenRequest};
pub use values::{AuthMode, LogFormat, OptionalListen};

use clap::{Args, Parser};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The inventory of DIDs and SMS Sender IDs, served over gRPC.
#[derive(Debug, Clone, Parser)]
#[command(version, about)]
pub struct Settings {
    /// Address the gRPC server listens on.
    #[arg(
        long,
        env = "NUMBERING_LISTEN",
        default_value = "0.0.0.0:50051",
        global = true
    )]
    pub listen: SocketAddr,

    /// Database URL: sqlite://FILE?mode=rwc, postgres://… or mysql://… (MariaDB).
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://numbering.db?mode=rwc",
        global = true
    )]
    pub database_url: String,

    /// Most connections the pool opens (an in-memory SQLite database gets
    /// one: each connection would see its own database).
    #[arg(
        long,
        env = "NUMBERING_DATABASE_MAX_CONNECTIONS",
        default_value_t = 10,
        value_parser = clap::value_parser!(u32).range(1..),
        global = true
    )]
    pub database_max_connections: u32,

    /// Statements that take longer are logged (WARN, target `sqlx::query`)
    /// with their SQL and time; `0s` logs none.
    #[arg(long, env = "NUMBERING_SLOW_STATEMENT", default_value = "100ms",
          value_parser = humantime::parse_duration, global = true)]
    pub slow_statement: Duration,

    /// How callers are identified.
    #[arg(long, env = "NUMBERING_AUTH", value_enum, default_value_t = AuthMode::Jwt, global = true)]
    pub auth: AuthMode,

    #[command(flatten)]
    pub jwt: JwtSettings,

    #[command(flatten)]
    pub tls: TlsSettings,

    /// How long in-flight calls may run on after a shutdown signal.
    #[arg(long, env = "NUMBERING_SHUTDOWN_GRACE", default_value = "30s", value_parser = humantime::parse_duration, global = true)]
    pub shutdown_grace: Duration,

    #[command(flatten)]
    pub health: HealthSettings,

    #[command(flatten)]
    pub transport: TransportSettings,

    #[command(flatten)]
    pub streams: StreamSettings,

    #[command(flatten)]
    pub changes: ChangeSettings,

    /// Address of the Prometheus endpoint (`GET /metrics`), or `off`.
    #[arg(
        long,
        env = "NUMBERING_METRICS_LISTEN",
        default_value = "0.0.0.0:9090",
        global = true
    )]
    pub metrics_listen: OptionalListen,

    /// Log lines as human-readable text or as one JSON object each.
    #[arg(long, env = "NUMBERING_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// OTLP/gRPC collector to export RPC spans to (needs a build with the
    /// `otel` feature).
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT", global = true)]
    pub otlp_endpoint: Option<String>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Keys and expectations for `--auth jwt`.
#[derive(Debug, Clone, Default, Args)]
pub struct JwtSettings {
    /// HMAC secret of HS256 tokens. Without it or --jwt-keys, the server
    /// makes an ephemeral one and prints an admin token.
    #[arg(
        long = "jwt-secret",
        env = "NUMBERING_JWT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub secret: Option<String>,

    /// Public keys of RS256, ES256 or EdDSA tokens: a JWKS file (keys chosen
    /// by kid) or a PEM file with one key.
    #[arg(
        long = "jwt-keys",
        env = "NUMBERING_JWT_KEYS",
        global = true,
        conflicts_with = "secret"
    )]
    pub keys: Option<PathBuf>,

    /// Required `iss` of every token.
    #[arg(long = "jwt-issuer", env = "NUMBERING_JWT_ISSUER", global = true)]
    pub issuer: Option<String>,

    /// Required `aud` of every token.
    #[arg(long = "jwt-audience", env = "NUMBERING_JWT_AUDIENCE", global = true)]
    pub audience: Option<String>,
}

/// TLS for the gRPC port; without a certificate the port is plaintext (for a
/// mesh that terminates TLS, or local use).
#[derive(Debug, Clone, Default, Args)]
pub struct TlsSettings {
    /// PEM certificate chain of the server.
    #[arg(
        long = "tls-cert",
        env = "NUMBERING_TLS_CERT",
        requires = "key",
        global = true
    )]
    pub cert: Option<PathBuf>,

    /// PEM private key of the server certificate.
    #[arg(
        long = "tls-key",
        env = "NUMBERING_TLS_KEY",
        requires = "cert",
        global = true
    )]
    pub key: Option<PathBuf>,

    /// PEM CA certificates: when set, clients must present a certificate
    /// they signed (mutual TLS).
    #[arg(
        long = "tls-client-ca",
        env = "NUMBERING_TLS_CLIENT_CA",
        requires = "cert",
        global = true
    )]
    pub client_ca: Option<PathBuf>,
}

/// How readiness follows the database.
#[derive(Debug, Clone, Args)]
pub struct HealthSettings {
    /// How often readiness checks that the database answers.
    #[arg(
        long = "health-interval",
        env = "NUMBERING_HEALTH_INTERVAL",
        default_value = "5s",
        value_parser = humantime::parse_duration,
        global = true
    )]
    pub interval: Duration,

    /// How long one database check may take before it counts as a failure.
    #[arg(
        long = "health-timeout",
        env = "NUMBERING_HEALTH_TIMEOUT",
        default_value = "2s",
        value_parser = humantime::parse_duration,
        global = true
    )]
    pub timeout: Duration,
}

/// What one client may hold of the server: connections, calls, bytes and
/// time. Together they bound the server's memory whatever clients do (see
/// docs/limits.md).
#[derive(Debug, Clone, Args)]
pub struct TransportSettings {
    /// Most connections open at once; further clients wait in the kernel's
    /// accept queue until one closes.
    #[arg(long, env = "NUMBERING_MAX_CONNECTIONS", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_connections: u32,

    /// Most connections open at once from one address; further ones from
    /// it are closed as soon as they are accepted. Behind a proxy that
    /// pools connections to the service (a mesh sidecar), every client
    /// shares the proxy's address: raise this to the proxy's pool.
    #[arg(long, env = "NUMBERING_MAX_CONNECTIONS_PER_PEER", default_value_t = 64,
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_connections_per_peer: u32,

    /// Most connections from one address that have not yet started a call
    /// (half-open); further ones from it are closed as soon as they are
    /// accepted.
    #[arg(long, env = "NUMBERING_MAX_HALF_OPEN_PER_PEER", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_half_open_per_peer: u32,

    /// Most calls one connection may have open at once (HTTP/2
    /// SETTINGS_MAX_CONCURRENT_STREAMS).
    #[arg(long, env = "NUMBERING_MAX_CONCURRENT_STREAMS", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_concurrent_streams: u32,

    /// Most calls open at once on the whole server; further calls are
    /// RESOURCE_EXHAUSTED (health checks are exempt).
    #[arg(long, env = "NUMBERING_MAX_CALLS", default_value_t = 1024,
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_calls: u32,

    /// Most calls one caller (a reseller's organization, a staff user; an
    /// address, for calls that need no identity) may have open at once;
    /// further calls are RESOURCE_EXHAUSTED.
    #[arg(long, env = "NUMBERING_MAX_CALLS_PER_CALLER", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_calls_per_caller: u32,

    /// How long a call counts against its caller's and the server's calls
    /// at most: a response its client does not take by then (or a stream,
    /// which its own budget bounds) stops counting.
    #[arg(long, env = "NUMBERING_CALL_TIME_LIMIT", default_value = "60s",
          value_parser = humantime::parse_duration, global = true)]
    pub call_time_limit: Duration,

    /// Largest request message, in bytes.
    #[arg(long, env = "NUMBERING_MAX_MESSAGE_SIZE", default_value_t = 65_536,
          value_parser = clap::value_parser!(u32).range(1024..), global = true)]
    pub max_message_size: u32,

    /// Largest request metadata, in bytes as HTTP/2 counts them (name,
    /// value and 32 per entry).
    #[arg(long, env = "NUMBERING_MAX_METADATA_SIZE", default_value_t = 16_384,
          value_parser = clap::value_parser!(u32).range(1024..), global = true)]
    pub max_metadata_size: u32,

    /// How long a new connection has to complete its TLS handshake, send
    /// the HTTP/2 preface and the whole header block of its first call.
    #[arg(long, env = "NUMBERING_HANDSHAKE_TIMEOUT", default_value = "10s",
          value_parser = humantime::parse_duration, global = true)]
    pub handshake_timeout: Duration,

    /// How long a connection may stay open without a call before it is
    /// closed.
    #[arg(long, env = "NUMBERING_IDLE_TIMEOUT", default_value = "5m",
          value_parser = humantime::parse_duration, global = true)]
    pub idle_timeout: Duration,

    /// How long a frame of an answer may wait for its client to take it
    /// (a client that stopped reading, its HTTP/2 window shut) before the
    /// connection is closed: no status can reach such a client.
    #[arg(long, env = "NUMBERING_SEND_TIMEOUT", default_value = "60s",
          value_parser = humantime::parse_duration, global = true)]
    pub send_timeout: Duration,

    /// How often the server pings each connection (HTTP/2 PING).
    #[arg(long, env = "NUMBERING_KEEPALIVE_INTERVAL", default_value = "60s",
          value_parser = humantime::parse_duration, global = true)]
    pub keepalive_interval: Duration,

    /// How long a ping may go unanswered before the connection is closed.
    #[arg(long, env = "NUMBERING_KEEPALIVE_TIMEOUT", default_value = "20s",
          value_parser = humantime::parse_duration, global = true)]
    pub keepalive_timeout: Duration,
}

/// The budget of list streams, which each hold a database connection (and
/// a snapshot transaction) while they run.
#[derive(Debug, Clone, Args)]
pub struct StreamSettings {
    /// Most list streams running at once; the rest of the pool stays for
    /// unary calls. 0 means half the pool.
    #[arg(
        long,
        env = "NUMBERING_LIST_STREAMS",
        default_value_t = 0,
        global = true
    )]
    pub list_streams: u32,

    /// Most list streams one caller (a reseller's organization, a staff
    /// user) may run at once.
    #[arg(long, env = "NUMBERING_LIST_STREAMS_PER_CALLER", default_value_t = 2,
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub list_streams_per_caller: u32,

    /// How long a list waits for a place in the budget before it is
    /// RESOURCE_EXHAUSTED (never longer than the call's own deadline).
    #[arg(long, env = "NUMBERING_STREAM_QUEUE_TIMEOUT", default_value = "5s",
          value_parser = humantime::parse_duration, global = true)]
    pub stream_queue_timeout: Duration,

    /// How long a list stream may wait for its client to take the next
    /// page before it is ended, releasing its connection and snapshot.
    #[arg(long, env = "NUMBERING_STREAM_STALL_TIMEOUT", default_value = "10s",
          value_parser = humantime::parse_duration, global = true)]
    pub stream_stall_timeout: Duration,
}

/// The change log: how long it is kept, how long retried writes are
/// remembered, and the watches that follow it.
#[derive(Debug, Clone, Args)]
pub struct ChangeSettings {
    /// How long history is kept; older changes are purged (but for each
    /// item's state at the horizon), and watches from before it refused.
    #[arg(long, env = "NUMBERING_HISTORY_RETENTION", default_value = "400d",
          value_parser = humantime::parse_duration, global = true)]
    pub history_retention: Duration,

    /// How long a write's request_id is remembered, so that a retry gets
    /// the first answer.
    #[arg(long, env = "NUMBERING_IDEMPOTENCY_WINDOW", default_value = "24h",
          value_parser = humantime::parse_duration, global = true)]
    pub idempotency_window: Duration,

    /// How often an idle watch gets a message with no events and the
    /// current revision.
    #[arg(long, env = "NUMBERING_WATCH_HEARTBEAT", default_value = "30s",
          value_parser = humantime::parse_duration, global = true)]
    pub watch_heartbeat: Duration,

    /// Most watches open at once on the server; more are RESOURCE_EXHAUSTED.
    #[arg(long, env = "NUMBERING_MAX_WATCHES", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_watches: u32,

    /// Most watches one caller (a reseller's organization, a staff user)
    /// may hold open at once.
    #[arg(long, env = "NUMBERING_WATCHES_PER_CALLER", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub watches_per_caller: u32,

    /// Most live holds a reseller's organization may have of each kind at
    /// once (an admin's holds are not counted against it).
    #[arg(long, env = "NUMBERING_MAX_HOLDS_PER_ORGANIZATION", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub max_holds_per_organization: u32,

    /// How often this process records the expiry of ended holds (0s: never;
    /// another process, or the next write of each item, records them).
    /// Reads treat an ended hold as gone whatever this says.
    #[arg(long, env = "NUMBERING_HOLD_SWEEP", default_value = "1s",
          value_parser = humantime::parse_duration, global = true)]
    pub hold_sweep: Duration,

    /// How long an unassigned DID rests before it can be held or allocated
    /// again (0s: it never rests).
    #[arg(long, env = "NUMBERING_AGING_PERIOD", default_value = "0s",
          value_parser = humantime::parse_duration, global = true)]
    pub aging_period: Duration,
}

impl Settings {
    /// The settings of a run with no flags and no environment, for embedding
    /// and tests.
    pub fn defaults() -> Self {
        Self::try_parse_from(["numbering"]).expect("the defaults parse")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_need_no_configuration() {
        let settings = Settings::try_parse_from(["numbering"]).unwrap();
        assert_eq!(settings.listen.port(), 50051);
        assert!(settings.database_url.starts_with("sqlite://"));
        assert_eq!(settings.command, None);
        assert_eq!(settings.auth, AuthMode::Jwt);
        assert_eq!(settings.metrics_listen.0.map(|a| a.port()), Some(9090));
        assert_eq!(settings.log_format, LogFormat::Text);
    }

    #[test]
    fn metrics_can_be_turned_off() {
        let settings = Settings::try_parse_from(["numbering", "--metrics-listen", "off"]).unwrap();
        assert_eq!(settings.metrics_listen, OptionalListen(None));
        let bad = Settings::try_parse_from(["numbering", "--metrics-listen", "9090"]);
        assert!(bad.unwrap_err().to_string().contains("--metrics-listen"));
    }
}
