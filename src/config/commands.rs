//! The subcommands (`migrate`, `token`, `import`, `export`) and the
//! settings of the bulk client.

use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Serve gRPC (the default).
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Print a token signed with --jwt-secret (for development and tests).
    Token(TokenRequest),
    /// Create items from a CSV file, through a running server.
    Import(ImportCommand),
    /// Write every live item to a CSV file (or standard output), from a
    /// running server.
    Export(ExportCommand),
}

/// Which items a bulk command is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ItemKind {
    Dids,
    SenderIds,
}

/// How the client reaches the server, and as whom.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct ClientSettings {
    /// The server's address.
    #[arg(
        long,
        env = "NUMBERING_SERVER",
        default_value = "http://localhost:50051"
    )]
    pub server: String,
    /// The bearer token to call with (an admin's, to import).
    #[arg(long, env = "NUMBERING_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// A PEM CA certificate to trust for an https:// server.
    #[arg(long, env = "NUMBERING_CA_CERT")]
    pub ca_cert: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct ImportCommand {
    #[arg(value_enum)]
    pub kind: ItemKind,
    /// CSV with a header row: number (or sender_id), country, description,
    /// status, and optionally organization_id (assigned after creation).
    pub file: PathBuf,
    /// Write each batch of 1000 rows whole or not at all.
    #[arg(long)]
    pub atomic: bool,
    #[command(flatten)]
    pub client: ClientSettings,
}

#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct ExportCommand {
    #[arg(value_enum)]
    pub kind: ItemKind,
    /// Where to write the CSV (default: standard output).
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub client: ClientSettings,
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
