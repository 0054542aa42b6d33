//! DID answers on the wire: every field of the domain's item, change and
//! event named, so that a field added to the proto breaks the build here.

use crate::domain::{Change, Etag, Event};
use crate::domain::{Did, Identifier, Item};
use crate::grpc::convert;
use crate::proto::v1 as pb;
use crate::service::EventBatch;

impl From<Item<Did>> for pb::Did {
    fn from(item: Item<Did>) -> Self {
        let is_shared = item.is_shared();
        let etag = Etag::of(&item).as_str().to_owned();
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
        } = item;
        Self {
            id: id.to_string(),
            number: value.as_str().to_owned(),
            country: country.as_str().to_owned(),
            description: description.map(|d| d.as_str().to_owned()),
            is_shared,
            organization_id: convert::optional_id(organization_id),
            status: convert::wire_status(status),
            created_at: convert::timestamp(created_at),
            updated_at: convert::timestamp(updated_at),
            deleted_at: deleted_at.and_then(convert::timestamp),
            created_by: convert::optional_id(created_by),
            updated_by: convert::optional_id(updated_by),
            deleted_by: convert::optional_id(deleted_by),
            etag,
            hold: convert::wire_hold(hold),
            aging_expire_time: aging_expire_time.and_then(convert::timestamp),
        }
    }
}

/// What a caller choosing a DID sees: no owner, description or audit.
impl From<Item<Did>> for pb::AvailableDid {
    fn from(item: Item<Did>) -> Self {
        let is_shared = item.is_shared();
        let Item {
            id,
            value,
            country,
            status,
            ..
        } = item;
        Self {
            id: id.to_string(),
            number: value.as_str().to_owned(),
            country: country.as_str().to_owned(),
            status: convert::wire_status(status),
            is_shared,
        }
    }
}

impl From<Change<Did>> for pb::DidChange {
    fn from(change: Change<Did>) -> Self {
        let Change {
            revision,
            change_type,
            at,
            by,
            item,
            before: _,
        } = change;
        Self {
            revision: revision.get(),
            r#type: convert::wire_change_type(change_type),
            time: convert::timestamp(at),
            user_id: convert::optional_id(by),
            did: Some(item.into()),
        }
    }
}

impl From<EventBatch<Did>> for pb::WatchDidsResponse {
    fn from(batch: EventBatch<Did>) -> Self {
        let EventBatch {
            events,
            revision,
            initial_state_complete,
            lag: _,
        } = batch;
        let events = events.into_iter().map(|event| {
            let Event {
                event_type,
                revision,
                item,
            } = event;
            pb::DidEvent {
                r#type: convert::wire_event_type(event_type),
                revision: revision.get(),
                did: Some(item.into()),
            }
        });
        Self {
            events: events.collect(),
            revision: revision.get(),
            initial_state_complete,
        }
    }
}
