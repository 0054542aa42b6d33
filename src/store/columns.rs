//! An item as the columns of its row, both ways: the one place where the
//! domain's item meets the tables. Every field is named, so a new one breaks
//! the build here until it is stored.

use super::entity::{Field, StoredKind};
use crate::domain::{Change, Hold, Identifier, Item, Placement};
use sea_orm::{DbErr, FromQueryResult, IdenStatic, QueryResult, Value};

/// A row loads straight into the domain's types: the database's constraints
/// hold what they promise, so nothing is parsed or checked again.
impl<K: StoredKind> FromQueryResult for Item<K> {
    fn from_query_result(row: &QueryResult, _prefix: &str) -> Result<Self, DbErr> {
        let column = |field| K::column(field).as_str();
        Ok(Item {
            id: row.try_get_by(column(Field::Id))?,
            value: row.try_get_by(column(Field::Value))?,
            country: row.try_get_by(column(Field::Country))?,
            description: row.try_get_by(column(Field::Description))?,
            organization_id: row.try_get_by(column(Field::OrganizationId))?,
            status: row.try_get_by(column(Field::Status))?,
            created_at: row.try_get_by(column(Field::CreatedAt))?,
            updated_at: row.try_get_by(column(Field::UpdatedAt))?,
            deleted_at: row.try_get_by(column(Field::DeletedAt))?,
            created_by: row.try_get_by(column(Field::CreatedBy))?,
            updated_by: row.try_get_by(column(Field::UpdatedBy))?,
            deleted_by: row.try_get_by(column(Field::DeletedBy))?,
            hold: match (
                row.try_get_by(column(Field::HoldOrganizationId))?,
                row.try_get_by(column(Field::HoldExpireTime))?,
            ) {
                (Some(organization_id), Some(expire_time)) => Some(Hold {
                    organization_id,
                    expire_time,
                }),
                _ => None,
            },
            aging_expire_time: row.try_get_by(column(Field::AgingExpireTime))?,
        })
    }
}

/// Every column of `item`'s row, with the comparison keys derived from it.
/// The table of `K`'s items, its column names and `items` as rows of
/// values in that order, for a multi-row insert.
pub(super) fn item_rows<K: StoredKind>(
    items: &[Item<K>],
) -> (String, Vec<&'static str>, Vec<Vec<Value>>) {
    use sea_orm::{EntityName, IdenStatic};
    let table = K::Entity::default().table_name().to_owned();
    let columns = match items.first() {
        Some(first) => row(first)
            .iter()
            .map(|(field, _)| K::column(*field).as_str())
            .collect(),
        None => Vec::new(),
    };
    let rows = items
        .iter()
        .map(|item| row(item).into_iter().map(|(_, value)| value).collect())
        .collect();
    (table, columns, rows)
}

pub(super) fn row<K: StoredKind>(item: &Item<K>) -> [(Field, Value); 17] {
    let Item {
        id,
        value,
        country,
        description,
        organization_id,
        status,
        created_at,
        updated_at,
        deleted_at,
        created_by,
        updated_by,
        deleted_by,
        hold,
        aging_expire_time,
    } = item.clone();
    [
        (Field::Id, id.into()),
        (Field::ValueKey, value.key().into()),
        (Field::Value, value.into()),
        (Field::Country, country.into()),
        (
            Field::DescriptionKey,
            description.as_ref().map(|d| d.search_key()).into(),
        ),
        (Field::Description, description.into()),
        (Field::OrganizationId, organization_id.into()),
        (Field::Status, status.into()),
        (Field::CreatedAt, created_at.into()),
        (Field::UpdatedAt, updated_at.into()),
        (Field::DeletedAt, deleted_at.into()),
        (Field::CreatedBy, created_by.into()),
        (Field::UpdatedBy, updated_by.into()),
        (Field::DeletedBy, deleted_by.into()),
        (
            Field::HoldOrganizationId,
            hold.map(|h| h.organization_id).into(),
        ),
        (Field::HoldExpireTime, hold.map(|h| h.expire_time).into()),
        (Field::AgingExpireTime, aging_expire_time.into()),
    ]
}

/// A change row loads into the change, with the item as it was after it.
impl<K: StoredKind> FromQueryResult for Change<K> {
    fn from_query_result(row: &QueryResult, prefix: &str) -> Result<Self, DbErr> {
        let live: bool = row.try_get_by("before_live")?;
        let country = row.try_get_by("before_country")?;
        Ok(Change {
            revision: row.try_get_by("revision")?,
            change_type: row.try_get_by("change_type")?,
            at: row.try_get_by("changed_at")?,
            by: row.try_get_by("changed_by")?,
            item: Item::from_query_result(row, prefix)?,
            before: match (live, country) {
                (true, Some(country)) => Some(Placement {
                    organization_id: row.try_get_by("before_organization_id")?,
                    country,
                    held_for: row.try_get_by("before_hold_organization_id")?,
                }),
                _ => None,
            },
        })
    }
}

/// Every column of `change`'s row, by name.
pub(super) fn change_row<K: StoredKind>(change: &Change<K>) -> Vec<(&'static str, Value)> {
    let Change {
        revision,
        change_type,
        at,
        by,
        item,
        before,
    } = change;
    let mut columns = vec![
        ("revision", (*revision).into()),
        ("change_type", (*change_type).into()),
        ("changed_at", (*at).into()),
        ("changed_by", (*by).into()),
        ("before_live", before.is_some().into()),
        (
            "before_organization_id",
            before.and_then(|b| b.organization_id).into(),
        ),
        ("before_country", before.map(|b| b.country).into()),
        (
            "before_hold_organization_id",
            before.and_then(|b| b.held_for).into(),
        ),
    ];
    columns.extend(
        row(item)
            .into_iter()
            .filter(|(field, _)| *field != Field::DescriptionKey)
            .map(|(field, value)| (K::column(field).as_str(), value)),
    );
    columns
}
