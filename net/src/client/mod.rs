//! The client driver an app embeds: the core `Client` on its SQLite file, run by one task
//! that owns it, and a handle that talks to that task.

mod dial;
mod task;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use driftsync_core::{
    ClientConfig, LogPos, Metrics, OpId, RecordKey, RecordView, Seq, StartError, SyncState, Value,
    WriteError,
};
use driftsync_sqlite::{Durability, OpenError, SqliteStore};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// What a driver needs to start.
#[derive(Clone, Debug)]
pub struct DriverConfig {
    /// `ws://host:port/` or `wss://host:port/` of the server.
    pub url: String,
    pub client: ClientConfig,
    pub db: PathBuf,
    pub durability: Durability,
    /// Seeds the core's retry jitter.
    pub seed: u64,
    pub frame_bytes_max: usize,
    /// The roots trusted for a `wss://` server; `None` trusts the public web's.
    pub tls: Option<crate::ClientTls>,
    /// Asked for a fresh token when the server refuses the one the client has (expired,
    /// revoked): `None` from it, or the same token again, leaves the client refused.
    pub token_provider: Option<TokenProvider>,
    /// Encrypts the store at rest under this key (see `SqliteStore::open_encrypted`): the file
    /// then holds no value the app wrote in the clear.
    pub store_key: Option<driftsync_sqlite::StoreKey>,
}

/// The host's source of fresh tokens (a file a renewal job rewrites, a call to the app's
/// identity service).
#[derive(Clone)]
pub struct TokenProvider(std::sync::Arc<dyn Fn() -> Option<String> + Send + Sync>);

impl TokenProvider {
    pub fn new(fresh: impl Fn() -> Option<String> + Send + Sync + 'static) -> TokenProvider {
        TokenProvider(std::sync::Arc::new(fresh))
    }

    /// A fresh token, if the source has one.
    pub fn fresh(&self) -> Option<String> {
        (self.0)()
    }
}

impl std::fmt::Debug for TokenProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenProvider")
    }
}

impl DriverConfig {
    pub fn new(url: impl Into<String>, client: ClientConfig, db: impl Into<PathBuf>) -> Self {
        DriverConfig {
            url: url.into(),
            client,
            db: db.into(),
            durability: Durability::Full,
            seed: 0,
            frame_bytes_max: 8 << 20,
            tls: None,
            token_provider: None,
            store_key: None,
        }
    }
}

/// A local write.
#[derive(Clone, Debug)]
pub enum Write {
    Put { key: RecordKey, fields: BTreeMap<String, Value> },
    Update { key: RecordKey, fields: BTreeMap<String, Value> },
    Delete { key: RecordKey },
    Increment { key: RecordKey, field: String, delta: i64 },
}

/// Where the client stands, updated after every input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub state: SyncState,
    /// Whether a WebSocket to the server is open.
    pub connected: bool,
    /// Own writes the server has acknowledged through.
    pub acked: Seq,
    /// Writes committed locally and not yet acknowledged.
    pub outbox: usize,
    /// The server log position applied through.
    pub cursor: LogPos,
    /// Why the last dial or connection failed, if it did.
    pub last_error: Option<String>,
}

/// A change to what the app reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A local write, committed.
    Local { key: RecordKey, op: OpId },
    /// Changes from the server were applied through `cursor`.
    Remote { cursor: LogPos },
    /// The server acknowledged own writes through `through`.
    Acked { through: Seq },
}

/// A driver that could not start or has stopped.
#[derive(Debug)]
pub enum DriverError {
    Open(OpenError),
    Start(StartError),
    Write(WriteError),
    /// The driver's task has ended.
    Stopped,
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DriverError::Open(error) => error.fmt(f),
            DriverError::Start(error) => write!(f, "the client cannot start: {error}"),
            DriverError::Write(error) => write!(f, "write refused: {error}"),
            DriverError::Stopped => f.write_str("the client driver has stopped"),
        }
    }
}

impl std::error::Error for DriverError {}

enum Command {
    /// A write, with the reason the app gave for it, if any.
    Write(Write, Option<String>, oneshot::Sender<Result<OpId, WriteError>>),
    Get(RecordKey, oneshot::Sender<Option<RecordView>>),
    View(oneshot::Sender<BTreeMap<RecordKey, RecordView>>),
    Metrics(oneshot::Sender<Metrics>),
    SyncNow,
    Stop(oneshot::Sender<()>),
}

