//! Bursts, in the spirit of SigniTrend (Schubert, Weiler and Kriegel, 2014): every key's count
//! per period goes into a fixed table of hashed counters, each keeping an exponentially
//! weighted mean and variance of the counts of the keys that share it. Keys: hashtags,
//! mentions, domains (also within each language and platform), words (not the function words
//! of the post's language), and term pairs (a word and the next), a pair being news only when
//! neither of its words is.
//!
//! Each period, a key's count over the last 1, 2, 4, 16 and 64 periods is tested against what its
//! counter leads to expect: the chance of at least that many posts if they came at the usual
//! rate (Poisson, widened by the counter's own overdispersion, variance over mean). A key
//! bursts when that chance is below one in 10^`burst_score` and it has enough posts. A key
//! rising from nothing is news within minutes; one that always swings is not.
//!
//! The short windows are judged against the counter's quick mean (about 30 periods of memory).
//! That mean learns a slow rise as it happens, so a key climbing over an hour (a sparse
//! stream's crisis: two posts a minute after none) would always look usual there. The long
//! windows are therefore judged against a slow mean (about a day of memory) of the key's share
//! of each period's posts, times the posts of the window: what is judged is the key's share of
//! the stream, so the daily swing that lifts every word at once (morning after night) is no
//! burst. Each period weighs the same in that mean however many posts it has: when a crisis
//! brings twenty times the usual posts (the stream of a keyword or a region, where nearly
//! every post is about it), its first hours would otherwise outweigh the whole day before and
//! make the crisis's own hashtags look usual within hours. A long window must
//! also hold at least `SLOW_RATIO` times what that leads to expect, so that a common word's
//! small rise is not a burst however many posts it has.

use std::collections::HashMap;

use starling_model::{Post, Timestamp};

use crate::{Detection, Kind, Settings, hash};

/// Weight of the newest period in the moving mean (about 30 periods of memory).
const ALPHA: f64 = 0.033;
/// The variance learns slower, so that the start of a burst does not excuse the rest of it.
const ALPHA_VARIANCE: f64 = 0.01;
/// The smallest rate a count is compared with, per period.
const RATE_FLOOR: f64 = 0.05;
/// Weight of the newest period in the slow mean of shares (about a day of memory), which the
/// long windows are judged against: long enough that an event hours old has not yet become its
/// own baseline, and a whole day, so that the hours' rhythm averages out.
const ALPHA_SLOW: f64 = 1.0 / 1440.0;
/// The windows from this length on are judged against the slow mean.
const SLOW_FROM: usize = 16;
/// A long window must hold at least this many times what the slow mean leads to expect.
const SLOW_RATIO: f64 = 3.0;
/// Periods to learn from before anything is called a burst.
const WARMUP: u64 = 60;
/// Periods after a burst during which the same key is not reported again.
const COOLDOWN: u64 = 180;
/// The windows tested, in periods: minutes catch a busy stream's bursts at once, an hour a
/// sparse stream's.
const WINDOWS: [usize; 5] = [1, 2, 4, 16, 64];
/// Periods of recent counts kept per key.
const RECENT: usize = 64;
/// Posts kept as samples per key.
const SAMPLES: usize = 3;
/// Words of a post paired with their neighbours, at most: a megabyte line costs no more.
const MAX_PAIRED_WORDS: usize = 48;

struct Recent {
    /// Counts of the last periods, newest first.
    counts: [u32; RECENT],
    first: Option<Timestamp>,
    /// The newest posts of the key, newest last, with the period they came in.
    samples: Vec<(u64, String)>,
    /// Hashes of the key's newest posts (a ring), to tell which keys burst in the same posts.
    posts: [u64; NEWEST],
    next_post: usize,
}

/// Posts per key remembered for grouping bursts.
const NEWEST: usize = 8;

impl Default for Recent {
    fn default() -> Recent {
        Recent {
            counts: [0; RECENT],
            first: None,
            samples: Vec::new(),
            posts: [0; NEWEST],
            next_post: 0,
        }
    }
}

