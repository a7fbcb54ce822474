//! Invocation bookkeeping: the queue, handing events to `/next`
//! pollers under Lambda's rules (one at a time, or N with Managed
//! Instances), the INVOKE event to extensions, timeouts (queued or
//! running), completion, and ending every running invocation at once.
//!
//! It must not speak HTTP: `server` reads the runtime's posts and calls
//! `Shared::complete`.

use super::extensions::Extension;
use super::state::{Shared, State};
use super::{
    init_timeout_error, timeout_error, FunctionError, InitState, Invocation, InvokeOptions,
    InvokeRejected, Outcome, RuntimeApi, StreamEvent, Timeout,
};
use crate::util;
use bytes::Bytes;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot, Notify};

/// What a `/next` poller receives.
#[derive(Debug)]
pub(crate) struct NextEvent {
    pub request_id: String,
    pub payload: Bytes,
    pub deadline_ms: u64,
    pub invoked_function_arn: String,
    pub trace_id: String,
    pub client_context: Option<String>,
    pub cognito_identity: Option<String>,
    pub tenant_id: Option<String>,
    /// Told when the `/next` answer is about to go out.
    pub dispatched_tx: Option<oneshot::Sender<Instant>>,
}

pub(super) struct Pending {
    pub(super) request_id: String,
    pub(super) payload: Bytes,
    pub(super) opts: InvokeOptions,
    pub(super) outcome_tx: oneshot::Sender<Outcome>,
    pub(super) stream_tx: Option<mpsc::Sender<StreamEvent>>,
    /// Told the moment the `/next` answer carrying the event goes out;
    /// dropped unsent if it never does.
    pub(super) dispatched_tx: Option<oneshot::Sender<Instant>>,
}

pub(crate) struct Inflight {
    pub(super) generation: u64,
    pub(super) timeout: Duration,
    pub(super) outcome_tx: oneshot::Sender<Outcome>,
    pub(crate) stream_tx: Option<mpsc::Sender<StreamEvent>>,
    /// A response post is being read (a second one is refused).
    pub(crate) responding: bool,
    /// Woken when the invocation ends by other means (timeout) while a
    /// streamed response is still being read.
    pub(crate) cancel: Arc<Notify>,
}

/// The Extensions API's INVOKE event for a dispatched invocation.
fn invoke_event_for_extensions(event: &NextEvent) -> String {
    serde_json::json!({
        "eventType": "INVOKE",
        "deadlineMs": event.deadline_ms,
        "requestId": event.request_id,
        "invokedFunctionArn": event.invoked_function_arn,
        "tracing": { "type": "X-Amzn-Trace-Id", "value": event.trace_id },
    })
    .to_string()
}

impl Shared {
    /// Hands queued events to waiting pollers while the rules allow.
    pub(super) fn dispatch(self: &Arc<Self>, st: &mut State) {
        while self.may_dispatch(st) {
            let Some(poller) = st.pollers.pop_front() else {
                return;
            };
            if poller.is_closed() {
                continue;
            }
            let Some(mut pending) = st.queue.pop_front() else {
                return;
            };
            let (event, timeout) = self.next_event(&mut pending);
            let invoke_event = invoke_event_for_extensions(&event);
            if let Err(event) = poller.send(event) {
                pending.dispatched_tx = event.dispatched_tx;
                st.queue.push_front(pending);
                continue;
            }
            for ext in st.extensions.iter_mut().filter(|e| e.wants("INVOKE")) {
                ext.deliver(Bytes::from(invoke_event.clone()), false);
            }
            self.start_inflight(st, pending, timeout);
        }
    }

    /// Whether the next queued event may go out now: init done, not
    /// shutting down, something queued, room under the concurrency limit,
    /// and (one invocation at a time, as Lambda runs) every extension done
    /// with the previous one.
    fn may_dispatch(&self, st: &State) -> bool {
        st.init == InitState::Ready
            && !st.shutting_down
            && !st.queue.is_empty()
            && st.inflight.len() < self.config.max_concurrency.max(1)
            && (self.config.max_concurrency > 1 || st.extensions.iter().all(Extension::is_waiting))
    }

