//! The simulated world: accounts on each platform and the news outlets, built once from the seed.

use crate::lexicon::{CITIES, LANGUAGES, NAME_PARTS, RTL_DISPLAY_NAMES};
use crate::rng::{Rng, Zipf};

/// The platforms the generator writes, each in its own export shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SimPlatform {
    /// Twitter API v2 response pages, as twarc2 writes them.
    Twitter,
    /// Mastodon statuses, as the REST and streaming APIs return them.
    Mastodon,
    /// Bluesky Jetstream events.
    Bluesky,
    /// RSS 2.0 feed documents from news outlets.
    Rss,
}

impl SimPlatform {
    /// The platform name used in keys and the ground truth.
    pub fn name(self) -> &'static str {
        match self {
            SimPlatform::Twitter => "twitter",
            SimPlatform::Mastodon => "mastodon",
            SimPlatform::Bluesky => "bluesky",
            SimPlatform::Rss => "rss",
        }
    }

    /// The social platforms, with their share of everyday posts (RSS has the rest).
    pub const SOCIAL: [(SimPlatform, f64); 3] = [
        (SimPlatform::Twitter, 0.52),
        (SimPlatform::Mastodon, 0.16),
        (SimPlatform::Bluesky, 0.24),
    ];

    /// Share of everyday posts that are news items.
    pub const RSS_SHARE: f64 = 0.08;
}

/// Mastodon servers accounts live on; posts are captured from the first one.
pub const MASTODON_SERVERS: &[&str] = &[
    "mastodon.example",
    "social.example.org",
    "toot.example.net",
    "iran.social.example",
];

/// One account on one platform.
#[derive(Debug, Clone)]
pub struct Account {
    /// Stable id: numeric user id (Twitter), local account id (Mastodon), DID (Bluesky).
    pub id: String,
    /// Handle without `@`; for Bluesky the full domain handle.
    pub handle: String,
    /// Display name.
    pub display_name: String,
    /// Mastodon: the server the account lives on.
    pub server: &'static str,
    /// Index into [`LANGUAGES`].
    pub language: usize,
    /// Index into [`crate::lexicon::CITIES`].
    pub city: usize,
    /// Followers.
    pub followers: u64,
    /// Account creation time, milliseconds since the Unix epoch.
    pub created_ms: i64,
}

impl Account {
    /// The account's country (ISO 3166-1 alpha-2).
    pub fn country(&self) -> &'static str {
        CITIES[self.city].country
    }
}

/// The accounts of one platform: `regular` ones chosen by a power law, then the campaign's.
#[derive(Debug)]
pub struct Pool {
    /// All accounts; the first `regular` are sampled by activity, the rest are the campaign's.
    pub accounts: Vec<Account>,
    regular: usize,
    activity: Zipf,
}

impl Pool {
    /// A regular account, the most active ones most often.
    pub fn sample(&self, rng: &mut Rng) -> usize {
        self.activity.sample(rng).min(self.regular - 1)
    }

    /// How many regular (non-campaign) accounts there are; they come first.
    pub fn regular(&self) -> usize {
        self.regular
    }

    /// Indices of the campaign's accounts in this pool.
    pub fn campaign(&self) -> std::ops::Range<usize> {
        self.regular..self.accounts.len()
    }
}

/// A news outlet publishing an RSS feed.
#[derive(Debug)]
pub struct Outlet {
    /// The feed's title.
    pub name: &'static str,
    /// Web domain.
    pub domain: &'static str,
    /// Index into [`LANGUAGES`].
    pub language: usize,
}

/// The outlets, one per language they publish in.
pub const OUTLETS: &[(&str, &str, &str)] = &[
    ("Tehran Bureau Daily", "tehran-bureau.example", "en"),
    ("خبرگزاری آزادی", "azadi-news.example", "fa"),
    ("الشرق اليوم", "alsharq-today.example", "ar"),
    ("El Diario Global", "diario-global.example", "es"),
    ("Le Monde Libre", "monde-libre.example", "fr"),
    ("Berliner Rundschau", "rundschau.example", "de"),
];

