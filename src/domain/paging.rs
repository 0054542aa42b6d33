use super::Invalid;

/// Which page of a list, and how large: always valid (page ≥ 1, 1 ≤ limit ≤ 100).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    page: u32,
    limit: u32,
}

impl PageRequest {
    pub const DEFAULT_LIMIT: u32 = 20;
    pub const MAX_LIMIT: u32 = 100;

    /// 0 means "not set": page 1, limit 20. The only refusal is a limit above
    /// the maximum.
    pub fn new(page: u32, limit: u32) -> Result<Self, Invalid> {
        let limit = match limit {
            0 => Self::DEFAULT_LIMIT,
            n if n > Self::MAX_LIMIT => {
                return Err(Invalid::new(format!("must be at most {}", Self::MAX_LIMIT)));
            }
            n => n,
        };
        Ok(Self {
            page: page.max(1),
            limit,
        })
    }

    pub fn page(&self) -> u32 {
        self.page
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// Rows before this page.
    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.limit)
    }

    /// The same size, at page `page` (≥ 1).
    pub fn at(&self, page: u32) -> Self {
        Self {
            page: page.max(1),
            ..*self
        }
    }

    pub fn next(&self) -> Self {
        Self {
            page: self.page.saturating_add(1),
            ..*self
        }
    }
}

/// Where one page stands in the whole result: the REST API's `meta`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageMeta {
    pub page: u32,
    pub limit: u32,
    pub total: u32,
    pub total_pages: u32,
    pub has_next_page: bool,
    pub has_previous_page: bool,
    /// The revision the list's snapshot was read at.
    pub revision: super::Revision,
}

impl PageMeta {
    pub fn new(request: PageRequest, total: u64, revision: super::Revision) -> Self {
        let total = u32::try_from(total).unwrap_or(u32::MAX);
        let total_pages = total.div_ceil(request.limit);
        Self {
            page: request.page,
            limit: request.limit,
            total,
            total_pages,
            has_next_page: request.page < total_pages,
            has_previous_page: request.page > 1,
            revision,
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub meta: PageMeta,
    /// The token of the next page; `None` on the last.
    pub next: Option<super::PageToken>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_means_the_defaults() {
        let request = PageRequest::new(0, 0).unwrap();
        assert_eq!((request.page(), request.limit()), (1, 20));
    }

    #[test]
    fn a_limit_above_100_is_refused() {
        assert!(PageRequest::new(1, 100).is_ok());
        assert!(PageRequest::new(1, 101).is_err());
    }

    #[test]
    fn meta_counts_pages() {
        let cases = [
            // page, limit, total => total_pages, next, previous
            (1, 20, 0, 0, false, false),
            (1, 20, 20, 1, false, false),
            (1, 20, 21, 2, true, false),
            (2, 20, 21, 2, false, true),
            (5, 20, 21, 2, false, true),
        ];
        for (page, limit, total, pages, next, previous) in cases {
            let meta = PageMeta::new(
                PageRequest::new(page, limit).unwrap(),
                total,
                super::super::Revision::ZERO,
            );
            assert_eq!(
                (meta.total_pages, meta.has_next_page, meta.has_previous_page),
                (pages, next, previous),
                "page {page}, limit {limit}, total {total}"
            );
        }
    }

    #[test]
    fn offsets_do_not_overflow() {
        let last = PageRequest::new(u32::MAX, 100).unwrap();
        assert_eq!(last.offset(), (u64::from(u32::MAX) - 1) * 100);
    }
}
