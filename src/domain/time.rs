use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::DeriveValueType;

/// A point in time at microsecond precision: what every engine keeps, so a
/// value returned by a write equals the value read back later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, DeriveValueType)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    pub fn now() -> Self {
        Self::from(Utc::now())
    }

    /// Now, or a microsecond after `previous` if the clock says otherwise:
    /// each write of an item moves its `updated_at` strictly forward.
    pub fn now_after(previous: Timestamp) -> Self {
        Self::now().max(Self(previous.0 + chrono::Duration::microseconds(1)))
    }

    pub fn as_datetime(&self) -> DateTime<Utc> {
        self.0
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(value: DateTime<Utc>) -> Self {
        Self(value.trunc_subsecs(6))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_microseconds_only() {
        let t = Timestamp::now().as_datetime();
        assert_eq!(t.timestamp_subsec_nanos() % 1_000, 0);
    }
}
