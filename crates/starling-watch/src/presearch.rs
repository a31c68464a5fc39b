//! The presearcher: the features a post has, the anchors a query needs, and how rare each is.
//!
//! A feature is a short string: a kind character, then a value —
//! `w` a word (normalized as the analyzer does), `#` a hashtag, `@` a mentioned handle, `f` the
//! author (handle, id, or the handle's local part), `l` the declared and the detected
//! language (and each shorter form: `zh-hant-tw` has `zh-hant` and `zh`), `s` the sentiment,
//! `P` the platform, `h` `has:`, `i` `is:`, `d` a linked domain (and each parent domain), `c`
//! the platform's and the resolved country. `*` marks a word prefix, looked up against each
//! prefix of each word.
//!
//! The rule every anchor obeys, and the property test checks: if a query matches a post, the
//! post has at least one of the query's anchors.

use std::collections::HashMap;

use starling_query::{Document, Has, Is, Query};

/// The kind character of a word-prefix anchor.
pub(crate) const PREFIX: char = '*';

/// What a query is anchored on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Anchors {
    /// Any of these features (none at all: the query can never match).
    Any(Vec<String>),
    /// No feature is necessary: check the query on every post.
    Always,
}

/// How a query is matched: its anchors, and what is left to check once a post has one.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub anchors: Anchors,
    /// `None`: having an anchor is matching (`#a OR @b OR tehran`). Otherwise the query, or,
    /// when the part of an `AND` that anchors it is matched by having an anchor, the other
    /// parts (`(a OR b) lang:fa` anchored on `a`, `b` leaves `lang:fa`).
    pub check: Option<Query>,
}

/// How often features occur, counted over sample posts, so that a watch requiring several
/// things is anchored on the rarest.
#[derive(Debug, Clone, Default)]
pub struct FeatureStats {
    documents: u64,
    counts: HashMap<Box<str>, u32>,
}

impl FeatureStats {
    /// Counts the features of one sample post (each once).
    pub fn add(&mut self, document: &Document<'_>) {
        self.documents += 1;
        let mut seen: Vec<String> = Vec::new();
        for_each_feature(document, |feature| seen.push(feature.to_owned()));
        seen.sort_unstable();
        seen.dedup();
        for feature in seen {
            *self.counts.entry(feature.into_boxed_str()).or_insert(0) += 1;
        }
    }

    /// How many sample posts were counted.
    pub fn documents(&self) -> u64 {
        self.documents
    }

    /// The estimated share of posts having `feature`.
    pub(crate) fn frequency(&self, feature: &str) -> f64 {
        // With too few samples, rules of thumb say more than counts.
        if self.documents >= 100 && !feature.starts_with(PREFIX) {
            let count = self.counts.get(feature).copied().unwrap_or(0);
            // Unseen is rare, not impossible.
            return (f64::from(count) + 0.5) / self.documents as f64;
        }
        let mut characters = feature.chars();
        let kind = characters.next().unwrap_or(' ');
        let value = characters.as_str();
        match kind {
            'l' | 'P' | 'h' | 'i' | 's' => 0.3,
            'c' => 0.05,
            'd' => 0.01,
            '#' => 0.005,
            '@' => 0.002,
            'f' => 0.0005,
            'w' if value.chars().count() <= 3 => 0.05,
            'w' => 0.01,
            PREFIX => 0.1 / (value.chars().count().max(1) as f64),
            _ => 0.1,
        }
    }

    fn cost(&self, features: &[String]) -> f64 {
        features.iter().map(|feature| self.frequency(feature)).sum()
    }
}

/// Calls `each` with every feature `document` has (a feature may come more than once).
pub(crate) fn for_each_feature(document: &Document<'_>, mut each: impl FnMut(&str)) {
    let post = document.post;
    let mut key = String::with_capacity(64);
    let mut emit = |kind: char, value: &str, key: &mut String| {
        key.clear();
        key.push(kind);
        key.push_str(value);
        each(key);
    };
    for token in &document.tokens {
        emit('w', &token.text, &mut key);
    }
    for tag in &document.hashtags {
        emit('#', tag, &mut key);
    }
    for handle in &document.mentions {
        emit('@', handle, &mut key);
    }
    let handle = post.author.handle.to_lowercase();
    emit('f', &handle, &mut key);
    if let Some((local, _)) = handle.split_once('@') {
        emit('f', local, &mut key);
    }
    emit('f', &post.author.id.to_lowercase(), &mut key);
    for lang in post.languages() {
        emit('l', &lang, &mut key);
        for (at, _) in lang.match_indices('-') {
            emit('l', &lang[..at], &mut key);
        }
    }
    if let Some(sentiment) = post.sentiment() {
        emit('s', sentiment, &mut key);
    }
    emit('P', post.platform.as_str(), &mut key);
    if !post.entities.urls.is_empty() {
        emit('h', "links", &mut key);
    }
    if !post.media.is_empty() {
        emit('h', "media", &mut key);
    }
    if post
        .geo
        .as_ref()
        .is_some_and(|geo| geo.point.is_some() || geo.place.is_some())
    {
        emit('h', "geo", &mut key);
    }
    for (present, name) in [
        (post.reply_to.is_some(), "reply"),
        (post.share_of.is_some(), "share"),
        (post.quote_of.is_some(), "quote"),
    ] {
        if present {
            emit('i', name, &mut key);
        }
    }
    for url in &document.urls {
        if let Some(host) = starling_text::url_host(url) {
            let host = host.trim_start_matches("www.");
            emit('d', host, &mut key);
            for (at, _) in host.match_indices('.') {
                emit('d', &host[at + 1..], &mut key);
            }
        }
    }
    for country in post.countries() {
        emit('c', &country, &mut key);
    }
}

