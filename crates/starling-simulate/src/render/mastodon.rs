//! Mastodon status objects as seen from one server (`mastodon.example`), one per line.

use std::sync::Arc;

use serde::Serialize;
use serde_json::value::RawValue;

use super::{Segment, ShareKind, engagement, escape_markup, rfc3339_millis};
use crate::lexicon::LANGUAGES;
use crate::rng::Rng;
use crate::world::{Account, MASTODON_SERVERS, World};
use crate::{Draft, Published};

/// The server the capture was made on: local ids are this server's.
const HOME: &str = MASTODON_SERVERS[0];

#[derive(Serialize)]
struct Status<'a> {
    id: String,
    created_at: String,
    in_reply_to_id: Option<String>,
    in_reply_to_account_id: Option<String>,
    sensitive: bool,
    spoiler_text: &'static str,
    visibility: &'static str,
    language: Option<&'static str>,
    uri: String,
    url: Option<String>,
    replies_count: u64,
    reblogs_count: u64,
    favourites_count: u64,
    edited_at: Option<String>,
    content: String,
    reblog: Option<&'a RawValue>,
    account: AccountJson<'a>,
    media_attachments: [(); 0],
    mentions: Vec<MentionJson>,
    tags: Vec<TagJson>,
    emojis: [(); 0],
    card: Option<()>,
    poll: Option<()>,
}

#[derive(Serialize)]
struct AccountJson<'a> {
    id: &'a str,
    username: &'a str,
    acct: String,
    display_name: &'a str,
    locked: bool,
    bot: bool,
    created_at: String,
    note: &'static str,
    url: String,
    followers_count: u64,
    following_count: u64,
    statuses_count: u64,
}

#[derive(Serialize)]
struct MentionJson {
    id: String,
    username: String,
    url: String,
    acct: String,
}

#[derive(Serialize)]
struct TagJson {
    name: String,
    url: String,
}

fn username(account: &Account) -> &str {
    &account.handle
}

fn acct(account: &Account) -> String {
    if account.server == HOME {
        account.handle.clone()
    } else {
        format!("{}@{}", account.handle, account.server)
    }
}

fn profile_url(account: &Account) -> String {
    format!("https://{}/@{}", account.server, username(account))
}

/// The status line for `draft`, and what later posts need to boost or reply to it.
pub fn render(draft: &Draft, world: &World, rng: &mut Rng) -> (Vec<u8>, Arc<Published>) {
    let accounts = &world.mastodon.accounts;
    let account = &accounts[draft.author];
    // Status ids are time-ordered: milliseconds, then 16 bits of sequence.
    let id = (((draft.time_ms as u64) << 16) | (draft.sequence & 0xffff)).to_string();
    let uri = format!(
        "https://{}/users/{}/statuses/{}",
        account.server,
        username(account),
        id
    );
    let url = format!("https://{}/@{}/{}", account.server, username(account), id);
    let [favourites, reblogs, replies, _] = engagement(account, draft.sequence);
    // About one status in five has no declared language, as on real servers (boosts never do).
    let language = (!rng.chance(0.2)).then_some(LANGUAGES[draft.language].code);

    let mut status = Status {
        id: id.clone(),
        created_at: rfc3339_millis(draft.time_ms),
        in_reply_to_id: draft.reply_to.as_ref().map(|parent| parent.id.clone()),
        in_reply_to_account_id: draft
            .reply_to
            .as_ref()
            .map(|parent| accounts[parent.author].id.clone()),
        sensitive: false,
        spoiler_text: "",
        visibility: "public",
        language,
        uri: uri.clone(),
        url: Some(url),
        replies_count: replies,
        reblogs_count: reblogs,
        favourites_count: favourites,
        edited_at: None,
        content: String::new(),
        reblog: None,
        account: account_json(account),
        media_attachments: [],
        mentions: Vec::new(),
        tags: Vec::new(),
        emojis: [],
        card: None,
        poll: None,
    };
    let boosted = match &draft.share {
        Some((_, original)) => original
            .rendered
            .as_deref()
            .and_then(|json| RawValue::from_string(json.to_owned()).ok()),
        None => None,
    };
    let segments = match &draft.share {
        Some((ShareKind::Share | ShareKind::Quote, original)) => {
            // A boost has no content of its own; its `uri` is the boost activity.
            status.uri = format!("{uri}/activity");
            status.url = None;
            status.language = None;
            status.reblog = boosted.as_deref();
            original.segments.clone()
        }
        None => {
            fill_content(&mut status, &draft.segments, accounts);
            draft.segments.clone()
        }
    };
    let line = serde_json::to_vec(&status).unwrap_or_default();
    let rendered: Option<Arc<str>> = if draft.share.is_none() {
        std::str::from_utf8(&line).ok().map(Arc::from)
    } else {
        None
    };
    let published = Arc::new(Published {
        id,
        // A boost's key is its activity URI, as the decoder reads it.
        key: status.uri.clone(),
        author: draft.author,
        time_ms: draft.time_ms,
        language: draft.language,
        segments,
        cid: String::new(),
        rendered,
        root: draft.reply_root(),
        sequence: draft.sequence,
    });
    (line, published)
}

