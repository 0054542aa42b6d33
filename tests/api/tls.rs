//! TLS and mutual TLS, with certificates made in the test.

use crate::helpers::{Engine, Identity, TestApp};
use numbering::proto::v1 as pb;
use numbering::proto::v1::did_service_client::DidServiceClient;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use std::path::PathBuf;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity as TlsIdentity};

struct Authority {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Authority {
    fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        Self {
            issuer: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap(),
        }
    }

    /// A leaf certificate and its key, both PEM.
    fn leaf(&self, names: &[&str]) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }
}

struct Files(Vec<PathBuf>);

impl Files {
    fn write(&mut self, contents: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("numbering-tls-{}.pem", uuid::Uuid::now_v7()));
        std::fs::write(&path, contents).unwrap();
        self.0.push(path.clone());
        path
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        for path in &self.0 {
            std::fs::remove_file(path).ok();
        }
    }
}

async fn server(
    authority: &Authority,
    client_ca: Option<&Authority>,
    files: &mut Files,
) -> TestApp {
    let (cert, key) = authority.leaf(&["localhost"]);
    let (cert, key) = (files.write(&cert), files.write(&key));
    let client_ca = client_ca.map(|ca| files.write(&ca.pem()));
    TestApp::spawn_with(Engine::Sqlite, |settings| {
        settings.tls.cert = Some(cert);
        settings.tls.key = Some(key);
        settings.tls.client_ca = client_ca;
    })
    .await
}

async fn channel(
    app: &TestApp,
    trusted: &Authority,
    client: Option<(String, String)>,
) -> Result<Channel, tonic::transport::Error> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(trusted.pem()))
        .domain_name("localhost");
    if let Some((cert, key)) = client {
        tls = tls.identity(TlsIdentity::from_pem(cert, key));
    }
    Channel::from_shared(format!("https://localhost:{}", app.address.port()))
        .unwrap()
        .tls_config(tls)?
        .connect()
        .await
}

async fn list_works(channel: Channel) -> bool {
    let request = Identity::admin().request(pb::ListDidsRequest::default());
    match DidServiceClient::new(channel).list_dids(request).await {
        Ok(response) => response.into_inner().message().await.is_ok(),
        Err(_) => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_clients_that_trust_its_authority_and_refuses_plaintext() {
    let authority = Authority::new();
    let mut files = Files(Vec::new());
    let app = server(&authority, None, &mut files).await;

    assert!(list_works(channel(&app, &authority, None).await.unwrap()).await);
    assert!(
        !list_works(app.channel.clone()).await,
        "a plaintext call was served"
    );
    let stranger = Authority::new();
    assert!(
        channel(&app, &stranger, None).await.is_err(),
        "a client that does not trust the server connected"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_requires_a_client_certificate_from_the_client_authority() {
    let authority = Authority::new();
    let clients = Authority::new();
    let mut files = Files(Vec::new());
    let app = server(&authority, Some(&clients), &mut files).await;

    let trusted_client = clients.leaf(&["billing-service"]);
    assert!(
        list_works(
            channel(&app, &authority, Some(trusted_client))
                .await
                .unwrap()
        )
        .await
    );

    let anonymous = channel(&app, &authority, None).await;
    assert!(
        !matches!(anonymous, Ok(c) if list_works(c.clone()).await),
        "a client without a certificate was served"
    );
    let forged = Authority::new().leaf(&["billing-service"]);
    let forged = channel(&app, &authority, Some(forged)).await;
    assert!(
        !matches!(forged, Ok(c) if list_works(c.clone()).await),
        "a client certificate of another authority was accepted"
    );
    app.stop().await;
}
