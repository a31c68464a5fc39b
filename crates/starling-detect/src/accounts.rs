//! Key and rising accounts: who the stream talks about (mentions), answers (replies) and
//! passes on (shares and quotes), and whose share of that attention grows fastest, hour on
//! hour of stream time.

use std::collections::HashMap;

use serde::Serialize;
use starling_model::{Post, Timestamp};

/// One account's standing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Account {
    /// `platform:handle`.
    pub account: String,
    /// Posts mentioning it.
    pub mentions: u64,
    /// Replies to its posts.
    pub replies: u64,
    /// Shares and quotes of its posts.
    pub shares: u64,
    /// Posts of its own.
    pub posts: u64,
    /// Mentions, replies and shares in the latest hour of stream time.
    pub last_hour: u64,
    /// The same in the hour before it.
    pub hour_before: u64,
}

impl Account {
    /// The attention it got: mentions, replies and shares.
    pub fn attention(&self) -> u64 {
        self.mentions + self.replies + self.shares
    }

    /// How fast its attention grows: the latest hour against the one before, damped so that
    /// one or two posts are no rise.
    pub fn rise(&self) -> f64 {
        (self.last_hour as f64 + 1.0) / (self.hour_before as f64 + 5.0)
    }
}

#[derive(Debug, Default, Clone)]
struct Counts {
    mentions: u64,
    replies: u64,
    shares: u64,
    posts: u64,
    /// The hour (since 1970) `current` counts.
    hour: i64,
    current: u64,
    previous: u64,
}

/// Counts attention per account; memory stays bounded by [`Accounts::new`]'s limit, pruning
/// the accounts with the least attention first.
#[derive(Debug)]
pub struct Accounts {
    counts: HashMap<String, Counts>,
    limit: usize,
    latest_hour: i64,
}

impl Accounts {
    /// Tracks at most about `limit` accounts.
    pub fn new(limit: usize) -> Accounts {
        Accounts {
            counts: HashMap::new(),
            limit: limit.max(16),
            latest_hour: i64::MIN,
        }
    }

    /// Counts one post (in any order; the latest hour is the newest post's).
    pub fn observe(&mut self, post: &Post) {
        let hour = post.created_at.timestamp().div_euclid(3600);
        self.latest_hour = self.latest_hour.max(hour);
        let platform = post.platform.as_str();
        let own = format!("{platform}:{}", post.author.handle.to_lowercase());
        self.counts.entry(own).or_default().posts += 1;
        let mut credit = |handle: &str, kind: fn(&mut Counts)| {
            let handle = handle.trim_start_matches('@').to_lowercase();
            if handle.is_empty() {
                return;
            }
            let counts = self
                .counts
                .entry(format!("{platform}:{handle}"))
                .or_default();
            kind(counts);
            if hour > counts.hour {
                counts.previous = if hour == counts.hour + 1 {
                    counts.current
                } else {
                    0
                };
                counts.current = 0;
                counts.hour = hour;
            }
            if hour == counts.hour {
                counts.current += 1;
            } else if hour + 1 == counts.hour {
                counts.previous += 1;
            }
        };
        let mut mentioned: Vec<&str> = post
            .entities
            .mentions
            .iter()
            .map(|mention| mention.handle.as_str())
            .collect();
        mentioned.sort_unstable();
        mentioned.dedup();
        for handle in mentioned {
            credit(handle, |counts| counts.mentions += 1);
        }
        if let Some(handle) = post
            .reply_to
            .as_ref()
            .and_then(|reply| reply.author_handle.as_deref())
        {
            credit(handle, |counts| counts.replies += 1);
        }
        for shared in [&post.share_of, &post.quote_of].into_iter().flatten() {
            if let Some(handle) = shared.author_handle.as_deref() {
                credit(handle, |counts| counts.shares += 1);
            }
        }
        if self.counts.len() > self.limit * 2 {
            self.prune();
        }
    }

    /// Keeps the `limit` accounts with the most attention.
    fn prune(&mut self) {
        let mut attention: Vec<u64> = self
            .counts
            .values()
            .map(|counts| counts.mentions + counts.replies + counts.shares)
            .collect();
        let cut = attention.len() - self.limit;
        let (_, threshold, _) = attention.select_nth_unstable(cut);
        let threshold = *threshold;
        let above = self
            .counts
            .values()
            .filter(|counts| counts.mentions + counts.replies + counts.shares > threshold)
            .count();
        // Ties at the threshold fill what room is left, in whatever order the map has them.
        let mut room = self.limit.saturating_sub(above);
        self.counts.retain(|_, counts| {
            let value = counts.mentions + counts.replies + counts.shares;
            if value > threshold {
                return true;
            }
            if value == threshold && room > 0 {
                room -= 1;
                return true;
            }
            false
        });
    }

    fn account(&self, name: &str, counts: &Counts) -> Account {
        let (last_hour, hour_before) = if counts.hour == self.latest_hour {
            (counts.current, counts.previous)
        } else if counts.hour + 1 == self.latest_hour {
            (0, counts.current)
        } else {
            (0, 0)
        };
        Account {
            account: name.to_owned(),
            mentions: counts.mentions,
            replies: counts.replies,
            shares: counts.shares,
            posts: counts.posts,
            last_hour,
            hour_before,
        }
    }

    /// The `limit` accounts with the most attention.
    pub fn key(&self, limit: usize) -> Vec<Account> {
        let mut all: Vec<Account> = self
            .counts
            .iter()
            .map(|(name, counts)| self.account(name, counts))
            .filter(|account| account.attention() > 0)
            .collect();
        all.sort_by(|a, b| {
            b.attention()
                .cmp(&a.attention())
                .then_with(|| a.account.cmp(&b.account))
        });
        all.truncate(limit);
        all
    }

    /// The `limit` accounts whose attention grew fastest into the latest hour (at least 5
    /// mentions, replies or shares in it).
    pub fn rising(&self, limit: usize) -> Vec<Account> {
        let mut all: Vec<Account> = self
            .counts
            .iter()
            .map(|(name, counts)| self.account(name, counts))
            .filter(|account| account.last_hour >= 5 && account.last_hour > account.hour_before)
            .collect();
        all.sort_by(|a, b| {
            b.rise()
                .total_cmp(&a.rise())
                .then_with(|| a.account.cmp(&b.account))
        });
        all.truncate(limit);
        all
    }

    /// The start of the latest hour counted.
    pub fn latest_hour(&self) -> Option<Timestamp> {
        (self.latest_hour != i64::MIN)
            .then(|| chrono::DateTime::from_timestamp(self.latest_hour * 3600, 0))
            .flatten()
    }

    /// Accounts tracked now.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// True when none are.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}
