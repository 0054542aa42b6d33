//! SeaORM entities of the two inventory tables, holding the domain types as
//! they are stored.
//!
//! The tables share one shape and differ in the name of the identifier column
//! (`number` / `sender_id`), its type and its comparison key, so one macro
//! declares both with the same Rust field names. [`StoredKind`] ties each
//! resource kind to its entity, which lets the store be written once; rows
//! load straight into [`Item`](crate::domain::Item) (see `columns.rs`).

use crate::domain::{Did, ResourceKind, SenderId};
use sea_orm::{EntityTrait, IdenStatic, Iterable};

/// The columns both tables have, by meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Id,
    Value,
    ValueKey,
    Country,
    Description,
    DescriptionKey,
    OrganizationId,
    Status,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
    CreatedBy,
    UpdatedBy,
    DeletedBy,
    HoldOrganizationId,
    HoldExpireTime,
    AgingExpireTime,
}

/// A resource kind with its table.
pub trait StoredKind: ResourceKind {
    type Entity: EntityTrait<Column = Self::Column> + Default;
    type Column: sea_orm::ColumnTrait + IdenStatic + Iterable;

    /// The table of counts the database keeps of this kind's items.
    const COUNTS: &'static str;
    /// SQLite's trigram search table of this kind.
    const SEARCH: &'static str;
    /// The table of this kind's changes.
    const CHANGES: &'static str;

    fn column(field: Field) -> Self::Column;
}

macro_rules! inventory_table {
    ($module:ident, $kind:ty, $table:tt, $value:tt: $value_type:ty, $key:tt,
     counts: $counts:tt, search: $search:tt, changes: $changes:tt) => {
        pub mod $module {
            use crate::domain::{
                CountryCode, Description, ItemId, OrganizationId, Status, Timestamp, UserId,
            };
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                #[sea_orm(primary_key, auto_increment = false)]
                pub id: ItemId,
                #[sea_orm(column_name = $value)]
                pub value: $value_type,
                /// The identifier as compared (without `+`, or lower case).
                #[sea_orm(column_name = $key)]
                pub value_key: String,
                pub country: CountryCode,
                pub description: Option<Description>,
                /// The description as search compares it.
                pub description_key: Option<String>,
                pub organization_id: Option<OrganizationId>,
                pub status: Status,
                pub created_at: Timestamp,
                pub updated_at: Timestamp,
                pub deleted_at: Option<Timestamp>,
                pub created_by: Option<UserId>,
                pub updated_by: Option<UserId>,
                pub deleted_by: Option<UserId>,
                pub hold_organization_id: Option<OrganizationId>,
                pub hold_expire_time: Option<Timestamp>,
                pub aging_expire_time: Option<Timestamp>,
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }

        impl StoredKind for $kind {
            type Entity = $module::Entity;
            type Column = $module::Column;
            const COUNTS: &'static str = $counts;
            const SEARCH: &'static str = $search;
            const CHANGES: &'static str = $changes;

            fn column(field: Field) -> $module::Column {
                use $module::Column;
                match field {
                    Field::Id => Column::Id,
                    Field::Value => Column::Value,
                    Field::ValueKey => Column::ValueKey,
                    Field::Country => Column::Country,
                    Field::Description => Column::Description,
                    Field::DescriptionKey => Column::DescriptionKey,
                    Field::OrganizationId => Column::OrganizationId,
                    Field::Status => Column::Status,
                    Field::CreatedAt => Column::CreatedAt,
                    Field::UpdatedAt => Column::UpdatedAt,
                    Field::DeletedAt => Column::DeletedAt,
                    Field::CreatedBy => Column::CreatedBy,
                    Field::UpdatedBy => Column::UpdatedBy,
                    Field::DeletedBy => Column::DeletedBy,
                    Field::HoldOrganizationId => Column::HoldOrganizationId,
                    Field::HoldExpireTime => Column::HoldExpireTime,
                    Field::AgingExpireTime => Column::AgingExpireTime,
                }
            }
        }
    };
}

inventory_table!(
    dids, Did, "dids", "number": crate::domain::PhoneNumber, "number_key",
    counts: "did_counts", search: "did_search", changes: "did_changes"
);
inventory_table!(
    sender_ids,
    SenderId,
    "sender_ids",
    "sender_id": crate::domain::SenderName,
    "sender_id_key",
    counts: "sender_id_counts",
    search: "sender_id_search",
    changes: "sender_id_changes"
);
