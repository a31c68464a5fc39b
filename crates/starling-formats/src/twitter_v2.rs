//! Twitter API v2 response pages: `{data: [tweet...], includes: {users, tweets, places}, errors}`.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::value::RawValue;
use starling_model::{
    Author, Entities, Geo, Metrics, Place, Platform, Point, Post, PostKey, PostRef,
};

use crate::twitter::{self, PlainText, RawEntity, snowflake_time};
use crate::{Context, Decoded, Format, Notice, json_reject, parse_time, raw};

#[derive(Deserialize)]
struct Page<'a> {
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(default)]
    includes: Includes,
    #[serde(default)]
    errors: Vec<ApiError>,
    #[serde(default)]
    __twarc: Option<Twarc>,
    #[serde(default)]
    meta: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize, Default)]
struct Includes {
    #[serde(default)]
    users: Vec<User>,
    #[serde(default)]
    tweets: Vec<Tweet>,
    #[serde(default)]
    places: Vec<PlaceJson>,
}

#[derive(Deserialize)]
struct Twarc {
    retrieved_at: Option<String>,
}

#[derive(Deserialize)]
struct ApiError {
    #[serde(default)]
    resource_id: Option<String>,
    #[serde(default)]
    resource_type: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    detail: Option<String>,
}

#[derive(Deserialize)]
struct User {
    id: String,
    #[serde(default)]
    name: Option<String>,
    username: String,
    #[serde(default)]
    public_metrics: Option<UserMetrics>,
    #[serde(default)]
    location: Option<String>,
}

#[derive(Deserialize)]
struct UserMetrics {
    #[serde(default)]
    followers_count: Option<u64>,
}

#[derive(Deserialize)]
struct PlaceJson {
    id: String,
    #[serde(default)]
    full_name: Option<String>,
    #[serde(default)]
    country_code: Option<String>,
}

#[derive(Deserialize)]
struct Tweet {
    id: String,
    text: String,
    #[serde(default)]
    author_id: Option<String>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    public_metrics: Option<TweetMetrics>,
    #[serde(default)]
    entities: Option<TweetEntities>,
    #[serde(default)]
    referenced_tweets: Vec<Reference>,
    #[serde(default)]
    in_reply_to_user_id: Option<String>,
    #[serde(default)]
    geo: Option<TweetGeo>,
    #[serde(default)]
    note_tweet: Option<NoteTweet>,
}

#[derive(Deserialize)]
struct NoteTweet {
    text: String,
    #[serde(default)]
    entities: Option<TweetEntities>,
}

#[derive(Deserialize)]
struct TweetMetrics {
    #[serde(default)]
    retweet_count: Option<u64>,
    #[serde(default)]
    reply_count: Option<u64>,
    #[serde(default)]
    like_count: Option<u64>,
    #[serde(default)]
    quote_count: Option<u64>,
    #[serde(default)]
    impression_count: Option<u64>,
}

#[derive(Deserialize, Default)]
struct TweetEntities {
    #[serde(default)]
    hashtags: Vec<TagEntity>,
    #[serde(default)]
    cashtags: Vec<TagEntity>,
    #[serde(default)]
    mentions: Vec<MentionEntity>,
    #[serde(default)]
    urls: Vec<UrlJson>,
}

#[derive(Deserialize)]
struct TagEntity {
    start: usize,
    end: usize,
    tag: String,
}

#[derive(Deserialize)]
struct MentionEntity {
    start: usize,
    end: usize,
    username: String,
    #[serde(default)]
    id: Option<String>,
}

#[derive(Deserialize)]
struct UrlJson {
    start: usize,
    end: usize,
    url: String,
    #[serde(default)]
    expanded_url: Option<String>,
}

#[derive(Deserialize)]
struct Reference {
    #[serde(rename = "type")]
    kind: String,
    id: String,
}

