//! What a list asks for, once parsed and once the caller's rights applied.

use super::{CountryCode, Invalid, OrganizationId, PageRequest, ResourceKind, Status};

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

/// Which items a caller may see at all, before any filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every item (admins, accountants).
    Everything,
    /// The shared pool, plus the items of this organization when there is one.
    SharedOr(Option<OrganizationId>),
}

impl Scope {
    /// Whether an item held by `holder` (`None`: the shared pool) is in scope.
    pub fn admits(&self, holder: Option<OrganizationId>) -> bool {
        match self {
            Scope::Everything => true,
            Scope::SharedOr(own) => holder.is_none() || holder == *own,
        }
    }
}

/// A list as the store runs it: the caller's filters within the caller's scope.
#[derive(Debug, Clone)]
pub struct ListQuery<K: ResourceKind> {
    pub scope: Scope,
    pub include_deleted: bool,
    pub status: Option<Status>,
    pub shared: Option<bool>,
    pub organization_id: Option<OrganizationId>,
    pub countries: Vec<CountryCode>,
    pub values: Vec<K::Value>,
    pub search: Option<SearchText>,
    /// Whether `search` also looks at the description.
    pub search_description: bool,
    pub sort: Sort,
    pub paging: PageRequest,
    pub all_pages: bool,
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
