//! Who is calling: request metadata turned into a [`Caller`], or refused as
//! `UNAUTHENTICATED`. The edge asks before a call takes a place, so that
//! places are counted per caller.

use super::jwt::Verifier;
use super::{Caller, TrustedHeaders};
use crate::error::Error;
use std::sync::Arc;
use tonic::metadata::MetadataMap;

#[derive(Debug, Clone)]
pub enum Authenticator {
    /// Believe the identity headers (behind an authenticating gateway).
    TrustedHeaders,
    /// Verify `authorization: Bearer <JWT>`.
    Jwt(Arc<Verifier>),
}

impl Authenticator {
    pub fn caller(&self, metadata: &MetadataMap) -> Result<Caller, Error> {
        match self {
            Authenticator::TrustedHeaders => TrustedHeaders::caller(metadata),
            Authenticator::Jwt(verifier) => bearer(metadata, verifier),
        }
    }
}

fn bearer(metadata: &MetadataMap, verifier: &Verifier) -> Result<Caller, Error> {
    let header = super::trusted_headers::single(metadata, "authorization")?.ok_or_else(|| {
        Error::MissingIdentity("the authorization metadata is required: Bearer <token>".to_owned())
    })?;
    let token = header
        .to_str()
        .ok()
        .and_then(|value| value.split_once(' '))
        // RFC 9110: the scheme is case-insensitive.
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token)
        .ok_or_else(|| {
            Error::InvalidIdentity("the authorization metadata must be Bearer <token>".to_owned())
        })?;
    verifier
        .verify(token.trim())
        .map_err(|rejection| Error::InvalidToken(rejection.to_string()))
}
