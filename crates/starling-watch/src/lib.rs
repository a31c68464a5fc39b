//! Watches: standing queries, matched against every post as it arrives.
//!
//! A [`Matcher`] holds the watches, compiled. It never tests every watch against every post:
//! each watch is reduced to a few *anchors*, features at least one of which any post it
//! matches must have (a word, a hashtag, a mention, an author, a language, a domain…), and
//! the anchors are indexed. For a post, the matcher looks up the post's own features, gathers
//! the watches anchored on them (the candidates), and checks only those, exactly, with the
//! query language's reference evaluator ([`starling_query::Query::matches`]): the same
//! semantics as search, phrases, `NEAR` and wildcards included. Watches no anchor can stand
//! for (`-spam` alone, `since:-1h`) are checked on every post, and counted
//! ([`Matcher::unanchored`]).
//!
//! Where a watch requires several things (`AND`), it is anchored on the rarest: rarity comes
//! from [`FeatureStats`] counted over sample posts when the caller has some, and from
//! rules of thumb otherwise (a language or platform is common, an author rare). Adding or
//! removing one watch touches only its own anchors.
//!
//! ```
//! use starling_watch::{Matcher, WatchDef};
//! # let post: starling_model::Post = serde_json::from_str(r#"{"platform":"twitter","id":"1","key":"twitter:1","author":{"id":"9","handle":"reporter"},"created_at":"2026-06-12T18:00:00Z","collected_at":"2026-06-12T18:00:01Z","text":"Crowds in Azadi Square tonight","declared_lang":"en","provenance":{"source":{"kind":"generated","name":"doc"},"format":"test"},"raw":""}"#).unwrap();
//! let mut matcher = Matcher::default();
//! matcher.insert(&WatchDef::new("azadi", r#""azadi square" -rumour"#)).unwrap();
//! matcher.insert(&WatchDef::new("karaj", "karaj lang:fa")).unwrap();
//! let now = "2026-06-13T00:00:00Z".parse().unwrap();
//! let found = matcher.match_post(&post, now);
//! assert_eq!(found.names(&matcher), ["azadi"]);
//! ```

mod presearch;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use starling_model::{Post, Timestamp};
use starling_query::{Document, ParseError, Query};

pub use presearch::FeatureStats;
use presearch::{Anchors, Plan, for_each_feature, plan};

/// A watch as an analyst defines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchDef {
    /// Its name, unique.
    pub name: String,
    /// The query, in the query language (`docs/query-language.md`).
    pub query: String,
    /// Who keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Labels to group watches by.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Whether it is matched; an inactive watch is kept but not matched.
    #[serde(default = "active")]
    pub active: bool,
}

fn active() -> bool {
    true
}

impl WatchDef {
    /// An active watch with no owner or tags.
    pub fn new(name: &str, query: &str) -> WatchDef {
        WatchDef {
            name: name.to_owned(),
            query: query.to_owned(),
            owner: None,
            tags: Vec::new(),
            active: true,
        }
    }

    /// Checks the name and parses the query.
    pub fn compile(&self) -> Result<Query, WatchError> {
        check_name(&self.name)?;
        starling_query::parse(&self.query).map_err(|error| WatchError::Query {
            name: self.name.clone(),
            error,
        })
    }
}

/// Why a watch was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WatchError {
    /// The name is empty, too long, or holds control characters.
    #[error("watch name {0:?}: names are 1 to 200 characters, without control characters")]
    Name(String),
    /// The query does not parse.
    #[error("watch {name:?}: {error}")]
    Query {
        /// The watch.
        name: String,
        /// Where and why.
        error: ParseError,
    },
}

fn check_name(name: &str) -> Result<(), WatchError> {
    let length = name.chars().count();
    if length == 0 || length > 200 || name.chars().any(char::is_control) {
        return Err(WatchError::Name(name.to_owned()));
    }
    Ok(())
}

/// A watch's place in a [`Matcher`]; reused after the watch is removed.
pub type WatchId = u32;

#[derive(Debug)]
struct Entry {
    name: String,
    query: Query,
    plan: Plan,
}

/// The watches, compiled for matching.
#[derive(Debug, Default)]
pub struct Matcher {
    entries: Vec<Option<Entry>>,
    free: Vec<WatchId>,
    by_name: HashMap<String, WatchId>,
    /// Watches by the features they are anchored on.
    anchored: HashMap<Box<str>, Vec<WatchId>>,
    /// Watches by word prefix (`tehr*`), and the range of prefix lengths in bytes.
    prefixes: HashMap<Box<str>, Vec<WatchId>>,
    prefix_lengths: (usize, usize),
    /// Watches checked on every post.
    unanchored: Vec<WatchId>,
    stats: FeatureStats,
}

/// What matching one post found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matches {
    /// The watches the post matches, in id order.
    pub watches: Vec<WatchId>,
    /// How many watches the post's features pointed to (all of them, for brute force).
    pub candidates: usize,
    /// How many of those were checked with the reference evaluator (the others matched by
    /// their anchors alone).
    pub checked: usize,
}

impl Matches {
    /// The names of the matching watches.
    pub fn names<'m>(&self, matcher: &'m Matcher) -> Vec<&'m str> {
        self.watches
            .iter()
            .filter_map(|id| matcher.name(*id))
            .collect()
    }
}

