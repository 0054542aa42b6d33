//! Persistence: the connection pool, migrations, the entities and one
//! repository serving both resource kinds. It runs queries and reports what
//! it found; it decides no rule and knows nothing of gRPC.
//!
//! Layers, each importing only those below it: `repository` (what the
//! service asks) → `runner` (the one write path) and the features
//! (`items`, `allocation`, `import`, `listing`, `retention`) → `changelog`
//! (the change tables, both ways) and `idempotency`, `hold_limit` →
//! `revisions`, `columns`, `selection`, `bulk`, `entity`.

mod allocation;
mod bulk;
mod changelog;
mod columns;
mod entity;
mod feed;
mod hold_limit;
mod idempotency;
mod import;
mod items;
mod listing;
mod ordering;
mod pool;
mod repository;
mod retention;
mod revisions;
mod runner;
mod selection;
mod taken;

pub use allocation::Allocation;
pub use changelog::HistoryReceiver;
pub use entity::StoredKind;
pub use feed::Feed;
pub use hold_limit::HoldLimit;
pub use import::ImportRow;
pub use listing::PageReceiver;
pub use pool::{PoolStats, Store};
pub use repository::Repository;
pub use retention::purge;
pub use revisions::{Positions, follow_changes};
pub use runner::Remember;
