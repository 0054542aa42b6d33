//! Who is calling, and what each role may do.

mod authenticator;
mod caller;
pub mod jwt;
mod policy;
mod scopes;
mod token;
mod trusted_headers;

pub use authenticator::Authenticator;
pub use caller::{Caller, Role};
pub use policy::{HoldRights, Writer};
pub use scopes::{Access, Scopes};
pub use token::{TokenError, mint_token};
pub use trusted_headers::TrustedHeaders;
