//! History and point-in-time reads: for staff only.

use super::{AsOfRequest, HistoryRequest, Parse, Service};
use crate::auth::Caller;
use crate::domain::{Change, Item, Page};
use crate::error::{Error, Result};
use crate::store::StoredKind;
use futures::Stream;
use tokio_stream::wrappers::ReceiverStream;

/// The pages of an item's history.
pub type HistoryPages<K> = std::pin::Pin<Box<dyn Stream<Item = Result<Page<Change<K>>>> + Send>>;

impl<K: StoredKind> Service<K> {
    /// An item's changes, oldest first.
    pub async fn history(
        &self,
        caller: &Caller,
        request: impl Parse<HistoryRequest>,
    ) -> Result<HistoryPages<K>> {
        caller.authorize_history::<K>()?;
        let HistoryRequest {
            id,
            paging,
            all_pages,
        } = request.try_into()?;
        let stall = self.budget.stall_timeout();
        let pages = self.repository.history(id, paging, all_pages, stall);
        Ok(Box::pin(ReceiverStream::new(pages)))
    }

    /// The item that held an identifier at an instant, as it was then.
    pub async fn as_of(
        &self,
        caller: &Caller,
        request: impl Parse<AsOfRequest<K>>,
    ) -> Result<Item<K>> {
        caller.authorize_history::<K>()?;
        let AsOfRequest { value, country, at } = request.try_into()?;
        let positions = self.repository.positions().await?;
        if let Some(before) = positions.purged_before
            && at < before
        {
            return Err(Error::HistoryPurged { before });
        }
        let found = self.repository.as_of(&value, country, at).await?;
        found
            .map(|change| change.item)
            .ok_or(Error::NotFound(K::RESOURCE))
    }
}
