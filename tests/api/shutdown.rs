//! Graceful shutdown: calls in flight finish, new ones are refused.

use crate::helpers::{Engine, Identity, TestApp};
use crate::resources::{Dids, ListParams, Resource, Samples};
use tonic::transport::Channel;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_in_flight_completes_and_later_calls_are_refused() {
    let mut app = TestApp::spawn(Engine::Sqlite).await;
    let api = Dids::new(&app);
    for n in 1..=3 {
        api.seed(n, "MA").await;
    }
    let every_page = ListParams {
        limit: 1,
        all_pages: true,
        sort_by: 1,
        sort_order: 1,
        ..ListParams::default()
    };
    let mut stream = api
        .list_stream(&Identity::admin(), every_page)
        .await
        .unwrap();
    let first = stream.next_page().await.unwrap().unwrap();
    let address = app.address;

    app.begin_shutdown();

    let rest = stream
        .collect()
        .await
        .expect("the stream in flight completes");
    let pages: Vec<_> = std::iter::once(first)
        .chain(rest)
        .map(|page| page.data[0].value.clone())
        .collect();
    assert_eq!(pages, (1..=3).map(Dids::value).collect::<Vec<_>>());
    app.stop().await;
    let refused = Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await;
    assert!(
        refused.is_err(),
        "a new connection was accepted after shutdown"
    );
}