#[derive(Deserialize)]
struct TweetGeo {
    #[serde(default)]
    place_id: Option<String>,
    #[serde(default)]
    coordinates: Option<Coordinates>,
}

#[derive(Deserialize)]
struct Coordinates {
    /// GeoJSON order: longitude, latitude.
    coordinates: [f64; 2],
}

pub(crate) fn decode(bytes: &[u8], context: &Context<'_>, decoded: &mut Decoded) {
    let page: Page<'_> = match serde_json::from_slice(bytes) {
        Ok(page) => page,
        Err(error) => {
            decoded
                .rejects
                .push(json_reject(&error, context, "Twitter v2 response page"));
            return;
        }
    };
    if page.data.is_none() && page.errors.is_empty() && page.meta.is_none() {
        decode_flattened(bytes, context, decoded);
        return;
    }
    let collected_at = page
        .__twarc
        .as_ref()
        .and_then(|twarc| twarc.retrieved_at.as_deref())
        .and_then(|text| parse_time(text, "__twarc.retrieved_at", context).ok())
        .unwrap_or(context.collected_at);
    let users: HashMap<&str, &User> = page
        .includes
        .users
        .iter()
        .map(|user| (user.id.as_str(), user))
        .collect();
    let tweets: HashMap<&str, &Tweet> = page
        .includes
        .tweets
        .iter()
        .map(|tweet| (tweet.id.as_str(), tweet))
        .collect();
    let places: HashMap<&str, &PlaceJson> = page
        .includes
        .places
        .iter()
        .map(|place| (place.id.as_str(), place))
        .collect();
    // `data` is an array in search and timeline pages, one object in lookups and streams.
    let items: Vec<&RawValue> = match page.data {
        Some(data) if data.get().starts_with('[') => match serde_json::from_str(data.get()) {
            Ok(items) => items,
            Err(error) => {
                decoded
                    .rejects
                    .push(context.reject("data", format!("not an array of tweets: {error}")));
                return;
            }
        },
        Some(data) => vec![data],
        None => Vec::new(),
    };
    for (index, item) in items.into_iter().enumerate() {
        let field = format!("data[{index}]");
        let tweet: Tweet = match serde_json::from_str(item.get()) {
            Ok(tweet) => tweet,
            Err(error) => {
                decoded
                    .rejects
                    .push(context.reject(field, format!("not a tweet object: {error}")));
                continue;
            }
        };
        let lookups = Lookups {
            users: &users,
            tweets: &tweets,
            places: &places,
        };
        match tweet_to_post(
            &tweet,
            item.get().as_bytes(),
            &lookups,
            context,
            collected_at,
            &field,
        ) {
            Ok(post) => decoded.posts.push(post),
            Err(reject) => decoded.rejects.push(reject),
        }
    }
    for error in page.errors {
        // Errors name tweets, users, media or places; only a tweet has a post key.
        let is_tweet = error
            .resource_type
            .as_deref()
            .is_none_or(|kind| kind == "tweet");
        let key = error.resource_id.filter(|_| is_tweet).map(|id| {
            PostKey::for_platform_id(Platform::Twitter, &id)
                .as_str()
                .to_owned()
        });
        decoded.notices.push(Notice {
            kind: "unavailable".into(),
            key,
            detail: [error.title, error.detail]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": "),
        });
    }
}

/// A line of `twarc2 flatten`: one tweet with its author, place and referenced tweets
/// copied into it.
#[derive(Deserialize)]
struct Flattened {
    #[serde(default)]
    author: Option<User>,
    #[serde(default)]
    referenced_tweets: Vec<serde_json::Value>,
    #[serde(default)]
    geo: Option<FlattenedGeo>,
    #[serde(default)]
    __twarc: Option<Twarc>,
}

#[derive(Deserialize)]
struct FlattenedGeo {
    #[serde(default)]
    place: Option<PlaceJson>,
}

