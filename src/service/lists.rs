//! The lists and the available view: pages within the caller's
//! visibility, each stream holding a place in the stream budget.

use super::*;

impl<K: StoredKind> Service<K> {
    /// The pages of a list, within the caller's visibility; a stream takes a
    /// place in the stream budget until its last page is sent.
    pub async fn list(
        &self,
        caller: &Caller,
        request: impl Parse<ListRequest<K>>,
        deadline: Option<Instant>,
    ) -> Result<Pages<K>> {
        caller.authorize_read::<K>()?;
        let ListRequest {
            status,
            shared,
            organization_id,
            countries,
            values,
            search,
            show_deleted,
            sort,
            paging,
            page_token,
            all_pages,
        } = request.try_into()?;
        if show_deleted {
            caller.authorize_show_deleted()?;
        }
        let query = ListQuery {
            filter: Filter {
                include_deleted: show_deleted,
                status,
                shared,
                organization_id: caller.authorize_organization(organization_id)?,
                holders: Holders::All,
                countries,
                values,
                search,
                search_description: true,
                available_at: None,
            },
            sort,
            paging,
            start: None,
            all_pages,
        };
        self.pages(caller, query, page_token, deadline).await
    }

    /// Active, live items that are shared or held by the organization, in
    /// identifier order.
    pub async fn list_available(
        &self,
        caller: &Caller,
        request: impl Parse<AvailableRequest>,
        deadline: Option<Instant>,
    ) -> Result<Pages<K>> {
        caller.authorize_read::<K>()?;
        let AvailableRequest {
            organization_id,
            search,
            order,
            paging,
            page_token,
            all_pages,
        } = request.try_into()?;
        let query = ListQuery {
            filter: Filter {
                search,
                ..Filter::available_to(caller.availability_for(organization_id)?, Timestamp::now())
            },
            sort: Sort {
                field: SortField::Value,
                order,
            },
            paging,
            start: None,
            all_pages,
        };
        self.pages(caller, query, page_token, deadline).await
    }

    pub async fn get_available(
        &self,
        caller: &Caller,
        request: impl Parse<AvailableLookup>,
    ) -> Result<Item<K>> {
        caller.authorize_read::<K>()?;
        let AvailableLookup {
            id,
            organization_id,
        } = request.try_into()?;
        let filter =
            Filter::available_to(caller.availability_for(organization_id)?, Timestamp::now());
        let found = self
            .repository
            .find(caller.visibility(), id, filter)
            .await?;
        found
            .map(|item| shown_to(caller, item))
            .ok_or(Error::NotFound(K::RESOURCE))
    }

    /// The pages of `query`, from the page `token` gives if there is one: a
    /// token is honoured only with the filters, sort and limit that gave it.
    async fn pages(
        &self,
        caller: &Caller,
        mut query: ListQuery<K>,
        token: Option<PageToken>,
        deadline: Option<Instant>,
    ) -> Result<Pages<K>> {
        if let Some(token) = token {
            if token.fingerprint != query.fingerprint(caller.visibility()) {
                return Err(Error::InvalidPageToken(Invalid::new(
                    "was given for other filters, sort or limit: send those again, or start \
                     from the first page",
                )));
            }
            query.paging = query.paging.at(token.page);
            query.start = Some(token.after);
        }
        let pass = self.budget.enter(caller, deadline).await?;
        let pages = self
            .repository
            .list(caller.visibility(), query, deadline, pass);
        let caller = caller.clone();
        Ok(Box::pin(ReceiverStream::new(pages).map(move |page| {
            let Page { items, meta, next } = page?;
            let now = Timestamp::now();
            let items = items.into_iter().map(|item| shown_at(&caller, item, now));
            Ok(Page {
                items: items.collect(),
                meta,
                next,
            })
        })))
    }
}
