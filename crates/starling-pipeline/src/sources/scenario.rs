//! A generated scenario as a source: the generator's output, record by record, in time order.

use std::collections::HashMap;

use starling_model::{RawRecord, Source as Origin};
use starling_simulate::Generator;

use crate::{Batch, Offset, PipelineError, Record, Source};

/// Plays a [`Generator`]'s output into the pipeline as if it had been collected live.
pub struct ScenarioSource {
    generator: Generator,
    next_offset: u64,
    lines: HashMap<String, u64>,
    acknowledged: Offset,
}

impl ScenarioSource {
    /// A source over everything `generator` produces.
    pub fn new(generator: Generator) -> ScenarioSource {
        ScenarioSource {
            generator,
            next_offset: 0,
            lines: HashMap::new(),
            acknowledged: Offset(0),
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
        let mut items = Vec::with_capacity(max);
        for output in self.generator.by_ref().take(max) {
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
