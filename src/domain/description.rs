use super::Invalid;
use sea_orm::DeriveValueType;

/// Free text about an item: 1 to 500 characters (characters, not bytes).
/// "No description" is `Option::None`, never an empty string.
#[derive(Debug, Clone, PartialEq, Eq, DeriveValueType)]
pub struct Description(String);

impl Description {
    pub const MAX_CHARS: usize = 500;

    /// An empty input means "no description".
    pub fn parse(input: &str) -> Result<Option<Self>, Invalid> {
        Ok(super::optional_text(input, Self::MAX_CHARS)?.map(Self))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form search compares (see [`super::search_fold`]).
    pub fn search_key(&self) -> String {
        super::search_fold(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_characters_not_bytes() {
        let accented = "é".repeat(Description::MAX_CHARS);
        assert!(Description::parse(&accented).unwrap().is_some());
        assert!(Description::parse(&format!("{accented}é")).is_err());
    }

    #[test]
    fn refuses_nul() {
        assert!(Description::parse("a\0b").is_err());
    }

    #[test]
    fn empty_means_none() {
        assert_eq!(Description::parse("").unwrap(), None);
    }
}
