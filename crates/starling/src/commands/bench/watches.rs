//! `starling bench watches`: the watch matcher against checking every watch, at several
//! numbers of watches shaped as analysts write them.

use std::collections::HashMap;
use std::io::Write;
use std::time::Instant;

use serde::Serialize;
use starling_formats::{Context, decode};
use starling_model::{Post, Source};
use starling_query::Document;
use starling_simulate::{Config, Generator};
use starling_watch::{FeatureStats, Matcher, WatchDef};

use crate::terminal;

/// Flags of `starling bench watches`.
#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// How many watches, comma-separated: one measurement each.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1000,10000,100000,250000"
    )]
    watches: Vec<usize>,
    /// Generated posts to match (after 2,000 more that serve as the sample the watches'
    /// words are drawn from and rarity is counted on).
    #[arg(long, default_value_t = 50_000)]
    posts: u64,
    /// Seconds to spend checking every watch, for the brute-force figure.
    #[arg(long, default_value_t = 3.0)]
    brute_seconds: f64,
    /// One JSON object per number of watches.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct WatchFigure {
    watches: usize,
    posts: usize,
    posts_per_sec_per_core: f64,
    brute_force_posts: usize,
    brute_force_posts_per_sec_per_core: f64,
    speedup: f64,
    candidates_per_post: f64,
    matches_per_post: f64,
    unanchored: usize,
    build_secs: f64,
    /// Adding then removing one watch, the slowest of 1,000 tries, in microseconds.
    update_max_micros: f64,
    rss_bytes: u64,
}

const SAMPLE: usize = 2_000;

pub fn run(args: WatchArgs, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let posts = generated_posts(args.posts + SAMPLE as u64)?;
    anyhow::ensure!(posts.len() > SAMPLE, "too few posts generated");
    let (sample, posts) = posts.split_at(SAMPLE);
    let mut stats = FeatureStats::default();
    let mut vocabulary = Vocabulary::default();
    for post in sample {
        let document = Document::new(post);
        stats.add(&document);
        vocabulary.add(&document);
    }
    vocabulary.finish(sample.len());
    let now = posts
        .iter()
        .map(|post| post.created_at)
        .max()
        .unwrap_or_default();
    let mut shapes = Shapes::new(vocabulary);
    for &count in &args.watches {
        let rss_before = current_rss();
        let definitions: Vec<WatchDef> = (0..count)
            .map(|index| WatchDef::new(&format!("w{index}"), &shapes.next()))
            .collect();
        let started = Instant::now();
        let mut matcher = Matcher::with_stats(stats.clone());
        for watch in &definitions {
            matcher.insert(watch)?;
        }
        let build_secs = started.elapsed().as_secs_f64();
        let rss_bytes = current_rss().saturating_sub(rss_before);

        let started = Instant::now();
        let (mut candidates, mut matches) = (0usize, 0usize);
        for post in posts {
            let found = matcher.match_post(post, now);
            candidates += found.candidates;
            matches += found.watches.len();
        }
        let seconds = started.elapsed().as_secs_f64();

        // Brute force on as many posts as fit in the time allowed, checking they agree.
        let started = Instant::now();
        let mut brute_posts = 0;
        for post in posts {
            let document = Document::new(post);
            let slow = matcher.match_every_watch(&document, now);
            anyhow::ensure!(
                slow.watches == matcher.match_document(&document, now).watches,
                "the matcher and brute force disagree on {}",
                post.key
            );
            brute_posts += 1;
            if started.elapsed().as_secs_f64() >= args.brute_seconds {
                break;
            }
        }
        // The matcher's own time on those posts is inside; take it out.
        let brute_seconds = (started.elapsed().as_secs_f64()
            - seconds * brute_posts as f64 / posts.len() as f64)
            .max(1e-9);

        let mut update_max: f64 = 0.0;
        for index in 0..1_000 {
            let watch = WatchDef::new(&format!("extra{index}"), &shapes.next());
            let started = Instant::now();
            matcher.insert(&watch)?;
            matcher.remove(&watch.name);
            update_max = update_max.max(started.elapsed().as_secs_f64() * 1e6);
        }

        let posts_per_sec = posts.len() as f64 / seconds.max(1e-9);
        let brute_per_sec = brute_posts as f64 / brute_seconds;
        let figure = WatchFigure {
            watches: count,
            posts: posts.len(),
            posts_per_sec_per_core: posts_per_sec,
            brute_force_posts: brute_posts,
            brute_force_posts_per_sec_per_core: brute_per_sec,
            speedup: posts_per_sec / brute_per_sec,
            candidates_per_post: candidates as f64 / posts.len() as f64,
            matches_per_post: matches as f64 / posts.len() as f64,
            unanchored: matcher.unanchored(),
            build_secs,
            update_max_micros: update_max,
            rss_bytes,
        };
        if args.json {
            crate::terminal::json_line(stdout, &figure)?;
        } else {
            writeln!(
                stdout,
                "{:>8} watches: {:>9} posts/s per core (brute force {:>8.1}, {:>8.0}x); {:.1} candidates and {:.2} matches per post; built in {:.2} s; {:.0} MiB; add+remove ≤ {:.0} µs; {} unanchored",
                terminal::count(count as u64),
                terminal::count(posts_per_sec as u64),
                brute_per_sec,
                figure.speedup,
                figure.candidates_per_post,
                figure.matches_per_post,
                build_secs,
                rss_bytes as f64 / f64::from(1 << 20),
                update_max,
                figure.unanchored
            )?;
        }
    }
    Ok(())
}

