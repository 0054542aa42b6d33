//! The harness, by concern: the engines and their per-test databases, the
//! server in this process, the `numbering` binary, and the callers and data
//! tests use.
//!
//! SQLite always runs. `TEST_POSTGRES_URL` and `TEST_MYSQL_URL` (server URLs
//! without a database name) add PostgreSQL and MariaDB; a configured server
//! that cannot be reached fails the test, it is never skipped.

mod app;
mod binary;
mod engine;
mod fixtures;

pub use app::*;
pub use binary::*;
pub use engine::*;
pub use fixtures::*;
