//! One lane per endpoint: the deliveries this dispatcher holds for it, waiting or in
//! flight, and how many workers drain it. Lanes never wait on each other, so a slow
//! or dead endpoint only ever fills its own. An endpoint that keeps failing is paced:
//! one push at a time, after a pause that doubles with each failure in a row.

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

/// The pause after an endpoint's first failure in a row; each further one doubles it.
const FIRST_PAUSE: Duration = Duration::from_millis(10);

/// How many times its depth a lane may hold, counting pushes made and not yet
/// recorded, before it is left out of claims: a bound should the attempt log fall
/// behind.
const HELD_PER_DEPTH: usize = 4;

/// What a lane's worker does next.
pub(super) enum Next {
    /// Push this job; `refill`: the lane just ran down to half its depth, time to
    /// claim more before it runs dry.
    Push { job: Job, refill: bool },
    /// The endpoint keeps failing: ask again at this instant.
    Wait(Instant),
    /// Nothing to do: the worker ends.
    Retire,
}

/// How an endpoint's push went, as far as pacing is concerned.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Change {
    /// Its first failure after answering (or after a fresh start).
    StartedFailing,
    /// Its first success after this many failures in a row.
    Recovered(u32),
}

/// An endpoint whose last pushes failed.
struct Failing {
    in_a_row: u32,
    resume_at: Instant,
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

impl Lane {
    /// Whether the next claim leaves this lane out: enough is waiting to keep its
    /// pushes going until the claim after, or too much is held.
    fn full(&self, depth: usize) -> bool {
        self.waiting.len() >= depth || self.held >= HELD_PER_DEPTH * depth
    }
}

/// Every lane of a dispatcher, behind one lock held only for bookkeeping.
pub(super) struct Lanes {
    lanes: HashMap<i64, Lane>,
    held: HashSet<i64>,
    workers_per_lane: usize,
    depth: usize,
    /// Endpoints failing now; kept while their lane exists or their pause runs.
    failing: HashMap<i64, Failing>,
    /// The longest pause between pushes to a failing endpoint; zero: no pacing.
    max_pause: Duration,
}

impl Lanes {
    /// Lanes of at most `workers_per_lane` concurrent pushes, with up to `depth`
    /// deliveries waiting before their endpoint is left out of claims; a failing endpoint's
    /// pushes are spaced by up to `max_pause`.
    pub(super) fn new(workers_per_lane: usize, depth: usize, max_pause: Duration) -> Self {
        Self {
            lanes: HashMap::new(),
            held: HashSet::new(),
            workers_per_lane,
            depth,
            failing: HashMap::new(),
            max_pause,
        }
    }

    /// Endpoints whose lanes are full: the next claim leaves them out. Also forgets
    /// the failures of endpoints that have had no lane for longer than any pause.
    pub(super) fn full(&mut self, now: Instant) -> Vec<i64> {
        let (lanes, max_pause) = (&self.lanes, self.max_pause);
        self.failing
            .retain(|id, f| lanes.contains_key(id) || now < f.resume_at + max_pause);
        self.lanes
            .iter()
            .filter(|(_, lane)| lane.full(self.depth))
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
        let endpoint = job.delivery.endpoint_id;
        self.held.insert(job.delivery.id);
        let lane = self.lanes.entry(endpoint).or_default();
        lane.held += 1;
        lane.waiting.push_back(job);
        let allowed = if self.failing.contains_key(&endpoint) {
            1
        } else {
            self.workers_per_lane
        };
        let more = lane.workers < allowed;
        if more {
            lane.workers += 1;
        }
        more
    }

    /// What the asking worker of `endpoint`'s lane does next. A failing endpoint
    /// keeps one worker, which waits out the pause before each push.
    pub(super) fn next(&mut self, endpoint: i64, now: Instant) -> Next {
        let Some(lane) = self.lanes.get_mut(&endpoint) else {
            return Next::Retire;
        };
        if let Some(failing) = self.failing.get(&endpoint)
            && !lane.waiting.is_empty()
        {
            if lane.workers > 1 {
                lane.workers -= 1;
                return Next::Retire;
            }
            if now < failing.resume_at {
                return Next::Wait(failing.resume_at);
            }
        }
        match lane.waiting.pop_front() {
            Some(job) => Next::Push {
                job,
                refill: lane.waiting.len() == self.depth / 2,
            },
            None => {
                self.retire(endpoint);
                Next::Retire
            }
        }
    }

