//! Entities where the platform gives none, found by Twitter's rules; and positions for the
//! entities a platform lists without them.

use starling_model::{Entities, Post};
use starling_text::EntityExtractor;

use crate::Format;

/// Completes `post`'s entities after decoding `format`: the platform's entities are kept as
/// they are; a platform that lists none (feeds, Reddit, CSV, Telegram plain text) gets those
/// Twitter's rules find; Mastodon, which lists tags and mentions without positions and no
/// links, gets positions for its own and the links found in the text.
pub(crate) fn complete(post: &mut Post, format: Format, extractor: &EntityExtractor) {
    match format {
        // Twitter and Bluesky say exactly where each entity is.
        Format::TwitterV1 | Format::TwitterV2 | Format::Jetstream => {}
        Format::Mastodon => locate_mastodon(post, extractor),
        Format::Rss | Format::Reddit | Format::Telegram | Format::Csv => {
            if post.entities.is_empty() {
                post.entities = extractor.entities_of(&post.text, false);
            }
        }
    }
}

/// Gives Mastodon's tags and mentions the positions of their first unclaimed match in the
/// text, and adds the text's links.
fn locate_mastodon(post: &mut Post, extractor: &EntityExtractor) {
    let found: Entities = extractor.entities_of(&post.text, true);
    let mut claimed = vec![false; found.hashtags.len()];
    for tag in &mut post.entities.hashtags {
        let wanted = tag.tag.to_lowercase();
        if let Some(index) = (0..found.hashtags.len())
            .find(|index| !claimed[*index] && found.hashtags[*index].tag.to_lowercase() == wanted)
        {
            claimed[index] = true;
            tag.span = found.hashtags[index].span;
        }
    }
    let mut claimed = vec![false; found.mentions.len()];
    for mention in &mut post.entities.mentions {
        let wanted = mention.handle.to_lowercase();
        let local = wanted.split('@').next().unwrap_or_default().to_owned();
        let matches = |handle: &str| {
            let handle = handle.to_lowercase();
            handle == wanted || handle == local
        };
        if let Some(index) = (0..found.mentions.len())
            .find(|index| !claimed[*index] && matches(&found.mentions[*index].handle))
        {
            claimed[index] = true;
            mention.span = found.mentions[index].span;
        }
    }
    if post.entities.urls.is_empty() {
        post.entities.urls = found.urls;
    }
}
