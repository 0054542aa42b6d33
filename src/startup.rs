//! The application: database, migrations, the gRPC server with health and
//! reflection, and a graceful shutdown.

use crate::auth::jwt::{Claims, KeyError, Verifier, mint};
use crate::auth::{Authenticator, Role};
use crate::budget::StreamBudget;
use crate::config::{
    AuthMode, ChangeSettings, HealthSettings, JwtSettings, Settings, StreamSettings, TlsSettings,
    TransportSettings,
};
use crate::domain::UserId;
use crate::edge::{ConnectionLimits, GuardLayer};
use crate::grpc::{DidApi, SenderIdApi};
use crate::health::Health;
use crate::metrics::Metrics;
use crate::service::Service;
use crate::store::Store;
use crate::telemetry::RpcLayer;
use sea_orm::DbErr;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("database: {0}")]
    Database(#[from] DbErr),
    #[error("cannot listen: {0}")]
    Listen(#[from] std::io::Error),
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("JWT keys: {0}")]
    JwtKeys(#[from] KeyError),
    #[error("token: {0}")]
    Token(#[from] crate::auth::TokenError),
    #[error("TLS: {0}")]
    Tls(String),
}

pub struct Application {
    listener: TcpListener,
    store: Store,
    authenticator: Authenticator,
    bootstrap_token: Option<String>,
    tls: Option<ServerTlsConfig>,
    shutdown_grace: Duration,
    health: HealthSettings,
    transport: TransportSettings,
    streams: StreamSettings,
    changes: ChangeSettings,
    metrics_listener: Option<TcpListener>,
}

impl Application {
    /// Connects to the database, applies migrations and binds the port.
    pub async fn build(settings: &Settings) -> Result<Self, StartupError> {
        let (authenticator, bootstrap_token) = authenticator(settings.auth, &settings.jwt)?;
        let tls = tls(&settings.tls, settings.transport.handshake_timeout)?;
        let store = Store::connect(
            &settings.database_url,
            settings.database_max_connections,
            settings.slow_statement,
        )
        .await?;
        store.migrate().await?;
        let listener = TcpListener::bind(settings.listen).await?;
        let metrics_listener = match settings.metrics_listen.0 {
            Some(address) => Some(TcpListener::bind(address).await?),
            None => None,
        };
        Ok(Self {
            listener,
            store,
            authenticator,
            bootstrap_token,
            tls,
            shutdown_grace: settings.shutdown_grace,
            health: settings.health.clone(),
            transport: settings.transport.clone(),
            streams: settings.streams.clone(),
            changes: settings.changes.clone(),
            metrics_listener,
        })
    }

    /// The admin token made at a first run without JWT keys.
    pub fn bootstrap_token(&self) -> Option<&str> {
        self.bootstrap_token.as_deref()
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The address of the metrics endpoint, unless it is off.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|listener| listener.local_addr().ok())
    }

    /// Serves until SIGTERM or Ctrl-C.
    pub async fn run_until_stopped(self) -> Result<(), StartupError> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` completes: then reports NOT_SERVING, stops
    /// accepting, lets in-flight calls finish for the grace period, cuts off
    /// what is still open, and closes the pool. Metrics are served until the
    /// end.
    pub async fn run_until(
        self,
        stop: impl Future<Output = ()> + Send,
    ) -> Result<(), StartupError> {
        let Self {
            listener,
            store,
            authenticator: authenticate,
            bootstrap_token,
            tls,
            shutdown_grace,
            health: health_settings,
            transport,
            streams,
            changes,
            metrics_listener,
        } = self;
        let metrics = Arc::new(Metrics::new());
        let metrics_server = metrics_listener.map(|listener| {
            if let Ok(address) = listener.local_addr() {
                tracing::info!(%address, "metrics at /metrics");
            }
            tokio::spawn(crate::metrics::serve(
                listener,
                metrics.clone(),
                store.clone(),
            ))
        });
        let max_message = transport.max_message_size as usize;
        let (health, health_service) = Health::new().await;
        use tonic::codec::CompressionEncoding::Gzip;
        let health_service = health_service
            .max_decoding_message_size(max_message)
            .accept_compressed(Gzip)
            .send_compressed(Gzip);
        let (stop_readiness, readiness_stopped) = tokio::sync::oneshot::channel();
        let readiness = tokio::spawn(health.clone().follow_database(
            store.clone(),
            health_settings,
            metrics.database_up.clone(),
            readiness_stopped,
        ));

        let reflection_v1 = reflection()
            .build_v1()?
            .max_decoding_message_size(max_message)
            .accept_compressed(Gzip)
            .send_compressed(Gzip);
        let reflection_v1alpha = reflection()
            .build_v1alpha()?
            .max_decoding_message_size(max_message)
            .accept_compressed(Gzip)
            .send_compressed(Gzip);

        if let Some(token) = bootstrap_token {
            announce_bootstrap_token(&token);
        }
        let budget = StreamBudget::new(&streams, store.pool_stats().max);
        let watches = StreamBudget::for_watches(&streams, &changes);
        let dids = DidApi::new(
            Service::new(
                store.clone(),
                budget.clone(),
                watches.clone(),
                changes.clone(),
            ),
            metrics.streams.clone(),
            metrics.watches.clone(),
        );
        let sender_ids = SenderIdApi::new(
            Service::new(store.clone(), budget, watches, changes.clone()),
            metrics.streams.clone(),
            metrics.watches.clone(),
        );
        let (stop_following, following_stopped) = tokio::sync::oneshot::channel();
        let following = tokio::spawn(crate::store::follow_changes(
            store.clone(),
            following_stopped,
        ));
        let expiring = tokio::spawn(crate::background::expire_holds(
            store.clone(),
            changes.hold_sweep,
        ));
        let purging = tokio::spawn(crate::background::purge_history(store.clone(), changes));

        let address = listener.local_addr()?;
        let incoming = crate::edge::incoming(
            listener,
            ConnectionLimits {
                max_connections: transport.max_connections as usize,
                max_per_peer: transport.max_connections_per_peer as usize,
                max_half_open_per_peer: transport.max_half_open_per_peer as usize,
                handshake_timeout: transport.handshake_timeout,
                idle_timeout: transport.idle_timeout,
                send_timeout: transport.send_timeout,
            },
        );
        let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
        let shutdown = async move {
            stop.await;
            tracing::info!(grace = ?shutdown_grace, "shutting down: finishing in-flight calls");
            // Not ready from now on, whatever the database says; liveness
            // stays, so that the drain is not cut short by a restart.
            let _ = stop_readiness.send(());
            let _ = readiness.await;
            health.set_ready(false).await;
            let _ = stopping.send(());
        };
        let mut builder = Server::builder()
            .max_concurrent_streams(transport.max_concurrent_streams)
            // HTTP/2's own bound, well above the metadata limit the guard
            // enforces with a gRPC status: hyper answers a header list over
            // its bound with HTTP 431 (UNKNOWN to clients), and one far
            // over it with a GOAWAY that ends every call on the connection.
            .http2_max_header_list_size(HEADER_LIST_BOUND)
            .http2_keepalive_interval(Some(transport.keepalive_interval))
            .http2_keepalive_timeout(Some(transport.keepalive_timeout));
        if let Some(tls) = tls {
            builder = builder.tls_config(tls)?;
        }
        let server = builder
            .layer(RpcLayer::new(metrics.rpc.clone()))
            .layer(GuardLayer::new(&transport, authenticate))
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(dids.into_server().max_decoding_message_size(max_message))
            .add_service(
                sender_ids
                    .into_server()
                    .max_decoding_message_size(max_message),
            )
            .serve_with_incoming_shutdown(incoming, shutdown);

        tracing::info!(%address, backend = ?store.backend(), "numbering is serving");
        // tonic waits for open streams forever once stopping; the grace
        // period bounds that wait.
        let grace_over = async {
            if stopped.await.is_ok() {
                tokio::time::sleep(shutdown_grace).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            served = server => served?,
            () = grace_over => tracing::warn!("grace period over: closing the calls still open"),
        }
        let _ = stop_following.send(());
        following.abort();
        purging.abort();
        expiring.abort();
        store.close().await?;
        if let Some(server) = metrics_server {
            server.abort();
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// Reflection over the numbering and health protos, and over the
/// `google.rpc` error details so that grpcurl prints them decoded. (grpcurl
/// before 1.8.8 speaks only v1alpha, newer clients v1.)
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
}

/// The authenticator for `mode`, and in JWT mode without keys, an admin token
/// for the ephemeral secret made up for this run.
fn authenticator(
    mode: AuthMode,
    jwt: &JwtSettings,
) -> Result<(Authenticator, Option<String>), StartupError> {
    if mode == AuthMode::TrustedHeaders {
        tracing::warn!(
            "--auth trusted-headers: every caller is whoever its x-user-id, x-role and \
             x-organization-id metadata say; run this only behind a gateway that sets them"
        );
        return Ok((Authenticator::TrustedHeaders, None));
    }
    let (verifier, bootstrap) = match (&jwt.keys, &jwt.secret) {
        (Some(path), _) => (Verifier::from_key_file(path)?, None),
        (None, Some(secret)) => (Verifier::from_secret(secret.as_bytes()), None),
        (None, None) => {
            let secret = ephemeral_secret();
            let mut claims = Claims::new(
                UserId::from(uuid::Uuid::now_v7()),
                Role::Admin,
                None,
                BOOTSTRAP_TTL,
            );
            claims.iss = jwt.issuer.clone();
            claims.aud = jwt.audience.clone().map(Into::into);
            (Verifier::from_secret(&secret), Some(mint(&secret, &claims)))
        }
    };
    let verifier = verifier
        .with_issuer(jwt.issuer.clone())
        .with_audience(jwt.audience.clone());
    Ok((Authenticator::Jwt(std::sync::Arc::new(verifier)), bootstrap))
}

/// The server's TLS configuration, if a certificate is set.
fn tls(
    settings: &TlsSettings,
    handshake_timeout: Duration,
) -> Result<Option<ServerTlsConfig>, StartupError> {
    let (Some(cert), Some(key)) = (&settings.cert, &settings.key) else {
        return Ok(None);
    };
    let read = |path: &std::path::Path| {
        std::fs::read(path)
            .map_err(|e| StartupError::Tls(format!("cannot read {}: {e}", path.display())))
    };
    let mut config = ServerTlsConfig::new()
        .identity(Identity::from_pem(read(cert)?, read(key)?))
        .timeout(handshake_timeout);
    if let Some(ca) = &settings.client_ca {
        config = config.client_ca_root(Certificate::from_pem(read(ca)?));
    }
    Ok(Some(config))
}

/// The largest header list HTTP/2 itself decodes (see `run_until`).
const HEADER_LIST_BOUND: u32 = 128 * 1024;

const BOOTSTRAP_TTL: Duration = Duration::from_secs(24 * 3600);

fn ephemeral_secret() -> Vec<u8> {
    let mut secret = vec![0; 32];
    getrandom::fill(&mut secret).expect("the operating system provides randomness");
    secret
}

fn announce_bootstrap_token(token: &str) {
    tracing::warn!(
        "no --jwt-secret or --jwt-keys: using an ephemeral secret, so tokens die with this \
         process. An admin token for this run is printed on stdout. To mint others, start with \
         NUMBERING_JWT_SECRET set and run `numbering token --role reseller --org <uuid>`."
    );
    println!("export NUMBERING_TOKEN={token}");
}

/// Completes on SIGTERM (how Kubernetes stops a pod) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
