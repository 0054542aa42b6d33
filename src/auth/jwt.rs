//! `--auth jwt`: the caller is whoever a verified bearer token says.
//!
//! Each configured key carries its algorithm; a token's `alg` must match the
//! key its `kid` selects (the token never chooses how it is checked), so
//! `alg: none` and the HMAC-with-a-public-key confusion cannot pass. Expiry
//! is required; `nbf` and `iat` are checked with a small leeway; `iss` and
//! `aud` are required and checked when configured (jsonwebtoken would
//! otherwise accept a token that simply leaves them out).

use super::scopes::Scopes;
use super::{Caller, Role};
use crate::domain::{Invalid, OrganizationId, UserId};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How far clocks may disagree.
pub const LEEWAY: Duration = Duration::from_secs(30);

/// Claims of a numbering token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user's UUID.
    pub sub: String,
    /// The user's organization UUID; required for resellers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// `admin`, `accountant` or `reseller`.
    pub role: String,
    /// Space-separated scopes narrowing the role; absent means the whole role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// One audience or several (RFC 7519 allows both; identity providers
    /// often send an array).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
}

/// The `aud` claim: a string or an array of strings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl From<&str> for Audience {
    fn from(audience: &str) -> Self {
        Audience::One(audience.to_owned())
    }
}

impl From<String> for Audience {
    fn from(audience: String) -> Self {
        Audience::One(audience)
    }
}

/// Why a configured key source cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(String);

/// Why a token was refused: said to the caller, so never key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Rejection(pub String);

fn reject(message: impl Into<String>) -> Rejection {
    Rejection(message.into())
}

struct Key {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

/// Checks tokens against the configured keys, issuer and audience.
pub struct Verifier {
    keys: Vec<Key>,
    issuer: Option<String>,
    audience: Option<String>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<_> = self.keys.iter().map(|k| (&k.kid, k.algorithm)).collect();
        f.debug_struct("Verifier")
            .field("keys", &kids)
            .field("issuer", &self.issuer)
            .finish()
    }
}

impl Verifier {
    /// HS256 with a shared secret.
    pub fn from_secret(secret: &[u8]) -> Self {
        let key = Key {
            kid: None,
            algorithm: Algorithm::HS256,
            key: DecodingKey::from_secret(secret),
        };
        Self {
            keys: vec![key],
            issuer: None,
            audience: None,
        }
    }

    /// Public keys from a file: a JWKS (JSON, each key chosen by its `kid`)
    /// or one PEM public key (RSA → RS256, P-256 → ES256, Ed25519 → EdDSA).
    pub fn from_key_file(path: &Path) -> Result<Self, KeyError> {
        let bytes = std::fs::read(path)
            .map_err(|e| KeyError(format!("cannot read {}: {e}", path.display())))?;
        let keys = if bytes.trim_ascii_start().starts_with(b"{") {
            jwks_keys(&bytes)?
        } else {
            vec![pem_key(&bytes)?]
        };
        Ok(Self {
            keys,
            issuer: None,
            audience: None,
        })
    }

    pub fn with_issuer(mut self, issuer: Option<String>) -> Self {
        self.issuer = issuer;
        self
    }

    pub fn with_audience(mut self, audience: Option<String>) -> Self {
        self.audience = audience;
        self
    }

    /// The caller a bearer token names, if the token is valid now.
    pub fn verify(&self, token: &str) -> Result<Caller, Rejection> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| reject("the token is not a well-formed JWT with a supported algorithm"))?;
        // RFC 7515 §4.1.11: extensions listed in `crit` must be understood,
        // and this verifier understands none.
        if let Some(critical) = &header.crit {
            return Err(reject(format!(
                "the token's header lists critical extensions this service does not support: {critical:?}"
            )));
        }
        let key = self.key_for(header.kid.as_deref())?;
        if header.alg != key.algorithm {
            return Err(reject(format!(
                "the token is signed with {:?}, but its key takes {:?}",
                header.alg, key.algorithm
            )));
        }
        let claims =
            jsonwebtoken::decode::<Claims>(token, &key.key, &self.validation(key.algorithm))
                .map_err(|error| reject(explain(error.kind())))?
                .claims;
        if claims.iat.is_some_and(|iat| iat > now() + LEEWAY.as_secs()) {
            return Err(reject("the token is issued in the future (iat)"));
        }
        caller(&claims).map_err(|rule| reject(format!("malformed claim: {rule}")))
    }

    fn key_for(&self, kid: Option<&str>) -> Result<&Key, Rejection> {
        match kid {
            Some(kid) => match self.keys.iter().find(|k| k.kid.as_deref() == Some(kid)) {
                Some(key) => Ok(key),
                // One key without a kid (a secret, a PEM key) takes any kid.
                None if self.keys.len() == 1 && self.keys[0].kid.is_none() => Ok(&self.keys[0]),
                None => Err(reject(format!("no key has the token's kid {kid:?}"))),
            },
            None if self.keys.len() == 1 => Ok(&self.keys[0]),
            None => Err(reject(
                "the token has no kid, and several keys are configured",
            )),
        }
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.leeway = LEEWAY.as_secs();
        validation.validate_nbf = true;
        let mut required = vec!["exp"];
        match &self.issuer {
            Some(issuer) => {
                validation.set_issuer(&[issuer]);
                required.push("iss");
            }
            None => validation.iss = None,
        }
        match &self.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        validation
    }
}

