use super::scopes::Scopes;
use crate::domain::{Invalid, OrganizationId, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    Accountant,
    Reseller,
}

impl Role {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        match input {
            "admin" => Ok(Role::Admin),
            "accountant" => Ok(Role::Accountant),
            "reseller" => Ok(Role::Reseller),
            _ => Err(Invalid::new("must be admin, accountant or reseller")),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Accountant => "accountant",
            Role::Reseller => "reseller",
        }
    }
}

/// The authenticated caller of an RPC, put in the request extensions by the
/// edge guard, which authenticates each call. A reseller always has an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    user_id: UserId,
    role: Role,
    organization_id: Option<OrganizationId>,
    /// `None`: everything the role allows. `Some`: only these scopes of it.
    scopes: Option<Scopes>,
}

impl Caller {
    pub fn new(
        user_id: UserId,
        role: Role,
        organization_id: Option<OrganizationId>,
    ) -> Result<Self, Invalid> {
        if role == Role::Reseller && organization_id.is_none() {
            return Err(Invalid::new("a reseller must belong to an organization"));
        }
        Ok(Self {
            user_id,
            role,
            organization_id,
            scopes: None,
        })
    }

    /// Narrows the caller to a token's scopes.
    pub fn with_scopes(mut self, scopes: Option<Scopes>) -> Self {
        self.scopes = scopes;
        self
    }

    pub fn scopes(&self) -> Option<&Scopes> {
        self.scopes.as_ref()
    }

    pub fn user_id(&self) -> UserId {
        self.user_id
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn organization_id(&self) -> Option<OrganizationId> {
        self.organization_id
    }
}
