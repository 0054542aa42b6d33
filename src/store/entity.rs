//! SeaORM entities of the two inventory tables.
//!
//! The tables share one shape and differ in the name of the identifier column
//! (`number` / `sender_id`) and its comparison key, so one macro defines both
//! with the same Rust field names. [`StoredKind`] ties each resource kind to
//! its entity, which lets the repository be written once.

use super::row::Row;
use crate::domain::{Did, ResourceKind, SenderId};
use sea_orm::{ActiveModelTrait, EntityTrait};

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
}

/// A resource kind with its table.
pub trait StoredKind: ResourceKind {
    type Entity: EntityTrait<Model = Self::Model, ActiveModel = Self::ActiveModel> + Default;
    type Model: sea_orm::FromQueryResult + Into<Row> + Clone + Send + Sync + 'static;
    type ActiveModel: ActiveModelTrait<Entity = Self::Entity> + From<Row> + Send;

    fn column(field: Field) -> <Self::Entity as EntityTrait>::Column;
}

macro_rules! inventory_table {
    ($module:ident, $kind:ty, $table:tt, $value:tt, $key:tt) => {
        pub mod $module {
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                #[sea_orm(primary_key, auto_increment = false)]
                pub id: Uuid,
                #[sea_orm(column_name = $value)]
                pub value: String,
                #[sea_orm(column_name = $key)]
                pub value_key: String,
                pub country: String,
                pub description: Option<String>,
                pub description_key: Option<String>,
                pub organization_id: Option<Uuid>,
                pub status: String,
                pub created_at: DateTimeUtc,
                pub updated_at: DateTimeUtc,
                pub deleted_at: Option<DateTimeUtc>,
                pub created_by: Option<Uuid>,
                pub updated_by: Option<Uuid>,
                pub deleted_by: Option<Uuid>,
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}
        }

        impl From<$module::Model> for Row {
            fn from(m: $module::Model) -> Self {
                Row {
                    id: m.id,
                    value: m.value,
                    value_key: m.value_key,
                    country: m.country,
                    description: m.description,
                    description_key: m.description_key,
                    organization_id: m.organization_id,
                    status: m.status,
                    created_at: m.created_at,
                    updated_at: m.updated_at,
                    deleted_at: m.deleted_at,
                    created_by: m.created_by,
                    updated_by: m.updated_by,
                    deleted_by: m.deleted_by,
                }
            }
        }

        impl From<Row> for $module::ActiveModel {
            fn from(r: Row) -> Self {
                use sea_orm::ActiveValue::Set;
                Self {
                    id: Set(r.id),
                    value: Set(r.value),
                    value_key: Set(r.value_key),
                    country: Set(r.country),
                    description: Set(r.description),
                    description_key: Set(r.description_key),
                    organization_id: Set(r.organization_id),
                    status: Set(r.status),
                    created_at: Set(r.created_at),
                    updated_at: Set(r.updated_at),
                    deleted_at: Set(r.deleted_at),
                    created_by: Set(r.created_by),
                    updated_by: Set(r.updated_by),
                    deleted_by: Set(r.deleted_by),
                }
            }
        }

        impl StoredKind for $kind {
            type Entity = $module::Entity;
            type Model = $module::Model;
            type ActiveModel = $module::ActiveModel;

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
                }
            }
        }
    };
}

inventory_table!(dids, Did, "dids", "number", "number_key");
inventory_table!(
    sender_ids,
    SenderId,
    "sender_ids",
    "sender_id",
    "sender_id_key"
);
