//! `Import…`: batches of rows in, one answer per batch out, row by row;
//! atomic batches write all or nothing; every created item is in the
//! history and reaches watchers.

use crate::assertions::{expect_error, expect_invalid};
use crate::helpers::{Engine, Identity, TestApp, organization};
use crate::resources::{Dids, ImportRow, ListParams, Resource, Samples, WatchParams};
use futures::StreamExt;
use numbering::proto::v1 as pb;
use numbering::proto::v1::ImportRowResult;
use numbering::proto::v1::did_service_client::DidServiceClient;
use numbering::proto::v1::import_row_result::Result as Outcome;
use std::time::Duration;
use tonic::Code;

/// A row's id, or its error's (code, reason, field).
type Row = Result<String, (String, String, String)>;

/// Each row's index and outcome.
fn outcomes(answer: &[ImportRowResult]) -> Vec<(u64, Row)> {
    answer
        .iter()
        .map(|row| {
            let outcome = match row.result.clone().expect("a result") {
                Outcome::Id(id) => Ok(id),
                Outcome::Error(error) => Err((error.code, error.reason, error.field)),
            };
            (row.index, outcome)
        })
        .collect()
}

fn refused(code: &str, reason: &str, field: &str) -> Row {
    Err((code.into(), reason.into(), field.into()))
}

pub async fn an_import_reports_every_row_and_writes_atomic_batches_whole<R: Resource>(
    app: &TestApp,
) {
    let api = R::new(app);
    let admin = Identity::admin();
    let existing = api
        .create(&admin, &R::value(1), "MA", None, 0)
        .await
        .unwrap();
    let before = api.list(&admin, ListParams::default()).await.unwrap()[0].revision;
    let row = |n: u32| ImportRow::new(&R::value(n), "MA");
    let named = ImportRow {
        request_id: uuid::Uuid::new_v4().to_string(),
        ..row(9)
    };
    let described = ImportRow {
        description: Some("from the carrier".into()),
        status: 3,
        ..row(7)
    };
    let batches = vec![
        (
            vec![
                row(2),
                row(1),
                ImportRow::new(&R::invalid_values()[0], "MA"),
                row(3),
                ImportRow::new(&R::same_value_spelled_otherwise(&R::value(3)), "MA"),
                ImportRow::new(&R::value(8), "ZZ"),
                named.clone(),
                described,
            ],
            false,
        ),
        (vec![row(4), row(2)], true),
        (vec![row(5), row(6)], true),
        // A row retried under its request_id: the item it created, not
        // "taken"; the same request_id with another row is refused.
        (
            vec![
                named.clone(),
                ImportRow {
                    request_id: named.request_id.clone(),
                    ..row(10)
                },
            ],
            false,
        ),
    ];
    let answers = api.import(&admin, batches).await.unwrap();
    assert_eq!(answers.len(), 4, "one answer per message");

    let first = outcomes(&answers[0]);
    let indexes: Vec<u64> = first.iter().map(|(index, _)| *index).collect();
    assert_eq!(indexes, (0..8).collect::<Vec<_>>());
    assert!(
        first[0].1.is_ok() && first[3].1.is_ok() && first[7].1.is_ok(),
        "{first:?}"
    );
    let taken = refused("ALREADY_EXISTS", R::TAKEN_REASON, R::VALUE_FIELD);
    assert_eq!(first[1].1, taken, "taken by a live item");
    assert_eq!(
        first[2].1,
        refused("INVALID_ARGUMENT", "INVALID_FIELD", R::VALUE_FIELD)
    );
    assert_eq!(first[4].1, taken, "twice in one batch");
    assert_eq!(
        first[5].1,
        refused("INVALID_ARGUMENT", "INVALID_FIELD", "country")
    );
    assert!(first[6].1.is_ok(), "a row with a request_id");

    let second = outcomes(&answers[1]);
    assert_eq!(
        second,
        [
            (8, refused("ABORTED", "BATCH_ABORTED", "")),
            (9, taken.clone()),
        ]
    );
    let third = outcomes(&answers[2]);
    assert_eq!(third.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [10, 11]);
    assert!(third.iter().all(|(_, outcome)| outcome.is_ok()));

    let fourth = outcomes(&answers[3]);
    assert_eq!(fourth[0].1, first[6].1, "the first answer again");
    assert_eq!(
        fourth[1].1,
        refused("INVALID_ARGUMENT", "REQUEST_ID_REUSED", "request_id")
    );

    // What was written: the existing item and six rows (row 4 was not).
    let listed = api.list(&admin, ListParams::default()).await.unwrap();
    assert_eq!(listed[0].meta.total, 7);
    let Ok(id) = first[7].1.clone() else {
        unreachable!()
    };
    let item = api.get(&admin, &id).await.unwrap();
    assert_eq!(
        (item.description.as_deref(), item.status, item.created_by),
        (Some("from the carrier"), 3, Some(admin.user_id.to_string()))
    );
    let history = api.history(&admin, &id, 0, 0, false).await.unwrap();
    assert_eq!(history[0].data[0].change_type, 1);
    assert_ne!(existing.id, id);

    // Watchers get every created item, in revision order.
    let params = WatchParams {
        start_revision: before,
        ..WatchParams::default()
    };
    let mut watch = api.watch(&admin, params).await.unwrap();
    let mut added = Vec::new();
    while added.len() < 6 {
        let message = watch.within(Duration::from_secs(5)).await.unwrap();
        added.extend(message.events.into_iter().map(|event| event.item.id));
    }
    let mut expected: Vec<String> = [
        &first[0].1,
        &first[3].1,
        &first[6].1,
        &first[7].1,
        &third[0].1,
        &third[1].1,
    ]
    .into_iter()
    .map(|outcome| outcome.clone().unwrap())
    .collect();
    expected.sort();
    added.sort();
    assert_eq!(added, expected);
}

