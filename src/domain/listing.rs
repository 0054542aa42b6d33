//! What a list asks for, once parsed and once the caller's rights applied.

use super::{
    CountryCode, Cursor, Fingerprint, Invalid, OrganizationId, PageRequest, ResourceKind, Status,
    Timestamp,
};

/// Most values a repeated filter may carry.
pub const MAX_FILTER_VALUES: usize = 100;

/// A non-empty search text, matched as a case-insensitive substring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchText(String);

impl SearchText {
    const MAX_CHARS: usize = 500;

    /// An empty search means "no search".
    pub fn parse(input: &str) -> Result<Option<Self>, Invalid> {
        Ok(super::optional_text(input, Self::MAX_CHARS)?.map(Self))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form compared with stored search keys.
    pub fn folded(&self) -> String {
        super::search_fold(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    /// The number or sender id, as stored.
    Value,
    Country,
    Status,
    CreatedAt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    Asc,
    Desc,
}

/// Ordering of a list; the id always breaks ties, in the same direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub field: SortField,
    pub order: SortOrder,
}

/// What a caller may see at all, before any filter. Decided from the caller
/// in one place (`Caller::visibility`) and applied in SQL by the store to
/// every read, so that no read path can forget it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Every item, deleted ones included (admins, accountants).
    Everything,
    /// Live items in the shared pool or held by this organization (resellers,
    /// who always have one).
    SharedOrOwn(Option<OrganizationId>),
}

impl Visibility {
    /// The rule: whether a caller with this visibility sees an item, live
    /// or not, held by `organization_id` (none: the shared pool). Writes
    /// and watches ask it; reads apply its SQL form (`visible` in
    /// `store/selection.rs`), and a property test there holds the two equal.
    pub fn sees(&self, live: bool, organization_id: Option<OrganizationId>) -> bool {
        match self {
            Visibility::Everything => true,
            Visibility::SharedOrOwn(own) => {
                live && (organization_id.is_none() || organization_id == *own)
            }
        }
    }

    /// Whether a caller with this visibility sees `item`.
    pub fn shows<K: ResourceKind>(&self, item: &super::Item<K>) -> bool {
        self.sees(!item.is_deleted(), item.organization_id)
    }
}

/// Whose items a filter keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holders {
    All,
    /// The shared pool, and the items of this organization if there is one.
    SharedAnd(Option<OrganizationId>),
}

/// Which items a read selects, within the caller's visibility.
#[derive(Debug, Clone)]
pub struct Filter<K: ResourceKind> {
    pub include_deleted: bool,
    pub status: Option<Status>,
    pub shared: Option<bool>,
    pub organization_id: Option<OrganizationId>,
    pub holders: Holders,
    pub countries: Vec<CountryCode>,
    pub values: Vec<K::Value>,
    pub search: Option<SearchText>,
    /// Whether `search` also looks at the description.
    pub search_description: bool,
    /// `Some(now)`: leaves out the shared items that another organization
    /// than the one of `holders` holds at `now`, and those that rest.
    pub available_at: Option<Timestamp>,
}

impl<K: ResourceKind> Filter<K> {
    /// Every item, deleted ones included.
    pub fn everything() -> Self {
        Self {
            include_deleted: true,
            status: None,
            shared: None,
            organization_id: None,
            holders: Holders::All,
            countries: Vec::new(),
            values: Vec::new(),
            search: None,
            search_description: false,
            available_at: None,
        }
    }

    /// Active, live items in the shared pool or held by `organization`: what
    /// it may use at `now` (shared items held for others, or resting, are
    /// not).
    pub fn available_to(organization: Option<OrganizationId>, now: Timestamp) -> Self {
        Self {
            include_deleted: false,
            status: Some(Status::Active),
            holders: Holders::SharedAnd(organization),
            available_at: Some(now),
            ..Self::everything()
        }
    }
}

/// A list as the store runs it: which items, in which order, which pages.
#[derive(Debug, Clone)]
pub struct ListQuery<K: ResourceKind> {
    pub filter: Filter<K>,
    pub sort: Sort,
    /// The first page, and the size of every page.
    pub paging: PageRequest,
    /// Where the first page starts, from a page token; `None`: at its offset.
    pub start: Option<Cursor>,
    pub all_pages: bool,
}

impl<K: ResourceKind> ListQuery<K> {
    /// What makes two requests the same list for a page token: the
    /// visibility, every filter, the sort and the page size, but not which
    /// page. Every field is named, so a new one must be decided here.
    pub fn fingerprint(&self, visibility: Visibility) -> Fingerprint {
        use sha2::{Digest, Sha256};
        let ListQuery {
            filter,
            sort,
            paging,
            start: _,
            all_pages: _,
        } = self;
        let Filter {
            include_deleted,
            status,
            shared,
            organization_id,
            holders,
            countries,
            values,
            search,
            search_description,
            available_at,
        } = filter;
        // Debug forms are exact within a build; a token lives for seconds.
        // Availability is judged at each page's own instant.
        let available = available_at.is_some();
        let canonical = format!(
            "{visibility:?}|{include_deleted}|{status:?}|{shared:?}|{organization_id:?}|\
             {holders:?}|{countries:?}|{values:?}|{search:?}|{search_description}|\
             {available}|{sort:?}|{}",
            paging.limit()
        );
        let digest = Sha256::digest(canonical.as_bytes());
        let mut fingerprint = [0; 8];
        fingerprint.copy_from_slice(&digest[..8]);
        Fingerprint(fingerprint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_search_means_none() {
        assert_eq!(SearchText::parse("").unwrap(), None);
        assert!(SearchText::parse(&"x".repeat(501)).is_err());
        assert_eq!(SearchText::parse("50%").unwrap().unwrap().as_str(), "50%");
    }
}
