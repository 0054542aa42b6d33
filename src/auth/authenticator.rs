//! The interceptor in front of both services: it turns request metadata into
//! a [`Caller`] in the request extensions, or refuses the call as
//! `UNAUTHENTICATED`.

use super::jwt::Verifier;
use super::{Caller, TrustedHeaders};
use crate::error::Error;
use std::sync::Arc;
use tonic::service::Interceptor;
use tonic::{Request, Status};

#[derive(Debug, Clone)]
pub enum Authenticator {
    /// Believe the identity headers (behind an authenticating gateway).
    TrustedHeaders,
    /// Verify `authorization: Bearer <JWT>`.
    Jwt(Arc<Verifier>),
}

impl Interceptor for Authenticator {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        let caller = match self {
            Authenticator::TrustedHeaders => TrustedHeaders::caller(request.metadata())?,
            Authenticator::Jwt(verifier) => bearer(&request, verifier)?,
        };
        crate::telemetry::record_caller(&caller);
        request.extensions_mut().insert(caller);
        Ok(request)
    }
}

fn bearer(request: &Request<()>, verifier: &Verifier) -> Result<Caller, Error> {
    let header =
        super::trusted_headers::single(request.metadata(), "authorization")?.ok_or_else(|| {
            Error::MissingIdentity(
                "the authorization metadata is required: Bearer <token>".to_owned(),
            )
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