pub async fn imports_are_for_admins_and_batches_are_bounded<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let rows = || vec![(vec![ImportRow::new(&R::value(1), "MA")], false)];
    for who in [Identity::accountant(), Identity::reseller(organization())] {
        expect_error(
            api.import(&who, rows()).await,
            Code::PermissionDenied,
            "ROLE_FORBIDDEN",
        );
    }
    let too_many = (0..1001)
        .map(|n| ImportRow::new(&R::value(n), "MA"))
        .collect();
    expect_invalid(
        api.import(&Identity::admin(), vec![(too_many, false)])
            .await,
        "rows",
    );
    let listed = api
        .list(&Identity::admin(), ListParams::default())
        .await
        .unwrap();
    assert_eq!(listed[0].meta.total, 0);
    // An empty message gets an empty answer; the stream goes on.
    let answers = api
        .import(
            &Identity::admin(),
            vec![(Vec::new(), true), rows().remove(0)],
        )
        .await
        .unwrap();
    assert_eq!((answers[0].len(), answers[1].len()), (0, 1));
    assert_eq!(answers[1][0].index, 0);
}

/// An import of endless batches of 100 DIDs, over a channel with tiny
/// windows, whose answers the caller reads only if it wants.
async fn endless_import(app: &TestApp) -> tonic::Streaming<pb::ImportDidsResponse> {
    let channel = crate::helpers::tiny_window_channel(app.address).await;
    let batches = futures::stream::iter(0u32..).map(|batch| pb::ImportDidsRequest {
        rows: (0..100)
            .map(|row| pb::CreateDidRequest {
                number: Dids::value(batch * 100 + row),
                country: "MA".into(),
                ..Default::default()
            })
            .collect(),
        atomic: false,
    });
    DidServiceClient::new(channel)
        .import_dids(Identity::admin().request(batches))
        .await
        .unwrap()
        .into_inner()
}

