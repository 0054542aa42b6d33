use super::Invalid;
use sea_orm::DeriveValueType;

/// Lifecycle state of an item. The order of the variants is the sort order.
/// Stored by its spelling; a CHECK constraint keeps the column to these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, DeriveValueType)]
#[sea_orm(
    value_type = "String",
    from_str = "Status::parse",
    to_str = "Status::as_str"
)]
pub enum Status {
    Active,
    Inactive,
    Reserved,
}

impl Status {
    /// The stored spelling. Alphabetical order matches the variant order, so
    /// sorting by the stored column sorts by status.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Inactive => "inactive",
            Status::Reserved => "reserved",
        }
    }

    pub fn parse(stored: &str) -> Result<Self, Invalid> {
        match stored {
            "active" => Ok(Status::Active),
            "inactive" => Ok(Status::Inactive),
            "reserved" => Ok(Status::Reserved),
            other => Err(Invalid::new(format!("unknown status {other:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_spelling_round_trips_and_sorts_like_the_enum() {
        let all = [Status::Active, Status::Inactive, Status::Reserved];
        for status in all {
            assert_eq!(Status::parse(status.as_str()), Ok(status));
        }
        let mut spelled: Vec<_> = all.iter().map(Status::as_str).collect();
        spelled.sort();
        assert_eq!(spelled, all.iter().map(Status::as_str).collect::<Vec<_>>());
    }
}
