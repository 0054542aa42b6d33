//! The inventory's vocabulary: values that cannot be invalid once parsed, the
//! two resource kinds, and the records, queries and pages built from them.

mod change;
mod country;
mod description;
mod hold;
mod identifier;
mod ids;
mod item;
mod kind;
mod listing;
mod paging;
mod status;
mod time;
mod token;
mod watching;

pub use change::{Change, ChangeType, Effect, Etag, Placement, Precondition, RequestKey, Revision};
pub use country::CountryCode;
pub use description::Description;
pub use hold::{Hold, HoldTtl};
pub use identifier::{Identifier, NumberPrefix, PhoneNumber, SenderName};
pub use ids::{ItemId, OrganizationId, UserId};
pub use item::{Item, NewItem, Patch};
pub use kind::{Did, Resource, ResourceKind, SenderId};
pub use listing::{
    Filter, Holders, ListQuery, MAX_FILTER_VALUES, SearchText, Sort, SortField, SortOrder,
    Visibility,
};
pub use paging::{Page, PageMeta, PageRequest};
pub use status::Status;
pub use time::Timestamp;
pub use token::{Cursor, Fingerprint, PageToken, SortKey};
pub use watching::{Event, EventType, WatchView};

/// Why a value was refused: the rule it breaks, in words a caller can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

impl Invalid {
    pub(crate) fn new(rule: impl Into<String>) -> Self {
        Self(rule.into())
    }
}

/// The form in which search compares text: compatibility-decomposed, without
/// combining marks, lower case. So "ÉCOLE" holds "ecole" and "école", and
/// "İSTANBUL" holds "istanbul", on every engine alike: no engine's own case
/// folding is used (SQLite's folds ASCII only).
pub fn search_fold(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    text.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Free text of at most `max` characters (not bytes); empty means none.
/// NUL is refused: PostgreSQL cannot store it in text, and the other engines
/// would keep a value that C clients and logs cut short.
fn optional_text(input: &str, max: usize) -> Result<Option<String>, Invalid> {
    if input.contains('\0') {
        return Err(Invalid::new("must not contain NUL characters"));
    }
    match input.chars().count() {
        0 => Ok(None),
        n if n > max => Err(Invalid::new(format!("must be at most {max} characters"))),
        _ => Ok(Some(input.to_owned())),
    }
}

#[cfg(test)]
mod fold_tests {
    #[test]
    fn search_folds_case_accents_and_compatibility_forms() {
        let cases = [
            ("ÉCOLE", "ecole"),
            ("école", "ecole"),
            ("İSTANBUL", "istanbul"),
            ("Straße", "straße"),
            ("ﬁle №5", "file no5"),
            ("+212 500", "+212 500"),
        ];
        for (text, folded) in cases {
            assert_eq!(super::search_fold(text), folded, "{text}");
        }
    }
}
