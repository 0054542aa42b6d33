//! The common row of both tables, and its conversion to and from the domain.

use crate::domain::{CountryCode, Description, Identifier, Invalid, Item, ResourceKind, Status};
use crate::error::Error;
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Row {
    pub id: Uuid,
    pub value: String,
    pub value_key: String,
    pub country: String,
    pub description: Option<String>,
    /// The description as search compares it; written, never read back.
    pub description_key: Option<String>,
    pub organization_id: Option<Uuid>,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub deleted_by: Option<Uuid>,
}

impl<K: ResourceKind> From<&Item<K>> for Row {
    fn from(item: &Item<K>) -> Self {
        Row {
            id: item.id.as_uuid(),
            value: item.value.as_str().to_owned(),
            value_key: item.value.key(),
            country: item.country.as_str().to_owned(),
            description: item.description.as_ref().map(|d| d.as_str().to_owned()),
            description_key: item.description.as_ref().map(|d| d.search_key()),
            organization_id: item.organization_id.map(|o| o.as_uuid()),
            status: item.status.as_str().to_owned(),
            created_at: item.created_at.as_datetime(),
            updated_at: item.updated_at.as_datetime(),
            deleted_at: item.deleted_at.map(|t| t.as_datetime()),
            created_by: item.created_by.map(|u| u.as_uuid()),
            updated_by: item.updated_by.map(|u| u.as_uuid()),
            deleted_by: item.deleted_by.map(|u| u.as_uuid()),
        }
    }
}

impl Row {
    /// A stored value that breaks a domain rule means the data was changed
    /// behind the service's back: an internal error, logged with the row id.
    pub fn into_item<K: ResourceKind>(self) -> Result<Item<K>, Error> {
        let id = self.id;
        let corrupt = move |column: &str, rule: Invalid| {
            Error::internal(format!(
                "stored {} {id} has an invalid {column}: {rule}",
                K::LABEL
            ))
        };
        Ok(Item {
            id: self.id.into(),
            value: K::Value::parse(&self.value).map_err(|e| corrupt(K::VALUE_FIELD, e))?,
            country: CountryCode::parse(&self.country).map_err(|e| corrupt("country", e))?,
            description: match self.description {
                Some(text) => Description::parse(&text).map_err(|e| corrupt("description", e))?,
                None => None,
            },
            organization_id: self.organization_id.map(Into::into),
            status: Status::parse(&self.status).map_err(|e| corrupt("status", e))?,
            created_at: self.created_at.into(),
            updated_at: self.updated_at.into(),
            deleted_at: self.deleted_at.map(Into::into),
            created_by: self.created_by.map(Into::into),
            updated_by: self.updated_by.map(Into::into),
            deleted_by: self.deleted_by.map(Into::into),
        })
    }
}
