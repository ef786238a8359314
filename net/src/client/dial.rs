//! Dialling the server: a TCP connection through tokio's (or madsim's) network, then the
//! WebSocket handshake over it.

use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::ws;

pub(super) type Socket = WebSocketStream<TcpStream>;

pub(super) async fn dial(url: String, frame_bytes_max: usize) -> Result<Socket, String> {
    let request = url.as_str().into_client_request().map_err(|error| format!("{url}: {error}"))?;
    let uri = request.uri();
    if uri.scheme_str() != Some("ws") {
        return Err(format!("{url}: only ws:// is supported by this build"));
    }
    let host = uri.host().ok_or_else(|| format!("{url}: no host"))?;
    let port = uri.port_u16().unwrap_or(80);
    let stream =
        TcpStream::connect((host, port)).await.map_err(|error| format!("{url}: {error}"))?;
    stream.set_nodelay(true).map_err(|error| format!("{url}: {error}"))?;
    let config = Some(ws::config(frame_bytes_max));
    let (socket, _) = tokio_tungstenite::client_async_with_config(request, stream, config)
        .await
        .map_err(|error| format!("{url}: {error}"))?;
    Ok(socket)
}