fn feature(kind: char, value: &str) -> String {
    let mut key = String::with_capacity(value.len() + 1);
    key.push(kind);
    key.push_str(value);
    key
}

/// The anchors of `query`: features at least one of which every post it matches has.
#[cfg(test)]
pub(crate) fn anchors_of(query: &Query, stats: &FeatureStats) -> Anchors {
    plan(query, stats).anchors
}

/// How to match `query`.
pub(crate) fn plan(query: &Query, stats: &FeatureStats) -> Plan {
    let Some(mut features) = necessary(query, stats) else {
        return Plan {
            anchors: Anchors::Always,
            check: Some(query.clone()),
        };
    };
    features.sort_unstable();
    features.dedup();
    let check = if sufficient(query) {
        None
    } else if let Query::And(parts) = query
        && let Some((chosen, _)) = cheapest_part(parts, stats)
        && sufficient(&parts[chosen])
    {
        let mut rest: Vec<Query> = parts
            .iter()
            .enumerate()
            .filter(|(index, _)| *index != chosen)
            .map(|(_, part)| part.clone())
            .collect();
        match rest.len() {
            0 => None,
            1 => rest.pop(),
            _ => Some(Query::And(rest)),
        }
    } else {
        Some(query.clone())
    };
    Plan {
        anchors: Anchors::Any(features),
        check,
    }
}

/// The part of an `AND` whose anchors are cheapest, and those anchors.
fn cheapest_part(parts: &[Query], stats: &FeatureStats) -> Option<(usize, Vec<String>)> {
    parts
        .iter()
        .enumerate()
        .filter_map(|(index, part)| necessary(part, stats).map(|features| (index, features)))
        .min_by(|a, b| stats.cost(&a.1).total_cmp(&stats.cost(&b.1)))
}

/// Whether having any of the query's anchors is matching it: a feature whose presence is
/// exactly what the query asks (a word, a prefix, a tag, a handle, an author, a language, a
/// platform, `has:`, `is:`, a domain, a country), or a disjunction of such.
fn sufficient(query: &Query) -> bool {
    match query {
        Query::Term(_)
        | Query::Prefix(_)
        | Query::Hashtag(_)
        | Query::Mention(_)
        | Query::From(_)
        | Query::Lang(_)
        | Query::Sentiment(_)
        | Query::Platform(_)
        | Query::Has(_)
        | Query::Is(_)
        | Query::Domain(_)
        | Query::Country(_) => true,
        Query::Or(parts) => parts.iter().all(sufficient),
        Query::And(parts) => parts.len() == 1 && parts.iter().all(sufficient),
        _ => false,
    }
}

/// A disjunction of features necessary for `query` to match; `None` when there is none.
fn necessary(query: &Query, stats: &FeatureStats) -> Option<Vec<String>> {
    let rarest_word = |words: &mut dyn Iterator<Item = &String>| -> Vec<String> {
        // No words: the phrase or proximity can never match, and needs no anchor.
        words
            .map(|word| feature('w', word))
            .min_by(|a, b| stats.frequency(a).total_cmp(&stats.frequency(b)))
            .into_iter()
            .collect()
    };
    Some(match query {
        Query::Term(word) => vec![feature('w', word)],
        Query::Prefix(stem) => vec![feature(PREFIX, stem)],
        Query::Phrase(words) => rarest_word(&mut words.iter()),
        Query::Near { operands, .. } => {
            if operands.iter().any(Vec::is_empty) {
                Vec::new()
            } else {
                rarest_word(&mut operands.iter().flatten())
            }
        }
        Query::Hashtag(tag) => vec![feature('#', tag)],
        Query::Mention(handle) => vec![feature('@', handle)],
        Query::From(user) => vec![feature('f', user)],
        Query::Lang(code) => vec![feature('l', code)],
        Query::Sentiment(label) => vec![feature('s', label)],
        Query::Platform(platform) => vec![feature('P', platform.as_str())],
        Query::Has(has) => vec![feature(
            'h',
            match has {
                Has::Links => "links",
                Has::Media => "media",
                Has::Geo => "geo",
            },
        )],
        Query::Is(is) => vec![feature(
            'i',
            match is {
                Is::Reply => "reply",
                Is::Share => "share",
                Is::Quote => "quote",
            },
        )],
        // A link containing the text needs a link.
        Query::Url(_) => vec![feature('h', "links")],
        Query::Domain(domain) => vec![feature('d', domain)],
        Query::Country(code) => vec![feature('c', &code.to_ascii_uppercase())],
        // A point within a radius needs a point.
        Query::Geo { .. } => vec![feature('h', "geo")],
        Query::Since(_) | Query::Until(_) | Query::Not(_) => return None,
        Query::And(parts) => cheapest_part(parts, stats)?.1,
        Query::Or(parts) => {
            let mut all = Vec::new();
            for part in parts {
                all.extend(necessary(part, stats)?);
            }
            all
        }
    })
}