/// The world the scenario plays in.
#[derive(Debug)]
pub struct World {
    /// Twitter accounts.
    pub twitter: Pool,
    /// Mastodon accounts.
    pub mastodon: Pool,
    /// Bluesky accounts.
    pub bluesky: Pool,
    /// News outlets.
    pub outlets: Vec<Outlet>,
}

/// How many accounts run the copy-paste campaign on Twitter and on Bluesky.
pub const CAMPAIGN_ACCOUNTS: (usize, usize) = (16, 8);

impl World {
    /// Builds the world for `posts` posts starting at `start_ms`.
    pub fn new(rng: &mut Rng, posts: u64, start_ms: i64) -> World {
        let language_weights: Vec<f64> = LANGUAGES.iter().map(|language| language.weight).collect();
        let mut pool = |platform: SimPlatform, share: f64, campaign: usize| {
            let regular = ((posts as f64 * share / 4.0) as usize).clamp(60, 500_000);
            let mut accounts: Vec<Account> = (0..regular)
                .map(|index| {
                    make_account(
                        rng,
                        platform,
                        index,
                        regular,
                        &language_weights,
                        start_ms,
                        false,
                    )
                })
                .collect();
            accounts.extend((0..campaign).map(|offset| {
                make_account(
                    rng,
                    platform,
                    regular + offset,
                    regular,
                    &language_weights,
                    start_ms,
                    true,
                )
            }));
            Pool {
                accounts,
                regular,
                activity: Zipf::new(regular, 0.8),
            }
        };
        let twitter = pool(SimPlatform::Twitter, 0.52, CAMPAIGN_ACCOUNTS.0);
        let mastodon = pool(SimPlatform::Mastodon, 0.16, 0);
        let bluesky = pool(SimPlatform::Bluesky, 0.24, CAMPAIGN_ACCOUNTS.1);
        let outlets = OUTLETS
            .iter()
            .map(|(name, domain, code)| Outlet {
                name,
                domain,
                language: LANGUAGES
                    .iter()
                    .position(|language| language.code == *code)
                    .unwrap_or(0),
            })
            .collect();
        World {
            twitter,
            mastodon,
            bluesky,
            outlets,
        }
    }

    /// The account pool of a social platform.
    pub fn pool(&self, platform: SimPlatform) -> &Pool {
        match platform {
            SimPlatform::Twitter | SimPlatform::Rss => &self.twitter,
            SimPlatform::Mastodon => &self.mastodon,
            SimPlatform::Bluesky => &self.bluesky,
        }
    }
}

/// An index chosen with probability proportional to `weights`.
pub fn weighted_index(rng: &mut Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut target = rng.unit() * total;
    for (index, weight) in weights.iter().enumerate() {
        if target < *weight {
            return index;
        }
        target -= weight;
    }
    weights.len() - 1
}

