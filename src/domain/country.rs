use super::Invalid;
use sea_orm::DeriveValueType;

/// An assigned ISO 3166-1 alpha-2 country code, always upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, DeriveValueType)]
#[sea_orm(
    value_type = "String",
    from_str = "CountryCode::from_stored",
    to_str = "CountryCode::as_str"
)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Accepts either case; `XX` and other unassigned codes are refused.
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let refuse = || Invalid::new("must be an assigned ISO 3166-1 alpha-2 country code");
        let upper = input.to_ascii_uppercase();
        let bytes: [u8; 2] = upper.as_bytes().try_into().map_err(|_| refuse())?;
        if !bytes.iter().all(u8::is_ascii_uppercase) {
            return Err(refuse());
        }
        celes::Country::from_alpha2(&upper).map_err(|_| refuse())?;
        Ok(Self(bytes))
    }

    /// A code as stored: written by [`parse`](Self::parse) and held to two
    /// upper-case letters by a CHECK constraint, so it is not looked up again.
    fn from_stored(stored: &str) -> Result<Self, Invalid> {
        let bytes = stored.as_bytes().try_into();
        bytes
            .map(Self)
            .map_err(|_| Invalid::new("a stored country code has two letters"))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_assigned_codes_in_either_case() {
        for (input, stored) in [("MA", "MA"), ("us", "US"), ("Fr", "FR")] {
            assert_eq!(CountryCode::parse(input).unwrap().as_str(), stored);
        }
    }

    #[test]
    fn refuses_unassigned_or_malformed_codes() {
        for input in ["XX", "", "M", "MAR", "12", "M1", "ÉÉ", " MA"] {
            assert!(CountryCode::parse(input).is_err(), "{input:?} was accepted");
        }
    }
}
