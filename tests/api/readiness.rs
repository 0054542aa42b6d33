//! Readiness follows the database; liveness does not. The database is
//! reached through a TCP proxy that the test cuts and restores, so this runs
//! on the engines with a server (PostgreSQL, MariaDB).

use crate::helpers::{Engine, Identity, TestApp, server_address, url_via};
use crate::resources::{Dids, Resource, Samples};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// Forwards connections to `target` while up. Cutting it is a network
/// partition: nothing passes, but no connection is closed, so a call waits
/// rather than failing; restoring it closes what was held (the partition
/// healed, and those connections died meanwhile) and forwards new ones.
struct Proxy {
    address: SocketAddr,
    up: watch::Sender<bool>,
}

impl Proxy {
    async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (up, _) = watch::channel(true);
        let forwarding = up.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut up = forwarding.subscribe();
                tokio::spawn(async move {
                    let cut = !*up.borrow_and_update();
                    if cut {
                        let _ = up.wait_for(|up| *up).await;
                        return; // held through the cut, then closed
                    }
                    let Ok(mut server) = TcpStream::connect(target).await else {
                        return;
                    };
                    let cut = tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => false,
                        _ = up.wait_for(|up| !*up) => true,
                    };
                    if cut {
                        let _ = up.wait_for(|up| *up).await;
                    }
                });
            }
        });
        Self { address, up }
    }

    fn cut(&self) {
        self.up.send_replace(false);
    }

    fn restore(&self) {
        self.up.send_replace(true);
    }
}

async fn status(health: &mut HealthClient<tonic::transport::Channel>, name: &str) -> ServingStatus {
    health
        .check(HealthCheckRequest {
            service: name.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .status()
}

async fn readiness_follows_the_database_and_liveness_does_not(engine: Engine) {
    let Some(target) = server_address(engine) else {
        return; // SQLite lives in the process: it cannot go away.
    };
    let proxy = Proxy::start(target).await;
    let app = TestApp::spawn_with(engine, |settings| {
        settings.database_url = url_via(&settings.database_url, proxy.address);
        settings.health.interval = Duration::from_millis(100);
        settings.health.timeout = Duration::from_millis(500);
    })
    .await;
    let mut health = HealthClient::new(app.channel.clone());
    let mut changes = health
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut next_change = async || {
        tokio::time::timeout(Duration::from_secs(10), changes.message())
            .await
            .expect("readiness changes within seconds")
            .unwrap()
            .unwrap()
            .status()
    };
    assert_eq!(next_change().await, ServingStatus::Serving, "{engine:?}");

    proxy.cut();

    assert_eq!(next_change().await, ServingStatus::NotServing, "{engine:?}");
    for name in ["numbering.v1.DidService", "numbering.v1.SenderIdService"] {
        assert_eq!(status(&mut health, name).await, ServingStatus::NotServing);
    }
    assert_eq!(
        status(&mut health, "liveness").await,
        ServingStatus::Serving,
        "liveness must not follow the database"
    );
    let api = Dids::new(&app);
    // Readiness already knows: the call fails at once rather than after
    // the pool's acquire timeout (5 s), which a caller with a shorter
    // deadline would see as DEADLINE_EXCEEDED.
    let started = std::time::Instant::now();
    let refused = api
        .create(&Identity::admin(), &Dids::value(1), "MA", None, 0)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "UNAVAILABLE took {:?}",
        started.elapsed()
    );

    proxy.restore();

    assert_eq!(next_change().await, ServingStatus::Serving, "{engine:?}");
    assert_eq!(
        status(&mut health, "numbering.v1.DidService").await,
        ServingStatus::Serving
    );
    api.seed(1, "MA").await;
    api.get(&Identity::admin(), &api.seed(2, "MA").await.id)
        .await
        .expect("reads and writes work again");
    drop(changes); // an open Watch would hold the shutdown for its grace
    app.stop().await;
}

/// A server reaching its database through a proxy the test cuts, whose
/// readiness ticks only every hour (checks take 500 ms at most), if the
/// engine has a server.
async fn behind_a_proxy_never_checked(engine: Engine) -> Option<(Proxy, TestApp)> {
    let target = server_address(engine)?;
    let proxy = Proxy::start(target).await;
    let app = TestApp::spawn_with(engine, |settings| {
        settings.database_url = url_via(&settings.database_url, proxy.address);
        settings.health.interval = Duration::from_secs(3600);
        settings.health.timeout = Duration::from_millis(500);
    })
    .await;
    Some((proxy, app))
}

/// Before readiness has noticed an outage, a call still waits no longer
/// than its own deadline for a connection.
async fn a_call_waits_for_the_database_no_longer_than_its_deadline(engine: Engine) {
    use crate::resources::ListParams;
    let Some((proxy, app)) = behind_a_proxy_never_checked(engine).await else {
        return;
    };
    let api = Dids::new(&app);
    api.seed(1, "MA").await;

    proxy.cut();
    let started = std::time::Instant::now();
    let waited = api
        .list(
            &Identity::admin(),
            ListParams {
                deadline: Some(Duration::from_millis(300)),
                ..ListParams::default()
            },
        )
        .await
        .unwrap_err();

    assert_eq!(
        waited.code(),
        tonic::Code::DeadlineExceeded,
        "{engine:?}: {waited:?}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{engine:?}: waited {:?}",
        started.elapsed()
    );
    proxy.restore();
    app.stop().await;
}

/// The first call that cannot reach the database makes readiness check at
/// once, not at its next tick (an hour away here): then calls answer
/// UNAVAILABLE at once, and readiness says NOT_SERVING.
async fn a_call_that_finds_the_database_gone_makes_readiness_check_at_once(engine: Engine) {
    let Some((proxy, app)) = behind_a_proxy_never_checked(engine).await else {
        return;
    };
    let api = Dids::new(&app);
    let item = api.seed(1, "MA").await;
    let mut health = HealthClient::new(app.channel.clone());

    proxy.cut();
    let first = api.get(&Identity::admin(), &item.id).await.unwrap_err();
    assert_eq!(
        first.code(),
        tonic::Code::Unavailable,
        "{engine:?}: {first:?}"
    );
    tokio::time::timeout(Duration::from_secs(3), async {
        while status(&mut health, "").await != ServingStatus::NotServing {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("readiness checks after the failed call");
    let started = std::time::Instant::now();
    let next = api.get(&Identity::admin(), &item.id).await.unwrap_err();
    assert_eq!(
        next.code(),
        tonic::Code::Unavailable,
        "{engine:?}: {next:?}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    proxy.restore();
    app.stop().await;
}

crate::for_every_engine!(
    a_call_that_finds_the_database_gone_makes_readiness_check_at_once,
    readiness_follows_the_database_and_liveness_does_not,
    a_call_waits_for_the_database_no_longer_than_its_deadline,
);