fn decode_flattened(bytes: &[u8], context: &Context<'_>, decoded: &mut Decoded) {
    let (tweet, extras) = match (
        serde_json::from_slice::<Tweet>(bytes),
        serde_json::from_slice::<Flattened>(bytes),
    ) {
        (Ok(tweet), Ok(extras)) => (tweet, extras),
        (Err(error), _) | (_, Err(error)) => {
            let reason = format!(
                "no `data`, `errors` or `meta`, and not a twarc2 flattened tweet either ({error}); \
                 compliance and user files are not tweets"
            );
            decoded.rejects.push(context.reject("record", reason));
            return;
        }
    };
    // Referenced tweets arrive whole, each with its own author copied in.
    let mut users: Vec<User> = extras.author.into_iter().collect();
    let mut tweets = Vec::new();
    for referenced in extras.referenced_tweets {
        if let Some(author) = referenced
            .get("author")
            .cloned()
            .and_then(|author| serde_json::from_value(author).ok())
        {
            users.push(author);
        }
        if let Ok(original) = serde_json::from_value::<Tweet>(referenced) {
            tweets.push(original);
        }
    }
    let places: Vec<PlaceJson> = extras.geo.and_then(|geo| geo.place).into_iter().collect();
    let users: HashMap<&str, &User> = users.iter().map(|user| (user.id.as_str(), user)).collect();
    let tweets: HashMap<&str, &Tweet> = tweets
        .iter()
        .map(|tweet| (tweet.id.as_str(), tweet))
        .collect();
    let places: HashMap<&str, &PlaceJson> = places
        .iter()
        .map(|place| (place.id.as_str(), place))
        .collect();
    let collected_at = extras
        .__twarc
        .as_ref()
        .and_then(|twarc| twarc.retrieved_at.as_deref())
        .and_then(|text| parse_time(text, "__twarc.retrieved_at", context).ok())
        .unwrap_or(context.collected_at);
    let lookups = Lookups {
        users: &users,
        tweets: &tweets,
        places: &places,
    };
    match tweet_to_post(&tweet, bytes, &lookups, context, collected_at, "") {
        Ok(post) => decoded.posts.push(post),
        Err(reject) => decoded.rejects.push(reject),
    }
}

struct Lookups<'a> {
    users: &'a HashMap<&'a str, &'a User>,
    tweets: &'a HashMap<&'a str, &'a Tweet>,
    places: &'a HashMap<&'a str, &'a PlaceJson>,
}

