//! The contract of `../shared/CONTRACT.md`, checked through the real gRPC
//! interface on every configured database engine.

mod assertions;
mod helpers;
mod resources;

mod assignment;
mod auth;
mod available;
mod cli;
mod concurrency;
mod health;
mod isolation;
mod items;
mod jwt;
mod listing;
mod matrix;
mod observability;
#[cfg(feature = "otel")]
mod otel;
mod readiness;
mod shutdown;
mod tls;
mod visibility;

/// Stamps each generic test out twice, for DIDs and for Sender IDs, each run
/// on every configured engine.
#[macro_export]
macro_rules! for_both_resources {
    ($($test:ident),* $(,)?) => {
        mod dids {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    $crate::helpers::on_every_engine(super::$test::<$crate::resources::Dids>).await;
                }
            )*
        }

        mod sender_ids {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    $crate::helpers::on_every_engine(super::$test::<$crate::resources::SenderIds>).await;
                }
            )*
        }
    };
}