/// A running client. Dropping it stops the task; [`ClientDriver::stop`] waits for it.
#[derive(Debug)]
pub struct ClientDriver {
    replica: driftsync_core::ReplicaId,
    commands: mpsc::UnboundedSender<Command>,
    status: watch::Receiver<Status>,
    changes: broadcast::Sender<Change>,
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Command::Write(..) => "Write",
            Command::Get(..) => "Get",
            Command::View(..) => "View",
            Command::Metrics(..) => "Metrics",
            Command::SyncNow => "SyncNow",
            Command::Stop(..) => "Stop",
        })
    }
}

impl ClientDriver {
    /// Opens the store, starts the core client and its task. The client dials at once and
    /// whenever the core asks again; writes commit locally meanwhile.
    pub fn start(config: DriverConfig) -> Result<ClientDriver, DriverError> {
        let store = match &config.store_key {
            Some(key) => SqliteStore::open_encrypted(&config.db, config.durability, key),
            None => SqliteStore::open(&config.db, config.durability),
        }
        .map_err(DriverError::Open)?;
        let (commands, inbox) = mpsc::unbounded_channel();
        let (changes, _) = broadcast::channel(4_096);
        let (status_tx, status) = watch::channel(Status {
            state: SyncState::Offline,
            connected: false,
            acked: Seq(0),
            outbox: 0,
            cursor: LogPos(0),
            last_error: None,
        });
        let replica = config.client.replica;
        let task = task::Task::new(config, store, inbox, status_tx, changes.clone())?;
        // What the file holds (its outbox, its cursor) is the status from the first moment.
        task.publish();
        tokio::spawn(task.run());
        Ok(ClientDriver { replica, commands, status, changes })
    }

    pub fn replica(&self) -> driftsync_core::ReplicaId {
        self.replica
    }

    /// Commits a write locally; it syncs when the server is reachable.
    pub async fn write(&self, write: Write) -> Result<OpId, DriverError> {
        self.write_with(write, None).await
    }

    /// A write that says why it was made: the reason the server's audit trail keeps with it
    /// (at most [`driftsync_core::REASON_BYTES_MAX`] bytes).
    pub async fn write_because(&self, write: Write, reason: &str) -> Result<OpId, DriverError> {
        self.write_with(write, Some(reason.to_owned())).await
    }

    async fn write_with(&self, write: Write, reason: Option<String>) -> Result<OpId, DriverError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Write(write, reason, reply))?;
        answer.await.map_err(|_| DriverError::Stopped)?.map_err(DriverError::Write)
    }

    pub async fn get(&self, key: RecordKey) -> Result<Option<RecordView>, DriverError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Get(key, reply))?;
        answer.await.map_err(|_| DriverError::Stopped)
    }

    /// Every record the app sees.
    pub async fn view(&self) -> Result<BTreeMap<RecordKey, RecordView>, DriverError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::View(reply))?;
        answer.await.map_err(|_| DriverError::Stopped)
    }

    /// The core client's counters: ops, retries, bytes on the wire and uncompressed, ...
    pub async fn metrics(&self) -> Result<Metrics, DriverError> {
        let (reply, answer) = oneshot::channel();
        self.send(Command::Metrics(reply))?;
        answer.await.map_err(|_| DriverError::Stopped)
    }

    /// Pushes and pulls now rather than at the next interval.
    pub fn sync_now(&self) -> Result<(), DriverError> {
        self.send(Command::SyncNow)
    }

    /// The status, updated after every input.
    pub fn status(&self) -> watch::Receiver<Status> {
        self.status.clone()
    }

    /// Changes from now on.
    pub fn changes(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Closes the connection and the store; returns when both are closed.
    pub async fn stop(self) {
        let (reply, answer) = oneshot::channel();
        if self.send(Command::Stop(reply)).is_ok() {
            let _ = answer.await;
        }
    }

    fn send(&self, command: Command) -> Result<(), DriverError> {
        self.commands.send(command).map_err(|_| DriverError::Stopped)
    }
}
