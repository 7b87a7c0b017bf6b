//! Verifies one request's voucher from the command line, as a producer's service would:
//!
//! ```sh
//! VOUCHER_JWKS_URL=https://uat.interop.pagopa.it/.well-known/jwks.json \
//! VOUCHER_ISSUER=uat.interop.pagopa.it \
//! VOUCHER_AUDIENCE=https://api.example.it/anagrafe \
//! VOUCHER_ESERVICE_ID=<e-service id> VOUCHER_PRODUCER_ID=<your institution's id> \
//! cargo run -p voucher-verifier --example verify -- GET https://api.example.it/anagrafe/v1/x \
//!     "Bearer eyJ..." ["<DPoP proof>"]
//! ```

use voucher_verifier::{Config, Request, Verifier};

fn setting(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name}"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [method, url, authorization, rest @ ..] = args.as_slice() else {
        return Err("usage: verify METHOD URL AUTHORIZATION [DPOP]".into());
    };
    let verifier = Verifier::new(Config {
        jwks_url: setting("VOUCHER_JWKS_URL")?,
        issuer: setting("VOUCHER_ISSUER")?,
        audience: setting("VOUCHER_AUDIENCE")?,
        eservice_ids: vec![setting("VOUCHER_ESERVICE_ID")?],
        producer_id: setting("VOUCHER_PRODUCER_ID")?,
        ..Config::default()
    })
    .map_err(|e| e.to_string())?;
    let request = Request {
        method,
        url,
        authorization: Some(authorization),
        dpop: rest.first().map(String::as_str),
        tracking_evidence: None,
    };
    match verifier.verify(&request).await {
        Ok(v) => {
            println!(
                "accepted: purpose {} of consumer {} (client {}), e-service {} version {}",
                v.purpose_id, v.consumer_id, v.client_id, v.eservice_id, v.descriptor_id
            );
            Ok(())
        }
        Err(e) => Err(format!("refused ({}): {e}", e.reason())),
    }
}
