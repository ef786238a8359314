//! The task that owns the core client: one input at a time (a command, a frame, a dial's
//! outcome, a deadline), then every output drained.

use std::future::Future;
use std::pin::Pin;

use driftsync_core::{Client, ClientEvent, LogPos, Now, OpId, WriteError};
use driftsync_sqlite::SqliteStore;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{broadcast, mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

use super::dial::{Socket, dial};
use super::{Change, Command, DriverConfig, DriverError, Status, Write};
use crate::clock::HostClock;

/// How long a client refused for its token waits before asking its provider again.
const TOKEN_RETRY: std::time::Duration = std::time::Duration::from_secs(2);

type Dialling = Pin<Box<dyn Future<Output = Result<Socket, String>> + Send>>;

pub(super) struct Task {
    client: Client<SqliteStore>,
    clock: HostClock,
    url: String,
    frame_bytes_max: usize,
    tls: Option<crate::ClientTls>,
    token_provider: Option<super::TokenProvider>,
    /// Refused for its token and given no fresh one: when to ask the provider again.
    token_retry_at: Option<tokio::time::Instant>,
    inbox: mpsc::UnboundedReceiver<Command>,
    status: watch::Sender<Status>,
    changes: broadcast::Sender<Change>,
    socket: Option<Socket>,
    dialling: Option<Dialling>,
    last_error: Option<String>,
    /// The cursor the change stream last announced.
    cursor_told: LogPos,
}

/// What woke the task.
enum Input {
    Command(Option<Command>),
    Frame(Option<Result<Message, tokio_tungstenite::tungstenite::Error>>),
    Dialled(Box<Result<Socket, String>>),
    Deadline,
    TokenRetry,
}

impl Task {
    pub(super) fn new(
        config: DriverConfig,
        store: SqliteStore,
        inbox: mpsc::UnboundedReceiver<Command>,
        status: watch::Sender<Status>,
        changes: broadcast::Sender<Change>,
    ) -> Result<Task, DriverError> {
        let clock = HostClock::start();
        let client = Client::new(config.client, store, config.seed, clock.now())
            .map_err(DriverError::Start)?;
        let frame_bytes_max = config.frame_bytes_max;
        let tls = config.tls;
        let token_provider = config.token_provider;
        let (socket, dialling, last_error) = (None, None, None);
        let url = config.url;
        let client_cursor = client.cursor();
        Ok(Task {
            client,
            clock,
            url,
            frame_bytes_max,
            tls,
            token_provider,
            token_retry_at: None,
            inbox,
            status,
            changes,
            socket,
            dialling,
            last_error,
            cursor_told: client_cursor,
        })
    }

    pub(super) async fn run(mut self) {
        // The core asks for a connection at start (WantsConnection) once its outputs drain.
        self.drain().await;
        loop {
            let input = self.next_input().await;
            let now = self.clock.now();
            match input {
                Input::Command(None) => return self.close().await,
                Input::Command(Some(Command::Stop(reply))) => {
                    self.close().await;
                    // The file is closed before the caller hears it is, so that it can be
                    // opened again at once.
                    drop(self);
                    let _ = reply.send(());
                    return;
                }
                Input::Command(Some(command)) => self.command(now, command),
                Input::Frame(Some(Ok(Message::Binary(bytes)))) => {
                    self.client.handle_message(now, &bytes);
                }
                Input::Frame(Some(Ok(Message::Close(_))) | None) => {
                    self.lost(now, "closed by server".to_owned())
                }
                Input::Frame(Some(Ok(_))) => {}
                Input::Frame(Some(Err(error))) => self.lost(now, error.to_string()),
                Input::Dialled(dialled) => self.dialled(now, *dialled),
                Input::Deadline => self.client.handle_timeout(now),
                Input::TokenRetry => {
                    self.token_retry_at = None;
                    self.ask_for_token("still waiting for a fresh token".to_owned());
                }
            }
            self.drain().await;
        }
    }

    fn dialled(&mut self, now: Now, dialled: Result<Socket, String>) {
        match dialled {
            Ok(socket) => {
                self.socket = Some(socket);
                self.last_error = None;
                self.client.connected(now);
            }
            Err(error) => {
                tracing::debug!(%error, "dial failed");
                self.last_error = Some(error);
                self.client.disconnected(now);
            }
        }
    }

    async fn next_input(&mut self) -> Input {
        let deadline = self.client.poll_timeout().map(|(at, _)| self.clock.instant(at));
        let frame = async {
            match self.socket.as_mut() {
                Some(socket) => socket.next().await,
                None => std::future::pending().await,
            }
        };
        let dialled = async {
            match self.dialling.as_mut() {
                Some(dialling) => dialling.await,
                None => std::future::pending().await,
            }
        };
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let token_retry = async {
            match self.token_retry_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            command = self.inbox.recv() => Input::Command(command),
            frame = frame => Input::Frame(frame),
            dialled = dialled => {
                self.dialling = None;
                Input::Dialled(Box::new(dialled))
            }
            _ = sleep => Input::Deadline,
            _ = token_retry => Input::TokenRetry,
        }
    }

    fn command(&mut self, now: Now, command: Command) {
        match command {
            Command::Write(write, reason, reply) => {
                let key = match &write {
                    Write::Put { key, .. }
                    | Write::Update { key, .. }
                    | Write::Delete { key }
                    | Write::Increment { key, .. } => key.clone(),
                };
                let result = match reason {
                    Some(reason) => self.client.with_reason(&reason, |c| apply(c, now, write)),
                    None => apply(&mut self.client, now, write),
                };
                if let Ok(op) = &result {
                    let _ = self.changes.send(Change::Local { key, op: *op });
                }
                let _ = reply.send(result);
            }
            Command::Get(key, reply) => {
                let _ = reply.send(self.client.get(&key));
            }
            Command::View(reply) => {
                let _ = reply.send(self.client.view());
            }
            Command::Metrics(reply) => {
                let _ = reply.send(self.client.metrics().clone());
            }
            Command::SyncNow => self.client.sync_now(now),
            Command::Stop(_) => {}
        }
    }

    /// The connection is gone: the core hears of it and will ask to dial again.
    fn lost(&mut self, now: Now, why: String) {
        tracing::debug!(why, "connection lost");
        self.socket = None;
        self.last_error = Some(why);
        self.client.disconnected(now);
    }

    /// Delivers every output of the last input, then publishes the status.
    async fn drain(&mut self) {
        loop {
            let mut moved = false;
            while let Some(event) = self.client.poll_event() {
                moved = true;
                self.event(event).await;
            }
            while let Some(bytes) = self.client.poll_transmit() {
                moved = true;
                let Some(socket) = self.socket.as_mut() else { continue };
                if let Err(error) = socket.send(Message::Binary(bytes)).await {
                    let now = self.clock.now();
                    self.lost(now, format!("send failed: {error}"));
                }
            }
            if !moved {
                break;
            }
        }
        let cursor = self.client.cursor();
        if cursor != self.cursor_told {
            self.cursor_told = cursor;
            let _ = self.changes.send(Change::Remote { cursor });
        }
        self.publish();
    }

    async fn event(&mut self, event: ClientEvent) {
        match event {
            ClientEvent::WantsConnection if self.socket.is_none() && self.dialling.is_none() => {
                let dialling = dial(self.url.clone(), self.frame_bytes_max, self.tls.clone());
                self.dialling = Some(Box::pin(dialling));
            }
            ClientEvent::CloseConnection => {
                if let Some(mut socket) = self.socket.take() {
                    let _ = socket.close(None).await;
                }
            }
            ClientEvent::Acked { through } => {
                let _ = self.changes.send(Change::Acked { through });
            }
            ClientEvent::Rejected(reason) => {
                tracing::warn!(?reason, "server refused the handshake")
            }
            ClientEvent::TokenNeeded(error) => self.ask_for_token(error.to_string()),
            ClientEvent::Quarantined(notice) => tracing::warn!(?notice, "write quarantined"),
            ClientEvent::StorageFailed(error) => tracing::error!(%error, "local commit failed"),
            other => tracing::debug!(event = ?other, "client event"),
        }
    }

    /// The server refused the token: a fresh one from the provider dials again; without one
    /// (the provider has none yet, or the same refused token) it is asked again in a while,
    /// so a renewal that comes late still brings the client back.
    fn ask_for_token(&mut self, why: String) {
        let fresh = self.token_provider.as_ref().and_then(|provider| provider.fresh());
        match fresh.filter(|token| *token != self.client.config().token) {
            Some(token) => {
                tracing::info!(%why, "token refused; dialling again with a fresh one");
                self.last_error = None;
                self.client.set_token(token);
            }
            None => {
                tracing::warn!(%why, "token refused and no fresh one yet");
                self.last_error = Some(format!("token refused: {why}"));
                if self.token_provider.is_some() {
                    let at = tokio::time::Instant::now() + TOKEN_RETRY;
                    self.token_retry_at = Some(at);
                }
            }
        }
    }

    pub(super) fn publish(&self) {
        let status = Status {
            state: self.client.sync_state(),
            connected: self.socket.is_some(),
            acked: self.client.meta().acked_seq,
            // Counted in constant time: this runs after every input.
            outbox: self.client.outbox().len(),
            cursor: self.client.cursor(),
            last_error: self.last_error.clone(),
        };
        self.status.send_if_modified(|current| {
            let changed = *current != status;
            *current = status;
            changed
        });
    }

    async fn close(&mut self) {
        if let Some(mut socket) = self.socket.take() {
            let _ = socket.close(None).await;
        }
        let now = self.clock.now();
        self.client.disconnected(now);
    }
}

fn apply(client: &mut Client<SqliteStore>, now: Now, write: Write) -> Result<OpId, WriteError> {
    match write {
        Write::Put { key, fields } => client.put(now, key, fields),
        Write::Update { key, fields } => client.update(now, key, fields),
        Write::Delete { key } => client.delete(now, key),
        Write::Increment { key, field, delta } => client.increment(now, key, &field, delta),
    }
}
