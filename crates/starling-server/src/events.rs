//! The live event stream's memory: every event gets the next id, the most recent are kept so
//! that a client reconnecting with `Last-Event-ID` is sent what it missed, and each is
//! broadcast to the clients connected now.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;
use tokio::sync::broadcast;

/// One event of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Its id: increasing; a process starts numbering at its start time in milliseconds
    /// times 1000, so that ids keep increasing across restarts.
    pub id: u64,
    /// `match`, `detection`, …
    pub kind: &'static str,
    /// The data, as JSON.
    pub data: String,
}

/// Where events are published and subscribed to.
#[derive(Debug)]
pub struct Hub {
    inner: Mutex<Inner>,
    sender: broadcast::Sender<Arc<Event>>,
    capacity: usize,
}

#[derive(Debug)]
struct Inner {
    first: u64,
    next: u64,
    recent: VecDeque<Arc<Event>>,
}

/// What a new subscriber gets: the events after the id it gave that are still kept, how many
/// it missed that are not, and the live feed from there on.
#[derive(Debug)]
pub struct Subscription {
    /// Kept events after the given id, oldest first.
    pub backlog: Vec<Arc<Event>>,
    /// Events after the given id that are no longer kept (0 when none were lost).
    pub missed: u64,
    /// Everything published from now on.
    pub live: broadcast::Receiver<Arc<Event>>,
}

impl Hub {
    /// A hub keeping the last `capacity` events.
    pub fn new(capacity: usize) -> Hub {
        let first = (chrono::Utc::now().timestamp_millis().max(0) as u64).saturating_mul(1000);
        Hub::starting_at(capacity, first)
    }

    /// A hub whose first event gets id `first`.
    pub fn starting_at(capacity: usize, first: u64) -> Hub {
        let (sender, _) = broadcast::channel(capacity.max(16));
        Hub {
            inner: Mutex::new(Inner {
                first,
                next: first,
                recent: VecDeque::with_capacity(capacity.min(4096)),
            }),
            sender,
            capacity: capacity.max(1),
        }
    }

    /// Publishes an event; its id.
    pub fn publish(&self, kind: &'static str, data: &impl Serialize) -> u64 {
        let data = serde_json::to_string(data).unwrap_or_else(|error| {
            serde_json::json!({ "error": format!("unserializable event: {error}") }).to_string()
        });
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let id = inner.next;
        inner.next += 1;
        let event = Arc::new(Event { id, kind, data });
        if inner.recent.len() == self.capacity {
            inner.recent.pop_front();
        }
        inner.recent.push_back(Arc::clone(&event));
        // Sent under the lock, so that a subscriber's backlog and live feed neither overlap
        // nor leave a hole. No receiver is no error: nobody is listening yet.
        let _ = self.sender.send(event);
        id
    }

    /// Subscribes from after `last_id` (a client's `Last-Event-ID`), or from now on.
    pub fn subscribe(&self, last_id: Option<u64>) -> Subscription {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let live = self.sender.subscribe();
        let Some(last) = last_id else {
            return Subscription {
                backlog: Vec::new(),
                missed: 0,
                live,
            };
        };
        let backlog: Vec<Arc<Event>> = inner
            .recent
            .iter()
            .filter(|event| event.id > last)
            .cloned()
            .collect();
        let oldest_kept = inner.recent.front().map_or(inner.next, |event| event.id);
        let after = last.saturating_add(1);
        let missed = if after >= oldest_kept {
            0
        } else if after >= inner.first {
            oldest_kept - after
        } else {
            // From before this process: how many were lost then is unknown; at least one.
            oldest_kept - inner.first + 1
        };
        Subscription {
            backlog,
            missed,
            live,
        }
    }

    /// The id the next event will get.
    pub fn next_id(&self) -> u64 {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .next
    }

    /// Clients connected now.
    pub fn subscribers(&self) -> usize {
        self.sender.receiver_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reconnecting_client_gets_what_it_missed_in_order() {
        let hub = Hub::starting_at(3, 100);
        for n in 0..5 {
            hub.publish("match", &n);
        }
        // Ids 100..=104; 102, 103, 104 kept.
        let again = hub.subscribe(Some(102));
        let ids: Vec<u64> = again.backlog.iter().map(|event| event.id).collect();
        assert_eq!(ids, [103, 104]);
        assert_eq!(again.missed, 0);
        let late = hub.subscribe(Some(100));
        let ids: Vec<u64> = late.backlog.iter().map(|event| event.id).collect();
        assert_eq!(ids, [102, 103, 104]);
        assert_eq!(late.missed, 1, "101 is gone");
        let fresh = hub.subscribe(None);
        assert!(fresh.backlog.is_empty());
    }

    #[tokio::test]
    async fn live_events_follow_the_backlog_without_a_hole() {
        let hub = Hub::starting_at(10, 1);
        hub.publish("match", &"a");
        let mut subscription = hub.subscribe(Some(0));
        hub.publish("match", &"b");
        assert_eq!(subscription.backlog.len(), 1);
        assert_eq!(subscription.backlog[0].data, "\"a\"");
        let next = subscription.live.recv().await.expect("an event");
        assert_eq!((next.id, next.data.as_str()), (2, "\"b\""));
    }
}