    /// The `/next` answer for `pending`, with its timeout.
    fn next_event(&self, pending: &mut Pending) -> (NextEvent, Duration) {
        let timeout = pending.opts.timeout.unwrap_or(self.config.timeout);
        let event = NextEvent {
            request_id: pending.request_id.clone(),
            payload: pending.payload.clone(),
            deadline_ms: util::epoch_millis() + timeout.as_millis() as u64,
            invoked_function_arn: pending
                .opts
                .invoked_function_arn
                .clone()
                .unwrap_or_else(|| self.config.function_arn()),
            trace_id: pending
                .opts
                .trace_id
                .clone()
                .unwrap_or_else(util::new_trace_id),
            client_context: pending.opts.client_context.clone(),
            cognito_identity: pending.opts.cognito_identity.clone(),
            tenant_id: pending.opts.tenant_id.clone(),
            dispatched_tx: pending.dispatched_tx.take(),
        };
        (event, timeout)
    }

    /// Records a dispatched invocation as in flight and starts its timer.
    fn start_inflight(self: &Arc<Self>, st: &mut State, pending: Pending, timeout: Duration) {
        st.inflight.insert(
            pending.request_id.clone(),
            Inflight {
                generation: st.generation,
                timeout,
                outcome_tx: pending.outcome_tx,
                stream_tx: pending.stream_tx,
                responding: false,
                cancel: Arc::new(Notify::new()),
            },
        );
        st.progress += 1;
        let shared = Arc::clone(self);
        let id = pending.request_id;
        let generation = st.generation;
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            shared.time_out(&id, generation, true);
        });
    }

    /// Ends invocation `id` with `Sandbox.Timedout` if it is still running.
    pub(super) fn time_out(self: &Arc<Self>, id: &str, generation: u64, dispatched: bool) {
        let mut st = self.lock();
        if dispatched {
            let current = st
                .inflight
                .get(id)
                .is_some_and(|i| i.generation == generation);
            if !current {
                return;
            }
            if let Some(inflight) = st.inflight.remove(id) {
                st.progress += 1;
                inflight.cancel.notify_one();
                let reason = timeout_error(id, inflight.timeout);
                if let Some(tx) = &inflight.stream_tx {
                    let _ = tx.try_send(StreamEvent::Aborted {
                        reason: reason.error_message.clone(),
                    });
                }
                let _ = inflight.outcome_tx.send(Outcome::TimedOut(Timeout {
                    after: inflight.timeout,
                    dispatched: true,
                    error: reason,
                }));
            }
        } else if let Some(pos) = st.queue.iter().position(|p| p.request_id == id) {
            if let Some(p) = st.queue.remove(pos) {
                let after = p.opts.timeout.unwrap_or(self.config.timeout);
                let _ = p.outcome_tx.send(Outcome::TimedOut(Timeout {
                    after,
                    dispatched: false,
                    error: timeout_error(id, after),
                }));
            }
        }
        self.dispatch(&mut st);
        drop(st);
        self.changed();
    }

    /// Ends invocation `id` with `outcome`. False if it was not running.
    pub(crate) fn complete(self: &Arc<Self>, id: &str, outcome: Outcome) -> bool {
        let mut st = self.lock();
        let Some(inflight) = st.inflight.remove(id) else {
            return false;
        };
        let _ = inflight.outcome_tx.send(outcome);
        st.progress += 1;
        self.dispatch(&mut st);
        drop(st);
        self.changed();
        true
    }
}

