//! When posts happen: the daily rhythm, the injected events and the silences, minute by minute.

use crate::rng::Rng;

/// Which part of the scenario a post belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    /// Everyday conversation about the crisis.
    Background,
    /// The hashtag that rises from nothing.
    Burst,
    /// The breaking story.
    Story,
    /// The copy-paste campaign.
    Campaign,
}

/// A window of scenario time, in milliseconds since the Unix epoch, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First millisecond.
    pub start_ms: i64,
    /// One past the last millisecond.
    pub end_ms: i64,
}

impl Window {
    /// True when `time_ms` falls inside.
    pub fn contains(&self, time_ms: i64) -> bool {
        (self.start_ms..self.end_ms).contains(&time_ms)
    }
}

/// The timing of every injected event, derived from the scenario's start and length.
#[derive(Debug, Clone)]
pub struct Timeline {
    /// Scenario start.
    pub start_ms: i64,
    /// Scenario end (exclusive).
    pub end_ms: i64,
    /// The hashtag burst: rise, then plateau, then decay; `peak_ms` is where the plateau starts.
    pub burst: Window,
    /// Start of the burst's plateau.
    pub burst_peak_ms: i64,
    /// The breaking story.
    pub story: Window,
    /// The copy-paste campaign.
    pub campaign: Window,
    /// The platform that goes silent (a broken connector or a throttled service).
    pub platform_silence: Window,
    /// The country that goes silent (an internet shutdown).
    pub country_silence: Window,
}

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;

/// Share of all posts that belong to the hashtag burst and to the story.
pub const BURST_SHARE: f64 = 0.04;
/// See [`BURST_SHARE`].
pub const STORY_SHARE: f64 = 0.03;

impl Timeline {
    /// The timeline of a scenario of `hours` hours (at least 24) from `start_ms`.
    pub fn new(start_ms: i64, hours: u32) -> Timeline {
        let length = i64::from(hours) * HOUR_MS;
        let at =
            |fraction: f64| start_ms + (length as f64 * fraction) as i64 / MINUTE_MS * MINUTE_MS;
        // Rooftop chants start in the evening in Tehran; the dormitory raid is at night.
        let burst_start = at(0.583);
        Timeline {
            start_ms,
            end_ms: start_ms + length,
            burst: Window {
                start_ms: burst_start,
                end_ms: burst_start + 9 * HOUR_MS,
            },
            burst_peak_ms: burst_start + HOUR_MS,
            story: Window {
                start_ms: at(0.33),
                end_ms: at(0.33) + 10 * HOUR_MS,
            },
            campaign: Window {
                start_ms: at(0.50),
                end_ms: at(0.50) + 45 * MINUTE_MS,
            },
            platform_silence: Window {
                start_ms: at(0.25),
                end_ms: at(0.25) + 3 * HOUR_MS,
            },
            country_silence: Window {
                start_ms: at(0.72),
                end_ms: at(0.72) + 6 * HOUR_MS,
            },
        }
    }

    /// Relative volume of everyday posts at `time_ms`: low before dawn in Tehran, high in the
    /// evening.
    fn daily_rhythm(&self, time_ms: i64) -> f64 {
        // Tehran is UTC+3:30; the trough is around 05:00 local time.
        let local_hours = ((time_ms + 3 * HOUR_MS + HOUR_MS / 2).rem_euclid(24 * HOUR_MS)) as f64
            / HOUR_MS as f64;
        let phase = (local_hours - 5.0) / 24.0 * std::f64::consts::TAU;
        0.25 + 0.75 * (0.5 - 0.5 * libm::cos(phase))
    }

    /// Shape of the burst at `time_ms`: linear rise for an hour, plateau two hours, decay.
    fn burst_shape(&self, time_ms: i64) -> f64 {
        if !self.burst.contains(time_ms) {
            return 0.0;
        }
        let hours = (time_ms - self.burst.start_ms) as f64 / HOUR_MS as f64;
        if hours < 1.0 {
            hours
        } else if hours < 3.0 {
            1.0
        } else {
            libm::pow(0.5, (hours - 3.0) / 1.5)
        }
    }

    /// Shape of the story at `time_ms`: sudden, then a slow decay.
    fn story_shape(&self, time_ms: i64) -> f64 {
        if !self.story.contains(time_ms) {
            return 0.0;
        }
        let hours = (time_ms - self.story.start_ms) as f64 / HOUR_MS as f64;
        if hours < 0.33 {
            hours / 0.33
        } else {
            libm::pow(0.5, (hours - 0.33) / 2.5)
        }
    }
}

/// Per-minute weights of each component; samples post times in order.
#[derive(Debug)]
pub struct Schedule {
    start_ms: i64,
    /// Cumulative total weight at the end of each minute.
    cumulative: Vec<f64>,
    /// Weights of background, burst and story in each minute.
    components: Vec<[f64; 3]>,
}

impl Schedule {
    /// The schedule for `timeline`; `silenced_share(time_ms)` is the share of everyday volume
    /// that is missing at that time because a platform or country is silent.
    pub fn new(timeline: &Timeline, silenced_share: impl Fn(i64) -> f64) -> Schedule {
        let minutes = ((timeline.end_ms - timeline.start_ms) / MINUTE_MS) as usize;
        let midpoint =
            |minute: usize| timeline.start_ms + minute as i64 * MINUTE_MS + MINUTE_MS / 2;
        let raw: Vec<[f64; 3]> = (0..minutes)
            .map(|minute| {
                let time = midpoint(minute);
                [
                    timeline.daily_rhythm(time) * (1.0 - silenced_share(time)),
                    timeline.burst_shape(time),
                    timeline.story_shape(time),
                ]
            })
            .collect();
        let totals = [0, 1, 2].map(|part| raw.iter().map(|weights| weights[part]).sum::<f64>());
        let targets = [1.0 - BURST_SHARE - STORY_SHARE, BURST_SHARE, STORY_SHARE];
        let components: Vec<[f64; 3]> = raw
            .iter()
            .map(|weights| {
                [0, 1, 2].map(|part| {
                    if totals[part] > 0.0 {
                        weights[part] / totals[part] * targets[part]
                    } else {
                        0.0
                    }
                })
            })
            .collect();
        let mut running = 0.0;
        let cumulative = components
            .iter()
            .map(|weights| {
                running += weights.iter().sum::<f64>();
                running
            })
            .collect();
        Schedule {
            start_ms: timeline.start_ms,
            cumulative,
            components,
        }
    }

    /// The time and component of post `index` of `count`, in non-decreasing time order
    /// (stratified sampling of the cumulative weight).
    pub fn sample(&self, rng: &mut Rng, index: u64, count: u64) -> (i64, Component) {
        let total = self.cumulative[self.cumulative.len() - 1];
        let target = (index as f64 + rng.unit()) / count as f64 * total;
        let minute = self
            .cumulative
            .partition_point(|value| *value <= target)
            .min(self.cumulative.len() - 1);
        let before = if minute == 0 {
            0.0
        } else {
            self.cumulative[minute - 1]
        };
        let weights = self.components[minute];
        let in_minute = weights.iter().sum::<f64>();
        let fraction = if in_minute > 0.0 {
            ((target - before) / in_minute).clamp(0.0, 0.999_999)
        } else {
            0.0
        };
        let time_ms =
            self.start_ms + minute as i64 * MINUTE_MS + (fraction * MINUTE_MS as f64) as i64;
        let pick = rng.unit() * in_minute;
        let component = if pick < weights[0] {
            Component::Background
        } else if pick < weights[0] + weights[1] {
            Component::Burst
        } else {
            Component::Story
        };
        (time_ms, component)
    }
}
