//! A unique violation on write is an identifier taken: the only unique
//! index besides the (UUIDv7) primary key is the live identifiers'.

use super::entity::StoredKind;
use crate::domain::{Identifier, Item};
use crate::error::Error;
use sea_orm::{DbErr, SqlErr};

/// A unique violation means the identifier is taken.
pub(super) fn taken_or<K: StoredKind>(error: DbErr, item: &Item<K>) -> Error {
    if is_taken(&error) {
        taken(item)
    } else {
        error.into()
    }
}

pub(super) fn taken<K: StoredKind>(item: &Item<K>) -> Error {
    Error::Taken {
        resource: K::RESOURCE,
        value: item.value.as_str().to_owned(),
        country: item.country,
    }
}

/// A unique violation on write means the identifier is in use: the only
/// unique index besides the (UUIDv7) primary key.
pub(super) fn is_taken(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}
