//! Who is calling, and what each role may do.

mod caller;
mod policy;
mod trusted_headers;

pub use caller::{Caller, Role};
pub use policy::Writer;
pub use trusted_headers::TrustedHeaders;
