//! The demo's voucher gateway: `selfcare demo --gateway-listen <ADDR:PORT>` puts the
//! [`Gateway`] in front of a tiny "SEND - UAT" e-service of its own, so that the voucher of the
//! seed guide ("Genera voucher" in Collaudo) can be used end to end ("chiama l'e-service"):
//!
//! ```text
//! curl -H "Authorization: Bearer <voucher>" http://127.0.0.1:8082/delivery/v2.3/notifications/sent
//! ```
//!
//! answers the e-service's JSON, which names the purpose, the consumer and the client the
//! gateway verified (the `X-Pdnd-*` headers it received). The gateway checks what a producer's
//! would: Collaudo's keys and issuer, SEND - UAT's audience, its e-service id and its producer
//! (PagoPA S.p.A.).

use std::net::SocketAddr;

use axum::Router;
use axum::extract::Request;
use axum::response::IntoResponse;
use interop::model::Environment;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::App;
use crate::demo::{PAGOPA, SEND_UAT, SEND_UAT_AUDIENCE};
use crate::gateway::{Gateway, GatewaySettings};

/// The gateway and the demo e-service behind it.
pub struct DemoGateway {
    gateway: Gateway,
    eservice_url: String,
    stop_eservice: Option<oneshot::Sender<()>>,
    eservice: JoinHandle<std::io::Result<()>>,
}

impl DemoGateway {
    /// The gateway's URL: what callers use.
    pub fn url(&self) -> &str {
        self.gateway.url()
    }

    /// The demo e-service's own URL (behind the gateway; reached directly it checks nothing).
    pub fn eservice_url(&self) -> &str {
        &self.eservice_url
    }

    pub async fn stop(mut self) {
        let _ = self.gateway.stop().await;
        if let Some(tx) = self.stop_eservice.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.eservice).await;
    }
}

/// The demo e-service: every request answered at once with what the gateway told it.
async fn demo_eservice(request: Request) -> axum::response::Response {
    let pdnd: Map<String, Value> = request
        .headers()
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("x-pdnd-"))
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                json!(value.to_str().unwrap_or_default()),
            )
        })
        .collect();
    axum::Json(json!({
        "eservice": SEND_UAT,
        "message": "La chiamata è arrivata all'e-service: il gateway ha verificato il voucher \
                    (firma di Collaudo, audience, e-service, erogatore) e dice chi chiama negli \
                    header X-Pdnd-*.",
        "method": request.method().as_str(),
        "path": request.uri().path(),
        "pdnd": pdnd,
    }))
    .into_response()
}

/// Starts the demo e-service on a free loopback port and the gateway on `listen` in front of
/// it, configured for SEND - UAT in Collaudo.
pub async fn start(
    app: &App,
    interop: &interop::Settings,
    listen: SocketAddr,
) -> Result<DemoGateway, String> {
    let db = &app.platform().db;
    let producer: String = sqlx::query_scalar("SELECT id FROM institutions WHERE tax_code = $1")
        .bind(PAGOPA)
        .fetch_optional(db.reader())
        .await
        .map_err(|e| e.to_string())?
        .ok_or("PagoPA S.p.A. is not among the demo's institutions")?;
    let eservice = interop::store::catalogue::of_producer(db, Environment::Collaudo, &producer)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|e| e.name == SEND_UAT)
        .ok_or("SEND - UAT is not in the demo's Collaudo")?;

    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("the demo e-service cannot listen: {e}"))?;
    let eservice_addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(platform::server::serve(
        listener,
        Router::new().fallback(demo_eservice),
        async move {
            let _ = rx.await;
        },
        std::time::Duration::from_secs(5),
    ));
    let eservice_url = format!("http://{eservice_addr}");

    // Collaudo's keys over loopback, as the app's own contexts read them.
    let mut own = app.addr();
    if own.ip().is_unspecified() {
        own.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let env = Environment::Collaudo.as_str();
    let issuer = interop
        .collaudo
        .issuer
        .clone()
        .unwrap_or_else(|| format!("{}/interop/{env}", app.public_url()));
    let settings = GatewaySettings {
        listen,
        upstream: Some(eservice_url.clone()),
        jwks_url: Some(format!("http://{own}/interop/{env}/.well-known/jwks.json")),
        issuer: Some(issuer),
        audience: Some(SEND_UAT_AUDIENCE.into()),
        eservice_ids: vec![eservice.id.clone()],
        producer_id: Some(producer),
        shutdown_timeout_secs: 5,
        ..GatewaySettings::default()
    };
    let gateway = match Gateway::start(&settings).await {
        Ok(g) => g,
        Err(e) => {
            let _ = tx.send(());
            let _ = task.await;
            return Err(format!("the demo's gateway: {e}"));
        }
    };
    Ok(DemoGateway {
        gateway,
        eservice_url,
        stop_eservice: Some(tx),
        eservice: task,
    })
}
