//! `oracle` and `no_resurrection` at every server commit: after each server input that accepted
//! ops, the records those ops touched must be the reference merge of every op the server has
//! accepted so far, and must show nothing older than a delete. A failure so names the first
//! input that made the server wrong, where the end-of-run checks could only name the record.
//!
//! The reference keeps its own account of what the server accepted: a registration's acked seq
//! says through which seq the server applied (or quarantined) a writer's ops, and the ops
//! themselves come from the history, as their writers committed them, never from the server.
//! Only the touched records are compared, each against a running reference (see
//! [`Running`]), so a check costs what the input changed. The end-of-run `oracle`
//! still runs: it also judges ops that never reached the server.

use std::collections::{BTreeMap, BTreeSet};

use driftsync_core::{OpId, RecordKey, ReplicaId, Schema, Seq};

use crate::check::oracle::resurrected;
use crate::check::reference::Running;
use crate::history::History;
use crate::outcome::Checker;
use crate::view::{ServerView, record_content};

/// The checkers run here.
const CHECKERS: [Checker; 2] = [Checker::Oracle, Checker::NoResurrection];

/// What one server input broke: the checker, the record, and how.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Broken {
    pub(crate) checker: Checker,
    pub(crate) record: Option<String>,
    pub(crate) detail: String,
}

/// The reference's running state: what the server has accepted, by record.
#[derive(Debug, Default)]
pub(crate) struct CommitWatch {
    /// Where each committed op is in the history, for the ops indexed so far.
    committed_at: BTreeMap<OpId, usize>,
    committed_indexed: usize,
    /// Per writer: the seq through which the server has accepted its ops.
    accepted_through: BTreeMap<ReplicaId, Seq>,
    /// Every accepted op the server did not quarantine, by id: where it is in the history.
    accepted: BTreeMap<OpId, usize>,
    /// The reference content of each record the accepted ops write.
    by_record: BTreeMap<RecordKey, Running>,
    /// Checkers that found something: what follows from a wrong state would only repeat it.
    stopped: BTreeSet<Checker>,
}

impl CommitWatch {
    /// Judges the server after one of its inputs; `schema` is the lineage's latest, which the
    /// server stores. Each checker reports the first thing it finds, and then no more.
    pub(crate) fn after_server_input(
        &mut self,
        server: &ServerView<'_>,
        history: &History,
        schema: &Schema,
    ) -> Vec<Broken> {
        if self.stopped.len() == CHECKERS.len() {
            return Vec::new();
        }
        self.index_committed(history);
        let (touched, invented) = self.follow_acks(server, history, schema);
        let mut broken: Vec<Broken> = invented.into_iter().collect();
        for checker in CHECKERS {
            if broken.iter().all(|b| b.checker != checker) {
                broken.extend(self.first_wrong(checker, &touched, server));
            }
        }
        broken.retain(|b| self.stopped.insert(b.checker));
        broken
    }

    fn index_committed(&mut self, history: &History) {
        for (at, op) in history.committed.iter().enumerate().skip(self.committed_indexed) {
            self.committed_at.insert(op.id, at);
        }
        self.committed_indexed = history.committed.len();
    }

    /// Moves the accepted set to the server's acks; returns the records whose ops changed, and
    /// an op the server accepted that no client committed.
    fn follow_acks(
        &mut self,
        server: &ServerView<'_>,
        history: &History,
        schema: &Schema,
    ) -> (BTreeSet<RecordKey>, Option<Broken>) {
        let mut touched = BTreeSet::new();
        let mut invented = None;
        let moved = server.registrations.iter().any(|(replica, registration)| {
            self.accepted_through.get(replica).copied().unwrap_or(Seq(0)) != registration.acked_seq
        });
        if !moved {
            return (touched, invented);
        }
        let held: BTreeSet<OpId> = server.quarantine.iter().map(|q| q.op.id).collect();
        for (replica, registration) in server.registrations {
            let through = self.accepted_through.get(replica).copied().unwrap_or(Seq(0));
            let acked = registration.acked_seq;
            if acked < through {
                // The server lost acknowledged ops (a store that forgot a commit): the
                // reference forgets them too, and the end-of-run oracle reports the loss.
                self.forget_above(*replica, acked, history, schema, &mut touched);
            }
            for seq in through.0 + 1..=acked.0 {
                let id = OpId { replica: *replica, seq: Seq(seq) };
                if held.contains(&id) {
                    continue; // Held aside: `quarantine_accounted` judges it.
                }
                let Some(&at) = self.committed_at.get(&id) else {
                    let detail = format!("the server accepted op {id}, which no client wrote");
                    let broken = Broken { checker: Checker::Oracle, record: None, detail };
                    invented.get_or_insert(broken);
                    continue;
                };
                let op = &history.committed[at];
                self.accepted.insert(id, at);
                self.by_record.entry(op.key.clone()).or_default().apply(op, schema);
                touched.insert(op.key.clone());
            }
            self.accepted_through.insert(*replica, acked);
        }
        (touched, invented)
    }

    /// Forgets the writer's accepted ops above `acked`, rebuilding the records they wrote from
    /// the ops that remain (a running reference only ever adds).
    fn forget_above(
        &mut self,
        replica: ReplicaId,
        acked: Seq,
        history: &History,
        schema: &Schema,
        touched: &mut BTreeSet<RecordKey>,
    ) {
        let above = OpId { replica, seq: Seq(acked.0 + 1) }..=OpId { replica, seq: Seq(u64::MAX) };
        let forgotten: Vec<OpId> = self.accepted.range(above).map(|(id, _)| *id).collect();
        let mut rebuilt = BTreeSet::new();
        for id in forgotten {
            if let Some(at) = self.accepted.remove(&id) {
                rebuilt.insert(history.committed[at].key.clone());
            }
        }
        for key in rebuilt {
            let mut running = Running::default();
            let ops = self.accepted.values().map(|at| &history.committed[*at]);
            for op in ops.filter(|op| op.key == key) {
                running.apply(op, schema);
            }
            self.by_record.insert(key.clone(), running);
            touched.insert(key);
        }
    }

    /// The first touched record on which `checker` fails the server.
    fn first_wrong(
        &self,
        checker: Checker,
        touched: &BTreeSet<RecordKey>,
        server: &ServerView<'_>,
    ) -> Option<Broken> {
        if self.stopped.contains(&checker) {
            return None;
        }
        touched.iter().find_map(|key| {
            let running = self.by_record.get(key)?;
            let state = server.records.get(key);
            let detail = match checker {
                Checker::NoResurrection => {
                    // Only a delete can be resurrected: a record never deleted is skipped
                    // before its view is built.
                    running.newest.delete?;
                    let shown = state.and_then(|state| state.view())?;
                    resurrected(&running.newest, &shown).into_iter().next()?
                }
                _ => {
                    if running.shown_by(state) {
                        return None;
                    }
                    let actual = state.and_then(record_content);
                    let expected = running.content();
                    format!(
                        "the server is not the reference merge of the ops it accepted: expected \
                         {expected:?}, found {actual:?}"
                    )
                }
            };
            Some(Broken { checker, record: Some(key.to_string()), detail })
        })
    }
}