/// The posts of a generated scenario, decoded, in the generator's order.
fn generated_posts(count: u64) -> anyhow::Result<Vec<Post>> {
    let generator = Generator::new(Config {
        posts: count,
        ..Config::default()
    })
    .map_err(|error| anyhow::anyhow!("cannot generate: {error}"))?;
    let source = Source::Generated("bench".into());
    let context = Context::new(&source, chrono::DateTime::UNIX_EPOCH);
    let mut posts = Vec::new();
    for output in generator {
        posts.extend(decode(output.format, &output.bytes, &context).posts);
    }
    Ok(posts)
}

/// What watches are written with: the sample posts' words, hashtags, handles and languages
/// (common), and made-up names (rare: people, places and groups no post mentions yet).
#[derive(Default)]
struct Vocabulary {
    words: Vec<String>,
    counts: HashMap<String, u32>,
    hashtags: Vec<String>,
    handles: Vec<String>,
    languages: Vec<String>,
}

impl Vocabulary {
    fn add(&mut self, document: &Document<'_>) {
        for token in &document.tokens {
            if token.text.chars().count() >= 3 {
                *self.counts.entry(token.text.clone()).or_insert(0) += 1;
            }
        }
        self.hashtags.extend(document.hashtags.iter().cloned());
        self.handles
            .push(document.post.author.handle.to_lowercase());
        if let Some(lang) = &document.post.declared_lang {
            self.languages.push(lang.to_lowercase());
        }
    }

    /// Keeps the words found in at most 1% of the sample posts: what an analyst watches for
    /// appears now and then, not in every other post. (The generator's vocabulary is far
    /// smaller than a real stream's, so its frequent words are far more frequent.)
    fn finish(&mut self, posts: usize) {
        let most = (posts / 100).max(1) as u32;
        let mut words: Vec<(String, u32)> = self
            .counts
            .drain()
            .filter(|(_, count)| *count <= most)
            .collect();
        words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        self.words = words.into_iter().map(|(word, _)| word).collect();
        for list in [&mut self.hashtags, &mut self.handles, &mut self.languages] {
            list.sort();
            list.dedup();
        }
    }
}

/// Watches in the shapes analysts write, drawn deterministically.
struct Shapes {
    vocabulary: Vocabulary,
    state: u64,
}

const LATIN: &[&str] = &[
    "ka", "ro", "mi", "sa", "vi", "na", "del", "tor", "ban", "ez", "ul", "har", "gol", "zan",
    "pur", "shi", "ra", "bad", "an", "mous",
];
const PERSIAN: &[&str] = &[
    "کا", "رو", "می", "سا", "وی", "نا", "دل", "تور", "بان", "گل", "زن", "پور", "شی", "را", "باد",
    "مو", "سوی", "یان", "خان", "نژاد",
];

