//! Token scopes, like API permission groups: within its role, a token may be
//! narrowed to reading or writing DIDs or Sender IDs.

use crate::domain::Invalid;

/// What a call does to its resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

impl Access {
    fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
        }
    }
}

/// The scopes a token grants, as `resource:access` names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(Vec<(&'static str, Access)>);

/// Resources that scopes can name.
const RESOURCES: [&str; 2] = ["dids", "sender_ids"];

impl Scopes {
    /// Space-separated scope names (`dids:read sender_ids:write`). An unknown
    /// name is refused rather than ignored, so that a typo cannot widen or
    /// silently narrow a token.
    pub fn parse(claim: &str) -> Result<Self, Invalid> {
        claim
            .split_ascii_whitespace()
            .map(|name| {
                let unknown = || Invalid::new(format!("unknown scope {name:?}"));
                let (resource, access) = name.split_once(':').ok_or_else(unknown)?;
                let resource = RESOURCES
                    .into_iter()
                    .find(|r| *r == resource)
                    .ok_or_else(unknown)?;
                let access = match access {
                    "read" => Access::Read,
                    "write" => Access::Write,
                    _ => return Err(unknown()),
                };
                Ok((resource, access))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn grants(&self, resource: &str, access: Access) -> bool {
        self.0.contains(&(resource, access))
    }

    /// The scope name a call on `resource` with `access` needs.
    pub fn name(resource: &str, access: Access) -> String {
        format!("{resource}:{}", access.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_exactly_the_named_scopes() {
        let scopes = Scopes::parse("dids:read  sender_ids:write").unwrap();
        assert!(scopes.grants("dids", Access::Read));
        assert!(scopes.grants("sender_ids", Access::Write));
        assert!(!scopes.grants("dids", Access::Write));
        assert!(!scopes.grants("sender_ids", Access::Read));
    }

    #[test]
    fn refuses_unknown_scopes() {
        for claim in ["dids", "dids:delete", "numbers:read", "dids:read admin"] {
            assert!(Scopes::parse(claim).is_err(), "{claim:?} was accepted");
        }
    }
}
