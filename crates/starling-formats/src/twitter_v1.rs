//! Twitter API v1.1 tweets: single objects, REST arrays, and stream captures with their limit,
//! delete, disconnect and withholding notices (twarc 1 JSONL is one object per line).

use serde::Deserialize;
use serde_json::value::RawValue;
use starling_model::{Author, Geo, Media, Metrics, Place, Platform, Point, Post, PostKey, PostRef};

use crate::twitter::{self, PlainText, RawEntity, snowflake_time};
use crate::{Context, Decoded, Format, Notice, Reject, each_in_array, json_reject, raw};

#[derive(Deserialize)]
struct Tweet {
    id_str: Option<String>,
    id: Option<serde_json::Number>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    full_text: Option<String>,
    #[serde(default)]
    extended_tweet: Option<Extended>,
    #[serde(default)]
    entities: Option<EntitiesJson>,
    #[serde(default)]
    extended_entities: Option<ExtendedEntities>,
    user: Option<User>,
    #[serde(default)]
    retweeted_status: Option<Box<Tweet>>,
    #[serde(default)]
    quoted_status: Option<Box<Tweet>>,
    #[serde(default)]
    quoted_status_id_str: Option<String>,
    #[serde(default)]
    in_reply_to_status_id_str: Option<String>,
    #[serde(default)]
    in_reply_to_user_id_str: Option<String>,
    #[serde(default)]
    in_reply_to_screen_name: Option<String>,
    #[serde(default)]
    coordinates: Option<Coordinates>,
    #[serde(default)]
    place: Option<PlaceJson>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    retweet_count: Option<u64>,
    #[serde(default)]
    favorite_count: Option<u64>,
    #[serde(default)]
    reply_count: Option<u64>,
    #[serde(default)]
    quote_count: Option<u64>,
}

#[derive(Deserialize)]
struct Extended {
    full_text: String,
    #[serde(default)]
    entities: Option<EntitiesJson>,
    #[serde(default)]
    extended_entities: Option<ExtendedEntities>,
}

#[derive(Deserialize, Default)]
struct EntitiesJson {
    #[serde(default)]
    hashtags: Vec<TagJson>,
    #[serde(default)]
    symbols: Vec<TagJson>,
    #[serde(default)]
    user_mentions: Vec<MentionJson>,
    #[serde(default)]
    urls: Vec<UrlJson>,
    #[serde(default)]
    media: Vec<MediaJson>,
}

#[derive(Deserialize, Default)]
struct ExtendedEntities {
    #[serde(default)]
    media: Vec<MediaJson>,
}

#[derive(Deserialize)]
struct TagJson {
    text: String,
    indices: [usize; 2],
}

#[derive(Deserialize)]
struct MentionJson {
    screen_name: String,
    #[serde(default)]
    id_str: Option<String>,
    indices: [usize; 2],
}

#[derive(Deserialize)]
struct UrlJson {
    url: String,
    #[serde(default)]
    expanded_url: Option<String>,
    indices: [usize; 2],
}

#[derive(Deserialize)]
struct MediaJson {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    media_url_https: Option<String>,
}

#[derive(Deserialize)]
struct User {
    id_str: Option<String>,
    id: Option<serde_json::Number>,
    #[serde(default)]
    screen_name: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    followers_count: Option<u64>,
    #[serde(default)]
    location: Option<String>,
}

#[derive(Deserialize)]
struct Coordinates {
    /// GeoJSON order: longitude, latitude.
    coordinates: [f64; 2],
}

#[derive(Deserialize)]
struct PlaceJson {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    full_name: Option<String>,
    #[serde(default)]
    country_code: Option<String>,
}

