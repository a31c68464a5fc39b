//! RSS 2.0 documents: what a poll of a news outlet's feed returns.

use super::{Segment, escape_markup};
use crate::Draft;
use crate::lexicon::LANGUAGES;
use crate::world::{Outlet, World};

/// One news item, kept until the outlet's next poll and a few polls after.
#[derive(Debug, Clone)]
pub struct Item {
    title: String,
    link: String,
    description: String,
    published_ms: i64,
}

impl Item {
    /// The canonical key Starling gives the item: `rss:` and its guid (here, its link).
    pub fn key(&self) -> String {
        format!("rss:{}", self.link)
    }
}

/// The item for a news draft.
pub fn item(draft: &Draft, world: &World) -> Item {
    let outlet = &world.outlets[draft.author];
    let date = crate::time_of(draft.time_ms);
    let description = draft
        .segments
        .iter()
        .map(|segment| match segment {
            Segment::Text(words) => words.as_str(),
            _ => "",
        })
        .collect();
    Item {
        title: draft.title.clone().unwrap_or_default(),
        link: format!(
            "https://{}/{}/{}",
            outlet.domain,
            date.format("%Y/%m/%d"),
            draft.sequence
        ),
        description,
        published_ms: draft.time_ms,
    }
}

/// The feed document an outlet serves at `poll_ms`: its items, newest first.
pub fn document(outlet: &Outlet, items: &[Item], poll_ms: i64) -> Vec<u8> {
    let rfc822 = |time_ms: i64| crate::time_of(time_ms).to_rfc2822();
    let mut xml = String::with_capacity(512 + items.len() * 400);
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n<title>");
    escape_markup(outlet.name, &mut xml);
    xml.push_str("</title>\n<link>https://");
    xml.push_str(outlet.domain);
    xml.push_str("/</link>\n<atom:link href=\"https://");
    xml.push_str(outlet.domain);
    xml.push_str("/feed.xml\" rel=\"self\" type=\"application/rss+xml\"/>\n<description>Latest news</description>\n<language>");
    xml.push_str(LANGUAGES[outlet.language].code);
    xml.push_str("</language>\n<lastBuildDate>");
    xml.push_str(&rfc822(poll_ms));
    xml.push_str("</lastBuildDate>\n");
    for item in items.iter().rev() {
        xml.push_str("<item>\n<title>");
        escape_markup(&item.title, &mut xml);
        xml.push_str("</title>\n<link>");
        escape_markup(&item.link, &mut xml);
        xml.push_str("</link>\n<guid isPermaLink=\"true\">");
        escape_markup(&item.link, &mut xml);
        xml.push_str("</guid>\n<pubDate>");
        xml.push_str(&rfc822(item.published_ms));
        xml.push_str("</pubDate>\n<description>");
        escape_markup(&item.description, &mut xml);
        xml.push_str("</description>\n</item>\n");
    }
    xml.push_str("</channel>\n</rss>\n");
    xml.into_bytes()
}
