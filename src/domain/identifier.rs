//! The value that identifies an item to people: a phone number or a sender
//! name. Each knows its own rule and how it compares for uniqueness.

use super::Invalid;
use sea_orm::DeriveValueType;
use std::fmt::Debug;

/// What both identifiers offer the generic code. Each is stored as it is
/// (the database's CHECK constraints hold the same rule), so loading one
/// never parses it again.
pub trait Identifier:
    Debug + Clone + PartialEq + Send + Sync + 'static + sea_orm::TryGetable + Into<sea_orm::Value>
{
    fn parse(input: &str) -> Result<Self, Invalid>;
    /// As given at creation, and as returned.
    fn as_str(&self) -> &str;
    /// The form compared for uniqueness and by exact-match filters.
    fn key(&self) -> String;
}

/// A DID: digits with an optional leading `+`, 3 to 20 characters in all.
#[derive(Debug, Clone, PartialEq, Eq, DeriveValueType)]
pub struct PhoneNumber(String);

impl Identifier for PhoneNumber {
    fn parse(input: &str) -> Result<Self, Invalid> {
        let digits = input.strip_prefix('+').unwrap_or(input);
        let well_formed = (3..=20).contains(&input.len())
            && !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit());
        if well_formed {
            Ok(Self(input.to_owned()))
        } else {
            Err(Invalid::new(
                "must be 3 to 20 characters: digits with an optional leading '+'",
            ))
        }
    }

    fn as_str(&self) -> &str {
        &self.0
    }

    /// `+212500000001` and `212500000001` are the same number.
    fn key(&self) -> String {
        self.0.trim_start_matches('+').to_owned()
    }
}

/// The start of a number, as allocation filters by it: 1 to 20 digits,
/// compared without `+`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberPrefix(String);

impl NumberPrefix {
    /// A prefix a client sent; empty means none.
    pub fn parse(input: &str) -> Result<Option<Self>, Invalid> {
        let digits = input.strip_prefix('+').unwrap_or(input);
        if input.is_empty() {
            return Ok(None);
        }
        if (1..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Some(Self(digits.to_owned())))
        } else {
            Err(Invalid::new(
                "must be 1 to 20 digits, with an optional leading '+'",
            ))
        }
    }

    /// The digits, as number keys start.
    pub fn digits(&self) -> &str {
        &self.0
    }
}

/// An SMS Sender ID: 1 to 11 ASCII letters and digits.
#[derive(Debug, Clone, PartialEq, Eq, DeriveValueType)]
pub struct SenderName(String);

impl Identifier for SenderName {
    fn parse(input: &str) -> Result<Self, Invalid> {
        if (1..=11).contains(&input.len()) && input.bytes().all(|b| b.is_ascii_alphanumeric()) {
            Ok(Self(input.to_owned()))
        } else {
            Err(Invalid::new("must be 1 to 11 ASCII letters and digits"))
        }
    }

    fn as_str(&self) -> &str {
        &self.0
    }

    /// Handsets show `ACME` and `Acme` alike, so they are the same sender.
    fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_follow_the_rule() {
        for ok in [
            "+212500000001",
            "12124727604",
            "123",
            "+12",
            &"9".repeat(20),
        ] {
            assert!(PhoneNumber::parse(ok).is_ok(), "{ok:?} was refused");
        }
        let too_long = "9".repeat(21);
        for bad in [
            "",
            "12",
            "+",
            "++123",
            "12a4",
            "+1 212",
            "１２３",
            &too_long,
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn phone_numbers_compare_without_the_plus() {
        let with = PhoneNumber::parse("+212500000001").unwrap();
        let without = PhoneNumber::parse("212500000001").unwrap();
        assert_eq!(with.key(), without.key());
        assert_eq!(with.as_str(), "+212500000001");
    }

    #[test]
    fn sender_names_follow_the_rule() {
        for ok in ["A", "GoMobile", "ACME", "12345678901"] {
            assert!(SenderName::parse(ok).is_ok(), "{ok:?} was refused");
        }
        for bad in ["", "123456789012", "Go Mobile", "ACME!", "Café", "a_b"] {
            assert!(SenderName::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn sender_names_compare_case_insensitively() {
        let upper = SenderName::parse("ACME").unwrap();
        assert_eq!(upper.key(), SenderName::parse("acme").unwrap().key());
        assert_eq!(upper.as_str(), "ACME");
    }
}