pub(crate) struct Bursts {
    settings: Settings,
    mean: Vec<f32>,
    variance: Vec<f32>,
    /// The slow mean of the counter's share of each period's posts, as learned from a start
    /// at zero (divided by `1 - (1 - ALPHA_SLOW)^n` after `n` periods, it is an average of the
    /// periods seen).
    slow: Vec<f32>,
    /// Periods closed so far.
    periods: u64,
    /// Posts of the last periods, newest first.
    totals: [u32; RECENT],
    /// The last period each counter has learned; the periods since, it had no key, and it
    /// learns them (as zeros) when next used.
    learned: Vec<u32>,
    /// Keys seen in the last `RECENT` periods.
    recent: HashMap<String, Recent>,
    /// Keys reported, and the period they were.
    reported: HashMap<String, u64>,
    /// Bursts of the last `RECENT` periods that others may join.
    groups: Vec<Group>,
}

/// Bursts of the same posts: the first one's key, whose newest posts a new burst is compared
/// with.
struct Group {
    lead: String,
    /// The last period a burst joined (or began) it.
    last: u64,
}

/// Posts a burst must share with a group's first key to join it.
const SHARED_POSTS: usize = 2;

impl Bursts {
    pub fn new(settings: Settings) -> Bursts {
        let cells = settings.burst_cells.next_power_of_two();
        Bursts {
            settings,
            mean: vec![0.0; cells],
            variance: vec![0.0; cells],
            slow: vec![0.0; cells],
            periods: 0,
            totals: [0; RECENT],
            learned: vec![0; cells],
            recent: HashMap::new(),
            reported: HashMap::new(),
            groups: Vec::new(),
        }
    }

    pub fn observe(&mut self, post: &Post) {
        self.totals[0] = self.totals[0].saturating_add(1);
        let mut keys: Vec<String> = Vec::new();
        for tag in &post.entities.hashtags {
            keys.push(format!("#{}", starling_text::normalize_word(&tag.tag)));
        }
        for mention in &post.entities.mentions {
            keys.push(format!("@{}", mention.handle.to_lowercase()));
        }
        for url in &post.entities.urls {
            if let Some(host) = starling_text::url_host(&url.target().to_lowercase()) {
                let host = host.trim_start_matches("www.");
                if host != "t.co" {
                    keys.push(format!("domain:{host}"));
                }
            }
        }
        let tags: Vec<String> = keys
            .iter()
            .filter_map(|key| key.strip_prefix('#'))
            .map(str::to_owned)
            .collect();
        // Hashtags, mentions and domains are shared across languages and platforms: each is
        // also counted within the post's language and within its platform, so that a key
        // usual in one language (or platform) and new in another bursts there.
        let mut scoped = Vec::new();
        for scope in scopes(post) {
            for key in &keys {
                scoped.push(format!("{key} [{scope}]"));
            }
        }
        keys.extend(scoped);
        let mut words: Vec<String> = Vec::new();
        let lang = post.language();
        for token in starling_text::analyze(&without_links_and_mentions(post)) {
            // Words of four letters or more, not function words of the post's language
            // ("from", "that": a crisis's news-like posts hold more of them, and they say
            // nothing); hashtags' words come as hashtags.
            if token.text.chars().count() >= 4
                && !tags.contains(&token.text)
                && !starling_text::is_stop_word(&lang, &token.text)
                && !token.text.chars().all(|character| character.is_numeric())
            {
                words.push(token.text);
            }
        }
        // Term pairs: each word with the next (shorter words between them skipped), so that
        // two words usual apart and new together ("fertilizer plant") are a key of their own.
        for pair in words
            .iter()
            .take(MAX_PAIRED_WORDS)
            .collect::<Vec<_>>()
            .windows(2)
        {
            if pair[0] != pair[1] {
                keys.push(format!("{} {}", pair[0], pair[1]));
            }
        }
        keys.extend(words);
        keys.sort_unstable();
        keys.dedup();
        // Never zero, which marks an empty slot.
        let post_hash = hash(post.key.as_str(), 7) | 1;
        for key in keys {
            let recent = self.recent.entry(key).or_default();
            recent.counts[0] += 1;
            recent.posts[recent.next_post] = post_hash;
            recent.next_post = (recent.next_post + 1) % NEWEST;
            if recent.counts[1..].iter().all(|count| *count == 0) && recent.counts[0] == 1 {
                recent.first = Some(post.created_at);
                recent.samples.clear();
            }
            // The newest posts, so that a burst's samples come from the burst, not from
            // whenever the key was last new. The first of each period is kept over the
            // rest of it, so that a burst's samples span its window.
            let period = self.periods;
            if recent.samples.len() < SAMPLES {
                recent.samples.push((period, post.key.as_str().to_owned()));
            } else if recent
                .samples
                .last()
                .is_some_and(|(last, _)| *last != period)
            {
                recent.samples.remove(0);
                recent.samples.push((period, post.key.as_str().to_owned()));
            }
        }
    }

