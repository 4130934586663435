//! One lane per endpoint: the deliveries this dispatcher holds for it, waiting or in
//! flight, and how many workers drain it. Lanes never wait on each other, so a slow
//! or dead endpoint only ever fills its own.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use super::push::Target;
use crate::store::entities::{delivery, message};

/// One claimed delivery, ready to push.
pub(super) struct Job {
    pub delivery: delivery::Model,
    pub message: message::Model,
    pub target: Arc<Target>,
}

#[derive(Default)]
struct Lane {
    waiting: VecDeque<Job>,
    workers: usize,
    /// Claimed and not yet recorded: waiting, in flight or being written.
    held: usize,
}

/// Every lane of a dispatcher, behind one lock held only for bookkeeping.
pub(super) struct Lanes {
    lanes: HashMap<i64, Lane>,
    held: HashSet<i64>,
    workers_per_lane: usize,
    depth: usize,
}

impl Lanes {
    /// Lanes of at most `workers_per_lane` concurrent pushes, holding up to `depth`
    /// deliveries before their endpoint is left out of claims.
    pub(super) fn new(workers_per_lane: usize, depth: usize) -> Self {
        Self {
            lanes: HashMap::new(),
            held: HashSet::new(),
            workers_per_lane,
            depth,
        }
    }

    /// Endpoints whose lanes are full: the next claim leaves them out.
    pub(super) fn full(&self) -> Vec<i64> {
        self.lanes
            .iter()
            .filter(|(_, lane)| lane.held >= self.depth)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Every delivery held, for lease renewal.
    pub(super) fn held(&self) -> Vec<i64> {
        self.held.iter().copied().collect()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Queues a job; true when its lane wants one more worker.
    pub(super) fn push(&mut self, job: Job) -> bool {
        self.held.insert(job.delivery.id);
        let lane = self.lanes.entry(job.delivery.endpoint_id).or_default();
        lane.held += 1;
        lane.waiting.push_back(job);
        let more = lane.workers < self.workers_per_lane;
        if more {
            lane.workers += 1;
        }
        more
    }

    /// The lane's next job; `None` retires the asking worker.
    pub(super) fn next(&mut self, endpoint: i64) -> Option<Job> {
        let lane = self.lanes.get_mut(&endpoint)?;
        let job = lane.waiting.pop_front();
        if job.is_none() {
            lane.workers -= 1;
            if lane.held == 0 && lane.workers == 0 {
                self.lanes.remove(&endpoint);
            }
        }
        job
    }

    /// A delivery is no longer held (recorded, or given up to its lease). True when
    /// its lane just fell to half its depth: time to claim for it again.
    pub(super) fn done(&mut self, endpoint: i64, delivery: i64) -> bool {
        self.held.remove(&delivery);
        let Some(lane) = self.lanes.get_mut(&endpoint) else {
            return false;
        };
        lane.held = lane.held.saturating_sub(1);
        let refill = lane.held == self.depth / 2;
        if lane.held == 0 && lane.workers == 0 {
            self.lanes.remove(&endpoint);
        }
        refill
    }

    /// Takes every waiting job of one lane (or of all lanes) out, no longer held:
    /// for an endpoint that was just disabled, or at shutdown.
    pub(super) fn drain(&mut self, endpoint: Option<i64>) -> Vec<i64> {
        let mut ids = Vec::new();
        for (id, lane) in &mut self.lanes {
            if endpoint.is_some_and(|e| e != *id) {
                continue;
            }
            for job in lane.waiting.drain(..) {
                lane.held -= 1;
                ids.push(job.delivery.id);
            }
        }
        for id in &ids {
            self.held.remove(id);
        }
        ids
    }
}
