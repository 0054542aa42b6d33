//! The `token` subcommand: a token signed with the configured secret, for
//! operators and tests.

use super::jwt::{Claims, mint};
use super::{Caller, Role, Scopes};
use crate::config::{JwtSettings, TokenRequest};
use crate::domain::{Invalid, OrganizationId, UserId};

/// Why no token was made.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TokenError(String);

impl From<Invalid> for TokenError {
    fn from(invalid: Invalid) -> Self {
        Self(invalid.to_string())
    }
}

/// A token for `request`, signed with the configured secret; its claims are
/// checked the way the server will check them.
pub fn mint_token(request: &TokenRequest, jwt: &JwtSettings) -> Result<String, TokenError> {
    let secret = jwt.secret.as_deref().ok_or_else(|| {
        TokenError("--jwt-secret (or NUMBERING_JWT_SECRET) is required to sign".into())
    })?;
    let sub = match &request.sub {
        Some(sub) => UserId::parse(sub)?,
        None => UserId::from(uuid::Uuid::now_v7()),
    };
    let role = Role::parse(&request.role)?;
    let org = request
        .org
        .as_deref()
        .map(OrganizationId::parse)
        .transpose()?;
    let scopes = request.scope.as_deref().map(Scopes::parse).transpose()?;
    Caller::new(sub, role, org)?.with_scopes(scopes);
    let mut claims = Claims::new(sub, role, org, request.ttl);
    claims.scope = request.scope.clone();
    claims.iss = jwt.issuer.clone();
    claims.aud = jwt.audience.clone().map(Into::into);
    Ok(mint(secret.as_bytes(), &claims))
}
