//! Proactive rate-limit handling: the client spends the budget the server reports
//! (`x-ratelimit-remaining`) and, once it is spent, waits for `x-ratelimit-reset` instead
//! of earning 429s.
//!
//! Concurrent requests share one budget. Each request takes a permit; the budget the last
//! answer reported, less the requests still in flight, is what may be sent. When it is
//! spent, nobody goes until an answer tells more: requests still in flight will report
//! the budget, and once nothing is in flight everyone waits for the reset, after which a
//! single request (the probe) goes first while the others wait for its answer. Before,
//! every waiter woke at the reset second and went at once: with 8 requests in flight
//! against a bucket of 10 per second, a third of all requests were refused.

use std::pin::pin;
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use reqwest::header::HeaderMap;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::retry::ratelimit_reset;

/// Which bucket an answer's headers describe. Servers do not name their buckets, so a
/// bucket is known by its size (`x-ratelimit-limit`); two buckets of one size share a
/// budget here, which only ever makes the client wait more. `None`: the server reported a
/// budget without a size (one budget for everything, as before buckets were told apart).
type BucketKey = (&'static str, Option<u64>);

/// An operation: the address of its `static` description, and the first segment of its
/// path (`/api`, `/oauth`). Buckets are told apart within one such API only: Auth0's
/// token endpoint has buckets of its own, and what it reports says nothing about the
/// Management API's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct OpKey {
    pub(crate) id: usize,
    pub(crate) api: &'static str,
}

impl OpKey {
    pub(crate) fn of(op: &crate::Operation) -> Self {
        let api = op
            .template
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default();
        OpKey {
            id: std::ptr::from_ref(op) as usize,
            api,
        }
    }
}

/// Requests to an API that may be in flight before its first answer tells its budget:
/// the smallest burst Auth0 documents (the Free plan's 2), so a full bucket never refuses
/// them, and the two independent lookups a run starts with do not wait for each other.
const BEFORE_FIRST_ANSWER: usize = 2;

/// A map for a handful of entries (a client has a few buckets and a few dozen
/// operations): a linear scan of a vector, no hashing, on every request's path.
#[derive(Debug)]
struct SmallMap<K, V>(Vec<(K, V)>);

impl<K, V> Default for SmallMap<K, V> {
    fn default() -> Self {
        SmallMap(Vec::new())
    }
}

impl<K: PartialEq + Copy, V> SmallMap<K, V> {
    fn get(&self, key: &K) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    fn contains_key(&self, key: &K) -> bool {
        self.get(key).is_some()
    }
    fn insert(&mut self, key: K, value: V) {
        match self.get_mut(&key) {
            Some(v) => *v = value,
            None => self.0.push((key, value)),
        }
    }
    fn remove(&mut self, key: &K) -> Option<V> {
        let i = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.swap_remove(i).1)
    }
    fn entry_or_default(&mut self, key: K) -> &mut V
    where
        V: Default,
    {
        let i = match self.0.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                self.0.push((key, V::default()));
                self.0.len() - 1
            }
        };
        &mut self.0[i].1
    }
    fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
    fn keys(&self) -> impl Iterator<Item = &K> {
        self.0.iter().map(|(k, _)| k)
    }
    fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }
    fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.0.iter_mut().map(|(_, v)| v)
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Shared by all clones of one client.
#[derive(Debug, Default)]
pub(crate) struct RateLimitGate {
    state: Mutex<State>,
    /// The documented refill rate, when the caller knows it.
    refill_per_second: Option<f64>,
    /// Signalled whenever an answer (or a failure) changes what may be sent.
    changed: Notify,
}

