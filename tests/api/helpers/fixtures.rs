//! Callers with real metadata, and data to call with.

use tonic::Request;
use tonic::transport::Channel;
use uuid::Uuid;

/// A caller, as the trusted headers name it.
#[derive(Debug, Clone)]
pub struct Identity {
    pub user_id: Uuid,
    pub role: &'static str,
    pub organization_id: Option<Uuid>,
}

impl Identity {
    pub fn admin() -> Self {
        Self {
            user_id: Uuid::now_v7(),
            role: "admin",
            organization_id: None,
        }
    }

    pub fn accountant() -> Self {
        Self {
            user_id: Uuid::now_v7(),
            role: "accountant",
            organization_id: None,
        }
    }

    pub fn reseller(organization_id: Uuid) -> Self {
        Self {
            user_id: Uuid::now_v7(),
            role: "reseller",
            organization_id: Some(organization_id),
        }
    }

    pub fn request<T>(&self, message: T) -> Request<T> {
        let mut request = Request::new(message);
        let metadata = request.metadata_mut();
        metadata.insert("x-user-id", self.user_id.to_string().parse().unwrap());
        metadata.insert("x-role", self.role.parse().unwrap());
        if let Some(organization) = self.organization_id {
            metadata.insert(
                "x-organization-id",
                organization.to_string().parse().unwrap(),
            );
        }
        request
    }
}

/// A new organization id.
pub fn organization() -> Uuid {
    Uuid::now_v7()
}

/// A channel to `address` with HTTP/2 stream windows of 64 KiB. hyper's
/// default (megabytes) lets a server send a whole list ahead into buffers;
/// with this, a large stream stays in flight while the client reads slowly.
/// The connection window stays large, so other calls on it go on.
pub fn narrow_channel(address: std::net::SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .initial_stream_window_size(65_535)
        .connect_lazy()
}

/// A connection of its own to `address` with HTTP/2 windows of 16 KiB,
/// stream and connection: the messages a test does not read fill them at
/// once (a client's defaults hold megabytes).
pub async fn tiny_window_channel(address: std::net::SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{address}"))
        .unwrap()
        .initial_stream_window_size(Some(16 * 1024))
        .initial_connection_window_size(Some(16 * 1024))
        .connect()
        .await
        .unwrap()
}

/// DIDs of values `0..count` with 500-character descriptions, created four
/// at a time: a list of 1000 of them is larger than what HTTP/2 buffers.
pub async fn seed_bulky_dids(channel: Channel, count: u32) {
    use crate::resources::Samples;
    use numbering::proto::v1::CreateDidRequest;
    use numbering::proto::v1::did_service_client::DidServiceClient;
    let seeders = (0..4).map(|worker| {
        let mut dids = DidServiceClient::new(channel.clone());
        tokio::spawn(async move {
            for n in (worker..count).step_by(4) {
                dids.create_did(Identity::admin().request(CreateDidRequest {
                    number: crate::resources::Dids::value(n),
                    country: "MA".into(),
                    description: Some("d".repeat(500)),
                    ..CreateDidRequest::default()
                }))
                .await
                .expect("a bulky DID is created");
            }
        })
    });
    for seeder in futures::future::join_all(seeders).await {
        seeder.unwrap();
    }
}
