//! Fuzzes the twitter_v1 decoder: no input may make it panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use starling_formats::{Context, Format, decode};
use starling_model::Source;

fuzz_target!(|data: &[u8]| {
    let source = Source::Generated("fuzz".into());
    let context = Context::new(&source, starling_model::Timestamp::default());
    let decoded = decode(Format::TwitterV1, data, &context);
    for post in &decoded.posts {
        for tag in &post.entities.hashtags {
            if let Some(span) = tag.span {
                assert!(span.slice(&post.text).is_some());
            }
        }
    }
});
