//! The WebSocket settings both ends share, and close reasons.

use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// Frames no larger than `frame_bytes_max`, whole messages no larger either: one message is
/// one envelope, which the core bounds the same way.
pub(crate) fn config(frame_bytes_max: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(frame_bytes_max))
        .max_frame_size(Some(frame_bytes_max))
}

/// A close frame with a code and a reason a person can read.
pub(crate) fn close(code: CloseCode, reason: &str) -> CloseFrame {
    CloseFrame { code, reason: reason.to_owned().into() }
}
