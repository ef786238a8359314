//! The WebSocket settings both ends share, what an incoming frame means to a server, and close
//! reasons.

use bytes::Bytes;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// Frames no larger than `frame_bytes_max`, whole messages no larger either: one message is
/// one envelope, which the core bounds the same way.
pub fn config(frame_bytes_max: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(frame_bytes_max))
        .max_frame_size(Some(frame_bytes_max))
}

/// What a server does with one thing read from a peer's socket.
#[derive(Debug, PartialEq)]
pub enum Frame {
    /// A binary message: one envelope for the core, which checks it.
    Envelope(Bytes),
    /// A control frame the WebSocket layer answers itself.
    Skip,
    /// The connection ends, with this close code and a reason a person can read.
    End(CloseCode, String),
}

/// Sorts what a peer's socket yielded (`None`: the stream ended). Public so that the fuzz
/// target drives exactly the server's handling of arbitrary bytes on the wire.
pub fn classify(frame: Option<Result<Message, WsError>>) -> Frame {
    match frame {
        Some(Ok(Message::Binary(bytes))) => Frame::Envelope(bytes),
        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => Frame::Skip,
        Some(Ok(Message::Text(_))) => {
            Frame::End(CloseCode::Unsupported, "binary frames only".into())
        }
        Some(Ok(Message::Close(_))) | None => {
            Frame::End(CloseCode::Normal, "closed by peer".into())
        }
        Some(Err(WsError::Capacity(error))) => {
            Frame::End(CloseCode::Size, format!("frame too large: {error}"))
        }
        Some(Err(error)) => Frame::End(CloseCode::Protocol, format!("bad frame: {error}")),
    }
}

/// A close frame with a code and a reason a person can read.
pub(crate) fn close(code: CloseCode, reason: &str) -> CloseFrame {
    CloseFrame { code, reason: reason.to_owned().into() }
}