impl Shapes {
    fn new(vocabulary: Vocabulary) -> Shapes {
        Shapes {
            vocabulary,
            state: 0x2009_0613,
        }
    }

    fn next_u64(&mut self) -> u64 {
        // xorshift64*: enough for picking words.
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound.max(1) as u64) as usize
    }

    fn pick<'a>(&mut self, list: &'a [String]) -> &'a str {
        list.get(self.below(list.len()))
            .map_or("starling", String::as_str)
    }

    /// A made-up name: two or three syllables, Latin or Persian.
    fn name(&mut self) -> String {
        let syllables = if self.below(2) == 0 { LATIN } else { PERSIAN };
        let count = 2 + self.below(2);
        (0..count)
            .map(|_| syllables[self.below(syllables.len())])
            .collect()
    }

    /// A word people post (see [`Vocabulary::finish`]).
    fn common(&mut self) -> String {
        let len = self.vocabulary.words.len();
        let at = self.below(len);
        self.vocabulary
            .words
            .get(at)
            .cloned()
            .unwrap_or_else(|| "starling".into())
    }

    /// A watched word: usually a name, sometimes a word people post.
    fn term(&mut self) -> String {
        if self.below(10) < 8 {
            self.name()
        } else {
            self.common()
        }
    }

    fn filter(&mut self) -> String {
        match self.below(4) {
            0 => format!("lang:{}", self.pick_language()),
            1 => ["platform:twitter", "platform:mastodon", "platform:bluesky"][self.below(3)]
                .to_owned(),
            2 => "has:links".to_owned(),
            _ => "-is:share".to_owned(),
        }
    }

    fn pick_language(&mut self) -> String {
        let languages = std::mem::take(&mut self.vocabulary.languages);
        let language = self.pick(&languages).to_owned();
        self.vocabulary.languages = languages;
        language
    }

    fn next(&mut self) -> String {
        match self.below(20) {
            // 2 to 6 words that must all appear.
            0..=5 => {
                let count = 2 + self.below(5);
                let mut words = vec![self.name()];
                words.extend((1..count).map(|_| self.term()));
                words.join(" ")
            }
            // An OR-list of 10 to 50 keywords in several languages, maybe with a filter.
            6..=9 => {
                let count = 10 + self.below(41);
                let list: Vec<String> = (0..count).map(|_| self.term()).collect();
                let filter = if self.below(2) == 0 {
                    format!(" {}", self.filter())
                } else {
                    String::new()
                };
                format!("({}){filter}", list.join(" OR "))
            }
            // A phrase, maybe with a word.
            10..=12 => {
                let phrase = format!("\"{} {}\"", self.name(), self.common());
                if self.below(2) == 0 {
                    format!("{phrase} {}", self.term())
                } else {
                    phrase
                }
            }
            // Keywords with exclusions.
            13..=15 => {
                let list: Vec<String> = (0..3 + self.below(5)).map(|_| self.term()).collect();
                let handles = std::mem::take(&mut self.vocabulary.handles);
                let handle = self.pick(&handles).to_owned();
                self.vocabulary.handles = handles;
                format!("({}) -{} -from:{handle}", list.join(" OR "), self.common())
            }
            // Field filters: an account, a hashtag, a mention, a domain, with words or a language.
            _ => match self.below(4) {
                0 => format!("from:{} {}", self.name(), self.filter()),
                1 => {
                    let tags = std::mem::take(&mut self.vocabulary.hashtags);
                    let tag = if self.below(4) == 0 {
                        self.pick(&tags).to_owned()
                    } else {
                        self.name()
                    };
                    self.vocabulary.hashtags = tags;
                    format!("#{tag} {}", self.filter())
                }
                2 => format!("@{} ({} OR {})", self.name(), self.term(), self.term()),
                _ => format!(
                    "domain:{}.example lang:{}",
                    self.name(),
                    self.pick_language()
                ),
            },
        }
    }
}

/// The process's resident memory now.
pub fn current_rss() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}
