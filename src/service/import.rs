//! Bulk creation: a stream of batches in, a stream of per-row answers out.
//! Batches are read, written and answered in order, at most two in hand at
//! once, so an import of any size holds two batches in memory; the next
//! batch is read only once the client has room for the answer before (a
//! client that stops reading is cut off after the stall timeout, the error
//! sent after what it missed).

use super::{CreateRequest, Parse, Service};
use crate::auth::Caller;
use crate::budget::StreamPass;
use crate::domain::{Identifier, Item, ItemId, Precondition, Timestamp};
use crate::error::{Error, Result};
use crate::store::{ImportRow, StoredKind};
use futures::{Stream, StreamExt};
use std::collections::HashSet;
use std::pin::Pin;
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::ReceiverStream;
use tracing::Instrument;

/// Most rows one message of an import may carry.
pub const MAX_IMPORT_ROWS: usize = 1000;

/// One message of an import: each row parsed (with its `request_id`), or
/// why it could not be, and whether the batch is all or nothing.
#[derive(Debug)]
pub struct ImportBatch<K: crate::domain::ResourceKind> {
    pub rows: Vec<Result<CreateRequest<K>>>,
    pub atomic: bool,
}

/// The answer to one message: the index of its first row in the whole
/// import, and per row the created item's id or the error.
#[derive(Debug)]
pub struct ImportReply {
    pub first_index: u64,
    pub rows: Vec<Result<ItemId>>,
}

pub type ImportReplies = Pin<Box<dyn Stream<Item = Result<ImportReply>> + Send>>;

impl<K: StoredKind> Service<K> {
    /// Creates the rows of each batch as it comes, answering each in turn.
    /// An import takes a place in the stream budget until it ends.
    pub async fn import<B>(
        &self,
        caller: &Caller,
        batches: impl Stream<Item = Result<B>> + Send + 'static,
    ) -> Result<ImportReplies>
    where
        B: Parse<ImportBatch<K>> + Send + 'static,
    {
        let writer = caller.authorize_write::<K>()?;
        let pass = self.budget.enter(caller, None).await?;
        let (sender, receiver) = mpsc::channel(1);
        let (failed, failure) = oneshot::channel();
        let service = self.clone();
        let task = async move {
            let by = writer.user_id();
            if let Err(error) = service.run_import(by, batches, &sender, &pass).await {
                let _ = failed.send(error);
            }
        };
        tokio::spawn(task.in_current_span());
        let failure =
            futures::stream::once(failure).filter_map(|ended| async move { ended.ok().map(Err) });
        Ok(Box::pin(ReceiverStream::new(receiver).chain(failure)))
    }

    async fn run_import<B>(
        &self,
        by: crate::domain::UserId,
        batches: impl Stream<Item = Result<B>> + Send,
        sender: &mpsc::Sender<Result<ImportReply>>,
        pass: &StreamPass,
    ) -> Result<()>
    where
        B: Parse<ImportBatch<K>>,
    {
        let stall = pass.stall_timeout();
        let mut first_index = 0u64;
        // The batch before, while it may still be writing: its
        // identifiers, and its end.
        let mut before: Option<(HashSet<String>, oneshot::Receiver<()>)> = None;
        // Parsed in order as they are read; written up to `batches_at_once`
        // at a time (the next one's rows go in while the one before takes
        // its revisions and commits) unless they name an identifier in
        // common, which must be written in order; answered in order.
        let replies = batches
            .map(|batch| {
                let parsed: Result<ImportBatch<K>> = batch.and_then(TryInto::try_into);
                let first = first_index;
                let identifiers: HashSet<String> = match &parsed {
                    Ok(batch) => batch
                        .rows
                        .iter()
                        .flatten()
                        .map(|row| row.new.value.key())
                        .collect(),
                    Err(_) => HashSet::new(),
                };
                if let Ok(batch) = &parsed {
                    first_index += batch.rows.len() as u64;
                }
                let wait = before
                    .take()
                    .filter(|(earlier, _)| !earlier.is_disjoint(&identifiers))
                    .map(|(_, done)| done);
                let (finished, done) = oneshot::channel();
                before = Some((identifiers, done));
                async move {
                    if let Some(earlier) = wait {
                        let _ = earlier.await;
                    }
                    let ImportBatch { rows, atomic } = parsed?;
                    let rows = self.import_batch(by, rows, atomic).await;
                    let _ = finished.send(());
                    Ok::<_, Error>(ImportReply {
                        first_index: first,
                        rows: rows?,
                    })
                }
            })
            .buffered(self.repository.batches_at_once());
        let mut replies = std::pin::pin!(replies);
        while let Some(reply) = replies.next().await {
            match tokio::time::timeout(stall, sender.send(Ok(reply?))).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return Ok(()), // the client went away
                Err(_) => return Err(Error::StreamStalled { after: stall }),
            }
        }
        Ok(())
    }

    /// One batch: rows that did not parse answer their error; the others
    /// are created together (with `atomic`, only if every row parsed), each
    /// under its `request_id` as its own `Create…` would be.
    async fn import_batch(
        &self,
        by: crate::domain::UserId,
        rows: Vec<Result<CreateRequest<K>>>,
        atomic: bool,
    ) -> Result<Vec<Result<ItemId>>> {
        if atomic && rows.iter().any(Result::is_err) {
            return Ok(rows
                .into_iter()
                .map(|row| row.and(Err(Error::BatchAborted)))
                .collect());
        }
        let at = Timestamp::now();
        let mut answers: Vec<Option<Result<ItemId>>> = Vec::with_capacity(rows.len());
        let mut items = Vec::new();
        for row in rows {
            match row {
                Ok(CreateRequest { new, request }) => {
                    items.push(ImportRow {
                        item: Item::create(new, by, at),
                        remember: self.remember(Precondition {
                            etag: None,
                            request,
                        }),
                    });
                    answers.push(None);
                }
                Err(error) => answers.push(Some(Err(error))),
            }
        }
        let mut created = self
            .repository
            .import(items, by, atomic)
            .await?
            .into_iter()
            .map(|item| item.map(|item| item.id));
        Ok(answers
            .into_iter()
            .map(|answer| match answer {
                Some(refused) => refused,
                None => created
                    .next()
                    .unwrap_or_else(|| Err(Error::internal("an import row without its answer"))),
            })
            .collect())
    }
}
