//! TLS (feature `tls`) against a throwaway server that offers TLS on TCP,
//! with a certificate authority made up for the test.

use ordinance::pool::{Pool, PoolOptions};
use ordinance::repo::Repo;
use ordinance::testing::{ServerTls, TestServer};
use ordinance::tls::connector_from_pem;
use ordinance::Error;
use ordinance_tests::*;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};

/// A certificate authority's PEM, and a server certificate for `localhost`
/// it signed.
fn authority_and_server_certificate() -> (String, ServerTls) {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().expect("server key");
    let server_cert = CertificateParams::new(vec!["localhost".to_owned()])
        .expect("server params")
        .signed_by(&server_key, &issuer)
        .expect("server certificate");
    (
        ca_cert.pem(),
        ServerTls {
            certificate_pem: server_cert.pem(),
            private_key_pem: server_key.serialize_pem(),
        },
    )
}

fn other_authority() -> String {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.self_signed(&key).expect("certificate").pem()
}

#[tokio::test]
async fn the_pool_speaks_tls_to_a_server_it_trusts_and_refuses_others() {
    let (ca, tls) = authority_and_server_certificate();
    let server = TestServer::start_with_tls(&tls).expect("TLS server");
    let config = server.config().clone();

    let pool = Pool::connect_with_tls(
        config.clone(),
        PoolOptions::default(),
        connector_from_pem(ca.as_bytes()).expect("connector"),
    )
    .await
    .expect("pool");
    let conn = pool.get().await.expect("a TLS connection");
    let encrypted: bool = conn
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .expect("pg_stat_ssl")
        .get(0);
    assert!(encrypted, "the session is encrypted");
    let ddl = ordinance::ddl::SchemaDdl::new(&all_schemas()).expect("schema");
    conn.batch_execute(&ddl.up()).await.expect("DDL over TLS");
    let repo = Repo::new(&*conn);
    let org = repo
        .insert(&new_organization("Encrypted"))
        .await
        .expect("insert over TLS");
    assert_eq!(repo.get::<Organization>(org.id).await.expect("get"), org);

    // A server certificate from an authority we do not trust is refused.
    let distrusting = Pool::connect_with_tls(
        config.clone(),
        PoolOptions::default(),
        connector_from_pem(other_authority().as_bytes()).expect("connector"),
    )
    .await
    .expect("an empty pool");
    let err = distrusting.get().await.expect_err("untrusted certificate");
    let text = format!("{err} {:?}", std::error::Error::source(&err));
    assert!(
        text.to_lowercase().contains("certificate"),
        "the error names the certificate problem: {text}"
    );

    // sslmode=require without TLS support refuses to connect in the clear.
    let plain = Pool::connect(config, PoolOptions::default())
        .await
        .expect("an empty pool");
    assert!(plain.get().await.is_err(), "no connection in the clear");
}

#[test]
fn a_pem_without_certificates_is_a_setup_error() {
    for pem in [
        &b""[..],
        b"not a pem",
        b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n",
    ] {
        assert!(
            matches!(connector_from_pem(pem), Err(Error::TlsSetup(_))),
            "{}",
            String::from_utf8_lossy(pem)
        );
    }
}
