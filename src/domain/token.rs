//! Page tokens (AIP-158): where the page after a page starts, so that it is
//! found by keyset, whatever its depth, and bound to the request that gave
//! it.

use super::{CountryCode, Invalid, ItemId, Status, Timestamp};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Datelike;

/// A page starts after this sort key and id (the id breaks ties).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub key: SortKey,
    pub id: ItemId,
}

/// The value of the sorted column in the last row of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    /// The identifier as stored.
    Value(String),
    Country(CountryCode),
    Status(Status),
    CreatedAt(Timestamp),
}

/// What a list request was: its visibility, filters, sort and page size.
/// A token is honoured only by a request with the same fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(pub [u8; 8]);

/// The token of the page after a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageToken {
    pub fingerprint: Fingerprint,
    /// The number of the page it gives.
    pub page: u32,
    pub after: Cursor,
}

const VERSION: u8 = 1;
/// A stored identifier is at most 20 bytes; more is not a token of ours.
const MAX_VALUE: usize = 64;

impl PageToken {
    /// Opaque to clients: a version, then the fields, in URL-safe base64.
    pub fn encode(&self) -> String {
        let mut bytes = vec![VERSION];
        bytes.extend_from_slice(&self.fingerprint.0);
        bytes.extend_from_slice(&self.page.to_be_bytes());
        bytes.extend_from_slice(self.after.id.as_uuid().as_bytes());
        match &self.after.key {
            SortKey::Value(value) => {
                bytes.push(0);
                bytes.extend_from_slice(value.as_bytes());
            }
            SortKey::Country(country) => {
                bytes.push(1);
                bytes.extend_from_slice(country.as_str().as_bytes());
            }
            SortKey::Status(status) => {
                bytes.push(2);
                bytes.extend_from_slice(status.as_str().as_bytes());
            }
            SortKey::CreatedAt(at) => {
                bytes.push(3);
                bytes.extend_from_slice(&at.as_datetime().timestamp_micros().to_be_bytes());
            }
        }
        URL_SAFE_NO_PAD.encode(bytes)
    }

    pub fn decode(token: &str) -> Result<Self, Invalid> {
        let malformed = || Invalid::new("is not a page token of this service");
        let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| malformed())?;
        let (head, key) = bytes
            .split_at_checked(1 + 8 + 4 + 16 + 1)
            .ok_or_else(malformed)?;
        if head[0] != VERSION || key.len() > MAX_VALUE {
            return Err(malformed());
        }
        let fingerprint = Fingerprint(head[1..9].try_into().map_err(|_| malformed())?);
        let page = u32::from_be_bytes(head[9..13].try_into().map_err(|_| malformed())?);
        let id = uuid::Uuid::from_slice(&head[13..29]).map_err(|_| malformed())?;
        let text = || std::str::from_utf8(key).map_err(|_| malformed());
        let key = match head[29] {
            // What identifiers are made of: nothing an engine could choke on.
            0 if key.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'+') => {
                SortKey::Value(text()?.to_owned())
            }
            1 => SortKey::Country(CountryCode::parse(text()?)?),
            2 => SortKey::Status(Status::parse(text()?)?),
            3 => {
                let micros = i64::from_be_bytes(key.try_into().map_err(|_| malformed())?);
                let at = chrono::DateTime::from_timestamp_micros(micros)
                    // Years every engine stores (MariaDB: 1000 to 9999).
                    .filter(|at| (1000..=9999).contains(&at.year()))
                    .ok_or_else(malformed)?;
                SortKey::CreatedAt(at.into())
            }
            _ => return Err(malformed()),
        };
        if page < 2 {
            return Err(malformed());
        }
        Ok(Self {
            fingerprint,
            page,
            after: Cursor { key, id: id.into() },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(key: SortKey) -> PageToken {
        PageToken {
            fingerprint: Fingerprint([7; 8]),
            page: 42,
            after: Cursor {
                key,
                id: ItemId::generate(),
            },
        }
    }

    #[test]
    fn every_key_round_trips() {
        for key in [
            SortKey::Value("+212500000001".into()),
            SortKey::Country(CountryCode::parse("MA").unwrap()),
            SortKey::Status(Status::Reserved),
            SortKey::CreatedAt(Timestamp::now()),
        ] {
            let token = token(key);
            assert_eq!(PageToken::decode(&token.encode()), Ok(token));
        }
    }

    #[test]
    fn anything_else_is_refused() {
        let good = token(SortKey::Value("ACME".into())).encode();
        let truncated = &good[..good.len() - 30];
        let mut bytes = URL_SAFE_NO_PAD.decode(&good).unwrap();
        bytes[0] = 9;
        let other_version = URL_SAFE_NO_PAD.encode(bytes);
        let mut bytes = URL_SAFE_NO_PAD.decode(&good).unwrap();
        bytes.push(0);
        let nul_in_value = URL_SAFE_NO_PAD.encode(bytes);
        for bad in ["", "x", "!!!!", truncated, &other_version, &nul_in_value] {
            assert!(PageToken::decode(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