/// The stream messages that are not tweets.
#[derive(Deserialize)]
struct StreamMessage {
    #[serde(default)]
    limit: Option<serde_json::Value>,
    #[serde(default)]
    delete: Option<serde_json::Value>,
    #[serde(default)]
    disconnect: Option<serde_json::Value>,
    #[serde(default)]
    status_withheld: Option<serde_json::Value>,
    #[serde(default)]
    user_withheld: Option<serde_json::Value>,
    #[serde(default)]
    scrub_geo: Option<serde_json::Value>,
    #[serde(default)]
    warning: Option<serde_json::Value>,
}

pub(crate) fn decode(bytes: &[u8], context: &Context<'_>, decoded: &mut Decoded) {
    // A REST response is an array of tweets; a capture has one object per line.
    let trimmed = bytes.trim_ascii_start();
    if trimmed.starts_with(b"[") {
        each_in_array(
            bytes,
            "JSON array of v1.1 tweets",
            context,
            decoded,
            |item, field, decoded| {
                decode_object(item, field, context, decoded);
            },
        );
    } else if let Ok(Search { statuses }) = serde_json::from_slice::<Search<'_>>(bytes) {
        // A saved search response: `{"statuses": [...], "search_metadata": {...}}`.
        for (index, item) in statuses.into_iter().enumerate() {
            decode_object(
                item.get().as_bytes(),
                &format!("statuses[{index}]"),
                context,
                decoded,
            );
        }
    } else {
        decode_object(bytes, "", context, decoded);
    }
}

#[derive(Deserialize)]
struct Search<'a> {
    #[serde(borrow)]
    statuses: Vec<&'a RawValue>,
}

fn decode_object(bytes: &[u8], field: &str, context: &Context<'_>, decoded: &mut Decoded) {
    let message: StreamMessage = match serde_json::from_slice(bytes) {
        Ok(message) => message,
        Err(error) => {
            decoded
                .rejects
                .push(json_reject(&error, context, "v1.1 tweet or stream message"));
            return;
        }
    };
    if let Some(notice) = stream_notice(&message) {
        decoded.notices.push(notice);
        return;
    }
    let tweet: Tweet = match serde_json::from_slice(bytes) {
        Ok(tweet) => tweet,
        Err(error) => {
            let field = if field.is_empty() {
                "record".to_owned()
            } else {
                field.to_owned()
            };
            decoded
                .rejects
                .push(context.reject(field, format!("not a v1.1 tweet: {error}")));
            return;
        }
    };
    match tweet_to_post(&tweet, bytes, context, field) {
        Ok(post) => decoded.posts.push(post),
        Err(reject) => decoded.rejects.push(reject),
    }
}

/// Limit, delete, disconnect and withholding messages: what a stream says it did not deliver.
fn stream_notice(message: &StreamMessage) -> Option<Notice> {
    let text = |value: &serde_json::Value, pointer: &str| {
        value.pointer(pointer).map(|found| match found {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        })
    };
    if let Some(limit) = &message.limit {
        let missed = text(limit, "/track").unwrap_or_else(|| "?".into());
        return Some(Notice {
            kind: "limit".into(),
            key: None,
            detail: format!("{missed} matching tweets not delivered so far (rate limit)"),
        });
    }
    if let Some(delete) = &message.delete {
        let id = text(delete, "/status/id_str").or_else(|| text(delete, "/status/id"));
        return Some(Notice {
            kind: "delete".into(),
            key: id.map(|id| {
                PostKey::for_platform_id(Platform::Twitter, &id)
                    .as_str()
                    .to_owned()
            }),
            detail: "deleted by its author".into(),
        });
    }
    if let Some(disconnect) = &message.disconnect {
        let code = text(disconnect, "/code").unwrap_or_default();
        let reason = text(disconnect, "/reason").unwrap_or_default();
        return Some(Notice {
            kind: "disconnect".into(),
            key: None,
            detail: format!("code {code}: {reason}"),
        });
    }
    if let Some(withheld) = &message.status_withheld {
        let id = text(withheld, "/id");
        let countries = text(withheld, "/withheld_in_countries").unwrap_or_default();
        return Some(Notice {
            kind: "withheld".into(),
            key: id.map(|id| {
                PostKey::for_platform_id(Platform::Twitter, &id)
                    .as_str()
                    .to_owned()
            }),
            detail: format!("withheld in {countries}"),
        });
    }
    if let Some(withheld) = &message.user_withheld {
        let id = text(withheld, "/id").unwrap_or_default();
        return Some(Notice {
            kind: "withheld".into(),
            key: None,
            detail: format!("account {id} withheld"),
        });
    }
    if let Some(scrub) = &message.scrub_geo {
        let user = text(scrub, "/user_id_str").unwrap_or_default();
        return Some(Notice {
            kind: "scrub_geo".into(),
            key: None,
            detail: format!("geotags of account {user} removed"),
        });
    }
    message.warning.as_ref().map(|warning| Notice {
        kind: "warning".into(),
        key: None,
        detail: text(warning, "/message").unwrap_or_default(),
    })
}

