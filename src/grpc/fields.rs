//! Every bad field of a request at once: the fields of a message are
//! parsed each on its own, then taken together, so that a client fixing
//! its request learns all that is wrong in one answer (AIP-193's
//! `BadRequest`), not one field per round trip.

use crate::error::{Error, Result};

/// Several fields' parses, as a tuple of results: all the values, or one
/// error naming every bad field.
pub trait AllValid {
    type Values;
    fn all_valid(self) -> Result<Self::Values>;
}

/// Keeps the value of a good field, or adds the error of a bad one.
fn take<T>(parsed: Result<T>, errors: &mut Option<Error>) -> Option<T> {
    match parsed {
        Ok(value) => Some(value),
        Err(error) => {
            *errors = Some(match errors.take() {
                Some(first) => first.and(error),
                None => error,
            });
            None
        }
    }
}

// One impl per tuple size: each takes every field, then answers the values
// only if every one was good.
macro_rules! all_valid {
    ($($value:ident: $type:ident),+) => {
        impl<$($type),+> AllValid for ($(Result<$type>,)+) {
            type Values = ($($type,)+);
            fn all_valid(self) -> Result<Self::Values> {
                let ($($value,)+) = self;
                let mut errors = None;
                $(let $value = take($value, &mut errors);)+
                match ($($value,)+) {
                    ($(Some($value),)+) => Ok(($($value,)+)),
                    _ => Err(errors.unwrap_or_else(|| Error::internal("a field was lost"))),
                }
            }
        }
    };
}

all_valid!(a: A, b: B);
all_valid!(a: A, b: B, c: C);
all_valid!(a: A, b: B, c: C, d: D);
all_valid!(a: A, b: B, c: C, d: D, e: E);
all_valid!(a: A, b: B, c: C, d: D, e: E, f: F);
all_valid!(a: A, b: B, c: C, d: D, e: E, f: F, g: G);
all_valid!(a: A, b: B, c: C, d: D, e: E, f: F, g: G, h: H);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Invalid;

    fn bad(field: &str) -> Result<u8> {
        Err(Error::invalid(field, Invalid::new("is bad")))
    }

    #[test]
    fn names_every_bad_field_in_order() {
        let Err(Error::InvalidField { field, also, .. }) = (bad("a"), Ok(1), bad("c")).all_valid()
        else {
            panic!("refused");
        };
        assert_eq!(field, "a");
        let others: Vec<_> = also.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(others, ["c"]);
    }

    #[test]
    fn good_fields_give_their_values() {
        assert_eq!((Ok::<u8, Error>(1), Ok(2)).all_valid().unwrap(), (1, 2));
    }
}
