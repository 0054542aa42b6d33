//! The contract of `../shared/CONTRACT.md`, checked through the real gRPC
//! interface on every configured database engine.

mod assertions;
mod helpers;
mod raw;
mod resources;

mod abuse;

mod allocation;
mod assignment;
mod auth;
mod available;
mod bulk_cli;
mod cli;
mod commit_order;
mod concurrency;
mod health;
mod history;
mod import;
mod isolation;
mod items;
mod jwt;
mod lifecycle;
mod listing;
mod matrix;
mod observability;
#[cfg(feature = "otel")]
mod otel;
mod plain_sql;
mod readiness;
mod schema;
mod shutdown;
mod tls;
mod tokens;
mod visibility;
mod watch;

/// Stamps each generic test out for DIDs and for Sender IDs, once per
/// engine, the kind and the engine named in its path
/// (`listing::dids::postgres::…`): `cargo test postgres` runs the
/// PostgreSQL cases, and a failure on one engine does not hide the others.
#[macro_export]
macro_rules! for_both_resources {
    ($($test:ident),* $(,)?) => {
        mod dids {
            $crate::for_both_resources!(@engines Dids, $($test),*);
        }
        mod sender_ids {
            $crate::for_both_resources!(@engines SenderIds, $($test),*);
        }
    };
    (@engines $resource:ident, $($test:ident),*) => {
        $crate::for_both_resources!(@engine $resource, sqlite, Sqlite, $($test),*);
        $crate::for_both_resources!(@engine $resource, postgres, Postgres, $($test),*);
        $crate::for_both_resources!(@engine $resource, mariadb, MySql, $($test),*);
    };
    (@engine $resource:ident, $module:ident, $engine:ident, $($test:ident),*) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    $crate::helpers::on_engine(
                        $crate::helpers::Engine::$engine,
                        super::super::$test::<$crate::resources::$resource>,
                    )
                    .await;
                }
            )*
        }
    };
}

/// Stamps each `test(engine)` out once per engine, named by it
/// (`cargo test postgres` runs the PostgreSQL cases); an engine whose URL is
/// not set has nothing to run.
#[macro_export]
macro_rules! for_every_engine {
    ($($test:ident),* $(,)?) => {
        $crate::for_every_engine!(@engine sqlite, Sqlite, $($test),*);
        $crate::for_every_engine!(@engine postgres, Postgres, $($test),*);
        $crate::for_every_engine!(@engine mariadb, MySql, $($test),*);
    };
    (@engine $module:ident, $engine:ident, $($test:ident),*) => {
        mod $module {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let engine = $crate::helpers::Engine::$engine;
                    if $crate::helpers::Engine::configured().contains(&engine) {
                        super::$test(engine).await;
                    }
                }
            )*
        }
    };
}