    pub fn close(&mut self, end: Timestamp, epoch: u64) -> Vec<Detection> {
        let mut found = Vec::new();
        let mut scoped_found = Vec::new();
        let mut pairs_found = Vec::new();
        let mut totals: HashMap<usize, f64> = HashMap::new();
        let mask = self.mean.len() - 1;
        let minutes = self.settings.epoch_secs as f64 / 60.0;
        let period = u32::try_from(epoch).unwrap_or(u32::MAX);
        let cells: Vec<usize> = self
            .recent
            .keys()
            .map(|key| (hash(key, 0) as usize) & mask)
            .collect();
        for cell in cells {
            self.catch_up(cell, period);
        }
        self.periods += 1;
        // What the slow means' start at zero takes away, given back.
        let slow_scale = 1.0 / (1.0 - (1.0 - ALPHA_SLOW).powf(self.periods as f64)).max(1e-9);
        // The posts of each window.
        let mut window_posts = [0.0; RECENT + 1];
        for (window, total) in self.totals.iter().enumerate() {
            window_posts[window + 1] = window_posts[window] + f64::from(*total);
        }
        for (key, recent) in &self.recent {
            let cell = (hash(key, 0) as usize) & mask;
            *totals.entry(cell).or_default() += f64::from(recent.counts[0]);
            if epoch <= WARMUP
                || self
                    .reported
                    .get(key)
                    .is_some_and(|when| epoch.saturating_sub(*when) <= COOLDOWN)
            {
                continue;
            }
            let quick = f64::from(self.mean[cell]).max(RATE_FLOOR);
            let slow = f64::from(self.slow[cell]) * slow_scale;
            // How much more the counter's counts swing than Poisson's would (around the quick
            // mean, which its variance is measured from).
            let dispersion = (f64::from(self.variance[cell]) / quick).max(1.0);
            // The window where the count is least likely by chance.
            let mut best: Option<(f64, u32, usize, f64)> = None;
            for window in WINDOWS {
                let count: u32 = recent.counts[..window].iter().sum();
                if count < self.settings.burst_min_posts {
                    continue;
                }
                let expected = if window >= SLOW_FROM {
                    (slow * window_posts[window]).max(RATE_FLOOR * window as f64)
                } else {
                    quick * window as f64
                };
                if window >= SLOW_FROM && f64::from(count) < SLOW_RATIO * expected {
                    continue;
                }

                let score =
                    -log10_poisson_tail(f64::from(count) / dispersion, expected / dispersion);
                // A stream holds `window` times fewer independent windows of this length than
                // of one period: the bar is lowered by as many tests fewer.
                let margin = score - (self.settings.burst_score - (window as f64).log10());
                if margin >= 0.0 && best.is_none_or(|(top, ..)| margin > top) {
                    best = Some((margin, count, window, expected));
                }
            }
            if let Some((margin, count, window, expected)) = best {
                let score = margin + self.settings.burst_score - (window as f64).log10();
                let span = minutes * window as f64;
                // When it began to show: its first post, or the start of the window it burst
                // in when the key was around before.
                let window_start =
                    end - chrono::Duration::seconds(self.settings.epoch_secs * window as i64);
                let first_seen = recent.first.map_or(end, |first| first.max(window_start));
                let (what, scope) = match split_scope(key) {
                    Some((base, scope)) => (format!("{base} among {scope} posts"), true),
                    None => (key.clone(), false),
                };
                let detection = Detection {
                    kind: Kind::Burst,
                    key: key.clone(),
                    detected_at: end,
                    first_seen,
                    score,
                    reason: format!(
                        "{what}: {count} posts in {span:.0} min, where {expected:.1} are usual (a chance of 1 in 10^{score:.0})"
                    ),
                    samples: recent.samples.iter().map(|(_, key)| key.clone()).collect(),
                    accounts: Vec::new(),
                    group: None,
                };
                if scope {
                    scoped_found.push(detection);
                } else if key.contains(' ') {
                    pairs_found.push(detection);
                } else {
                    self.reported.insert(key.clone(), epoch);
                    found.push(detection);
                }
            }
        }
        // A key bursting in one scope only is news there; one bursting everywhere is reported
        // once, unscoped, and its scopes stay quiet while it cools down. Of one key's scopes,
        // the strongest is reported.
        scoped_found.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.key.cmp(&b.key)));
        for detection in scoped_found {
            let Some((base, _)) = split_scope(&detection.key) else {
                continue;
            };
            let any_scope = format!("{base} [*]");
            if self.reported.contains_key(base) || self.reported.contains_key(&any_scope) {
                continue;
            }
            // The key's other scopes stay quiet while this burst cools down; the key itself
            // may still burst everywhere, which is news of its own.
            self.reported.insert(any_scope, epoch);
            self.reported.insert(detection.key.clone(), epoch);
            found.push(detection);
        }
        // A pair is news only when neither of its words is: a bursting word lifts every pair it
        // is in, and says it already.
        for detection in pairs_found {
            let quiet = detection.key.split(' ').all(|word| {
                self.reported
                    .get(word)
                    .is_none_or(|when| epoch.saturating_sub(*when) > COOLDOWN)
            });
            if quiet {
                self.reported.insert(detection.key.clone(), epoch);
                found.push(detection);
            }
        }
        self.group(&mut found, epoch);
        let posts = f64::from(self.totals[0]).max(1.0);
        self.totals.rotate_right(1);
        self.totals[0] = 0;
        // The counters of this period's keys learn it (the others, later, as zeros).
        for (cell, count) in totals {
            self.learn(cell, count);
            let slow = f64::from(self.slow[cell]);
            self.slow[cell] = (slow + ALPHA_SLOW * (count / posts - slow)) as f32;
            self.learned[cell] = period;
        }
        // Shift the recent counts; forget keys not seen for `RECENT` periods.
        self.recent.retain(|_, recent| {
            recent.counts.rotate_right(1);
            recent.counts[0] = 0;
            recent.counts.iter().any(|count| *count > 0)
        });
        self.reported
            .retain(|_, when| epoch.saturating_sub(*when) <= COOLDOWN);
        found.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.key.cmp(&b.key)));
        found
    }
}

