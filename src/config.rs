//! Settings: every flag has an environment twin.

use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
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

    /// How callers are identified.
    #[arg(long, env = "NUMBERING_AUTH", value_enum, default_value_t = AuthMode::TrustedHeaders, global = true)]
    pub auth: AuthMode,

    /// How long in-flight calls may run on after a shutdown signal.
    #[arg(long, env = "NUMBERING_SHUTDOWN_GRACE", default_value = "30s", value_parser = humantime::parse_duration, global = true)]
    pub shutdown_grace: Duration,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Serve gRPC (the default).
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
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
    }
}
