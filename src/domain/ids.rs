use super::Invalid;
use sea_orm::DeriveValueType;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, DeriveValueType)]
        pub struct $name(Uuid);

        impl $name {
            /// Any UUID but the nil one, which names nothing (and stands
            /// for "no organization" in the kept counts).
            pub fn parse(input: &str) -> Result<Self, Invalid> {
                match Uuid::try_parse(input) {
                    Ok(uuid) if uuid.is_nil() => Err(Invalid::new("must not be the nil UUID")),
                    Ok(uuid) => Ok(Self(uuid)),
                    Err(_) => Err(Invalid::new("must be a UUID")),
                }
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        /// Required of a primary key type; UUIDs never come from a counter.
        impl sea_orm::TryFromU64 for $name {
            fn try_from_u64(_: u64) -> Result<Self, sea_orm::DbErr> {
                Err(sea_orm::DbErr::ConvertFromU64(stringify!($name)))
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

uuid_id!(
    /// A DID's or Sender ID's id: UUIDv7, so that ids sort by creation time.
    ItemId
);
uuid_id!(
    /// An organization (tenant) of the platform.
    OrganizationId
);
uuid_id!(
    /// A user of the platform, as named by the caller identity.
    UserId
);

impl ItemId {
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_version_7() {
        assert_eq!(ItemId::generate().as_uuid().get_version_num(), 7);
    }

    #[test]
    fn refuses_what_is_not_a_uuid() {
        for input in [
            "",
            "42",
            "not-a-uuid",
            "0195d7a0-0000-7000-8000-00000000000",
            "00000000-0000-0000-0000-000000000000",
        ] {
            assert!(
                OrganizationId::parse(input).is_err(),
                "{input:?} was accepted"
            );
        }
        assert!(UserId::parse("0195d7a0-0000-7000-8000-000000000001").is_ok());
    }
}
