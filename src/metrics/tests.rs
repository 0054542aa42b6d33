//! What the metrics endpoint renders.

use super::*;

#[test]
fn served_paths_get_their_own_labels_and_others_share_one() {
    let metrics = Metrics::new();
    let create = metrics.rpc.labels("/numbering.v1.DidService/CreateDid");
    assert_eq!(&*create.grpc_service, "numbering.v1.DidService");
    assert_eq!(&*create.grpc_method, "CreateDid");
    let health = metrics.rpc.labels("/grpc.health.v1.Health/Watch");
    assert_eq!(&*health.grpc_method, "Watch");
    for junk in ["/numbering.v1.DidService/Nope", "/x/y", "", "/"] {
        assert_eq!(&*metrics.rpc.labels(junk).grpc_method, "unknown", "{junk}");
    }
}

#[test]
fn a_finished_call_is_counted_by_code_and_leaves_flight() {
    let metrics = Metrics::new();
    let labels = metrics.rpc.labels("/numbering.v1.DidService/GetDid");
    metrics.rpc.started(&labels);
    metrics.rpc.finished(&labels, tonic::Code::NotFound, 0.002);
    let text = metrics.render(PoolStats {
        open: 3,
        idle: 1,
        max: 10,
    });
    for line in [
        r#"grpc_server_handled_total{grpc_service="numbering.v1.DidService",grpc_method="GetDid",grpc_code="NOT_FOUND"} 1"#,
        r#"grpc_server_in_flight{grpc_service="numbering.v1.DidService",grpc_method="GetDid"} 0"#,
        r#"grpc_server_handling_seconds_count{grpc_service="numbering.v1.DidService",grpc_method="GetDid"} 1"#,
        r#"numbering_db_pool_connections{state="in_use"} 2"#,
        r#"numbering_db_pool_max_connections 10"#,
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} missing from\n{text}"
        );
    }
}
