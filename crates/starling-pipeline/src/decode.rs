//! The decode stage: raw records in, posts, notices and rejects out.

use std::collections::HashMap;

use starling_formats::{Context, CsvDecoder, CsvMapping, Format, decode};
use starling_model::{Platform, RawRecord};

use crate::{Batch, Item, Record, Stage, UNREADABLE};

/// How records that could not be read are counted in summaries.
pub const UNREADABLE_SUMMARY: &str = "unreadable";

/// The format name of a CSV file's header record; the rows after it carry `csv`.
pub const CSV_HEADER: &str = "csv-header";

/// Decodes each record with the decoder its `format` names, and enriches each post read
/// (`starling_enrich`). CSV rows are read through the header record that came before them
/// from the same origin.
#[derive(Debug, Default)]
pub struct Decode {
    csv_mapping: CsvMapping,
    csv_platform: Option<Platform>,
    /// The decoder of each CSV origin, or `None` when its header was unusable.
    csv: HashMap<String, Option<CsvDecoder>>,
}

impl Decode {
    /// A decode stage that reads CSV columns through `mapping`, giving rows without a
    /// platform column `platform`.
    pub fn with_csv(mapping: CsvMapping, platform: Platform) -> Decode {
        Decode {
            csv_mapping: mapping,
            csv_platform: Some(platform),
            csv: HashMap::new(),
        }
    }
}

impl Stage for Decode {
    type Input = Record;
    type Output = Item;

    fn process(&mut self, batch: Batch<Record>) -> Batch<Item> {
        let mut items = Vec::with_capacity(batch.items.len());
        for record in &batch.items {
            let mut context = Context::new(&record.origin, record.collected_at);
            context.line = record.line;
            context.offset = record.offset;
            let reject = |field: &str, reason: String, keep: bool| Item::Reject {
                format: record.format.clone(),
                reject: context.reject(field, reason),
                record: keep.then(|| record.bytes.clone()),
            };
            if record.format == UNREADABLE {
                let reason = String::from_utf8_lossy(record.bytes.as_bytes()).into_owned();
                items.push(Item::Reject {
                    format: UNREADABLE_SUMMARY.into(),
                    reject: context.reject("record", reason),
                    record: None,
                });
                continue;
            }
            if record.format == CSV_HEADER {
                let platform = self.csv_platform.unwrap_or(Platform::Other);
                let decoder = CsvDecoder::new(
                    record.bytes.as_bytes(),
                    &self.csv_mapping,
                    platform,
                    &context,
                );
                let origin = record.origin.name().to_owned();
                match decoder {
                    Ok(decoder) => {
                        self.csv.insert(origin, Some(decoder));
                    }
                    Err(error) => {
                        self.csv.insert(origin, None);
                        items.push(Item::Reject {
                            format: "csv".into(),
                            reject: error,
                            record: Some(record.bytes.clone()),
                        });
                    }
                }
                continue;
            }
            let Some(format) = Format::parse(&record.format) else {
                items.push(reject(
                    "format",
                    format!("no decoder for format {:?}", record.format),
                    true,
                ));
                continue;
            };
            let decoded = if format == Format::Csv {
                match self.csv.get(record.origin.name()) {
                    Some(Some(decoder)) => decoder.decode(record.bytes.as_bytes(), &context),
                    Some(None) => {
                        items.push(reject(
                            "row",
                            "the file's header is unusable (see the header's reject)".into(),
                            true,
                        ));
                        continue;
                    }
                    None => {
                        items.push(reject(
                            "row",
                            "a CSV row arrived before its header".into(),
                            true,
                        ));
                        continue;
                    }
                }
            } else {
                decode(format, record.bytes.as_bytes(), &context)
            };
            items.extend(
                decoded
                    .posts
                    .into_iter()
                    .map(|post| Item::Post(Box::new(post))),
            );
            let name = format.name();
            items.extend(decoded.notices.into_iter().map(|notice| Item::Notice {
                format: name.to_owned(),
                notice,
            }));
            // The record is kept with a reject of the whole record, so it can be fixed.
            items.extend(decoded.rejects.into_iter().map(|reject| {
                let whole = matches!(reject.field.as_str(), "record" | "row" | "document");
                Item::Reject {
                    format: name.to_owned(),
                    reject,
                    record: whole.then(|| record.bytes.clone()),
                }
            }));
        }
        enrich_all(&mut items);
        batch.with_items(items)
    }
}

/// Enriches every post of a batch (language, sentiment, place, links: pure, so the store and
/// the index get them with the post), on as many threads as there are cores for a large batch.
/// The threads are rayon's, alive from one batch to the next, so that what enrichment keeps
/// per thread (the words the language detector has scored) is kept too.
fn enrich_all(items: &mut [Item]) {
    use rayon::prelude::*;
    const ALONE: usize = 512;
    let threads = rayon::current_num_threads();
    let posts = items
        .iter()
        .filter(|item| matches!(item, Item::Post(_)))
        .count();
    let enrich = |chunk: &mut [Item]| {
        for item in chunk {
            if let Item::Post(post) = item {
                starling_enrich::enrich(post);
            }
        }
    };
    if threads < 2 || posts < ALONE {
        enrich(items);
        return;
    }
    let size = items.len().div_ceil(threads);
    items.par_chunks_mut(size).for_each(enrich);
}

/// The bytes of a record that could not be read, for [`UNREADABLE`].
pub(crate) fn unreadable(reason: String) -> RawRecord {
    RawRecord(reason.into_bytes())
}