impl Bursts {
    /// Lets `cell` learn the periods before `period` it had no key in, as zeros.
    fn catch_up(&mut self, cell: usize, period: u32) {
        let missed = period.saturating_sub(self.learned[cell]).saturating_sub(1);
        // After a few hundred empty periods a counter is at rest: the rest change nothing.
        for _ in 0..missed.min(400) {
            self.learn(cell, 0.0);
        }
        // The slow mean takes longer to come to rest: its empty periods at once.
        self.slow[cell] =
            (f64::from(self.slow[cell]) * (1.0 - ALPHA_SLOW).powf(f64::from(missed))) as f32;
        self.learned[cell] = period.saturating_sub(1).max(self.learned[cell]);
    }

    /// The quick mean and the variance learn a period's count (the slow mean learns shares,
    /// apart).
    fn learn(&mut self, cell: usize, count: f64) {
        let mean = f64::from(self.mean[cell]);
        let difference = count - mean;
        self.mean[cell] = (mean + ALPHA * difference) as f32;
        self.variance[cell] = ((1.0 - ALPHA_VARIANCE)
            * (f64::from(self.variance[cell]) + ALPHA_VARIANCE * difference * difference))
            as f32;
    }
}

impl Bursts {
    /// Puts each of this period's bursts in the group of an earlier one whose key is in the
    /// same posts (two or more of the newest eight of each), strongest first, or makes it the
    /// first of a new group: one event's many words and hashtags read as one. Only the
    /// group's first key is compared with, so that a common word in two events' posts does
    /// not chain them into one.
    fn group(&mut self, found: &mut [Detection], epoch: u64) {
        self.groups
            .retain(|group| epoch.saturating_sub(group.last) <= RECENT as u64);
        if found.is_empty() {
            return;
        }
        let recent = &self.recent;
        let newest = |key: &str| -> Vec<u64> {
            recent.get(key).map_or_else(Vec::new, |recent| {
                recent
                    .posts
                    .iter()
                    .copied()
                    .filter(|hash| *hash != 0)
                    .collect()
            })
        };
        let mut leads: Vec<Vec<u64>> = self
            .groups
            .iter()
            .map(|group| newest(&group.lead))
            .collect();
        let mut order: Vec<usize> = (0..found.len()).collect();
        order.sort_by(|a, b| found[*b].score.total_cmp(&found[*a].score));
        for index in order {
            let detection = &mut found[index];
            let own = newest(&detection.key);
            let joined = leads.iter().position(|lead| {
                own.iter().filter(|hash| lead.contains(hash)).count() >= SHARED_POSTS
            });
            match joined {
                Some(at) => {
                    let group = &mut self.groups[at];
                    detection.group = Some(group.lead.clone());
                    group.last = epoch;
                }
                None => {
                    self.groups.push(Group {
                        lead: detection.key.clone(),
                        last: epoch,
                    });
                    leads.push(own);
                }
            }
        }
    }
}

