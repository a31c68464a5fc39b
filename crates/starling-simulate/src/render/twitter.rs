//! Twitter API v2 response pages, as twarc2 writes them: `{data, includes, meta, __twarc}`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use super::{Placed, Segment, ShareKind, engagement, layout, rfc3339_millis};
use crate::lexicon::{CITIES, LANGUAGES};
use crate::world::{Account, World};
use crate::{Draft, Published};

/// Milliseconds of Twitter's snowflake epoch (2010-11-04T01:42:54.657Z).
const TWITTER_EPOCH_MS: i64 = 1_288_834_974_657;

/// A snowflake id: milliseconds since Twitter's epoch, then 22 bits of worker and sequence.
pub fn snowflake(time_ms: i64, sequence: u64) -> u64 {
    (((time_ms - TWITTER_EPOCH_MS) as u64) << 22) | (sequence & 0x3f_ffff)
}

/// What later posts need to reply to or retweet this one.
pub fn published(draft: &Draft, _world: &World) -> Arc<Published> {
    let id = snowflake(draft.time_ms, draft.sequence).to_string();
    let segments = match &draft.share {
        Some((ShareKind::Share, original)) => original.segments.clone(),
        _ => draft.segments.clone(),
    };
    Arc::new(Published {
        key: format!("twitter:{id}"),
        id,
        author: draft.author,
        time_ms: draft.time_ms,
        language: draft.language,
        segments,
        cid: String::new(),
        rendered: None,
        root: draft.reply_root(),
        sequence: draft.sequence,
    })
}

#[derive(Serialize)]
struct Page<'a> {
    data: Vec<Tweet>,
    includes: Includes<'a>,
    meta: Meta,
    __twarc: Twarc,
}

#[derive(Serialize)]
struct Includes<'a> {
    users: Vec<User<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tweets: Vec<Tweet>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    places: Vec<Place>,
}

#[derive(Serialize)]
struct Meta {
    result_count: usize,
    newest_id: String,
    oldest_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

#[derive(Serialize)]
struct Twarc {
    url: &'static str,
    version: &'static str,
    retrieved_at: String,
}

#[derive(Serialize)]
struct Tweet {
    id: String,
    text: String,
    author_id: String,
    created_at: String,
    conversation_id: String,
    lang: &'static str,
    possibly_sensitive: bool,
    reply_settings: &'static str,
    edit_history_tweet_ids: Vec<String>,
    public_metrics: TweetMetrics,
    #[serde(skip_serializing_if = "Option::is_none")]
    entities: Option<TweetEntities>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    referenced_tweets: Vec<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    in_reply_to_user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    geo: Option<TweetGeo>,
}

#[derive(Serialize)]
struct TweetMetrics {
    retweet_count: u64,
    reply_count: u64,
    like_count: u64,
    quote_count: u64,
}

#[derive(Serialize, Default)]
struct TweetEntities {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashtags: Vec<HashtagEntity>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    mentions: Vec<MentionEntity>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    urls: Vec<UrlEntity>,
}

#[derive(Serialize)]
struct HashtagEntity {
    start: usize,
    end: usize,
    tag: String,
}

#[derive(Serialize)]
struct MentionEntity {
    start: usize,
    end: usize,
    username: String,
    id: String,
}

#[derive(Serialize)]
struct UrlEntity {
    start: usize,
    end: usize,
    url: String,
    expanded_url: String,
    display_url: String,
}

#[derive(Serialize)]
struct Reference {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
}

#[derive(Serialize)]
struct TweetGeo {
    place_id: String,
    coordinates: Coordinates,
}

#[derive(Serialize)]
struct Coordinates {
    #[serde(rename = "type")]
    kind: &'static str,
    /// GeoJSON order: longitude, latitude.
    coordinates: [f64; 2],
}

#[derive(Serialize)]
struct Place {
    id: String,
    full_name: String,
    name: &'static str,
    country: &'static str,
    country_code: &'static str,
    place_type: &'static str,
    geo: PlaceGeo,
}

#[derive(Serialize)]
struct PlaceGeo {
    #[serde(rename = "type")]
    kind: &'static str,
    bbox: [f64; 4],
}

#[derive(Serialize)]
struct User<'a> {
    id: &'a str,
    name: &'a str,
    username: &'a str,
    created_at: String,
    location: String,
    verified: bool,
    protected: bool,
    public_metrics: UserMetrics,
}

#[derive(Serialize)]
struct UserMetrics {
    followers_count: u64,
    following_count: u64,
    tweet_count: u64,
    listed_count: u64,
}

