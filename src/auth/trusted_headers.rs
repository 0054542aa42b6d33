//! `--auth trusted-headers`: the caller is whoever the `x-user-id`, `x-role`
//! and `x-organization-id` metadata say. Safe only behind a gateway or mesh
//! that authenticates callers and sets these headers itself.

use super::{Caller, Role};
use crate::domain::{Invalid, OrganizationId, UserId};
use crate::error::Error;
use tonic::metadata::MetadataMap;

pub const USER_ID: &str = "x-user-id";
pub const ROLE: &str = "x-role";
pub const ORGANIZATION_ID: &str = "x-organization-id";

/// Reads the [`Caller`] named by the trusted headers.
#[derive(Debug, Clone, Copy, Default)]
pub struct TrustedHeaders;

impl TrustedHeaders {
    pub fn caller(metadata: &MetadataMap) -> Result<Caller, Error> {
        caller_from(metadata)
    }
}

fn caller_from(metadata: &MetadataMap) -> Result<Caller, Error> {
    let user_id = UserId::parse(required(metadata, USER_ID)?).map_err(|e| invalid(USER_ID, e))?;
    let role = Role::parse(required(metadata, ROLE)?).map_err(|e| invalid(ROLE, e))?;
    let organization_id = optional(metadata, ORGANIZATION_ID)?
        .map(OrganizationId::parse)
        .transpose()
        .map_err(|e| invalid(ORGANIZATION_ID, e))?;
    Caller::new(user_id, role, organization_id).map_err(|e| invalid(ORGANIZATION_ID, e))
}

fn required<'m>(metadata: &'m MetadataMap, key: &str) -> Result<&'m str, Error> {
    optional(metadata, key)?
        .ok_or_else(|| Error::MissingIdentity(format!("the {key} metadata is required")))
}

fn optional<'m>(metadata: &'m MetadataMap, key: &str) -> Result<Option<&'m str>, Error> {
    single(metadata, key)?
        .map(|value| {
            value
                .to_str()
                .map_err(|_| invalid(key, Invalid::new("must be ASCII")))
        })
        .transpose()
}

/// The one value of an identity header. Two values are refused, not
/// resolved: a gateway that appends its header to the client's instead of
/// replacing it would otherwise let the client choose who it is.
pub(super) fn single<'m>(
    metadata: &'m MetadataMap,
    key: &str,
) -> Result<Option<&'m tonic::metadata::MetadataValue<tonic::metadata::Ascii>>, Error> {
    let mut values = metadata.get_all(key).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(invalid(key, Invalid::new("must be sent once")));
    }
    Ok(first)
}

pub(super) fn invalid(key: &str, rule: Invalid) -> Error {
    Error::InvalidIdentity(format!("{key} {rule}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(pairs: &[(&'static str, &'static str)]) -> MetadataMap {
        let mut map = MetadataMap::new();
        for (key, value) in pairs {
            map.insert(*key, value.parse().unwrap());
        }
        map
    }

    const USER: &str = "0195d7a0-0000-7000-8000-000000000001";
    const ORG: &str = "0195d7a0-0000-7000-8000-0000000000aa";

    #[test]
    fn reads_a_complete_identity() {
        let caller = caller_from(&metadata(&[
            (USER_ID, USER),
            (ROLE, "reseller"),
            (ORGANIZATION_ID, ORG),
        ]))
        .unwrap();
        assert_eq!(caller.role(), Role::Reseller);
        assert_eq!(caller.organization_id().unwrap().to_string(), ORG);
    }

    #[test]
    fn refuses_missing_or_malformed_identities() {
        let cases: &[&[(&'static str, &'static str)]] = &[
            &[],
            &[(USER_ID, USER)],
            &[(ROLE, "admin")],
            &[(USER_ID, "nobody"), (ROLE, "admin")],
            &[(USER_ID, USER), (ROLE, "root")],
            &[(USER_ID, USER), (ROLE, "reseller")],
            &[(USER_ID, USER), (ROLE, "admin"), (ORGANIZATION_ID, "acme")],
        ];
        for pairs in cases {
            let error = caller_from(&metadata(pairs)).unwrap_err();
            assert!(
                matches!(error, Error::MissingIdentity(_) | Error::InvalidIdentity(_)),
                "{pairs:?}: {error:?}"
            );
        }
    }
}