/// The scopes a post's entity keys are also counted in: its language (Starling's, else the
/// declared one) and its platform.
fn scopes(post: &Post) -> Vec<String> {
    let mut scopes = Vec::with_capacity(2);
    let lang = post
        .enrichment
        .as_ref()
        .map(|enrichment| enrichment.lang.as_str())
        .filter(|lang| !lang.is_empty() && *lang != "und")
        .map(str::to_owned)
        .or_else(|| {
            post.declared_lang
                .as_deref()
                .and_then(|lang| lang.split(['-', '_']).next())
                .filter(|lang| !lang.is_empty() && *lang != "und")
                .map(str::to_ascii_lowercase)
        });
    if let Some(lang) = lang {
        scopes.push(format!("lang:{lang}"));
    }
    scopes.push(format!("platform:{}", post.platform.as_str()));
    scopes
}

/// The post's text with its links and mentions blanked out: a link's `http` and `co` are no
/// words, and a mention is counted as `@handle` already.
fn without_links_and_mentions(post: &Post) -> std::borrow::Cow<'_, str> {
    let spans = post.entities.urls.iter().filter_map(|url| url.span).chain(
        post.entities
            .mentions
            .iter()
            .filter_map(|mention| mention.span),
    );
    let mut text: Option<String> = None;
    for span in spans {
        let (start, end) = (span.byte_start, span.byte_end);
        if start < end && post.text.get(start..end).is_some() {
            let text = text.get_or_insert_with(|| post.text.clone());
            text.replace_range(start..end, &" ".repeat(end - start));
        }
    }
    text.map_or(
        std::borrow::Cow::Borrowed(post.text.as_str()),
        std::borrow::Cow::Owned,
    )
}

/// `#tag [lang:fa]` as (`#tag`, `lang:fa`).
fn split_scope(key: &str) -> Option<(&str, &str)> {
    let (base, scope) = key.strip_suffix(']')?.rsplit_once(" [")?;
    Some((base, scope))
}

/// log10 of the chance that a Poisson variable of mean `rate` is at least `count`.
fn log10_poisson_tail(count: f64, rate: f64) -> f64 {
    let count = count.floor().max(0.0);
    if count <= rate {
        return 0.0;
    }
    // ln P(X = count), then the terms after it, each rate / (k + 1) times the one before.
    let mut ln_factorial = 0.0;
    let mut k = 2.0;
    while k <= count {
        ln_factorial += f64::ln(k);
        k += 1.0;
    }
    let ln_first = -rate + count * rate.ln() - ln_factorial;
    let mut sum = 1.0;
    let mut term = 1.0;
    let mut k = count;
    while term > 1e-15 * sum {
        term *= rate / (k + 1.0);
        sum += term;
        k += 1.0;
    }
    (ln_first + sum.ln()) / std::f64::consts::LN_10
}

#[cfg(test)]
mod tests {
    #[test]
    fn poisson_tails_are_right() {
        // P(X >= 3 | 1) = 1 - e^-1 (1 + 1 + 1/2) = 0.080301...
        assert!((super::log10_poisson_tail(3.0, 1.0) - 0.080_301_397_f64.log10()).abs() < 1e-9);
        // P(X >= 1 | 0.5) = 1 - e^-0.5
        assert!(
            (super::log10_poisson_tail(1.0, 0.5) - (1.0 - (-0.5f64).exp()).log10()).abs() < 1e-9
        );
        assert_eq!(super::log10_poisson_tail(2.0, 5.0), 0.0);
    }
}
