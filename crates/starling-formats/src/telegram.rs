//! Telegram Desktop exports (`result.json`): one chat, or a whole account's chats.

use serde::Deserialize;
use serde_json::value::RawValue;
use starling_model::{
    Author, Entities, Hashtag, Media, Mention, Platform, Post, PostKey, PostRef, Span, UrlEntity,
    nfc,
};

use crate::{Context, Decoded, Format, json_reject, raw};

/// Either one chat, or an account export with `chats.list`.
#[derive(Deserialize)]
struct Export<'a> {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(borrow, default)]
    messages: Option<Vec<&'a RawValue>>,
    #[serde(borrow, default)]
    chats: Option<Chats<'a>>,
}

#[derive(Deserialize)]
struct Chats<'a> {
    #[serde(borrow)]
    list: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
struct Message {
    id: i64,
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    date_unixtime: Option<String>,
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    from_id: Option<String>,
    #[serde(default)]
    text: Option<TextValue>,
    #[serde(default)]
    reply_to_message_id: Option<i64>,
    #[serde(default)]
    forwarded_from: Option<String>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    photo: Option<String>,
    #[serde(default)]
    file: Option<String>,
}

/// `text` is a plain string, or parts: strings and `{type, text, href?}` objects.
#[derive(Deserialize)]
#[serde(untagged)]
enum TextValue {
    Plain(String),
    Parts(Vec<Part>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Part {
    Plain(String),
    Entity {
        #[serde(rename = "type")]
        kind: String,
        text: String,
        #[serde(default)]
        href: Option<String>,
    },
}

pub(crate) fn decode(bytes: &[u8], context: &Context<'_>, decoded: &mut Decoded) {
    let export: Export<'_> = match serde_json::from_slice(bytes) {
        Ok(export) => export,
        Err(error) => {
            decoded
                .rejects
                .push(json_reject(&error, context, "Telegram Desktop export"));
            return;
        }
    };
    if let Some(chats) = &export.chats {
        for (index, chat) in chats.list.iter().enumerate() {
            match serde_json::from_str::<Export<'_>>(chat.get()) {
                Ok(chat) => decode_chat(&chat, &format!("chats.list[{index}]"), context, decoded),
                Err(error) => decoded.rejects.push(context.reject(
                    format!("chats.list[{index}]"),
                    format!("not a chat: {error}"),
                )),
            }
        }
    } else if export.messages.is_some() {
        decode_chat(&export, "", context, decoded);
    } else {
        decoded.rejects.push(context.reject(
            "record",
            "neither a chat (`messages`) nor an account export (`chats.list`)",
        ));
    }
}

fn decode_chat(chat: &Export<'_>, field: &str, context: &Context<'_>, decoded: &mut Decoded) {
    let chat_id = match &chat.id {
        Some(serde_json::Value::String(id)) => id.clone(),
        Some(serde_json::Value::Number(id)) => id.to_string(),
        _ => {
            decoded.rejects.push(context.reject(
                format!("{field}{}id", if field.is_empty() { "" } else { "." }),
                "missing: messages are numbered per chat",
            ));
            return;
        }
    };
    for (index, message) in chat.messages.iter().flatten().enumerate() {
        let at = format!(
            "{field}{}messages[{index}]",
            if field.is_empty() { "" } else { "." }
        );
        let parsed: Message = match serde_json::from_str(message.get()) {
            Ok(parsed) => parsed,
            Err(error) => {
                decoded
                    .rejects
                    .push(context.reject(at, format!("not a message: {error}")));
                continue;
            }
        };
        // Service messages (joins, pins, title changes) are not posts.
        if parsed.kind != "message" {
            continue;
        }
        match message_to_post(
            &parsed,
            message.get().as_bytes(),
            &chat_id,
            chat.name.as_deref(),
            context,
            &at,
        ) {
            Ok(post) => decoded.posts.push(post),
            Err(reject) => decoded.rejects.push(reject),
        }
    }
}

