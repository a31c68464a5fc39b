//! Posts arrive out of creation order: a Twitter v2 page or a feed document holds posts from
//! hours apart, and live connectors deliver late posts after a reconnect. The detectors
//! count in creation order, so posts wait here until nothing older can still come: until
//! they are `lag` older than the newest post seen (a watermark), as stream processors do.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use starling_model::{Post, Timestamp};

use crate::{Detection, Detectors};

/// [`Detectors`] fed in arrival order: a buffer of `lag` stream time in front of them.
pub struct InOrder {
    detectors: Detectors,
    lag: chrono::TimeDelta,
    waiting: BinaryHeap<Reverse<Waiting>>,
    newest: Option<Timestamp>,
    arrivals: u64,
    /// Posts that came later than `lag` behind the newest: counted where they fell.
    late: u64,
}

/// A post waiting for its turn, by creation time, then arrival.
struct Waiting(Timestamp, u64, Box<Post>);

impl PartialEq for Waiting {
    fn eq(&self, other: &Self) -> bool {
        (self.0, self.1) == (other.0, other.1)
    }
}

impl Eq for Waiting {}

impl PartialOrd for Waiting {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Waiting {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.0, self.1).cmp(&(other.0, other.1))
    }
}

impl InOrder {
    /// `detectors` behind a buffer of `lag` stream time.
    pub fn new(detectors: Detectors, lag: chrono::TimeDelta) -> InOrder {
        InOrder {
            detectors,
            lag,
            waiting: BinaryHeap::new(),
            newest: None,
            arrivals: 0,
            late: 0,
        }
    }

    /// The detectors behind the buffer (for what they hold, like the stories' sizes).
    pub fn detectors(&self) -> &Detectors {
        &self.detectors
    }

    /// Takes one post in arrival order; returns what became clear as the watermark moved.
    pub fn observe(&mut self, post: Post) -> Vec<Detection> {
        let time = post.created_at;
        if self.watermark().is_some_and(|watermark| time < watermark) {
            self.late += 1;
        }
        self.newest = self.newest.max(Some(time));
        self.arrivals += 1;
        self.waiting
            .push(Reverse(Waiting(time, self.arrivals, Box::new(post))));
        self.release(self.watermark())
    }

    /// The newest post's time less the lag: what is older may go to the detectors.
    fn watermark(&self) -> Option<Timestamp> {
        self.newest
            .and_then(|newest| newest.checked_sub_signed(self.lag))
    }

    /// Releases every waiting post, then closes the detectors' last period.
    pub fn finish(&mut self) -> Vec<Detection> {
        let mut found = self.release(None);
        found.extend(self.detectors.finish());
        found
    }

    /// Posts that arrived more than `lag` behind the newest one (they are still counted, in
    /// the period open when they came).
    pub fn late(&self) -> u64 {
        self.late
    }

    fn release(&mut self, until: Option<Timestamp>) -> Vec<Detection> {
        let mut found = Vec::new();
        while let Some(Reverse(first)) = self.waiting.peek() {
            if until.is_some_and(|until| first.0 > until) {
                break;
            }
            if let Some(Reverse(Waiting(_, _, post))) = self.waiting.pop() {
                found.extend(self.detectors.observe(&post));
            }
        }
        found
    }
}
