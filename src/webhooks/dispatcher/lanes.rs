//! One lane per endpoint: the deliveries this dispatcher holds for it, waiting or in
//! flight, and how many workers drain it. Lanes never wait on each other, so a slow
//! or dead endpoint only ever fills its own.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::push::Target;
use crate::store::dispatch::{Claimed, Payload};

/// How often, at most, a look for due deliveries that found none outside the full
/// lanes is repeated while those lanes stay full: such a look walks the full lanes'
/// whole backlog in the due index, only to skip it.
pub(super) const FULL_LOOK_EVERY: Duration = Duration::from_millis(50);

/// Whether a look that found nothing outside the lanes then full (`last`) still
/// holds at `now` with `full` lanes full.
pub(super) fn still_fruitless(
    last: Option<&(Instant, Vec<i64>)>,
    full: &[i64],
    now: Instant,
) -> bool {
    last.is_some_and(|(at, then)| {
        now.saturating_duration_since(*at) < FULL_LOOK_EVERY
            && then.iter().all(|e| full.contains(e))
    })
}

/// One claimed delivery, ready to push.
pub(super) struct Job {
    pub delivery: Claimed,
    pub message: Payload,
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
    /// its lane has room for more: time to claim, which also picks up the next push
    /// of the same ordering key at once.
    pub(super) fn done(&mut self, endpoint: i64, delivery: i64) -> bool {
        self.held.remove(&delivery);
        let Some(lane) = self.lanes.get_mut(&endpoint) else {
            return true;
        };
        lane.held = lane.held.saturating_sub(1);
        let refill = lane.held < self.depth;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhooks::ssrf::Guard;
    use chrono::Utc;

    fn job(id: i64, endpoint: i64, target: &Arc<Target>) -> Job {
        Job {
            delivery: Claimed {
                id,
                message_id: id,
                endpoint_id: endpoint,
                attempts: 0,
            },
            message: Payload {
                webhook_id: format!("msg_{id}"),
                body: "{}".into(),
            },
            target: target.clone(),
        }
    }

    fn target() -> Arc<Target> {
        let now = Utc::now();
        let endpoint = crate::store::entities::webhook_endpoint::Model {
            id: 1,
            business_id: 1,
            url: "https://example.com/hooks".into(),
            description: None,
            event_types: None,
            facilities: None,
            secret: crate::webhooks::signer::WebhookSecret::generate()
                .expose()
                .to_string(),
            previous_secret: None,
            previous_secret_expires_at: None,
            disabled: false,
            disabled_reason: None,
            created_at: now,
            updated_at: now,
        };
        Arc::new(Target::new(&endpoint, &Guard::parse("").unwrap()))
    }

    #[test]
    fn a_lane_starts_no_more_workers_than_its_concurrency_and_retires_them_when_empty() {
        let (t, mut lanes) = (target(), Lanes::new(2, 4));
        let started: Vec<bool> = (1..=3).map(|id| lanes.push(job(id, 7, &t))).collect();
        assert_eq!(started, [true, true, false]);
        assert_eq!(lanes.next(7).map(|j| j.delivery.id), Some(1));
        assert_eq!(lanes.next(7).map(|j| j.delivery.id), Some(2));
        assert_eq!(lanes.next(7).map(|j| j.delivery.id), Some(3));
        assert!(lanes.next(7).is_none(), "one worker retires");
        assert!(
            lanes.push(job(4, 7, &t)),
            "a retired worker is started again"
        );
    }

    #[test]
    fn a_full_lane_is_left_out_of_claims_until_a_delivery_is_recorded() {
        let (t, mut lanes) = (target(), Lanes::new(1, 4));
        for id in 1..=5 {
            lanes.push(job(id, 7, &t));
        }
        lanes.push(job(6, 8, &t));
        assert_eq!(lanes.full(), [7]);
        assert!(!lanes.done(7, 1), "still full");
        assert!(lanes.done(7, 2), "room again: claim");
        assert!(lanes.full().is_empty());
        let mut held = lanes.held();
        held.sort_unstable();
        assert_eq!(held, [3, 4, 5, 6]);
    }

    #[test]
    fn draining_a_lane_gives_back_only_what_waits_there() {
        let (t, mut lanes) = (target(), Lanes::new(1, 8));
        for id in 1..=3 {
            lanes.push(job(id, 7, &t));
        }
        lanes.push(job(4, 8, &t));
        let in_flight = lanes.next(7).unwrap();
        assert_eq!(lanes.drain(Some(7)), [2, 3]);
        let mut held = lanes.held();
        held.sort_unstable();
        assert_eq!(held, [in_flight.delivery.id, 4]);
        assert_eq!(lanes.drain(None), [4]);
        assert!(!lanes.is_empty(), "the push in flight is still held");
        lanes.done(7, in_flight.delivery.id);
        assert!(lanes.is_empty());
    }

    #[test]
    fn a_fruitless_look_is_skipped_only_while_its_full_lanes_stay_full_and_briefly() {
        let at = Instant::now();
        let last = (at, vec![7, 8]);
        assert!(!still_fruitless(None, &[7, 8], at), "no look yet");
        assert!(still_fruitless(Some(&last), &[7, 8], at));
        assert!(
            still_fruitless(Some(&last), &[8, 7, 9], at),
            "more lanes full"
        );
        assert!(!still_fruitless(Some(&last), &[8], at), "lane 7 has room");
        let later = at + FULL_LOOK_EVERY;
        assert!(
            !still_fruitless(Some(&last), &[7, 8], later),
            "time to look again"
        );
    }
}