impl RuntimeApi {
    /// Refuses a request payload of `size` bytes over
    /// [`Config::max_request_bytes`](super::Config::max_request_bytes), as
    /// Lambda does before anything runs (`RequestEntityTooLargeException`).
    pub fn check_payload(&self, size: usize) -> Result<(), InvokeRejected> {
        let limit = self.shared.config.max_request_bytes;
        if size > limit {
            return Err(InvokeRejected::PayloadTooLarge { limit });
        }
        Ok(())
    }

    /// Queues an invocation. It reaches the runtime when init is ready and a
    /// `/next` poller is free; its timeout starts counting when init is ready.
    pub fn start_invoke(
        &self,
        payload: impl Into<Bytes>,
        opts: InvokeOptions,
    ) -> Result<Invocation, InvokeRejected> {
        let payload = payload.into();
        self.check_payload(payload.len())?;
        let request_id = opts.request_id.clone().unwrap_or_else(util::uuid_v4);
        let (outcome_tx, outcome_rx) = oneshot::channel();
        let (dispatched_tx, dispatched_rx) = oneshot::channel();
        let (stream_tx, stream_rx) = if opts.watch_stream {
            let (tx, rx) = mpsc::channel(64);
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        let timeout = opts.timeout.unwrap_or(self.shared.config.timeout);
        {
            let mut st = self.shared.lock();
            if st.shutting_down || *self.stop.borrow() {
                return Err(InvokeRejected::ShuttingDown);
            }
            match &st.init {
                InitState::Failed(e) => {
                    let _ = outcome_tx.send(Outcome::InitError(e.clone()));
                }
                InitState::TimedOut => {
                    let _ = outcome_tx.send(Outcome::InitError(init_timeout_error()));
                }
                _ => {
                    st.queue.push_back(Pending {
                        request_id: request_id.clone(),
                        payload,
                        opts,
                        outcome_tx,
                        stream_tx,
                        dispatched_tx: Some(dispatched_tx),
                    });
                    self.shared.dispatch(&mut st);
                }
            }
        }
        self.shared.changed();
        // Bound the wait for a poller: the timeout counts from init ready.
        let shared = Arc::clone(&self.shared);
        let id = request_id.clone();
        tokio::spawn(async move {
            loop {
                shared
                    .wait_for(|st| (st.init != InitState::Pending).then_some(()))
                    .await;
                let progress = shared.lock().progress;
                tokio::time::sleep(timeout).await;
                let (still_queued, moved) = {
                    let st = shared.lock();
                    (
                        st.queue.iter().any(|p| p.request_id == id),
                        st.progress != progress,
                    )
                };
                if !still_queued {
                    return;
                }
                // Waiting behind other invocations that are making progress
                // is not a timeout; waiting for a runtime that never polls is.
                if !moved {
                    shared.time_out(&id, 0, false);
                    return;
                }
            }
        });
        Ok(Invocation {
            request_id,
            outcome: outcome_rx,
            stream: stream_rx,
            dispatched: Some(dispatched_rx),
        })
    }

    /// Invokes and waits for the outcome.
    pub async fn invoke(
        &self,
        payload: impl Into<Bytes>,
        opts: InvokeOptions,
    ) -> Result<Outcome, InvokeRejected> {
        Ok(self.start_invoke(payload, opts)?.outcome().await)
    }

    /// How many invocations are running.
    pub fn inflight(&self) -> usize {
        self.shared.lock().inflight.len()
    }

    /// Ends every running invocation with `error` (for the sandbox, when the
    /// runtime process died).
    pub fn abort_inflight(&self, error: FunctionError) {
        let mut st = self.shared.lock();
        for (_, inflight) in st.inflight.drain() {
            inflight.cancel.notify_one();
            if let Some(tx) = &inflight.stream_tx {
                let _ = tx.try_send(StreamEvent::Aborted {
                    reason: error.error_message.clone(),
                });
            }
            let _ = inflight.outcome_tx.send(Outcome::Error(error.clone()));
        }
        drop(st);
        self.shared.changed();
    }
}