fn make_account(
    rng: &mut Rng,
    platform: SimPlatform,
    index: usize,
    regular: usize,
    language_weights: &[f64],
    start_ms: i64,
    campaign: bool,
) -> Account {
    // Campaign accounts are fresh and write Persian or English, from where speakers of it post.
    let language = if campaign {
        index % 2
    } else {
        weighted_index(rng, language_weights)
    };
    let countries = LANGUAGES[language].countries;
    let country_weights: Vec<f64> = countries.iter().map(|(_, weight)| *weight).collect();
    let country = countries[weighted_index(rng, &country_weights)].0;
    let cities: Vec<usize> = (0..CITIES.len())
        .filter(|city| CITIES[*city].country == country)
        .collect();
    let city = if cities.is_empty() {
        0
    } else {
        *rng.pick(&cities)
    };

    let first = *rng.pick(NAME_PARTS);
    let second = *rng.pick(NAME_PARTS);
    let base = if first.len() + second.len() <= 9 {
        format!("{first}{second}")
    } else {
        first.to_owned()
    };
    let handle_core = format!("{base}{index}");
    let display_name = if language < 3 && rng.chance(0.6) {
        format!(
            "{} {}",
            rng.pick(RTL_DISPLAY_NAMES),
            rng.pick(RTL_DISPLAY_NAMES)
        )
    } else {
        let mut name = capitalize(first);
        name.push(' ');
        name.push_str(&capitalize(second));
        name
    };
    // Reach follows activity: the most active accounts have most followers, with noise.
    let rank_reach = libm::pow(regular as f64 / (index.min(regular) + 1) as f64, 0.9);
    let followers = if campaign {
        rng.below(40)
    } else {
        (15.0 * rank_reach * (0.3 + 1.4 * rng.unit())) as u64 + rng.below(200)
    };
    let day_ms = 86_400_000;
    let created_ms = if campaign {
        start_ms - (1 + rng.below(10) as i64) * day_ms
    } else {
        start_ms - (30 + rng.below(4000) as i64) * day_ms
    };
    let (id, handle, server) = match platform {
        SimPlatform::Twitter | SimPlatform::Rss => (
            format!("{}", 10_000_000 + scrambled(index, 50)),
            handle_core,
            "",
        ),
        SimPlatform::Mastodon => {
            let server = *rng.pick(MASTODON_SERVERS);
            (
                format!("{}", 100_000 + scrambled(index, 40)),
                handle_core,
                server,
            )
        }
        SimPlatform::Bluesky => (did_plc(rng), format!("{handle_core}.bsky.social"), ""),
    };
    Account {
        id,
        handle,
        display_name,
        server,
        language,
        city,
        followers,
        created_ms,
    }
}

/// A number below `2^bits` that looks random but is distinct for every `index`: multiplying by
/// an odd constant is a bijection modulo a power of two.
fn scrambled(index: usize, bits: u32) -> u64 {
    (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) & ((1 << bits) - 1)
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

const BASE32_LOWER: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// `prefix` followed by `length` random characters of lowercase base32.
fn base32_id(rng: &mut Rng, prefix: &str, length: usize) -> String {
    let mut id = String::with_capacity(prefix.len() + length);
    id.push_str(prefix);
    id.extend((0..length).map(|_| BASE32_LOWER[rng.index(32)] as char));
    id
}

/// A `did:plc:` identifier: 24 characters of lowercase base32.
pub fn did_plc(rng: &mut Rng) -> String {
    base32_id(rng, "did:plc:", 24)
}

/// A content id shaped like a real CIDv1 (dag-cbor, sha-256, base32): `bafyrei` + 52 chars.
pub fn cid(rng: &mut Rng) -> String {
    base32_id(rng, "bafyrei", 52)
}

const BASE32_SORTABLE: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";

/// An AT Protocol TID (timestamp id): 53 bits of microseconds and 10 bits of clock id, in
/// 13 characters of sortable base32.
pub fn tid(time_us: i64, clock_id: u64) -> String {
    let value = ((time_us as u64) << 10 | (clock_id & 0x3ff)) & 0x7fff_ffff_ffff_ffff;
    (0..13)
        .rev()
        .map(|position| BASE32_SORTABLE[((value >> (position * 5)) & 31) as usize] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tids_sort_by_time_and_have_thirteen_characters() {
        let early = tid(1_718_150_400_000_000, 5);
        let late = tid(1_718_150_400_000_001, 0);
        assert_eq!(early.len(), 13);
        assert!(early < late);
        assert!(early.starts_with('3'), "{early}");
    }

    #[test]
    fn handles_are_unique_within_a_pool() {
        let mut rng = Rng::new(1, 1);
        let world = World::new(&mut rng, 100_000, 0);
        for pool in [&world.twitter, &world.mastodon, &world.bluesky] {
            let mut handles: Vec<&str> = pool
                .accounts
                .iter()
                .map(|account| account.handle.as_str())
                .collect();
            handles.sort_unstable();
            let before = handles.len();
            handles.dedup();
            assert_eq!(before, handles.len());
        }
        assert!(
            world
                .twitter
                .accounts
                .iter()
                .all(|account| account.handle.len() <= 15)
        );
    }
}