fn tweet_to_post(
    tweet: &Tweet,
    raw_bytes: &[u8],
    lookups: &Lookups<'_>,
    context: &Context<'_>,
    collected_at: starling_model::Timestamp,
    field: &str,
) -> Result<Post, crate::Reject> {
    let at = |name: &str| {
        if field.is_empty() {
            name.to_owned()
        } else {
            format!("{field}.{name}")
        }
    };
    let created_at = match &tweet.created_at {
        Some(text) => parse_time(text, &at("created_at"), context)?,
        // Only id and text come back unless fields were requested; a snowflake id still dates
        // the tweet, and an older id leaves only the time it was collected.
        None => snowflake_time(&tweet.id).unwrap_or(collected_at),
    };
    let author_id = tweet.author_id.clone().unwrap_or_default();
    let user = lookups.users.get(author_id.as_str());
    let author = Author {
        handle: user
            .map(|user| user.username.clone())
            .unwrap_or_else(|| author_id.clone()),
        display_name: user.and_then(|user| user.name.clone()),
        followers: user.and_then(|user| user.public_metrics.as_ref()?.followers_count),
        location: user
            .and_then(|user| user.location.clone())
            .filter(|location| !location.trim().is_empty()),
        id: author_id,
    };
    let reference = |kind: &str| {
        tweet
            .referenced_tweets
            .iter()
            .find(|reference| reference.kind == kind)
    };
    let post_ref = |id: &str, author_id: Option<String>| {
        let original = lookups.tweets.get(id);
        let author_id = author_id.or_else(|| original.and_then(|tweet| tweet.author_id.clone()));
        PostRef {
            id: id.to_owned(),
            key: Some(PostKey::for_platform_id(Platform::Twitter, id)),
            author_handle: author_id
                .as_deref()
                .and_then(|id| lookups.users.get(id))
                .map(|user| user.username.clone()),
            author_id,
        }
    };
    let share_of = reference("retweeted").map(|reference| post_ref(&reference.id, None));
    // A retweet's own text is cut short; the original, when included, has it whole.
    let shared = share_of
        .as_ref()
        .and_then(|share| lookups.tweets.get(share.id.as_str()));
    let source = shared.copied().unwrap_or(tweet);
    // A long post's whole text and its entities are in `note_tweet`; the tweet's own are cut.
    let (text_source, entities_source) = match &source.note_tweet {
        Some(note) => (note.text.as_str(), note.entities.as_ref()),
        None => (source.text.as_str(), source.entities.as_ref()),
    };
    // Twitter escapes `&`, `<` and `>` and counts entity offsets in the escaped text.
    let plain = PlainText::new(text_source);
    let entities = entities_source
        .map(|entities| convert_entities(entities, &plain))
        .unwrap_or_default();
    let text = plain.text;
    let geo = tweet.geo.as_ref().map(|geo| {
        let place = geo
            .place_id
            .as_deref()
            .and_then(|id| lookups.places.get(id));
        Geo {
            point: geo.coordinates.as_ref().map(|point| Point {
                lat: point.coordinates[1],
                lon: point.coordinates[0],
            }),
            place: place.map(|place| Place {
                id: Some(place.id.clone()),
                name: place.full_name.clone().unwrap_or_default(),
            }),
            country: place
                .and_then(|place| place.country_code.clone())
                .filter(|code| !code.trim().is_empty()),
        }
    });
    let metrics = tweet
        .public_metrics
        .as_ref()
        .map_or_else(Metrics::default, |metrics| Metrics {
            likes: metrics.like_count,
            shares: metrics.retweet_count,
            replies: metrics.reply_count,
            quotes: metrics.quote_count,
            views: metrics.impression_count,
        });
    Ok(Post {
        platform: Platform::Twitter,
        key: PostKey::for_platform_id(Platform::Twitter, &tweet.id),
        url: Some(format!(
            "https://twitter.com/{}/status/{}",
            author.handle, tweet.id
        )),
        id: tweet.id.clone(),
        author,
        created_at,
        collected_at,
        title: None,
        community: None,
        text,
        declared_lang: tweet.lang.clone().filter(|lang| lang != "und"),
        reply_to: reference("replied_to")
            .map(|reference| post_ref(&reference.id, tweet.in_reply_to_user_id.clone())),
        quote_of: reference("quoted").map(|reference| post_ref(&reference.id, None)),
        share_of,
        entities,
        media: Vec::new(),
        metrics,
        geo,
        provenance: context.provenance(Format::TwitterV2),
        enrichment: None,
        raw: raw(raw_bytes),
    })
}

/// Converts v2 entities (code point offsets in the escaped text) to the model.
fn convert_entities(entities: &TweetEntities, text: &PlainText) -> Entities {
    fn tag(tag: &TagEntity) -> RawEntity<'_> {
        RawEntity {
            value: &tag.tag,
            id: None,
            expanded: None,
            start: tag.start,
            end: tag.end,
        }
    }
    twitter::entities(
        text,
        entities.hashtags.iter().map(tag),
        entities.cashtags.iter().map(tag),
        entities.mentions.iter().map(|mention| RawEntity {
            value: &mention.username,
            id: mention.id.as_deref(),
            expanded: None,
            start: mention.start,
            end: mention.end,
        }),
        entities.urls.iter().map(|url| RawEntity {
            value: &url.url,
            id: None,
            expanded: url.expanded_url.as_deref(),
            start: url.start,
            end: url.end,
        }),
    )
}