    /// A worker of `endpoint`'s lane ends.
    pub(super) fn retire(&mut self, endpoint: i64) {
        if let Some(lane) = self.lanes.get_mut(&endpoint) {
            lane.workers = lane.workers.saturating_sub(1);
            if lane.held == 0 && lane.workers == 0 {
                self.lanes.remove(&endpoint);
            }
        }
    }

    /// Notes how a push to `endpoint` went (`retry_after`: what a failing receiver
    /// asked for); answers when the endpoint starts failing or recovers.
    pub(super) fn answered(
        &mut self,
        endpoint: i64,
        ok: bool,
        retry_after: Option<Duration>,
        now: Instant,
    ) -> Option<Change> {
        if ok {
            return self
                .failing
                .remove(&endpoint)
                .map(|f| Change::Recovered(f.in_a_row));
        }
        if self.max_pause.is_zero() {
            return None;
        }
        let failing = self.failing.entry(endpoint).or_insert(Failing {
            in_a_row: 0,
            resume_at: now,
        });
        failing.in_a_row = failing.in_a_row.saturating_add(1);
        let doubled = FIRST_PAUSE.saturating_mul(1 << (failing.in_a_row - 1).min(20));
        let pause = doubled
            .max(retry_after.unwrap_or_default())
            .min(self.max_pause);
        failing.resume_at = failing.resume_at.max(now + pause);
        (failing.in_a_row == 1).then_some(Change::StartedFailing)
    }

