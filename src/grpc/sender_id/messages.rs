//! Sender ID answers on the wire: every field of the domain's item, change and
//! event named, so that a field added to the proto breaks the build here.

use crate::domain::{Change, Etag, Event};
use crate::domain::{Identifier, Item, SenderId};
use crate::grpc::convert;
use crate::proto::v1 as pb;
use crate::service::EventBatch;

impl From<Item<SenderId>> for pb::SenderId {
    fn from(item: Item<SenderId>) -> Self {
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
            aging_expire_time: _,
        } = item;
        Self {
            id: id.to_string(),
            sender_id: value.as_str().to_owned(),
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
        }
    }
}

/// What a caller choosing a Sender ID sees: no owner, description or audit.
impl From<Item<SenderId>> for pb::AvailableSenderId {
    fn from(item: Item<SenderId>) -> Self {
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
            sender_id: value.as_str().to_owned(),
            country: country.as_str().to_owned(),
            status: convert::wire_status(status),
            is_shared,
        }
    }
}

impl From<Change<SenderId>> for pb::SenderIdChange {
    fn from(change: Change<SenderId>) -> Self {
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
            sender_id: Some(item.into()),
        }
    }
}

impl From<EventBatch<SenderId>> for pb::WatchSenderIdsResponse {
    fn from(batch: EventBatch<SenderId>) -> Self {
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
            pb::SenderIdEvent {
                r#type: convert::wire_event_type(event_type),
                revision: revision.get(),
                sender_id: Some(item.into()),
            }
        });
        Self {
            events: events.collect(),
            revision: revision.get(),
            initial_state_complete,
        }
    }
}
