//! Dialling the server: a TCP connection through tokio's (or madsim's) network, then the
//! WebSocket handshake over it.

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::{ClientTls, ws};

pub(super) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Dials `url`: `ws://` in the clear, `wss://` through TLS trusting `tls`'s roots, or the
/// public web's without it.
pub(super) async fn dial(
    url: String,
    frame_bytes_max: usize,
    tls: Option<ClientTls>,
) -> Result<Socket, String> {
    let request = url.as_str().into_client_request().map_err(|error| format!("{url}: {error}"))?;
    let uri = request.uri();
    let default_port = match uri.scheme_str() {
        Some("ws") => 80,
        Some("wss") => 443,
        _ => return Err(format!("{url}: the address must start with ws:// or wss://")),
    };
    let host = uri.host().ok_or_else(|| format!("{url}: no host"))?;
    let port = uri.port_u16().unwrap_or(default_port);
    let stream =
        TcpStream::connect((host, port)).await.map_err(|error| format!("{url}: {error}"))?;
    stream.set_nodelay(true).map_err(|error| format!("{url}: {error}"))?;
    let config = Some(ws::config(frame_bytes_max));
    let connector = tls.map(|tls| Connector::Rustls(tls.0));
    let (socket, _) =
        tokio_tungstenite::client_async_tls_with_config(request, stream, config, connector)
            .await
            .map_err(|error| format!("{url}: {error}"))?;
    Ok(socket)
}