    /// A delivery is no longer held (recorded, or given up to its lease). True when
    /// its lane has room for more: time to claim, which also picks up the next push
    /// of the same ordering key at once, instead of at the next poll.
    pub(super) fn done(&mut self, endpoint: i64, delivery: i64) -> bool {
        self.held.remove(&delivery);
        let Some(lane) = self.lanes.get_mut(&endpoint) else {
            return true;
        };
        lane.held = lane.held.saturating_sub(1);
        let refill = !lane.full(self.depth);
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
                attempts_before_replay: 0,
                rendered: None,
                payload: None,
            },
            message: Payload {
                webhook_id: format!("msg_{id}"),
                body: "{}".into(),
            },
            target: target.clone(),
        }
    }

    const PAUSE: Duration = Duration::from_secs(1);

    /// The id of the job a worker is given, if it is given one.
    fn pushed(next: Next) -> Option<i64> {
        match next {
            Next::Push { job, .. } => Some(job.delivery.id),
            Next::Wait(_) | Next::Retire => None,
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
            outbound: None,
            party: None,
            created_at: now,
            updated_at: now,
        };
        Arc::new(Target::new(
            &endpoint,
            &Guard::new(&[]),
            &crate::outbound::Outbound::empty(),
        ))
    }

    #[test]
    fn a_lane_starts_no_more_workers_than_its_concurrency_and_retires_them_when_empty() {
        let (t, mut lanes) = (target(), Lanes::new(2, 4, PAUSE));
        let started: Vec<bool> = (1..=3).map(|id| lanes.push(job(id, 7, &t))).collect();
        assert_eq!(started, [true, true, false]);
        assert_eq!(pushed(lanes.next(7, Instant::now())), Some(1));
        assert_eq!(pushed(lanes.next(7, Instant::now())), Some(2));
        assert_eq!(pushed(lanes.next(7, Instant::now())), Some(3));
        assert_eq!(
            pushed(lanes.next(7, Instant::now())),
            None,
            "one worker retires"
        );
        assert!(
            lanes.push(job(4, 7, &t)),
            "a retired worker is started again"
        );
    }

    #[test]
    fn a_lane_with_its_depth_waiting_is_left_out_of_claims_and_asks_for_more_at_half() {
        let (t, mut lanes) = (target(), Lanes::new(1, 4, PAUSE));
        for id in 1..=5 {
            lanes.push(job(id, 7, &t));
        }
        lanes.push(job(6, 8, &t));
        assert_eq!(lanes.full(Instant::now()), [7]);
        let refills: Vec<bool> = (0..4)
            .map(|_| match lanes.next(7, Instant::now()) {
                Next::Push { refill, .. } => refill,
                _ => panic!("a push was due"),
            })
            .collect();
        // 4 waiting after the first, 3, then 2: half the depth.
        assert_eq!(refills, [false, false, true, false]);
        assert!(
            lanes.full(Instant::now()).is_empty(),
            "pushed, not yet recorded: not waiting"
        );
        assert!(
            lanes.done(7, 1),
            "room: claim, for the next of an ordering key"
        );
        let mut held = lanes.held();
        held.sort_unstable();
        assert_eq!(held, [2, 3, 4, 5, 6]);
    }

    #[test]
    fn pushes_not_yet_recorded_fill_a_lane_at_four_times_its_depth() {
        let (t, mut lanes) = (target(), Lanes::new(1, 2, PAUSE));
        for id in 1..=8 {
            lanes.push(job(id, 7, &t));
            assert!(matches!(lanes.next(7, Instant::now()), Next::Push { .. }));
        }
        assert_eq!(lanes.full(Instant::now()), [7], "8 held, none waiting");
        assert!(lanes.done(7, 1), "7 held: room again");
        assert!(lanes.full(Instant::now()).is_empty());
    }

    #[test]
    fn draining_a_lane_gives_back_only_what_waits_there() {
        let (t, mut lanes) = (target(), Lanes::new(1, 8, PAUSE));
        for id in 1..=3 {
            lanes.push(job(id, 7, &t));
        }
        lanes.push(job(4, 8, &t));
        let Next::Push { job: in_flight, .. } = lanes.next(7, Instant::now()) else {
            panic!("a job waits");
        };
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
    fn a_failing_endpoint_keeps_one_worker_which_waits_a_doubling_pause_until_it_answers() {
        let (t, mut lanes) = (target(), Lanes::new(2, 8, PAUSE));
        let started: Vec<bool> = (1..=4).map(|id| lanes.push(job(id, 7, &t))).collect();
        assert_eq!(started, [true, true, false, false]);
        let t0 = Instant::now();
        assert_eq!(pushed(lanes.next(7, t0)), Some(1));
        assert_eq!(pushed(lanes.next(7, t0)), Some(2));
        assert_eq!(
            lanes.answered(7, false, None, t0),
            Some(Change::StartedFailing)
        );
        assert!(
            matches!(lanes.next(7, t0), Next::Retire),
            "down to one worker"
        );
        let first = t0 + FIRST_PAUSE;
        assert!(matches!(lanes.next(7, t0), Next::Wait(at) if at == first));
        assert_eq!(pushed(lanes.next(7, first)), Some(3));
        assert_eq!(lanes.answered(7, false, None, first), None);
        let second = first + 2 * FIRST_PAUSE;
        assert!(matches!(lanes.next(7, first), Next::Wait(at) if at == second));
        assert!(!lanes.push(job(5, 7, &t)), "no second worker while failing");
        assert_eq!(
            lanes.answered(7, true, None, second),
            Some(Change::Recovered(2))
        );
        assert_eq!(
            pushed(lanes.next(7, second)),
            Some(4),
            "no pause once it answers"
        );
        assert!(lanes.push(job(6, 7, &t)), "a second worker again");
    }

    #[test]
    fn pauses_stop_growing_at_the_longest_and_honour_retry_after_up_to_it() {
        let (t, mut lanes) = (target(), Lanes::new(1, 8, Duration::from_millis(100)));
        lanes.push(job(1, 7, &t));
        let t0 = Instant::now();
        lanes.answered(7, false, Some(Duration::from_millis(50)), t0);
        let asked = t0 + Duration::from_millis(50);
        assert!(matches!(lanes.next(7, t0), Next::Wait(at) if at == asked));
        for _ in 0..30 {
            lanes.answered(7, false, Some(Duration::from_secs(3600)), t0);
        }
        let longest = t0 + Duration::from_millis(100);
        assert!(matches!(lanes.next(7, t0), Next::Wait(at) if at == longest));
        assert_eq!(pushed(lanes.next(7, longest)), Some(1));
        lanes.done(7, 1);
        assert_eq!(pushed(lanes.next(7, longest)), None, "the lane is empty");
        lanes.full(longest);
        assert!(lanes.failing.contains_key(&7), "remembered for a while");
        lanes.full(longest + Duration::from_millis(100));
        assert!(!lanes.failing.contains_key(&7), "forgotten without a lane");
    }

    #[test]
    fn without_pacing_failures_change_nothing() {
        let (t, mut lanes) = (target(), Lanes::new(2, 8, Duration::ZERO));
        lanes.push(job(1, 7, &t));
        lanes.push(job(2, 7, &t));
        let t0 = Instant::now();
        assert_eq!(lanes.answered(7, false, None, t0), None);
        assert_eq!(pushed(lanes.next(7, t0)), Some(1));
        assert_eq!(pushed(lanes.next(7, t0)), Some(2));
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
