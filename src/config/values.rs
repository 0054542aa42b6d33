//! The values some flags take beyond numbers, durations and paths.

use clap::ValueEnum;
use std::net::SocketAddr;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMode {
    /// Verify `authorization: Bearer <JWT>` (the default).
    Jwt,
    /// Trust the x-user-id, x-role and x-organization-id metadata, as set by
    /// an authenticating gateway in front of the service.
    TrustedHeaders,
}
