//! Settings: every flag has an environment twin.

use clap::{Args, Parser, Subcommand, ValueEnum};
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

/// A listen address that can be turned `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionalListen(pub Option<SocketAddr>);

impl std::str::FromStr for OptionalListen {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        if value.eq_ignore_ascii_case("off") {
            return Ok(Self(None));
        }
        value
            .parse()
            .map(|address| Self(Some(address)))
            .map_err(|e| format!("{e}: expected HOST:PORT or off"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One readable line per event, coloured on a terminal.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Serve gRPC (the default).
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Print a token signed with --jwt-secret (for development and tests).
    Token(TokenRequest),
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct TokenRequest {
    /// admin, accountant or reseller.
    #[arg(long)]
    pub role: String,
    /// The user's UUID (default: a new one).
    #[arg(long)]
    pub sub: Option<String>,
    /// The user's organization UUID (required for a reseller).
    #[arg(long)]
    pub org: Option<String>,
    /// Space-separated scopes, e.g. "dids:read sender_ids:read".
    #[arg(long)]
    pub scope: Option<String>,
    /// How long the token is valid.
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub ttl: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    /// Verify `authorization: Bearer <JWT>` (the default).
    Jwt,
    /// Trust the x-user-id, x-role and x-organization-id metadata, as set by
    /// an authenticating gateway in front of the service.
    TrustedHeaders,
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
