//! The decode stage: raw records in, posts, notices and rejects out.

use starling_formats::{Context, Format, decode};

use crate::{Batch, Item, Record, Stage};

/// Decodes each record with the decoder its `format` names.
#[derive(Debug, Default)]
pub struct Decode;

impl Stage for Decode {
    type Input = Record;
    type Output = Item;

    fn process(&mut self, batch: Batch<Record>) -> Batch<Item> {
        let mut items = Vec::with_capacity(batch.items.len());
        for record in &batch.items {
            let mut context = Context::new(&record.origin, record.collected_at);
            context.line = record.line;
            context.offset = record.offset;
            let Some(format) = Format::parse(&record.format) else {
                let reason = format!("no decoder for format {:?}", record.format);
                items.push(Item::Reject(context.reject("format", reason)));
                continue;
            };
            let decoded = decode(format, record.bytes.as_bytes(), &context);
            items.extend(
                decoded
                    .posts
                    .into_iter()
                    .map(|post| Item::Post(Box::new(post))),
            );
            items.extend(decoded.notices.into_iter().map(Item::Notice));
            items.extend(decoded.rejects.into_iter().map(Item::Reject));
        }
        batch.with_items(items)
    }
}