/// The v1.1 creation time: `Wed Oct 10 20:19:24 +0000 2018`.
fn parse_v1_time(text: &str) -> Option<starling_model::Timestamp> {
    chrono::DateTime::parse_from_str(text, "%a %b %d %H:%M:%S %z %Y")
        .ok()
        .map(|time| time.with_timezone(&chrono::Utc))
}

fn id_of(id_str: &Option<String>, id: &Option<serde_json::Number>) -> Option<String> {
    // `id` exceeds 2^53: only its string form is exact, but a number read as text is too.
    id_str
        .clone()
        .or_else(|| id.as_ref().map(ToString::to_string))
}

/// The full text of a tweet and the entities that index it, in extended mode or not.
fn full_text(tweet: &Tweet) -> (&str, Option<&EntitiesJson>, Option<&ExtendedEntities>) {
    if let Some(extended) = &tweet.extended_tweet {
        return (
            &extended.full_text,
            extended.entities.as_ref(),
            extended.extended_entities.as_ref(),
        );
    }
    let text = tweet
        .full_text
        .as_deref()
        .or(tweet.text.as_deref())
        .unwrap_or_default();
    (
        text,
        tweet.entities.as_ref(),
        tweet.extended_entities.as_ref(),
    )
}

fn tweet_to_post(
    tweet: &Tweet,
    bytes: &[u8],
    context: &Context<'_>,
    field: &str,
) -> Result<Post, Reject> {
    let at = |name: &str| {
        if field.is_empty() {
            name.to_owned()
        } else {
            format!("{field}.{name}")
        }
    };
    let id =
        id_of(&tweet.id_str, &tweet.id).ok_or_else(|| context.reject(at("id_str"), "missing"))?;
    if tweet.text.is_none() && tweet.full_text.is_none() && tweet.extended_tweet.is_none() {
        return Err(context.reject(at("text"), "missing: not a tweet"));
    }
    let created_at = match &tweet.created_at {
        Some(text) => parse_v1_time(text).ok_or_else(|| {
            context.reject(
                at("created_at"),
                format!("expected a time like \"Wed Oct 10 20:19:24 +0000 2018\", got {text:?}"),
            )
        })?,
        None => snowflake_time(&id).ok_or_else(|| {
            context.reject(at("created_at"), "missing, and the id is not a snowflake")
        })?,
    };
    let user = tweet.user.as_ref();
    let author_id = user
        .and_then(|user| id_of(&user.id_str, &user.id))
        .unwrap_or_default();
    let handle = user
        .and_then(|user| user.screen_name.clone())
        .unwrap_or_else(|| author_id.clone());
    let author = Author {
        id: author_id,
        display_name: user.and_then(|user| user.name.clone()),
        followers: user.and_then(|user| user.followers_count),
        location: user
            .and_then(|user| user.location.clone())
            .filter(|location| !location.trim().is_empty()),
        handle,
    };
    let reference = |original: &Tweet| {
        let id = id_of(&original.id_str, &original.id).unwrap_or_default();
        let original_user = original.user.as_ref();
        PostRef {
            key: Some(PostKey::for_platform_id(Platform::Twitter, &id)),
            id,
            author_id: original_user.and_then(|user| id_of(&user.id_str, &user.id)),
            author_handle: original_user.and_then(|user| user.screen_name.clone()),
        }
    };
    // A retweet's own text is "RT @user: " and a cut copy; the original has it whole.
    let shown = tweet.retweeted_status.as_deref().unwrap_or(tweet);
    let (escaped, entities_json, extended_entities) = full_text(shown);
    let plain = PlainText::new(escaped);
    let entities = entities_json.map_or_else(Default::default, |entities| {
        fn tag(tag: &TagJson) -> RawEntity<'_> {
            RawEntity {
                value: &tag.text,
                id: None,
                expanded: None,
                start: tag.indices[0],
                end: tag.indices[1],
            }
        }
        twitter::entities(
            &plain,
            entities.hashtags.iter().map(tag),
            entities.symbols.iter().map(tag),
            entities.user_mentions.iter().map(|mention| RawEntity {
                value: &mention.screen_name,
                id: mention.id_str.as_deref(),
                expanded: None,
                start: mention.indices[0],
                end: mention.indices[1],
            }),
            entities.urls.iter().map(|url| RawEntity {
                value: &url.url,
                id: None,
                expanded: url.expanded_url.as_deref(),
                start: url.indices[0],
                end: url.indices[1],
            }),
        )
    });
    let media_list = extended_entities
        .map(|extended| &extended.media)
        .filter(|media| !media.is_empty())
        .or(entities_json.map(|entities| &entities.media));
    let media = media_list
        .into_iter()
        .flatten()
        .map(|media| Media {
            kind: media.kind.clone().unwrap_or_else(|| "photo".into()),
            url: media.media_url_https.clone(),
        })
        .collect();
    let geo = (tweet.coordinates.is_some() || tweet.place.is_some()).then(|| Geo {
        point: tweet.coordinates.as_ref().map(|point| Point {
            lat: point.coordinates[1],
            lon: point.coordinates[0],
        }),
        place: tweet.place.as_ref().and_then(|place| {
            Some(Place {
                id: place.id.clone(),
                name: place.full_name.clone()?,
            })
        }),
        country: tweet
            .place
            .as_ref()
            .and_then(|place| place.country_code.clone())
            .filter(|code| !code.is_empty()),
    });
    Ok(Post {
        platform: Platform::Twitter,
        key: PostKey::for_platform_id(Platform::Twitter, &id),
        url: Some(format!("https://twitter.com/{}/status/{id}", author.handle)),
        id,
        author,
        created_at,
        collected_at: context.collected_at,
        title: None,
        community: None,
        text: plain.text,
        declared_lang: tweet.lang.clone().filter(|lang| lang != "und"),
        reply_to: tweet.in_reply_to_status_id_str.as_ref().map(|id| PostRef {
            id: id.clone(),
            key: Some(PostKey::for_platform_id(Platform::Twitter, id)),
            author_id: tweet.in_reply_to_user_id_str.clone(),
            author_handle: tweet.in_reply_to_screen_name.clone(),
        }),
        quote_of: tweet.quoted_status.as_deref().map(reference).or_else(|| {
            tweet.quoted_status_id_str.as_ref().map(|id| PostRef {
                id: id.clone(),
                key: Some(PostKey::for_platform_id(Platform::Twitter, id)),
                author_id: None,
                author_handle: None,
            })
        }),
        share_of: tweet.retweeted_status.as_deref().map(reference),
        entities,
        media,
        metrics: Metrics {
            likes: tweet.favorite_count,
            shares: tweet.retweet_count,
            replies: tweet.reply_count,
            quotes: tweet.quote_count,
            views: None,
        },
        geo,
        provenance: context.provenance(Format::TwitterV1),
        enrichment: None,
        raw: raw(bytes),
    })
}
