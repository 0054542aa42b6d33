//! The `numbering` binary as a client of a running server, for bulk work:
//! `import` creates items from a CSV file, `export` writes every live item
//! to one. Both speak gRPC to `--server` with the bearer token of
//! `NUMBERING_TOKEN`, show a progress bar on a terminal (plain progress
//! lines elsewhere) and end with a summary on standard error.
//!
//! Exit codes: 0 done; 1 failed (file, server unreachable, token refused);
//! 2 (import) done, but some rows were rejected (see `FILE.rejected.csv`).

mod export;
mod import;
mod progress;
mod remote;

use crate::config::{ClientSettings, ExportCommand, ImportCommand, ItemKind};
use crate::proto::v1::did_service_client::DidServiceClient;
use crate::proto::v1::sender_id_service_client::SenderIdServiceClient;
use std::process::ExitCode;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic::{Code, Status};

/// Why a command stopped, in words for the person who ran it.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("{0}")]
    Usage(String),
    #[error("cannot reach the server at {server}: {detail}")]
    Unreachable { server: String, detail: String },
    #[error("the server refused the token (set NUMBERING_TOKEN to an admin's token): {0}")]
    TokenRefused(String),
    #[error("the server refused the call: {0}")]
    Forbidden(String),
    #[error("the server failed the call: {code:?}: {message}")]
    Server { code: Code, message: String },
    #[error("{0}")]
    Io(String),
}

impl From<Status> for Failure {
    fn from(status: Status) -> Self {
        let message = status.message().to_owned();
        match status.code() {
            Code::Unauthenticated => Failure::TokenRefused(message),
            Code::PermissionDenied => Failure::Forbidden(message),
            // UNAVAILABLE from a call that reached the server (its database
            // down, a dropped connection) says so in its message.
            code => Failure::Server { code, message },
        }
    }
}

impl From<csv::Error> for Failure {
    fn from(error: csv::Error) -> Self {
        Failure::Io(error.to_string())
    }
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Self {
        Failure::Io(error.to_string())
    }
}

/// What a finished command reports through its exit code.
pub enum Outcome {
    Done,
    /// Some rows were rejected.
    Partial,
}

pub async fn import(command: ImportCommand) -> ExitCode {
    let result = match command.kind {
        ItemKind::Dids => import::run::<DidServiceClient<Channel>>(&command).await,
        ItemKind::SenderIds => import::run::<SenderIdServiceClient<Channel>>(&command).await,
    };
    exit(result)
}

pub async fn export(command: ExportCommand) -> ExitCode {
    let result = match command.kind {
        ItemKind::Dids => export::run::<DidServiceClient<Channel>>(&command).await,
        ItemKind::SenderIds => export::run::<SenderIdServiceClient<Channel>>(&command).await,
    };
    exit(result)
}

fn exit(result: Result<Outcome, Failure>) -> ExitCode {
    match result {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Partial) => ExitCode::from(2),
        Err(failure) => {
            eprintln!("numbering: {failure}");
            ExitCode::FAILURE
        }
    }
}

/// A connection to the server, made now, so that an unreachable one is
/// reported before any work starts.
async fn connect(settings: &ClientSettings) -> Result<Channel, Failure> {
    let unreachable = |detail: String| Failure::Unreachable {
        server: settings.server.clone(),
        detail,
    };
    let mut endpoint = Endpoint::from_shared(settings.server.clone())
        .map_err(|e| Failure::Usage(format!("--server {}: {e}", settings.server)))?
        .connect_timeout(std::time::Duration::from_secs(10));
    if settings.server.starts_with("https://") {
        let mut tls = ClientTlsConfig::new();
        if let Some(path) = &settings.ca_cert {
            let pem =
                std::fs::read(path).map_err(|e| Failure::Io(format!("{}: {e}", path.display())))?;
            tls = tls.ca_certificate(Certificate::from_pem(pem));
        }
        endpoint = endpoint
            .tls_config(tls)
            .map_err(|e| unreachable(e.to_string()))?;
    }
    endpoint.connect().await.map_err(|e| {
        let mut detail = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            detail = format!("{detail}: {cause}");
            source = cause.source();
        }
        unreachable(detail)
    })
}