#[derive(Debug, Default)]
struct State {
    /// One budget per bucket the answers revealed.
    budgets: SmallMap<BucketKey, Budget>,
    /// The bucket each operation's last answer described. An operation's answers apply to
    /// every operation that shares its bucket (Auth0's per-endpoint buckets: a spent
    /// "read clients" bucket must not stall writes, nor a fresh write bucket hide it).
    buckets: SmallMap<OpKey, BucketKey>,
    /// Requests sent before any bucket was known, by permit id: the bucket the first
    /// answer revealed counts them as in flight until they settle.
    unassigned: SmallMap<u64, (&'static str, Option<BucketKey>)>,
    next_permit: u64,
    /// The APIs that answered. Until one does, at most [`BEFORE_FIRST_ANSWER`] requests
    /// to it go: a process that starts while the bucket is spent (by an earlier run) earns
    /// at most that many 429s, instead of one per concurrent first request.
    answered: Vec<&'static str>,
}

#[derive(Debug, Default)]
struct Budget {
    /// Requests that may still be sent before the reset: the last reported
    /// `x-ratelimit-remaining` less the requests sent since.
    remaining: Option<u64>,
    /// When a spent budget refills.
    reset_at: Option<Instant>,
    /// When the last answer said the bucket is added back to (`x-ratelimit-reset` with
    /// a budget left): what someone else's requests on the same tenant have to wait for.
    refill_at: Option<Instant>,
    /// Requests sent and not answered yet.
    in_flight: u64,
    /// Tokens added back per second, estimated from answers that report a partly spent
    /// bucket and when it is full again (the slowest estimate is kept).
    rate: Option<f64>,
}

/// What a request that may not go yet waits for.
#[derive(Debug, PartialEq, Eq)]
enum Wait {
    /// The budget refills at this instant.
    Reset(Instant),
    /// An answer to a request in flight, which will tell the budget.
    Answer,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn header_number(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// The budgets a permit holds a slot in: one (no allocation on the common path), or every
/// known one of its API for an operation whose bucket is not known yet.
#[derive(Debug)]
enum Held {
    One(BucketKey),
    Many(Vec<BucketKey>),
}

impl Held {
    fn iter(&self) -> impl Iterator<Item = BucketKey> + '_ {
        let (one, many) = match self {
            Held::One(key) => (Some(*key), &[][..]),
            Held::Many(keys) => (None, keys.as_slice()),
        };
        one.into_iter().chain(many.iter().copied())
    }
}

/// One request's share of the budget. Give it the answer's headers with
/// [`Permit::observe`]; dropping it without (a transport failure, a cancelled call) just
/// returns the slot.
#[derive(Debug)]
pub(crate) struct Permit<'a> {
    gate: &'a RateLimitGate,
    op: OpKey,
    id: u64,
    /// The budgets it holds a slot in: its bucket's, or, for an operation whose bucket is
    /// not known yet, every known one (it may belong to any).
    held: Held,
    /// Sent with a spent budget to learn the new one (after a reset, or with no reset known).
    probe: bool,
    settled: bool,
}

impl Budget {
    /// Why a request of this bucket may not go now, if it may not; `Ok(true)`: it goes as
    /// the probe of a spent budget.
    fn admits(&self) -> Result<bool, Wait> {
        match self.remaining {
            Some(0) => {
                if self.in_flight > 0 {
                    return Err(Wait::Answer);
                }
                if let Some(at) = self.reset_at
                    && at > Instant::now()
                {
                    return Err(Wait::Reset(at));
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn take(&mut self) {
        if let Some(n) = self.remaining {
            self.remaining = Some(n.saturating_sub(1));
        }
        self.in_flight += 1;
    }

    /// Applies an answer's figures.
    fn learn(&mut self, probe: bool, reported: u64, headers: &HeaderMap, documented_rate: Option<f64>) {
        // Requests still in flight may or may not be counted in this figure; counting
        // them as spent errs on the side of waiting.
        let fresh = reported.saturating_sub(self.in_flight);
        // Answers on different connections arrive out of order, so a figure may be older
        // than the last one seen: only a probe's answer (nothing else was in flight) may
        // raise the budget; any other can only lower it.
        self.remaining = Some(match self.remaining {
            Some(current) if !probe => current.min(fresh),
            _ => fresh,
        });
        if reported == 0 {
            let by_header = ratelimit_reset(headers, SystemTime::now()).map(|wait| Instant::now() + wait);
            // When this answer left, the bucket held less than one token; at the documented
            // rate one is back within 1 / rate, sooner than the whole-second header says.
            let by_rate = documented_rate.map(|rate| Instant::now() + std::time::Duration::from_secs_f64(1.0 / rate));
            self.reset_at = match (by_header, by_rate) {
                (Some(h), Some(r)) => Some(h.min(r)),
                (h, r) => h.or(r),
            };
        } else if probe {
            self.reset_at = None;
        }
        let until_reset = header_number(headers, "x-ratelimit-reset").and_then(|epoch| {
            let now = SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?;
            Some(std::time::Duration::from_secs(epoch).saturating_sub(now))
        });
        self.refill_at = until_reset.map(|wait| Instant::now() + wait);
        if let (Some(limit), Some(wait)) = (header_number(headers, "x-ratelimit-limit"), until_reset)
            && reported > 0
            && reported < limit
        {
            // Whole seconds on the wire: at least one, so the estimate errs slow.
            let estimate = (limit - reported) as f64 / wait.as_secs_f64().max(1.0);
            self.rate = Some(self.rate.map_or(estimate, |r| r.min(estimate)));
        }
    }

    /// Someone else spent `spent` requests of this bucket: what is left shrinks, and a
    /// bucket that runs out refills at the estimated rate (or by its last reset).
    fn spent_elsewhere(&mut self, spent: u64) {
        let Some(left) = self.remaining else {
            return;
        };
        self.remaining = Some(left.saturating_sub(spent));
        if left <= spent {
            // Tokens to come back before one more request may go.
            let missing = (spent - left + 1) as f64;
            let now = Instant::now();
            self.reset_at = Some(match self.rate {
                Some(rate) if rate > 0.0 => now + std::time::Duration::from_secs_f64(missing / rate),
                _ => self
                    .refill_at
                    .unwrap_or(now)
                    .max(now + std::time::Duration::from_secs(1)),
            });
        }
    }
}

impl RateLimitGate {
    pub(crate) fn with_refill_rate(refill_per_second: Option<f64>) -> Self {
        RateLimitGate {
            refill_per_second,
            ..Self::default()
        }
    }

    fn try_acquire(&self, op: OpKey) -> Result<Permit<'_>, Wait> {
        let mut state = lock(&self.state);
        let state = &mut *state;
        let id = state.next_permit;
        let (held, probe) = match state.buckets.get(&op) {
            Some(key) => {
                let budget = state.budgets.entry_or_default(*key);
                let probe = budget.admits()?;
                budget.take();
                (Held::One(*key), probe)
            }
            None => {
                if !state.answered.contains(&op.api)
                    && state.unassigned.values().filter(|(api, _)| *api == op.api).count() >= BEFORE_FIRST_ANSWER
                {
                    return Err(Wait::Answer);
                }
                // Not seen yet: it must not overrun any bucket it may belong to. A spent
                // bucket whose reset has passed does not hold it back: that bucket's own
                // requests probe it.
                for (_, budget) in state.budgets.iter().filter(|(k, _)| k.0 == op.api) {
                    budget.admits()?;
                }
                let keys: Vec<BucketKey> = state.budgets.keys().filter(|k| k.0 == op.api).copied().collect();
                for key in &keys {
                    if let Some(budget) = state.budgets.get_mut(key) {
                        budget.take();
                    }
                }
                if keys.is_empty() {
                    state.unassigned.insert(id, (op.api, None));
                }
                let keys = Held::Many(keys);
                (keys, false)
            }
        };
        state.next_permit += 1;
        Ok(Permit {
            gate: self,
            op,
            id,
            held,
            probe,
            settled: false,
        })
    }

    /// Waits until the budget of `op`'s bucket allows one more request, and takes it.
    pub(crate) async fn acquire(&self, op: OpKey) -> Permit<'_> {
        loop {
            // Registered before looking, so an answer that lands in between is not missed.
            let mut changed = pin!(self.changed.notified());
            changed.as_mut().enable();
            match self.try_acquire(op) {
                Ok(permit) => return permit,
                Err(Wait::Reset(at)) => {
                    tracing::debug!(
                        delay_ms = at.saturating_duration_since(Instant::now()).as_millis() as u64,
                        reason = "ratelimit_reset",
                        "waiting before sending"
                    );
                    // Boxed: a timer is large, and almost no request waits.
                    Box::pin(tokio::time::sleep_until(at)).await;
                }
                Err(Wait::Answer) => changed.await,
            }
        }
    }

    /// Records that someone else sent `requests` requests on the same account: they count
    /// against every bucket this client knows (it cannot tell which they fell in).
    pub(crate) fn spent_elsewhere(&self, requests: u64) {
        for budget in lock(&self.state).budgets.values_mut() {
            budget.spent_elsewhere(requests);
        }
    }

    /// Whether any answer described a bucket.
    pub(crate) fn knows_buckets(&self) -> bool {
        !lock(&self.state).budgets.is_empty()
    }

    /// When every bucket this client has seen will have room for `requests` more, if one
    /// has less now (by the last answers and what is in flight).
    pub(crate) fn headroom_at(&self, requests: u64) -> Option<Instant> {
        let state = lock(&self.state);
        state
            .budgets
            .values()
            .filter(|b| b.remaining.is_some_and(|r| r < requests) || b.in_flight > 0)
            .filter_map(|b| b.reset_at.max(b.refill_at))
            .max()
    }

    fn settle(&self, permit: &Permit<'_>, headers: Option<&HeaderMap>) {
        {
            let mut state = lock(&self.state);
            let state = &mut *state;
            if headers.is_some() && !state.answered.contains(&permit.op.api) {
                state.answered.push(permit.op.api);
            }
            let reported = headers.and_then(|h| header_number(h, "x-ratelimit-remaining").map(|r| (h, r)));
            let key: Option<BucketKey> = reported.map(|(h, _)| (permit.op.api, header_number(h, "x-ratelimit-limit")));
            // Sent before any bucket was known: counted by the bucket that adopted it.
            let adopted = state.unassigned.remove(&permit.id).and_then(|(_, key)| key);
            for held in permit.held.iter().chain(adopted) {
                if let Some(budget) = state.budgets.get_mut(&held) {
                    budget.in_flight = budget.in_flight.saturating_sub(1);
                    // A slot held in a bucket the answer turned out not to be of goes back.
                    if key.is_some_and(|k| k != held)
                        && let Some(n) = budget.remaining
                    {
                        budget.remaining = Some(n + 1);
                    }
                }
            }
            if let (Some((h, remaining)), Some(key)) = (reported, key) {
                let new = !state.budgets.contains_key(&key);
                if new {
                    // A bucket revealed for the first time: the requests sent before any
                    // bucket was known may be in it.
                    let adopting: Vec<u64> = state
                        .unassigned
                        .iter()
                        .filter(|(_, (api, k))| *api == key.0 && k.is_none())
                        .map(|(id, _)| *id)
                        .collect();
                    let budget = state.budgets.entry_or_default(key);
                    budget.in_flight += adopting.len() as u64;
                    for id in adopting {
                        state.unassigned.insert(id, (key.0, Some(key)));
                    }
                }
                let ours = permit.held.iter().any(|k| k == key) || adopted == Some(key);
                let budget = state.budgets.entry_or_default(key);
                // A first answer from a bucket is as good as a probe's: nothing older exists.
                budget.learn(permit.probe && ours || new, remaining, h, self.refill_per_second);
                state.buckets.insert(permit.op, key);
            }
        }
        self.changed.notify_waiters();
    }
}

impl Permit<'_> {
    /// Records what the answer said about the budget.
    pub(crate) fn observe(mut self, headers: &HeaderMap) {
        self.settled = true;
        self.gate.settle(&self, Some(headers));
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.gate.settle(self, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use std::time::{Duration, UNIX_EPOCH};

    const fn op(id: usize) -> OpKey {
        OpKey { id, api: "api" }
    }

    /// One operation, as the single-budget tests use it.
    const OP: OpKey = op(1);

    fn answer(remaining: u64, reset_in_secs: u64) -> HeaderMap {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
        h.insert("x-ratelimit-reset", HeaderValue::from(now + reset_in_secs));
        h
    }

    #[test]
    fn a_server_without_limits_is_never_held_back() {
        let gate = RateLimitGate::default();
        gate.try_acquire(OP).unwrap().observe(&HeaderMap::new());
        let permits: Vec<_> = (0..100).map(|_| gate.try_acquire(OP).unwrap()).collect();
        for p in permits {
            p.observe(&HeaderMap::new());
        }
        assert!(gate.try_acquire(OP).is_ok());
    }

    #[test]
    fn the_reported_budget_less_what_is_in_flight_may_go() {
        let gate = RateLimitGate::default();
        let first = gate.try_acquire(OP).unwrap();
        let second = gate.try_acquire(OP).unwrap();
        // Nothing else goes before the first answer tells the budget.
        assert_eq!(gate.try_acquire(OP).err(), Some(Wait::Answer));
        // 6 left when the first was counted, the second still out; then 5.
        first.observe(&answer(6, 1));
        second.observe(&answer(5, 1));
        let others: Vec<_> = (0..3).map(|_| gate.try_acquire(OP).unwrap()).collect();
        let two: Vec<_> = (0..2).map(|_| gate.try_acquire(OP).unwrap()).collect();
        assert!(two.iter().all(|p| !p.probe));
        // Spent locally: the answers still out will tell the budget, so nobody goes.
        assert_eq!(gate.try_acquire(OP).err(), Some(Wait::Answer));
        two.into_iter().for_each(|p| p.observe(&answer(1, 1)));
        // The last answer: 1 left, 3 still out, so still nothing may go; once they are
        // answered (without headers) and nothing is in flight, one probe may go.
        assert_eq!(gate.try_acquire(OP).err(), Some(Wait::Answer));
        drop(others);
        let probe = gate.try_acquire(OP).unwrap();
        assert!(probe.probe, "{probe:?}");
        assert_eq!(gate.try_acquire(OP).err(), Some(Wait::Answer));
    }

    #[test]
    fn a_server_that_reports_no_limits_is_not_held_back_after_its_first_answer() {
        let gate = RateLimitGate::default();
        let first = gate.try_acquire(OP).unwrap();
        let _second = gate.try_acquire(OP).unwrap();
        assert_eq!(gate.try_acquire(FIRST_SEEN).err(), Some(Wait::Answer));
        first.observe(&HeaderMap::new());
        let all: Vec<_> = (0..50).map(|_| gate.try_acquire(FIRST_SEEN).unwrap()).collect();
        drop(all);
    }

    #[tokio::test(start_paused = true)]
    async fn after_the_reset_one_probe_goes_first_then_its_budget_is_shared() {
        use futures::FutureExt;
        let gate = RateLimitGate::default();
        gate.try_acquire(OP).unwrap().observe(&answer(0, 2));
        let mut waiters: Vec<_> = (0..5).map(|_| Box::pin(gate.acquire(OP))).collect();
        for w in waiters.iter_mut() {
            assert!(w.as_mut().now_or_never().is_none(), "nobody goes before the reset");
        }
        tokio::time::advance(Duration::from_secs(3)).await;
        let mut granted = Vec::new();
        let mut pending = Vec::new();
        for mut w in waiters.drain(..) {
            match w.as_mut().now_or_never() {
                Some(permit) => granted.push(permit),
                None => pending.push(w),
            }
        }
        assert_eq!(granted.len(), 1, "exactly one waiter probes after the reset");
        assert!(granted[0].probe);
        // The probe's answer reports a budget of 10: the others go at once.
        granted.pop().unwrap().observe(&answer(10, 1));
        for w in pending.iter_mut() {
            let permit = w
                .as_mut()
                .now_or_never()
                .expect("the probe's answer lets the others go");
            assert!(!permit.probe);
        }
    }

    #[test]
    fn a_late_answer_cannot_raise_the_budget_only_a_probe_can() {
        let gate = RateLimitGate::default();
        gate.try_acquire(OP).unwrap().observe(&answer(9, 1));
        let early = gate.try_acquire(OP).unwrap();
        let late = gate.try_acquire(OP).unwrap();
        // The later-processed answer arrives first: 2 left, the other still out.
        late.observe(&answer(2, 1));
        // The earlier-processed one arrives last, claiming 3: stale, ignored.
        early.observe(&answer(3, 1));
        let _one = gate.try_acquire(OP).unwrap();
        assert_eq!(gate.try_acquire(OP).err(), Some(Wait::Answer));
    }

    fn bucket(limit: u64, remaining: u64, reset_in_secs: u64) -> HeaderMap {
        let mut h = answer(remaining, reset_in_secs);
        h.insert("x-ratelimit-limit", HeaderValue::from(limit));
        h
    }

    const READ: OpKey = op(10);
    const WRITE: OpKey = op(20);
    const FIRST_SEEN: OpKey = op(30);

    #[test]
    fn a_spent_bucket_holds_back_only_the_operations_in_it() {
        let gate = RateLimitGate::default();
        gate.try_acquire(WRITE).unwrap().observe(&bucket(10, 9, 1));
        gate.try_acquire(READ).unwrap().observe(&bucket(5, 0, 60));
        assert!(matches!(gate.try_acquire(READ).err(), Some(Wait::Reset(_))));
        let writes: Vec<_> = (0..9).map(|_| gate.try_acquire(WRITE).unwrap()).collect();
        assert_eq!(gate.try_acquire(WRITE).err(), Some(Wait::Answer), "9 were left");
        drop(writes);
        // A fresh write bucket does not hide the spent read bucket either.
        assert!(matches!(gate.try_acquire(READ).err(), Some(Wait::Reset(_))));
    }

    #[test]
    fn an_operation_not_seen_yet_respects_every_bucket_it_may_share_then_gives_back() {
        let gate = RateLimitGate::default();
        gate.try_acquire(READ).unwrap().observe(&bucket(5, 0, 60));
        assert!(
            matches!(gate.try_acquire(FIRST_SEEN).err(), Some(Wait::Reset(_))),
            "it may be a read"
        );
        let gate = RateLimitGate::default();
        gate.try_acquire(READ).unwrap().observe(&bucket(5, 1, 1));
        gate.try_acquire(WRITE).unwrap().observe(&bucket(10, 5, 1));
        let first = gate.try_acquire(FIRST_SEEN).unwrap();
        // It took a slot in both: the read bucket is spent for now.
        assert_eq!(gate.try_acquire(READ).err(), Some(Wait::Answer));
        // Its answer says it is a write: the read slot goes back.
        first.observe(&bucket(10, 4, 1));
        let read = gate.try_acquire(READ).unwrap();
        assert!(!read.probe);
        // From now on it shares the write bucket's budget (4 left).
        let writes: Vec<_> = (0..4).map(|_| gate.try_acquire(FIRST_SEEN).unwrap()).collect();
        assert_eq!(gate.try_acquire(WRITE).err(), Some(Wait::Answer));
        drop((read, writes));
    }

    #[test]
    fn another_api_s_buckets_say_nothing_about_this_one() {
        let gate = RateLimitGate::default();
        let token = OpKey { id: 99, api: "oauth" };
        gate.try_acquire(token).unwrap().observe(&bucket(30, 29, 1));
        // The Management API has not answered: two requests go before its first answer.
        let first = gate.try_acquire(READ).unwrap();
        let second = gate.try_acquire(READ).unwrap();
        assert_eq!(gate.try_acquire(WRITE).err(), Some(Wait::Answer));
        first.observe(&bucket(2, 0, 60));
        drop(second);
        // Its bucket is spent; the token endpoint's is not.
        assert!(matches!(gate.try_acquire(WRITE).err(), Some(Wait::Reset(_))));
        assert!(gate.try_acquire(token).is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn with_the_documented_rate_a_spent_budget_is_tried_again_when_a_token_is_back() {
        let gate = RateLimitGate::with_refill_rate(Some(2.0));
        gate.try_acquire(OP).unwrap().observe(&answer(0, 60));
        assert!(matches!(gate.try_acquire(OP).err(), Some(Wait::Reset(_))));
        tokio::time::advance(Duration::from_millis(400)).await;
        assert!(gate.try_acquire(OP).is_err(), "a token is not back yet at 2 per second");
        tokio::time::advance(Duration::from_millis(150)).await;
        assert!(
            gate.try_acquire(OP).is_ok_and(|p| p.probe),
            "0.5 s, not the header's 60"
        );
    }

    #[test]
    fn a_probe_that_never_answers_lets_the_next_one_try() {
        let gate = RateLimitGate::default();
        gate.try_acquire(OP).unwrap().observe(&answer(0, 0));
        let probe = gate.try_acquire(OP).unwrap();
        assert!(probe.probe);
        assert_eq!(gate.try_acquire(OP).err(), Some(Wait::Answer));
        drop(probe);
        assert!(gate.try_acquire(OP).is_ok_and(|p| p.probe));
    }
}