fn message_to_post(
    message: &Message,
    bytes: &[u8],
    chat_id: &str,
    chat_name: Option<&str>,
    context: &Context<'_>,
    at: &str,
) -> Result<Post, crate::Reject> {
    // `date_unixtime` is exact; `date` has no zone and is the exporter's local time.
    let created_at = message
        .date_unixtime
        .as_deref()
        .and_then(|seconds| seconds.trim().parse::<i64>().ok())
        .and_then(|seconds| chrono::DateTime::from_timestamp(seconds, 0))
        .ok_or_else(|| {
            context.reject(
                format!("{at}.date_unixtime"),
                format!(
                    "expected seconds since 1970 as a string, got {:?}; `date` ({:?}) has no time zone to trust",
                    message.date_unixtime, message.date
                ),
            )
        })?;
    let (text, entities) = text_and_entities(message.text.as_ref());
    let id = format!("{chat_id}/{}", message.id);
    let author_id = message
        .from_id
        .clone()
        .unwrap_or_else(|| format!("chat{chat_id}"));
    let media_kind = message
        .media_type
        .clone()
        .or_else(|| message.photo.as_ref().map(|_| "photo".into()))
        .or_else(|| message.file.as_ref().map(|_| "document".into()));
    Ok(Post {
        platform: Platform::Telegram,
        key: PostKey::for_platform_id(Platform::Telegram, &id),
        url: None,
        author: Author {
            handle: author_id.clone(),
            id: author_id,
            display_name: message
                .from
                .clone()
                .or_else(|| chat_name.map(str::to_owned)),
            followers: None,
            location: None,
        },
        id,
        created_at,
        collected_at: context.collected_at,
        title: None,
        community: chat_name.map(nfc),
        text,
        declared_lang: None,
        reply_to: message.reply_to_message_id.map(|reply| {
            let id = format!("{chat_id}/{reply}");
            PostRef {
                key: Some(PostKey::for_platform_id(Platform::Telegram, &id)),
                id,
                author_id: None,
                author_handle: None,
            }
        }),
        quote_of: None,
        // A forward names its origin but not the original message.
        share_of: message.forwarded_from.as_ref().map(|origin| PostRef {
            id: String::new(),
            key: None,
            author_id: None,
            author_handle: Some(origin.clone()),
        }),
        entities,
        media: media_kind
            .map(|kind| Media { kind, url: None })
            .into_iter()
            .collect(),
        metrics: Default::default(),
        geo: None,
        provenance: context.provenance(Format::Telegram),
        enrichment: None,
        raw: raw(bytes),
    })
}

/// The message text, and its entities with exact spans: the parts concatenate to the text.
fn text_and_entities(value: Option<&TextValue>) -> (String, Entities) {
    let mut entities = Entities::default();
    let parts = match value {
        None => return (String::new(), entities),
        Some(TextValue::Plain(text)) => return (nfc(text), entities),
        Some(TextValue::Parts(parts)) => parts,
    };
    let mut text = String::new();
    for part in parts {
        match part {
            Part::Plain(words) => text.push_str(&nfc(words)),
            Part::Entity {
                kind,
                text: shown,
                href,
            } => {
                let shown = nfc(shown);
                let start = text.len();
                text.push_str(&shown);
                let span = Span::from_bytes(&text, start, text.len());
                let bare = |sigil: char| shown.trim_start_matches(sigil).to_owned();
                match kind.as_str() {
                    "hashtag" => entities.hashtags.push(Hashtag {
                        tag: bare('#'),
                        span,
                    }),
                    "cashtag" => entities.cashtags.push(Hashtag {
                        tag: bare('$'),
                        span,
                    }),
                    "mention" => entities.mentions.push(Mention {
                        handle: bare('@'),
                        id: None,
                        span,
                    }),
                    "mention_name" => entities.mentions.push(Mention {
                        handle: shown.clone(),
                        id: None,
                        span,
                    }),
                    "link" => entities.urls.push(UrlEntity {
                        url: shown.clone(),
                        expanded_url: None,
                        span,
                    }),
                    "text_link" => entities.urls.push(UrlEntity {
                        url: shown.clone(),
                        expanded_url: href.clone(),
                        span,
                    }),
                    _ => {}
                }
            }
        }
    }
    (text, entities)
}
