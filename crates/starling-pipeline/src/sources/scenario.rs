//! A generated scenario as a source: the generator's output, record by record, in time order.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use starling_model::{RawRecord, Source as Origin};
use starling_simulate::{Generator, Output};

use crate::{Batch, Offset, PipelineError, Record, Source};

/// Plays a [`Generator`]'s output into the pipeline as if it had been collected live.
pub struct ScenarioSource {
    generator: Generator,
    next_offset: u64,
    lines: HashMap<String, u64>,
    acknowledged: Offset,
    pace: Option<Pace>,
}

/// Playback in accelerated real time.
struct Pace {
    speed: f64,
    stop: Arc<AtomicBool>,
    /// The wall clock and the scenario's clock when playback began.
    began: Option<(Instant, i64)>,
    /// A record read ahead that is not due yet.
    pending: Option<Output>,
}

/// The longest a paced source sleeps before looking at its stop flag again.
const PACE_TICK: Duration = Duration::from_millis(100);

impl ScenarioSource {
    /// A source over everything `generator` produces.
    pub fn new(generator: Generator) -> ScenarioSource {
        ScenarioSource {
            generator,
            next_offset: 0,
            lines: HashMap::new(),
            acknowledged: Offset(0),
            pace: None,
        }
    }

    /// Plays the scenario in accelerated real time: a record received `t` after the first
    /// comes `t / speed` after it (speed 720 plays 72 hours in 6 minutes), as a live source
    /// would deliver it; the source ends early once `stop` is set.
    pub fn paced(mut self, speed: f64, stop: Arc<AtomicBool>) -> ScenarioSource {
        self.pace = Some(Pace {
            speed: speed.max(1e-3),
            stop,
            began: None,
            pending: None,
        });
        self
    }

    /// The next record the generator has, and whether the batch must end before it because
    /// it is not due yet (paced playback).
    fn next_output(&mut self, batch_empty: bool) -> Option<Output> {
        let Some(pace) = self.pace.as_mut() else {
            return self.generator.next();
        };
        loop {
            if pace.stop.load(Ordering::Relaxed) {
                return None;
            }
            let output = match pace.pending.take() {
                Some(output) => output,
                None => self.generator.next()?,
            };
            let (wall, scenario) = *pace
                .began
                .get_or_insert_with(|| (Instant::now(), output.received_ms));
            let due = Duration::from_secs_f64(
                ((output.received_ms - scenario).max(0) as f64 / 1000.0) / pace.speed,
            );
            let elapsed = wall.elapsed();
            if due <= elapsed {
                return Some(output);
            }
            pace.pending = Some(output);
            if !batch_empty {
                // Hand over what is due now; this record starts a later batch.
                return None;
            }
            std::thread::sleep((due - elapsed).min(PACE_TICK));
        }
    }

    /// The generator, for its ground truth once the source is exhausted.
    pub fn generator(&self) -> &Generator {
        &self.generator
    }

    /// The offset through which the pipeline has acknowledged records.
    pub fn acknowledged(&self) -> Offset {
        self.acknowledged
    }
}

impl Source for ScenarioSource {
    fn next_batch(&mut self, max: usize) -> Result<Option<Batch<Record>>, PipelineError> {
        let mut items = Vec::with_capacity(max.min(4096));
        while items.len() < max {
            let Some(output) = self.next_output(items.is_empty()) else {
                break;
            };
            let line = output.is_line.then(|| {
                let line = self.lines.entry(output.path.clone()).or_insert(0);
                *line += 1;
                *line
            });
            let collected_at = chrono::DateTime::from_timestamp_millis(output.received_ms)
                .ok_or_else(|| PipelineError::Source {
                    origin: "scenario".into(),
                    message: format!("time {} out of range", output.received_ms),
                })?;
            items.push(Record {
                origin: Origin::Generated(format!("scenario/{}", output.path)),
                format: output.format.name().to_owned(),
                line,
                offset: None,
                collected_at,
                bytes: RawRecord(output.bytes),
            });
        }
        Ok(Batch::following(&mut self.next_offset, items))
    }

    fn acknowledge(&mut self, through: Offset) -> Result<(), PipelineError> {
        self.acknowledged = self.acknowledged.max(through);
        Ok(())
    }
}