/// One response page holding `page`'s tweets, with the users, referenced tweets and places
/// they need in `includes`.
pub fn page(page: &[(Draft, Arc<Published>)], world: &World, retrieved_ms: i64) -> Vec<u8> {
    let accounts = &world.twitter.accounts;
    let mut users: BTreeMap<usize, ()> = BTreeMap::new();
    let mut referenced: BTreeMap<String, Tweet> = BTreeMap::new();
    let mut places: BTreeMap<usize, Place> = BTreeMap::new();
    let mut data = Vec::with_capacity(page.len());
    for (draft, published) in page {
        users.insert(draft.author, ());
        let mut references = Vec::new();
        let mut in_reply_to_user_id = None;
        let mut conversation_id = published.id.clone();
        let text_segments: Vec<Segment> = match &draft.share {
            Some((ShareKind::Share, original)) => {
                references.push(Reference {
                    kind: "retweeted",
                    id: original.id.clone(),
                });
                referenced
                    .entry(original.id.clone())
                    .or_insert_with(|| tweet_of_published(original, accounts));
                users.insert(original.author, ());
                // A retweet's text is "RT @author: " and the original's text.
                let mut segments = vec![
                    Segment::Text("RT ".into()),
                    Segment::Mention(original.author),
                    Segment::Text(": ".into()),
                ];
                segments.extend(original.segments.iter().cloned());
                segments
            }
            Some((ShareKind::Quote, original)) => {
                references.push(Reference {
                    kind: "quoted",
                    id: original.id.clone(),
                });
                referenced
                    .entry(original.id.clone())
                    .or_insert_with(|| tweet_of_published(original, accounts));
                users.insert(original.author, ());
                let mut segments = draft.segments.clone();
                segments.push(Segment::Text(" ".into()));
                segments.push(Segment::Url(format!(
                    "https://twitter.com/{}/status/{}",
                    accounts[original.author].handle, original.id
                )));
                segments
            }
            None => draft.segments.clone(),
        };
        if let Some(parent) = &draft.reply_to {
            references.push(Reference {
                kind: "replied_to",
                id: parent.id.clone(),
            });
            in_reply_to_user_id = Some(accounts[parent.author].id.clone());
            conversation_id = parent
                .root
                .as_ref()
                .map_or_else(|| parent.id.clone(), |root| root.id.clone());
            users.insert(parent.author, ());
        }
        for segment in &text_segments {
            if let Segment::Mention(account) = segment {
                users.insert(*account, ());
            }
        }
        let geo = draft.geo.map(|(lat, lon, city)| {
            let place_id = place_id(city);
            places.entry(city).or_insert_with(|| place(city));
            TweetGeo {
                place_id,
                coordinates: Coordinates {
                    kind: "Point",
                    coordinates: [lon, lat],
                },
            }
        });
        let [likes, retweets, replies, quotes] =
            engagement(&accounts[draft.author], draft.sequence);
        let (text, entities) = text_and_entities(&text_segments, accounts, draft.sequence);
        data.push(Tweet {
            edit_history_tweet_ids: vec![published.id.clone()],
            id: published.id.clone(),
            text,
            author_id: accounts[draft.author].id.clone(),
            created_at: rfc3339_millis(draft.time_ms),
            conversation_id,
            lang: LANGUAGES[draft.language].code,
            possibly_sensitive: false,
            reply_settings: "everyone",
            public_metrics: TweetMetrics {
                retweet_count: retweets,
                reply_count: replies,
                like_count: likes,
                quote_count: quotes,
            },
            entities,
            referenced_tweets: references,
            in_reply_to_user_id,
            geo,
        });
    }
    // A search page lists the newest tweet first.
    data.reverse();
    let newest_id = data
        .first()
        .map(|tweet| tweet.id.clone())
        .unwrap_or_default();
    let oldest_id = data
        .last()
        .map(|tweet| tweet.id.clone())
        .unwrap_or_default();
    let next_token = page
        .first()
        .map(|(draft, _)| format!("b26v89c19zqg8o3f{:016x}", draft.sequence));
    let page = Page {
        meta: Meta {
            result_count: data.len(),
            newest_id,
            oldest_id,
            next_token,
        },
        data,
        includes: Includes {
            users: users.keys().map(|index| user(&accounts[*index])).collect(),
            tweets: referenced.into_values().collect(),
            places: places.into_values().collect(),
        },
        __twarc: Twarc {
            url: "https://api.twitter.com/2/tweets/search/recent",
            version: "2.14.0",
            retrieved_at: rfc3339_millis(retrieved_ms),
        },
    };
    serde_json::to_vec(&page).unwrap_or_default()
}

