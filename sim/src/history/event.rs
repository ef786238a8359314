//! The event being handled, kept so that a failure found during the run names the event that
//! caused it, in the same words whichever checker found it.

use bytes::Bytes;
use driftsync_core::testing::wire::decode;

use crate::plan::NodeId;

/// The event being handled.
#[derive(Clone, Debug, Default)]
pub(crate) enum Current {
    #[default]
    Start,
    Deliver {
        from: NodeId,
        to: NodeId,
        bytes: Bytes,
    },
    Timer(NodeId),
    Dial(NodeId),
    Write(usize),
    Fault(usize),
    CrashFallback(NodeId),
    Heal,
    Probe,
    Attack(usize),
    TokenRefresh(usize),
}

impl Current {
    /// The event in words, for a failure: "the delivery of push from client-1 to server".
    pub(crate) fn describe(&self) -> String {
        match self {
            Current::Start => "the nodes started".to_owned(),
            Current::Deliver { from, to, bytes } => {
                let kind = decode(bytes, &Default::default())
                    .map_or("an undecodable message", |message| message.kind_name());
                format!("the delivery of {kind} from {from} to {to}")
            }
            Current::Timer(node) => format!("a timer of {node}"),
            Current::Dial(node) => format!("the dial of {node}"),
            Current::Write(index) => format!("planned write #{index}"),
            Current::Fault(index) => format!("planned fault #{index}"),
            Current::CrashFallback(node) => format!("the crash of {node}"),
            Current::Heal => "the heal".to_owned(),
            Current::Probe => "a convergence probe".to_owned(),
            Current::Attack(index) => format!("hostile attack #{index}"),
            Current::TokenRefresh(index) => format!("a fresh token for client-{}", index + 1),
        }
    }
}