fn explain(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::ExpiredSignature => "the token has expired".into(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".into(),
        ErrorKind::InvalidSignature => "the token's signature does not verify".into(),
        ErrorKind::InvalidIssuer => "the token's issuer (iss) is not the expected one".into(),
        ErrorKind::InvalidAudience => "the token's audience (aud) is not this service".into(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the token has no {claim} claim"),
        ErrorKind::InvalidClaimFormat(claim) => format!("the token's {claim} claim is malformed"),
        ErrorKind::Json(_) => {
            "the token's claims are malformed (sub, role and exp are required)".into()
        }
        _ => "the token is malformed".into(),
    }
}

fn caller(claims: &Claims) -> Result<Caller, Invalid> {
    let user_id = UserId::parse(&claims.sub).map_err(|e| Invalid::new(format!("sub {e}")))?;
    let role = Role::parse(&claims.role).map_err(|e| Invalid::new(format!("role {e}")))?;
    let organization_id = claims
        .org
        .as_deref()
        .map(OrganizationId::parse)
        .transpose()
        .map_err(|e| Invalid::new(format!("org {e}")))?;
    let scopes = claims.scope.as_deref().map(Scopes::parse).transpose()?;
    Ok(Caller::new(user_id, role, organization_id)?.with_scopes(scopes))
}

fn pem_key(pem: &[u8]) -> Result<Key, KeyError> {
    let (algorithm, key) = if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
        (Algorithm::RS256, key)
    } else if let Ok(key) = DecodingKey::from_ec_pem(pem) {
        (Algorithm::ES256, key)
    } else if let Ok(key) = DecodingKey::from_ed_pem(pem) {
        (Algorithm::EdDSA, key)
    } else {
        return Err(KeyError(
            "the key file holds no RSA, P-256 or Ed25519 public key".into(),
        ));
    };
    Ok(Key {
        kid: None,
        algorithm,
        key,
    })
}

fn jwks_keys(json: &[u8]) -> Result<Vec<Key>, KeyError> {
    let set: JwkSet =
        serde_json::from_slice(json).map_err(|e| KeyError(format!("not a JWKS: {e}")))?;
    if set.keys.is_empty() {
        return Err(KeyError("the JWKS has no keys".into()));
    }
    set.keys
        .iter()
        .map(|jwk| {
            let kid = jwk.common.key_id.clone();
            let name = kid.clone().unwrap_or_else(|| "without kid".into());
            // The key's own `alg` pins it; without one, its type decides.
            let algorithm = match (&jwk.common.key_algorithm, &jwk.algorithm) {
                (Some(KeyAlgorithm::RS256), _) | (None, AlgorithmParameters::RSA(_)) => {
                    Algorithm::RS256
                }
                (Some(KeyAlgorithm::ES256), _) => Algorithm::ES256,
                (None, AlgorithmParameters::EllipticCurve(p)) if p.curve == EllipticCurve::P256 => {
                    Algorithm::ES256
                }
                (Some(KeyAlgorithm::EdDSA), _) | (None, AlgorithmParameters::OctetKeyPair(_)) => {
                    Algorithm::EdDSA
                }
                (other, _) => {
                    return Err(KeyError(format!(
                        "key {name}: unsupported algorithm {other:?}"
                    )));
                }
            };
            let key =
                DecodingKey::from_jwk(jwk).map_err(|e| KeyError(format!("key {name}: {e}")))?;
            Ok(Key {
                kid,
                algorithm,
                key,
            })
        })
        .collect()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A token for `claims` signed with an HS256 secret (the `token`
/// subcommand, the first-run admin token, and tests).
pub fn mint(secret: &[u8], claims: &Claims) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("HS256 signing with a byte secret cannot fail")
}

impl Claims {
    /// Claims for `role`, valid from now for `ttl`.
    pub fn new(sub: UserId, role: Role, org: Option<OrganizationId>, ttl: Duration) -> Self {
        let now = now();
        Self {
            sub: sub.to_string(),
            org: org.map(|o| o.to_string()),
            role: role.as_str().to_owned(),
            scope: None,
            exp: now + ttl.as_secs(),
            nbf: Some(now),
            iat: Some(now),
            iss: None,
            aud: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"a test secret of enough length!!";

    fn claims() -> Claims {
        let user = UserId::parse("0195d7a0-0000-7000-8000-000000000001").unwrap();
        Claims::new(user, Role::Admin, None, Duration::from_secs(60))
    }

    #[test]
    fn a_minted_token_verifies() {
        let caller = Verifier::from_secret(SECRET)
            .verify(&mint(SECRET, &claims()))
            .unwrap();
        assert_eq!(caller.role(), Role::Admin);
    }

    #[test]
    fn a_configured_issuer_is_required() {
        let verifier = Verifier::from_secret(SECRET).with_issuer(Some("idp".into()));
        let error = verifier.verify(&mint(SECRET, &claims())).unwrap_err();
        assert_eq!(error.0, "the token has no iss claim");
    }

    #[test]
    fn a_token_issued_in_the_future_is_refused() {
        let mut future = claims();
        future.iat = Some(now() + 3600);
        assert!(
            Verifier::from_secret(SECRET)
                .verify(&mint(SECRET, &future))
                .is_err()
        );
    }
}