/// The original of a retweet or quote, as `includes.tweets` holds it: the same links and
/// counts as in its own page, since both derive from its sequence number.
fn tweet_of_published(original: &Published, accounts: &[Account]) -> Tweet {
    let (text, entities) = text_and_entities(&original.segments, accounts, original.sequence);
    let [likes, retweets, replies, quotes] =
        engagement(&accounts[original.author], original.sequence);
    Tweet {
        edit_history_tweet_ids: vec![original.id.clone()],
        id: original.id.clone(),
        text,
        author_id: accounts[original.author].id.clone(),
        created_at: rfc3339_millis(original.time_ms),
        conversation_id: original
            .root
            .as_ref()
            .map_or_else(|| original.id.clone(), |root| root.id.clone()),
        lang: LANGUAGES[original.language].code,
        possibly_sensitive: false,
        reply_settings: "everyone",
        public_metrics: TweetMetrics {
            retweet_count: retweets + 1,
            reply_count: replies,
            like_count: likes,
            quote_count: quotes,
        },
        entities,
        referenced_tweets: Vec::new(),
        in_reply_to_user_id: None,
        geo: None,
    }
}

fn text_and_entities(
    segments: &[Segment],
    accounts: &[Account],
    salt: u64,
) -> (String, Option<TweetEntities>) {
    let mut link = 0u64;
    // Twitter sends `&`, `<` and `>` escaped in `text`, and counts entity offsets in the
    // escaped text.
    let escaped: Vec<Segment> = segments
        .iter()
        .map(|segment| match segment {
            Segment::Text(words) if words.contains(['&', '<', '>']) => Segment::Text(
                words
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;"),
            ),
            other => other.clone(),
        })
        .collect();
    let (text, placed) = layout(&escaped, |segment| match segment {
        Segment::Hashtag(tag) => format!("#{tag}"),
        Segment::Mention(account) => format!("@{}", accounts[*account].handle),
        Segment::Url(url) => {
            link += 1;
            short_link(url, salt + link)
        }
        Segment::Text(words) => words.clone(),
    });
    let mut entities = TweetEntities::default();
    for Placed {
        segment,
        start,
        end,
        char_start,
        char_end,
    } in placed
    {
        match segment {
            Segment::Hashtag(tag) => entities.hashtags.push(HashtagEntity {
                start: char_start,
                end: char_end,
                tag,
            }),
            Segment::Mention(account) => entities.mentions.push(MentionEntity {
                start: char_start,
                end: char_end,
                username: accounts[account].handle.clone(),
                id: accounts[account].id.clone(),
            }),
            Segment::Url(url) => {
                let display = url.trim_start_matches("https://");
                let display_url = if display.chars().count() > 26 {
                    format!("{}…", display.chars().take(25).collect::<String>())
                } else {
                    display.to_owned()
                };
                entities.urls.push(UrlEntity {
                    start: char_start,
                    end: char_end,
                    // The t.co link exactly as laid out in the text.
                    url: text[start..end].to_owned(),
                    expanded_url: url,
                    display_url,
                });
            }
            Segment::Text(_) => {}
        }
    }
    let empty =
        entities.hashtags.is_empty() && entities.mentions.is_empty() && entities.urls.is_empty();
    (text, (!empty).then_some(entities))
}

/// A `t.co` link: ten characters derived from the destination and the post.
fn short_link(url: &str, salt: u64) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut hash = salt ^ 0xcbf2_9ce4_8422_2325;
    for byte in url.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let code: String = (0..10)
        .map(|position| {
            ALPHABET[((hash >> (position * 6)) % ALPHABET.len() as u64) as usize] as char
        })
        .collect();
    format!("https://t.co/{code}")
}

fn place_id(city: usize) -> String {
    format!(
        "{:016x}",
        0x3a2f_0000_0000_0000u64 | (city as u64 * 0x9E37_79B9) & 0xffff_ffff
    )
}

fn place(city: usize) -> Place {
    let info = &CITIES[city];
    Place {
        id: place_id(city),
        full_name: format!("{}, {}", info.name, info.country_name),
        name: info.name,
        country: info.country_name,
        country_code: info.country,
        place_type: "city",
        geo: PlaceGeo {
            kind: "Feature",
            bbox: [
                info.lon - 0.25,
                info.lat - 0.2,
                info.lon + 0.25,
                info.lat + 0.2,
            ],
        },
    }
}

fn user(account: &Account) -> User<'_> {
    let city = &CITIES[account.city];
    User {
        id: &account.id,
        name: &account.display_name,
        username: &account.handle,
        created_at: rfc3339_millis(account.created_ms),
        location: format!("{}, {}", city.name, city.country_name),
        verified: false,
        protected: false,
        public_metrics: UserMetrics {
            followers_count: account.followers,
            following_count: 50 + account.followers % 700,
            tweet_count: 100 + account.followers * 3 % 20_000,
            listed_count: account.followers / 200,
        },
    }
}
