//! Which rows a read selects: the caller's visibility, then the filter, as
//! one SQL condition. Every read (get, get available, the lists) builds its
//! WHERE clause here, so none can leave visibility out.

use super::entity::{Field, StoredKind};
use crate::domain::{Filter, Holders, Identifier, OrganizationId, Visibility};
use sea_orm::ColumnTrait;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func, LikeExpr};

/// The character that escapes `%`, `_` and itself in LIKE patterns. Not the
/// backslash: PostgreSQL and MariaDB disagree on backslashes in literals.
const LIKE_ESCAPE: char = '!';

/// The rows `visibility` lets a caller see that `filter` keeps.
pub(super) fn selection<K: StoredKind>(visibility: Visibility, filter: &Filter<K>) -> Condition {
    Condition::all()
        .add(visible::<K>(visibility))
        .add(filtered(filter))
}

/// The one condition of what a caller may see; `Caller::visibility` decides
/// which applies.
fn visible<K: StoredKind>(visibility: Visibility) -> Condition {
    match visibility {
        Visibility::Everything => Condition::all(),
        Visibility::SharedOrOwn(own) => Condition::all()
            .add(K::column(Field::DeletedAt).is_null())
            .add(shared_or::<K>(own)),
    }
}

/// Items in the shared pool, or held by `organization`.
fn shared_or<K: StoredKind>(organization: Option<OrganizationId>) -> Condition {
    let holder = K::column(Field::OrganizationId);
    let shared = Condition::any().add(holder.is_null());
    match organization {
        Some(own) => shared.add(holder.eq(own)),
        None => shared,
    }
}

fn filtered<K: StoredKind>(filter: &Filter<K>) -> Condition {
    let col = K::column;
    let organization = col(Field::OrganizationId);
    let mut all = Condition::all();
    if !filter.include_deleted {
        all = all.add(col(Field::DeletedAt).is_null());
    }
    if let Some(status) = filter.status {
        all = all.add(col(Field::Status).eq(status));
    }
    match filter.shared {
        Some(true) => all = all.add(organization.is_null()),
        Some(false) => all = all.add(organization.is_not_null()),
        None => {}
    }
    if let Some(named) = filter.organization_id {
        all = all.add(organization.eq(named));
    }
    if let Holders::SharedAnd(holder) = filter.holders {
        all = all.add(shared_or::<K>(holder));
    }
    if !filter.countries.is_empty() {
        all = all.add(col(Field::Country).is_in(filter.countries.iter().copied()));
    }
    if !filter.values.is_empty() {
        all = all.add(col(Field::ValueKey).is_in(filter.values.iter().map(Identifier::key)));
    }
    if let Some(search) = &filter.search {
        // Identifiers are ASCII, which every engine's LOWER folds; the
        // description is compared in its stored search form.
        let pattern = contains(&search.folded());
        let mut any = Condition::any().add(lower(col(Field::Value)).like(pattern.clone()));
        if filter.search_description {
            any = any.add(col(Field::DescriptionKey).like(pattern));
        }
        all = all.add(any);
    }
    all
}

fn lower(column: impl ColumnTrait) -> Expr {
    Func::lower(column.into_expr()).into()
}

/// A substring pattern of folded `text` in which `%`, `_` and the escape
/// match themselves.
fn contains(text: &str) -> LikeExpr {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_') || c == LIKE_ESCAPE {
            pattern.push(LIKE_ESCAPE);
        }
        pattern.push(c);
    }
    pattern.push('%');
    LikeExpr::new(pattern).escape(LIKE_ESCAPE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards_and_the_escape() {
        let pattern: Expr = contains("50%_a!\\").into();
        let rendered = format!("{pattern:?}");
        assert!(rendered.contains(r"%50!%!_a!!\\%"), "{rendered}");
    }
}
