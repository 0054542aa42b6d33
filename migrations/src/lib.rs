//! Database schema of the numbering service, applied at start-up and by the
//! `migrate` subcommand.

use sea_orm_migration::prelude::*;

mod m20261123_000001_create_inventory;
mod m20261124_000002_description_search_key;
mod m20261125_000003_domain_checks;
mod m20261126_000004_lookup_indexes;
mod m20261127_000005_kept_counts;
mod m20261128_000006_search_indexes;
mod m20261129_000007_live_order_index;
mod m20261130_000008_change_log;
mod m20261201_000009_holds_and_aging;
mod m20261205_000010_unpadded_description_check;
mod m20261206_000011_revisions_from_transactions;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_inventory::Migration),
            Box::new(m20261124_000002_description_search_key::Migration),
            Box::new(m20261125_000003_domain_checks::Migration),
            Box::new(m20261126_000004_lookup_indexes::Migration),
            Box::new(m20261127_000005_kept_counts::Migration),
            Box::new(m20261128_000006_search_indexes::Migration),
            Box::new(m20261129_000007_live_order_index::Migration),
            Box::new(m20261130_000008_change_log::Migration),
            Box::new(m20261201_000009_holds_and_aging::Migration),
            Box::new(m20261205_000010_unpadded_description_check::Migration),
            Box::new(m20261206_000011_revisions_from_transactions::Migration),
        ]
    }
}