/// HTML content as Mastodon renders it, with its `mentions` and `tags` lists.
fn fill_content(status: &mut Status<'_>, segments: &[Segment], accounts: &[Account]) {
    let mut html = String::from("<p>");
    for segment in segments {
        match segment {
            Segment::Text(words) => escape_markup(words, &mut html),
            Segment::Hashtag(tag) => {
                let url = format!("https://{HOME}/tags/{tag}");
                html.push_str("<a href=\"");
                escape_markup(&url, &mut html);
                html.push_str("\" class=\"mention hashtag\" rel=\"tag\">#<span>");
                escape_markup(tag, &mut html);
                html.push_str("</span></a>");
                status.tags.push(TagJson {
                    name: tag.to_lowercase(),
                    url,
                });
            }
            Segment::Mention(index) => {
                let mentioned = &accounts[*index];
                let url = profile_url(mentioned);
                html.push_str("<span class=\"h-card\" translate=\"no\"><a href=\"");
                escape_markup(&url, &mut html);
                html.push_str("\" class=\"u-url mention\">@<span>");
                escape_markup(username(mentioned), &mut html);
                html.push_str("</span></a></span>");
                status.mentions.push(MentionJson {
                    id: mentioned.id.clone(),
                    username: username(mentioned).to_owned(),
                    url,
                    acct: acct(mentioned),
                });
            }
            Segment::Url(url) => {
                let rest = url.trim_start_matches("https://");
                let (visible, hidden) = rest.split_at(
                    rest.char_indices()
                        .nth(30)
                        .map_or(rest.len(), |(index, _)| index),
                );
                html.push_str("<a href=\"");
                escape_markup(url, &mut html);
                html.push_str("\" target=\"_blank\" rel=\"nofollow noopener noreferrer\" translate=\"no\"><span class=\"invisible\">https://</span><span class=\"");
                html.push_str(if hidden.is_empty() { "" } else { "ellipsis" });
                html.push_str("\">");
                escape_markup(visible, &mut html);
                html.push_str("</span><span class=\"invisible\">");
                escape_markup(hidden, &mut html);
                html.push_str("</span></a>");
            }
        }
    }
    html.push_str("</p>");
    status.content = html;
}

fn account_json(account: &Account) -> AccountJson<'_> {
    AccountJson {
        id: &account.id,
        username: username(account),
        acct: acct(account),
        display_name: &account.display_name,
        locked: false,
        bot: false,
        created_at: rfc3339_millis(account.created_ms - account.created_ms % 86_400_000),
        note: "",
        url: profile_url(account),
        followers_count: account.followers,
        following_count: 20 + account.followers % 300,
        statuses_count: 50 + account.followers * 7 % 9_000,
    }
}
