//! The endpoint's execution environments, scaled as Web Functions scales
//! them (web-functions-scaling): a request takes a place in a running
//! environment that has fewer than `--max-concurrency` requests; when none
//! has one, a new environment starts for it (the request waits for its
//! init); when `--max-environments` are running and all are full, the
//! request is throttled at once, never queued. An environment idle for
//! `--idle-timeout` is scaled down; stopping the endpoint stops them all
//! (local/WEBFUNCTIONS.md, "Scaling").
//!
//! Owns: which environment serves a request, when one starts or stops.
//! Must not: touch a request's head or body, or an environment's process.

use super::instance::{Instance, Phase};
use super::logs::Log;
use super::options::WebConfig;
use crate::util::lock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Why a request got no place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoPlace {
    /// Every environment is full and no more may start.
    Throttled,
    /// The endpoint is stopping.
    Stopping,
}

/// The environments of one endpoint.
#[derive(Debug)]
pub struct Fleet {
    cfg: Arc<WebConfig>,
    log: Arc<Log>,
    instances: Mutex<Vec<Arc<Instance>>>,
    started: AtomicUsize,
    stopping: AtomicBool,
}

/// A request's place in an environment, given back on drop.
#[derive(Debug)]
pub struct Slot {
    /// The environment that serves the request.
    pub instance: Arc<Instance>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.instance.release();
    }
}

impl Fleet {
    /// A fleet with no environment yet.
    pub fn new(cfg: Arc<WebConfig>, log: Arc<Log>) -> Arc<Fleet> {
        Arc::new(Fleet {
            cfg,
            log,
            instances: Mutex::new(Vec::new()),
            started: AtomicUsize::new(0),
            stopping: AtomicBool::new(false),
        })
    }

    /// A place for one request, in the first environment with room, or in
    /// a new one.
    pub fn reserve(&self) -> Result<Slot, NoPlace> {
        if self.stopping.load(Ordering::SeqCst) {
            return Err(NoPlace::Stopping);
        }
        let mut list = lock(&self.instances);
        // Environments that failed init or whose app exited serve nothing.
        list.retain(|i| !matches!(i.phase(), Phase::Failed(..) | Phase::Exited(_)));
        let max = self.cfg.max_concurrency;
        if let Some(i) = list.iter().find(|i| i.try_reserve(max)) {
            return Ok(Slot {
                instance: Arc::clone(i),
            });
        }
        let live = list.iter().filter(|i| i.is_live()).count();
        if live >= self.cfg.max_environments {
            return Err(NoPlace::Throttled);
        }
        let instance = self.start_locked(&mut list);
        // Even one whose command could not start: the request gets that
        // failure from it.
        instance.reserve_first();
        Ok(Slot { instance })
    }

    fn start_locked(&self, list: &mut Vec<Arc<Instance>>) -> Arc<Instance> {
        let number = self.started.fetch_add(1, Ordering::SeqCst) + 1;
        let instance = Instance::start(number, &self.cfg, Arc::clone(&self.log));
        list.push(Arc::clone(&instance));
        instance
    }

    /// Starts one environment ahead of traffic, so a broken app shows at
    /// once.
    pub fn prewarm(&self) {
        let mut list = lock(&self.instances);
        if list.is_empty() {
            self.start_locked(&mut list);
        }
    }

    /// Scales down environments idle for `--idle-timeout`, until the
    /// endpoint stops.
    pub async fn scale_down_idle(self: Arc<Self>) {
        let tick = Duration::from_millis(100).min(self.cfg.idle_timeout);
        while !self.stopping.load(Ordering::SeqCst) {
            tokio::time::sleep(tick).await;
            let idle: Vec<Arc<Instance>> = {
                let list = lock(&self.instances);
                list.iter()
                    .filter(|i| i.idle_for().is_some_and(|d| d >= self.cfg.idle_timeout))
                    .filter(|i| i.mark_stopping())
                    .cloned()
                    .collect()
            };
            for i in idle {
                let this = Arc::clone(&self);
                tokio::spawn(async move {
                    i.stop(Duration::ZERO, "idle").await;
                    lock(&this.instances).retain(|x| !Arc::ptr_eq(x, &i));
                });
            }
        }
    }

    /// Stops every environment: no new request gets a place, those in
    /// flight finish (within the request timeout), then each app gets
    /// SIGTERM and SIGKILL 1 s later.
    pub async fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let all: Vec<Arc<Instance>> = {
            let list = lock(&self.instances);
            list.iter().for_each(|i| {
                i.mark_stopping();
            });
            // Those whose init failed or whose app exited are gone already.
            list.iter()
                .filter(|i| !matches!(i.phase(), Phase::Failed(..) | Phase::Exited(_)))
                .cloned()
                .collect()
        };
        let drain = self.cfg.timeout + Duration::from_secs(1);
        let mut stops = tokio::task::JoinSet::new();
        for i in all {
            stops.spawn(async move { i.stop(drain, "shutdown").await });
        }
        while stops.join_next().await.is_some() {}
    }

    /// SIGKILL to every environment's app at once.
    pub fn kill(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        for i in lock(&self.instances).iter() {
            i.kill();
        }
    }
}
