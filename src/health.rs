//! gRPC health. Readiness (`""` and each service) follows the database: a
//! background check flips it to NOT_SERVING while the database does not
//! answer, and back when it does. `liveness` reports only that the process
//! answers: restarting a pod does not bring a database back.

use crate::config::HealthSettings;
use crate::grpc::{DidApi, SenderIdApi};
use crate::proto::v1::did_service_server::DidServiceServer;
use crate::proto::v1::sender_id_service_server::SenderIdServiceServer;
use crate::store::Store;
use futures::{Stream, StreamExt};
use prometheus_client::metrics::gauge::Gauge;
use std::pin::Pin;
use tonic::server::NamedService;
use tonic::{Code, Request, Response, Status};
use tonic_health::ServingStatus;
use tonic_health::pb::health_check_response::ServingStatus as WireStatus;
use tonic_health::pb::health_server::{Health as HealthRpc, HealthServer};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use tonic_health::server::{HealthReporter, HealthService};

/// Health name that reports only that the process answers (liveness).
pub const LIVENESS: &str = "liveness";
/// Health names that report readiness: the server, then each service under
/// its generated name.
pub const READINESS: [&str; 3] = [
    "",
    <DidServiceServer<DidApi> as NamedService>::NAME,
    <SenderIdServiceServer<SenderIdApi> as NamedService>::NAME,
];

/// What the health service reports.
#[derive(Debug, Clone)]
pub struct Health {
    reporter: HealthReporter,
}

impl Health {
    /// Health reporting ready and live, and the gRPC service that serves it.
    pub async fn new() -> (Self, HealthServer<HealthApi>) {
        let reporter = HealthReporter::new();
        reporter
            .set_service_status(LIVENESS, ServingStatus::Serving)
            .await;
        let service = HealthApi(HealthService::from_health_reporter(reporter.clone()));
        let health = Self { reporter };
        health.set_ready(true).await;
        (health, HealthServer::new(service))
    }

    pub async fn set_ready(&self, ready: bool) {
        let status = if ready {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        for name in READINESS {
            self.reporter.set_service_status(name, status).await;
        }
    }

    /// Checks the database every `settings.interval` and reports what it
    /// finds, until `stop` fires. It stops between checks, not inside one:
    /// a database call dropped halfway spoils its pooled connection.
    pub async fn follow_database(
        self,
        store: Store,
        settings: HealthSettings,
        up: Gauge,
        stop: tokio::sync::oneshot::Receiver<()>,
    ) {
        let mut ticks = tokio::time::interval(settings.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut state = Readiness::Ready;
        up.set(1);
        let mut stop = std::pin::pin!(stop);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                () = store.recheck_requested() => {}
                _ = &mut stop => return,
            }
            let outcome = match tokio::time::timeout(settings.timeout, store.ping()).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(error)) => Err(error.to_string()),
                Err(_) => Err(format!("no answer within {:?}", settings.timeout)),
            };
            // A call may have reported the database gone before this check
            // found it back (or never gone): what the check finds stands.
            store.set_up(outcome.is_ok());
            if let Some(next) = state.after(&outcome) {
                match &outcome {
                    Ok(()) => tracing::info!("database answers again: ready"),
                    Err(error) => tracing::warn!(%error, "database unreachable: not ready"),
                }
                self.set_ready(next == Readiness::Ready).await;
                up.set(i64::from(next == Readiness::Ready));
                state = next;
            }
        }
    }
}

/// tonic-health's service, but for `Watch` of a name it does not know,
/// which the health protocol answers with SERVICE_UNKNOWN on a call that
/// stays open (tonic-health ends it NOT_FOUND). Our names are fixed at
/// start, so an unknown one stays unknown: the call then waits for its
/// client to leave.
pub struct HealthApi(HealthService);

type Statuses = Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send>>;

#[tonic::async_trait]
impl HealthRpc for HealthApi {
    type WatchStream = Statuses;

    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        self.0.check(request).await
    }

    async fn watch(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        match self.0.watch(request).await {
            Ok(statuses) => Ok(Response::new(Box::pin(statuses.into_inner()))),
            Err(status) if status.code() == Code::NotFound => {
                let unknown = HealthCheckResponse {
                    status: WireStatus::ServiceUnknown as i32,
                };
                let statuses = futures::stream::once(async move { Ok(unknown) })
                    .chain(futures::stream::pending());
                Ok(Response::new(Box::pin(statuses)))
            }
            Err(status) => Err(status),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Readiness {
    Ready,
    NotReady,
}

impl Readiness {
    /// The new state after a check, if it changed.
    fn after<E>(self, check: &Result<(), E>) -> Option<Self> {
        let next = match check {
            Ok(()) => Self::Ready,
            Err(_) => Self::NotReady,
        };
        (next != self).then_some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_changes_only_when_the_check_does() {
        let failed: Result<(), ()> = Err(());
        assert_eq!(Readiness::Ready.after(&Ok::<(), ()>(())), None);
        assert_eq!(Readiness::Ready.after(&failed), Some(Readiness::NotReady));
        assert_eq!(Readiness::NotReady.after(&failed), None);
        assert_eq!(
            Readiness::NotReady.after(&Ok::<(), ()>(())),
            Some(Readiness::Ready)
        );
    }
}