/// A client that sends batches and never reads the answers: once the
/// answers it does not take fill its windows, the server stops reading its
/// batches and, after the stall timeout, ends the import; what it wrote
/// stays written, and nothing more is.
async fn an_importer_that_never_reads_its_answers_is_cut_off(engine: Engine) {
    let app = TestApp::spawn_with(engine, |settings| {
        settings.streams.stream_stall_timeout = Duration::from_millis(500);
    })
    .await;
    let mut replies = endless_import(&app).await;
    let api = Dids::new(&app);
    let total = || async {
        api.list(&Identity::admin(), ListParams::default())
            .await
            .unwrap()[0]
            .meta
            .total
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    let written = total().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(total().await, written, "no writes once cut off");
    assert!(written > 0 && written < 10_000, "{written}");
    let ended = loop {
        match replies.message().await {
            Ok(Some(_)) => {}
            ended => break ended,
        }
    };
    let status = ended.expect_err("the import ends in an error");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    // Its place in the stream budget is free again.
    let rows = vec![ImportRow::new(&Dids::value(99_999), "MA")];
    assert!(
        api.import(&Identity::admin(), vec![(rows, false)])
            .await
            .is_ok()
    );
    app.stop().await;
}

/// The server ends an import whose client never reads, though no status
/// can reach it: past the send timeout its connection is closed, so the
/// call is over on both sides instead of open until the client leaves.
#[tokio::test]
async fn an_import_never_read_is_ended_by_the_server() {
    let app = TestApp::spawn_with(Engine::Sqlite, |settings| {
        settings.streams.stream_stall_timeout = Duration::from_millis(500);
        settings.transport.send_timeout = Duration::from_secs(1);
        settings.metrics_listen =
            numbering::config::OptionalListen(Some("127.0.0.1:0".parse().unwrap()));
    })
    .await;
    let mut replies = endless_import(&app).await;
    // Never read: the server ends the call by itself (its metrics count
    // it as handled, the client having gone), before the client reads.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let text = crate::observability::scrape(app.metrics.unwrap()).await;
    let ended = r#"grpc_server_handled_total{grpc_service="numbering.v1.DidService",grpc_method="ImportDids",grpc_code="CANCELLED"}"#;
    assert_eq!(
        crate::observability::sample(&text, ended),
        Some(1.0),
        "{text}"
    );
    let ended = tokio::time::timeout(Duration::from_millis(500), async {
        loop {
            match replies.message().await {
                Ok(Some(_)) => {}
                ended => break ended,
            }
        }
    })
    .await
    .expect("the call was already over");
    assert!(ended.is_err(), "{ended:?}");
    app.stop().await;
}

/// The same import, each row under its own `request_id`, sent by several
/// clients at once, again and again: every client gets the ids of the one
/// that wrote the rows, never "taken", and each row is written once.
pub async fn concurrent_retries_of_an_import_answer_as_the_first<R: Resource>(app: &TestApp) {
    let api = R::new(app);
    let admin = Identity::admin();
    const CLIENTS: usize = 6;
    for round in 0..8u32 {
        let rows: Vec<ImportRow> = (0..20)
            .map(|n| ImportRow {
                request_id: uuid::Uuid::new_v4().to_string(),
                ..ImportRow::new(&R::value(round * 100 + n), "MA")
            })
            .collect();
        let imports = (0..CLIENTS).map(|_| {
            let (api, admin, rows) = (api.clone(), admin.clone(), rows.clone());
            tokio::spawn(async move { api.import(&admin, vec![(rows, false)]).await })
        });
        let answers: Vec<Vec<(u64, Row)>> = futures::future::join_all(imports)
            .await
            .into_iter()
            .map(|answer| outcomes(&answer.unwrap().unwrap()[0]))
            .collect();
        for answer in &answers {
            assert!(
                answer.iter().all(|(_, row)| row.is_ok()),
                "round {round}: {answer:?}"
            );
            assert_eq!(answer, &answers[0], "round {round}");
        }
    }
    let pages = api.list(&admin, ListParams::default()).await.unwrap();
    assert_eq!(pages[0].meta.total, 8 * 20);
}

crate::for_every_engine!(an_importer_that_never_reads_its_answers_is_cut_off);

crate::for_both_resources!(
    an_import_reports_every_row_and_writes_atomic_batches_whole,
    imports_are_for_admins_and_batches_are_bounded,
    concurrent_retries_of_an_import_answer_as_the_first,
);