impl Matcher {
    /// An empty matcher that judges rarity by `stats` (see [`FeatureStats`]).
    pub fn with_stats(stats: FeatureStats) -> Matcher {
        Matcher {
            stats,
            ..Matcher::default()
        }
    }

    /// How many watches it holds.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// How many watches have no anchor and are checked on every post.
    pub fn unanchored(&self) -> usize {
        self.unanchored.len()
    }

    /// The name of watch `id`.
    pub fn name(&self, id: WatchId) -> Option<&str> {
        self.entries
            .get(id as usize)?
            .as_ref()
            .map(|entry| entry.name.as_str())
    }

    /// The id of the watch called `name`.
    pub fn id(&self, name: &str) -> Option<WatchId> {
        self.by_name.get(name).copied()
    }

    /// Adds `watch` (replacing one of the same name); an inactive watch is removed instead.
    pub fn insert(&mut self, watch: &WatchDef) -> Result<Option<WatchId>, WatchError> {
        let query = watch.compile()?;
        self.remove(&watch.name);
        if !watch.active {
            return Ok(None);
        }
        Ok(Some(self.insert_query(&watch.name, query)))
    }

    /// Adds a parsed query under `name` (replacing one of the same name).
    pub fn insert_query(&mut self, name: &str, query: Query) -> WatchId {
        self.remove(name);
        let plan = plan(&query, &self.stats);
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.entries.push(None);
                (self.entries.len() - 1) as WatchId
            }
        };
        match &plan.anchors {
            Anchors::Always => self.unanchored.push(id),
            Anchors::Any(features) => {
                for feature in features {
                    if let Some(prefix) = feature.strip_prefix(presearch::PREFIX) {
                        let (shortest, longest) = self.prefix_lengths;
                        self.prefix_lengths = if self.prefixes.is_empty() {
                            (prefix.len(), prefix.len())
                        } else {
                            (shortest.min(prefix.len()), longest.max(prefix.len()))
                        };
                        self.prefixes.entry(prefix.into()).or_default().push(id);
                    } else {
                        self.anchored
                            .entry(feature.as_str().into())
                            .or_default()
                            .push(id);
                    }
                }
            }
        }
        self.entries[id as usize] = Some(Entry {
            name: name.to_owned(),
            query,
            plan,
        });
        self.by_name.insert(name.to_owned(), id);
        id
    }

    /// Removes the watch called `name`; whether there was one. Touches only its anchors.
    pub fn remove(&mut self, name: &str) -> bool {
        let Some(id) = self.by_name.remove(name) else {
            return false;
        };
        let Some(entry) = self.entries.get_mut(id as usize).and_then(Option::take) else {
            return false;
        };
        let unlist = |list: &mut Vec<WatchId>| {
            if let Some(at) = list.iter().position(|found| *found == id) {
                list.swap_remove(at);
            }
        };
        match &entry.plan.anchors {
            Anchors::Always => unlist(&mut self.unanchored),
            Anchors::Any(features) => {
                for feature in features {
                    let (map, key) = match feature.strip_prefix(presearch::PREFIX) {
                        Some(prefix) => (&mut self.prefixes, prefix),
                        None => (&mut self.anchored, feature.as_str()),
                    };
                    if let Some(list) = map.get_mut(key) {
                        unlist(list);
                        if list.is_empty() {
                            map.remove(key);
                        }
                    }
                }
            }
        }
        self.free.push(id);
        true
    }

    /// The watches `post` matches, with relative times (`since:-1h`) counted back from `now`.
    pub fn match_post(&self, post: &Post, now: Timestamp) -> Matches {
        self.match_document(&Document::new(post), now)
    }

    /// The watches an analyzed post matches.
    pub fn match_document(&self, document: &Document<'_>, now: Timestamp) -> Matches {
        let mut candidates: Vec<WatchId> = self.unanchored.clone();
        for_each_feature(document, |feature| {
            if let Some(found) = self.anchored.get(feature) {
                candidates.extend_from_slice(found);
            }
        });
        if !self.prefixes.is_empty() {
            let (shortest, longest) = self.prefix_lengths;
            for token in &document.tokens {
                let text = token.text.as_str();
                for end in shortest..=longest.min(text.len()) {
                    if text.is_char_boundary(end)
                        && let Some(found) = self.prefixes.get(&text[..end])
                    {
                        candidates.extend_from_slice(found);
                    }
                }
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        let found = candidates.len();
        let mut checked = 0;
        candidates.retain(|id| {
            self.entries
                .get(*id as usize)
                .and_then(Option::as_ref)
                .is_some_and(|entry| match &entry.plan.check {
                    None => true,
                    Some(check) => {
                        checked += 1;
                        check.matches(document, now)
                    }
                })
        });
        Matches {
            watches: candidates,
            candidates: found,
            checked,
        }
    }

    /// The same answer found the slow way, every watch checked: the reference the matcher
    /// is tested and measured against.
    pub fn match_every_watch(&self, document: &Document<'_>, now: Timestamp) -> Matches {
        let mut watches = Vec::new();
        let mut checked = 0;
        for (id, entry) in self.entries.iter().enumerate() {
            if let Some(entry) = entry {
                checked += 1;
                if entry.query.matches(document, now) {
                    watches.push(id as WatchId);
                }
            }
        }
        Matches {
            watches,
            candidates: checked,
            checked,
        }
    }
}

#[cfg(test)]
mod tests;
