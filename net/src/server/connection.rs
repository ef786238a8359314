//! One WebSocket connection: frames in become core inputs, the core's messages for this peer
//! go out, and every way it can end (a close, an error, silence, a frame too large, no
//! handshake, shutdown) ends with a close reason and the core told the peer left.

use std::net::SocketAddr;
use std::sync::Arc;

use driftsync_core::PeerId;
use futures_util::{SinkExt, StreamExt};
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::{Instant, interval, timeout};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::HostLimits;
use super::hub::{Hub, Outbound};
use crate::ws;

/// A byte stream a WebSocket runs over: TCP, or TLS over TCP.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<S: AsyncRead + AsyncWrite + Unpin + Send> Stream for S {}

/// The core server as the host holds it.
type Core = driftsync_core::Server<driftsync_sqlite::SqliteStore>;

/// How long a closing connection waits for the peer's close frame.
const CLOSE_LINGER: std::time::Duration = std::time::Duration::from_secs(1);

pub(crate) struct Context {
    pub(crate) hub: Arc<Mutex<Hub>>,
    pub(crate) wake: Arc<Notify>,
    pub(crate) limits: HostLimits,
    pub(crate) shutdown: watch::Receiver<bool>,
}

/// Takes a new TCP connection through TLS, if the host serves it, to [`serve`].
pub(crate) async fn accept(
    stream: TcpStream,
    addr: SocketAddr,
    tls: Option<crate::ServerTls>,
    context: Context,
) {
    let Some(tls) = tls else {
        return serve(stream, addr, context).await;
    };
    match timeout(context.limits.hello_timeout, tls.0.accept(stream)).await {
        Ok(Ok(stream)) => serve(stream, addr, context).await,
        Ok(Err(error)) => tracing::debug!(%addr, %error, "TLS handshake failed"),
        Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
    }
}

async fn serve<S: Stream>(stream: S, addr: SocketAddr, context: Context) {
    let config = ws::config(context.limits.frame_bytes_max);
    let handshake = tokio_tungstenite::accept_async_with_config(stream, Some(config));
    let mut socket = match timeout(context.limits.hello_timeout, handshake).await {
        Ok(Ok(socket)) => socket,
        Ok(Err(error)) => return tracing::debug!(%addr, %error, "WebSocket handshake failed"),
        Err(_) => return tracing::debug!(%addr, "WebSocket handshake timed out"),
    };
    if context.hub.lock().connections() >= context.limits.connections_max {
        tracing::warn!(%addr, "connection refused: server full");
        return send_close(&mut socket, CloseCode::Again, "server full").await;
    }
    let (outbound, inbound) = mpsc::unbounded_channel();
    let peer = context.hub.lock().open(outbound);
    context.wake.notify_one();
    let (code, reason) = pump(&mut socket, peer, inbound, &context).await;
    tracing::debug!(%addr, peer = peer.0, reason, "connection closed");
    send_close(&mut socket, code, &reason).await;
    context.hub.lock().close(peer);
    context.wake.notify_one();
}

/// Moves frames until the connection should end; returns the close code and reason.
async fn pump<S: Stream>(
    socket: &mut WebSocketStream<S>,
    peer: PeerId,
    mut inbound: mpsc::UnboundedReceiver<Outbound>,
    context: &Context,
) -> (CloseCode, String) {
    let limits = &context.limits;
    let opened = Instant::now();
    let mut heard = opened;
    let mut shutdown = context.shutdown.clone();
    let mut tick = interval(limits.idle_timeout.min(limits.hello_timeout) / 4);
    loop {
        tokio::select! {
            frame = socket.next() => {
                heard = Instant::now();
                if let Some(close) = on_frame(frame, peer, context) {
                    return close;
                }
            }
            out = inbound.recv() => match out {
                Some(Outbound::Frame(bytes)) => {
                    if let Err(error) = socket.send(Message::Binary(bytes)).await {
                        return (CloseCode::Error, format!("send failed: {error}"));
                    }
                }
                Some(Outbound::Close(reason)) => return (CloseCode::Invalid, reason),
                None => return (CloseCode::Error, "host dropped the connection".to_owned()),
            },
            _ = tick.tick() => {
                if heard.elapsed() >= limits.idle_timeout {
                    return (CloseCode::Away, "idle".to_owned());
                }
                let waited = opened.elapsed() >= limits.hello_timeout;
                if waited && !context.hub.lock().has_joined(peer) {
                    return (CloseCode::Policy, "no Hello within the handshake timeout".to_owned());
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return (CloseCode::Error, "ping failed".to_owned());
                }
            }
            _ = crate::server::stopped(&mut shutdown) => {
                return (CloseCode::Away, "server shutting down".to_owned());
            }
        }
    }
}

/// Feeds one incoming frame to the core; says how to close if the connection should end.
fn on_frame(
    frame: Option<Result<Message, WsError>>,
    peer: PeerId,
    context: &Context,
) -> Option<(CloseCode, String)> {
    match ws::classify(frame) {
        ws::Frame::Envelope(bytes) => {
            let input = |server: &mut Core, now| server.handle_message(now, peer, &bytes);
            context.hub.lock().drive(input);
            context.wake.notify_one();
            None
        }
        ws::Frame::Skip => None,
        ws::Frame::End(code, reason) => Some((code, reason)),
    }
}

async fn send_close<S: Stream>(socket: &mut WebSocketStream<S>, code: CloseCode, reason: &str) {
    // The peer may be gone already; a close is a courtesy, not a requirement.
    let _ = socket.close(Some(ws::close(code, reason))).await;
    // Then read until the peer's close (briefly): dropping a socket with unread bytes would
    // reset it, and a reset can discard the close frame before the peer reads it. After a
    // frame it refused as too large the WebSocket layer reads nothing more, while the rest of
    // that frame is still arriving: those bytes are read and dropped below it.
    let drain = async {
        while let Some(Ok(_)) = socket.next().await {}
        let mut unread = [0u8; 16 * 1024];
        while matches!(socket.get_mut().read(&mut unread).await, Ok(read) if read > 0) {}
    };
    let _ = timeout(CLOSE_LINGER, drain).await;
}
