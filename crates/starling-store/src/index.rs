//! The full-text index (tantivy) beside the archive: candidates for a query, fast; the
//! archive's posts and the reference evaluator make the answer exact.
//!
//! Words are indexed with `starling_text::analyze_parts`, the analysis the query language's
//! reference evaluator uses, so a term means the same in both. Constructs the index answers
//! exactly (words, phrases, fields, times) need nothing more; `NEAR` and `geo:` are answered
//! with a superset (all the words; a bounding box) and each candidate is then checked against
//! the archived post with `Query::matches`.

use std::ops::Bound;
use std::path::{Path, PathBuf};

use starling_model::{Post, Timestamp};
use starling_query::{Has, Is, Query as StarlingQuery, searchable_text};
use starling_text::{analyze_parts, normalize_word};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, EmptyQuery, Occur, PhraseQuery, Query, RangeQuery, RegexQuery,
    TermQuery,
};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TantivyDocument,
    TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{Token as TantivyToken, TokenStream, Tokenizer};
use tantivy::{
    DocAddress, Index as TantivyIndex, IndexReader, IndexWriter, Order, ReloadPolicy, Term,
};

use crate::StoreError;

/// The folder of the index inside the data folder.
pub const INDEX_FOLDER: &str = "index";
const TOKENIZER: &str = "starling";

/// The index's fields.
#[derive(Debug, Clone, Copy)]
struct Fields {
    key: Field,
    text: Field,
    platform: Field,
    author: Field,
    lang: Field,
    hashtag: Field,
    mention: Field,
    domain: Field,
    url: Field,
    has: Field,
    is: Field,
    country: Field,
    sentiment: Field,
    created: Field,
    lat: Field,
    lon: Field,
    facet_author: Field,
    facet_lang: Field,
    facet_host: Field,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text_options = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        key: builder.add_text_field("key", STRING | STORED),
        text: builder.add_text_field("text", text_options),
        platform: builder.add_text_field("platform", STRING | FAST),
        author: builder.add_text_field("author", STRING),
        lang: builder.add_text_field("lang", STRING),
        hashtag: builder.add_text_field("hashtag", STRING | FAST),
        mention: builder.add_text_field("mention", STRING),
        domain: builder.add_text_field("domain", STRING),
        url: builder.add_text_field("url", STRING),
        has: builder.add_text_field("has", STRING),
        is: builder.add_text_field("is", STRING),
        country: builder.add_text_field("country", STRING | FAST),
        sentiment: builder.add_text_field("sentiment", STRING | FAST),
        created: builder.add_i64_field("created", INDEXED | FAST | STORED),
        lat: builder.add_f64_field("lat", INDEXED | FAST),
        lon: builder.add_f64_field("lon", INDEXED | FAST),
        // Columns for facets, one value as shown to analysts.
        facet_author: builder.add_text_field("facet_author", FAST),
        facet_lang: builder.add_text_field("facet_lang", FAST),
        facet_host: builder.add_text_field("facet_host", FAST),
    };
    (builder.build(), fields)
}

/// The tokenizer the index registers: Starling's analysis, positions and all.
#[derive(Clone, Default)]
struct StarlingTokenizer {
    tokens: Vec<TantivyToken>,
}

struct StarlingTokens<'a> {
    tokens: &'a [TantivyToken],
    next: usize,
}

impl Tokenizer for StarlingTokenizer {
    type TokenStream<'a> = StarlingTokens<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> StarlingTokens<'a> {
        self.tokens.clear();
        self.tokens
            .extend(analyze_parts(text).into_iter().map(|token| TantivyToken {
                offset_from: 0,
                offset_to: 0,
                position: token.position,
                text: token.text,
                position_length: 1,
            }));
        StarlingTokens {
            tokens: &self.tokens,
            next: 0,
        }
    }
}

impl TokenStream for StarlingTokens<'_> {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &TantivyToken {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut TantivyToken {
        unreachable!("Starling's tokens are not filtered further")
    }
}

/// The search index in a data folder. Clones share the index and its reader: a commit
/// through one is seen by all.
#[derive(Clone)]
pub struct SearchIndex {
    index: TantivyIndex,
    reader: IndexReader,
    fields: Fields,
    path: PathBuf,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "SearchIndex({})", self.path.display())
    }
}

/// Adds posts to the index (one at a time per index: share it behind a lock).
pub struct Indexer {
    index: SearchIndex,
    writer: IndexWriter,
}

impl Indexer {
    /// Adds (or replaces, by key) a post; searchable after [`Indexer::commit`].
    pub fn add(&mut self, post: &Post) -> Result<(), StoreError> {
        self.writer.delete_term(Term::from_field_text(
            self.index.fields.key,
            post.key.as_str(),
        ));
        self.index.add(&self.writer, post)
    }

    /// Adds a post the index cannot hold yet: one the archive has just reported new (the
    /// index is written after the archive, so it never holds what the archive lacks).
    /// Cheaper than [`Indexer::add`], which must first delete any earlier version.
    pub fn add_new(&mut self, post: &Post) -> Result<(), StoreError> {
        self.index.add(&self.writer, post)
    }

    /// Whether the committed index holds a post under `key` (what was added since the
    /// last commit is not seen).
    pub fn contains(&self, key: &str) -> Result<bool, StoreError> {
        let term = Term::from_field_text(self.index.fields.key, key);
        self.index
            .reader
            .searcher()
            .doc_freq(&term)
            .map(|count| count > 0)
            .map_err(|error| failure(&self.index.path, error))
    }

    /// Commits, then waits for the index's background merges to end (for a caller about
    /// to measure searches, or to exit).
    pub fn finish(mut self) -> Result<(), StoreError> {
        self.commit()?;
        let path = self.index.path.clone();
        self.writer
            .wait_merging_threads()
            .map_err(|error| failure(&path, error))
    }

    /// Makes everything added durable and searchable.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        let path = &self.index.path;
        self.writer.commit().map_err(|error| failure(path, error))?;
        self.index
            .reader
            .reload()
            .map_err(|error| failure(path, error))
    }
}

/// How to order results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    /// Newest first.
    Time,
    /// Oldest first (a replay).
    Oldest,
    /// Best match first (BM25).
    Relevance,
}

/// Keys of matching posts, and whether they still need the exact check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidates {
    /// Matching posts' keys, in the order asked for.
    pub keys: Vec<String>,
    /// How many posts the index matched in all.
    pub total: usize,
    /// True when the index's answer is a superset that `Query::matches` must narrow.
    pub needs_check: bool,
}

fn failure(path: &Path, error: impl std::fmt::Display) -> StoreError {
    StoreError::Database {
        path: path.to_owned(),
        message: format!("search index: {error}"),
    }
}

impl SearchIndex {
    /// Opens (creating when needed) the index in `data_dir/index`.
    pub fn open(data_dir: &Path) -> Result<SearchIndex, StoreError> {
        let path = data_dir.join(INDEX_FOLDER);
        std::fs::create_dir_all(&path).map_err(|source| StoreError::Folder {
            path: path.clone(),
            source,
        })?;
        let (schema, fields) = schema();
        let directory = tantivy::directory::MmapDirectory::open(&path)
            .map_err(|error| failure(&path, error))?;
        let index = TantivyIndex::open_or_create(directory, schema).map_err(|error| {
            if matches!(error, tantivy::TantivyError::SchemaError(_)) {
                StoreError::Database {
                    path: path.clone(),
                    message: format!(
                        "this search index was built by an older Starling ({error}); remove the folder {} and import again",
                        path.display()
                    ),
                }
            } else {
                failure(&path, error)
            }
        })?;
        index
            .tokenizers()
            .register(TOKENIZER, StarlingTokenizer::default());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|error| failure(&path, error))?;
        Ok(SearchIndex {
            index,
            reader,
            fields,
            path,
        })
    }

    /// An indexer: one at a time per index.
    pub fn indexer(&self) -> Result<Indexer, StoreError> {
        let writer = self
            .index
            .writer(64 << 20)
            .map_err(|error| failure(&self.path, error))?;
        Ok(Indexer {
            index: self.clone(),
            writer,
        })
    }

    /// Adds `post` to `writer` (visible to searches after [`Indexer::commit`]).
    fn add(&self, writer: &IndexWriter, post: &Post) -> Result<(), StoreError> {
        let fields = self.fields;
        let mut document = TantivyDocument::default();
        document.add_text(fields.key, post.key.as_str());
        document.add_text(fields.text, searchable_text(post));
        document.add_text(fields.platform, post.platform.as_str());
        document.add_text(
            fields.facet_author,
            format!("{}:{}", post.platform, post.author.handle),
        );
        document.add_text(fields.facet_lang, post.language());
        if let Some(sentiment) = post.sentiment() {
            document.add_text(fields.sentiment, sentiment);
        }
        let handle = post.author.handle.to_lowercase();
        if let Some((local, _)) = handle.split_once('@') {
            document.add_text(fields.author, local);
        }
        document.add_text(fields.author, &handle);
        document.add_text(fields.author, post.author.id.to_lowercase());
        for lang in post.languages() {
            for (at, _) in lang.match_indices('-') {
                document.add_text(fields.lang, &lang[..at]);
            }
            document.add_text(fields.lang, &lang);
        }
        for tag in &post.entities.hashtags {
            document.add_text(fields.hashtag, normalize_word(&tag.tag));
        }
        for mention in &post.entities.mentions {
            let handle = mention.handle.to_lowercase();
            if let Some((local, _)) = handle.split_once('@') {
                document.add_text(fields.mention, local);
            }
            document.add_text(fields.mention, &handle);
        }
        for url in &post.entities.urls {
            // The facet counts each link once, by where it leads.
            if let Some(host) = starling_text::url_host(&url.target().to_lowercase()) {
                document.add_text(fields.facet_host, host.trim_start_matches("www."));
            }
            for link in [Some(url.url.as_str()), url.expanded_url.as_deref()]
                .into_iter()
                .flatten()
            {
                let link = link.to_lowercase();
                if let Some(host) = starling_text::url_host(&link) {
                    let host = host.trim_start_matches("www.");
                    // The host and every parent domain: `domain:co.uk` finds `news.bbc.co.uk`.
                    let mut rest = host;
                    loop {
                        document.add_text(fields.domain, rest);
                        match rest.split_once('.') {
                            Some((_, parent)) if !parent.is_empty() => rest = parent,
                            _ => break,
                        }
                    }
                }
                document.add_text(fields.url, &link);
            }
        }
        let mut has = Vec::new();
        if !post.entities.urls.is_empty() {
            has.push("links");
        }
        if !post.media.is_empty() {
            has.push("media");
        }
        if post
            .geo
            .as_ref()
            .is_some_and(|geo| geo.point.is_some() || geo.place.is_some())
        {
            has.push("geo");
        }
        for value in has {
            document.add_text(fields.has, value);
        }
        for (is, present) in [
            ("reply", post.reply_to.is_some()),
            ("share", post.share_of.is_some()),
            ("quote", post.quote_of.is_some()),
        ] {
            if present {
                document.add_text(fields.is, is);
            }
        }
        let mut countries: Vec<String> = post.countries().collect();
        countries.dedup();
        for country in countries {
            document.add_text(fields.country, country);
        }
        document.add_i64(fields.created, post.created_at.timestamp_millis());
        if let Some(point) = post.geo.as_ref().and_then(|geo| geo.point) {
            document.add_f64(fields.lat, point.lat);
            document.add_f64(fields.lon, point.lon);
        }
        writer
            .add_document(document)
            .map_err(|error| failure(&self.path, error))?;
        Ok(())
    }

    /// Posts indexed.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The keys of up to `limit` posts matching `query` (relative times counted back from
    /// `now`), in `sort` order, and how many match in all.
    pub fn search(
        &self,
        query: &StarlingQuery,
        now: Timestamp,
        sort: SortBy,
        limit: usize,
    ) -> Result<Candidates, StoreError> {
        let (compiled, exact) = self.compile(query, now)?;
        let searcher = self.reader.searcher();
        let fail = |error: tantivy::TantivyError| failure(&self.path, error);
        let total = searcher.search(compiled.as_ref(), &Count).map_err(fail)?;
        let limit = limit.max(1);
        let addresses: Vec<DocAddress> = match sort {
            SortBy::Time => searcher
                .search(
                    compiled.as_ref(),
                    &TopDocs::with_limit(limit).order_by_fast_field::<i64>("created", Order::Desc),
                )
                .map_err(fail)?
                .into_iter()
                .map(|(_, address)| address)
                .collect(),
            SortBy::Oldest => searcher
                .search(
                    compiled.as_ref(),
                    &TopDocs::with_limit(limit).order_by_fast_field::<i64>("created", Order::Asc),
                )
                .map_err(fail)?
                .into_iter()
                .map(|(_, address)| address)
                .collect(),
            SortBy::Relevance => searcher
                .search(
                    compiled.as_ref(),
                    &TopDocs::with_limit(limit).order_by_score(),
                )
                .map_err(fail)?
                .into_iter()
                .map(|(_, address)| address)
                .collect(),
        };
        let mut keys = Vec::with_capacity(addresses.len());
        for address in addresses {
            let document: TantivyDocument = searcher.doc(address).map_err(fail)?;
            if let Some(key) = document
                .get_first(self.fields.key)
                .and_then(|value| value.as_str())
            {
                keys.push(key.to_owned());
            }
        }
        Ok(Candidates {
            keys,
            total,
            needs_check: !exact,
        })
    }

    /// A tantivy query for `query`, and whether it answers exactly.
    fn compile(
        &self,
        query: &StarlingQuery,
        now: Timestamp,
    ) -> Result<(Box<dyn Query>, bool), StoreError> {
        let fields = self.fields;
        let term = |field: Field, text: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, text),
                IndexRecordOption::Basic,
            ))
        };
        let words = |field: Field, words: &[String]| -> Box<dyn Query> {
            match words {
                [] => Box::new(EmptyQuery),
                [word] => Box::new(TermQuery::new(
                    Term::from_field_text(field, word),
                    IndexRecordOption::WithFreqs,
                )),
                _ => Box::new(PhraseQuery::new(
                    words
                        .iter()
                        .map(|word| Term::from_field_text(field, word))
                        .collect(),
                )),
            }
        };
        let time = |bound: Bound<i64>, upper: bool| -> Box<dyn Query> {
            let unbounded = Bound::Unbounded;
            let bound = bound.map(|millis| Term::from_field_i64(fields.created, millis));
            if upper {
                Box::new(RangeQuery::new(unbounded, bound))
            } else {
                Box::new(RangeQuery::new(bound, unbounded))
            }
        };
        Ok(match query {
            StarlingQuery::Term(word) => (words(fields.text, std::slice::from_ref(word)), true),
            StarlingQuery::Phrase(phrase) => (words(fields.text, phrase), true),
            StarlingQuery::Prefix(stem) => {
                let pattern = format!("{}.*", regex_escape(stem));
                let regex = RegexQuery::from_pattern(&pattern, fields.text)
                    .map_err(|error| failure(&self.path, error))?;
                (Box::new(regex), true)
            }
            StarlingQuery::Near { operands, .. } => {
                // Every operand present; the distance is checked on the post itself.
                let parts = operands
                    .iter()
                    .map(|operand| (Occur::Must, words(fields.text, operand)))
                    .collect();
                (Box::new(BooleanQuery::new(parts)), false)
            }
            StarlingQuery::Hashtag(tag) => (term(fields.hashtag, tag), true),
            StarlingQuery::Mention(handle) => (term(fields.mention, handle), true),
            StarlingQuery::From(user) => (term(fields.author, user), true),
            StarlingQuery::Lang(code) => (term(fields.lang, code), true),
            StarlingQuery::Platform(platform) => (term(fields.platform, platform.as_str()), true),
            StarlingQuery::Has(has) => {
                let value = match has {
                    Has::Links => "links",
                    Has::Media => "media",
                    Has::Geo => "geo",
                };
                (term(fields.has, value), true)
            }
            StarlingQuery::Is(is) => {
                let value = match is {
                    Is::Reply => "reply",
                    Is::Share => "share",
                    Is::Quote => "quote",
                };
                (term(fields.is, value), true)
            }
            StarlingQuery::Url(part) => {
                let pattern = format!(".*{}.*", regex_escape(part));
                let regex = RegexQuery::from_pattern(&pattern, fields.url)
                    .map_err(|error| failure(&self.path, error))?;
                (Box::new(regex), true)
            }
            StarlingQuery::Domain(domain) => (term(fields.domain, domain), true),
            StarlingQuery::Country(code) => (term(fields.country, code), true),
            StarlingQuery::Sentiment(label) => (term(fields.sentiment, label), true),
            StarlingQuery::Since(bound) => (
                time(
                    Bound::Included(bound.resolve(now).timestamp_millis()),
                    false,
                ),
                true,
            ),
            StarlingQuery::Until(bound) => (
                time(Bound::Excluded(bound.resolve(now).timestamp_millis()), true),
                true,
            ),
            StarlingQuery::Geo {
                lat,
                lon,
                radius_km,
            } => {
                // A box around the circle; the circle itself is checked on the post.
                let lat_span = radius_km / 111.0;
                let lon_span = radius_km / (111.0 * lat.to_radians().cos().abs().max(0.01));
                let range = |field: Field, center: f64, span: f64| -> Box<dyn Query> {
                    Box::new(RangeQuery::new(
                        Bound::Included(Term::from_field_f64(field, center - span)),
                        Bound::Included(Term::from_field_f64(field, center + span)),
                    ))
                };
                let parts = vec![
                    (Occur::Must, range(fields.lat, *lat, lat_span)),
                    (Occur::Must, range(fields.lon, *lon, lon_span)),
                ];
                (Box::new(BooleanQuery::new(parts)), false)
            }
            StarlingQuery::And(parts) | StarlingQuery::Or(parts) => {
                let occur = if matches!(query, StarlingQuery::And(_)) {
                    Occur::Must
                } else {
                    Occur::Should
                };
                let mut exact = true;
                let mut compiled = Vec::with_capacity(parts.len());
                for part in parts {
                    let (part, part_exact) = self.compile(part, now)?;
                    exact &= part_exact;
                    compiled.push((occur, part));
                }
                // A negation alone in an AND needs something to subtract from.
                if occur == Occur::Must
                    && parts
                        .iter()
                        .all(|part| matches!(part, StarlingQuery::Not(_)))
                {
                    compiled.push((Occur::Must, Box::new(AllQuery)));
                }
                (Box::new(BooleanQuery::new(compiled)), exact)
            }
            StarlingQuery::Not(inner) => {
                let (inner, exact) = self.compile(inner, now)?;
                // Excluding a superset would drop true matches: an inexact inner part makes the
                // whole candidate set "everything", checked post by post.
                if !exact {
                    return Ok((Box::new(AllQuery), false));
                }
                (
                    Box::new(BooleanQuery::new(vec![
                        (Occur::Must, Box::new(AllQuery)),
                        (Occur::MustNot, inner),
                    ])),
                    true,
                )
            }
        })
    }
}

/// `text` with every regular-expression metacharacter escaped.
fn regex_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len() * 2);
    for character in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(character) {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

/// Every post matching `query`, in the order asked for, streamed to `each` (the export path: no limit,
/// memory for the matching keys only).
///
/// Posts are read and parsed 4,096 at a time on rayon's threads while the previous ones are
/// handed to `each` on the calling thread; a post that cannot be read ends the walk with its
/// error before any post of its chunk is handed over. Not to be called from inside rayon's
/// pool (the calling thread waits for it).
pub fn for_each_match(
    archive: &crate::Store,
    index: &SearchIndex,
    query: &StarlingQuery,
    now: Timestamp,
    sort: SortBy,
    mut each: impl FnMut(Post) -> Result<(), StoreError>,
) -> Result<usize, StoreError> {
    use rayon::prelude::*;
    /// Keys read between two calls of `each`; each core reads its share in one transaction.
    const CHUNK: usize = 4096;
    let first = index.search(query, now, sort, 1)?;
    let all = index.search(query, now, sort, first.total.max(1))?;
    let share = CHUNK.div_ceil(rayon::current_num_threads().max(1));
    // Reading and parsing the posts (most of an export's time) on every core, the next chunk
    // while the last one is handed over, in the order found.
    let read = |keys: &[String]| -> Result<Vec<Post>, StoreError> {
        let parts: Vec<Result<Vec<Option<Post>>, StoreError>> = keys
            .par_chunks(share)
            .map(|keys| archive.get_many(keys))
            .collect();
        let mut posts = Vec::with_capacity(keys.len());
        for part in parts {
            posts.extend(part?.into_iter().flatten().filter(|post| {
                !all.needs_check || query.matches(&starling_query::Document::new(post), now)
            }));
        }
        Ok(posts)
    };
    let mut chunks = all.keys.chunks(CHUNK);
    let mut ready = match chunks.next() {
        Some(keys) => read(keys)?,
        None => return Ok(0),
    };
    let mut written = 0;
    loop {
        let next = chunks.next();
        let (handed, read_next) = std::thread::scope(|scope| {
            let reading = next.map(|keys| scope.spawn(move || read(keys)));
            let mut handed = Ok(ready.len());
            for post in ready.drain(..) {
                if let Err(error) = each(post) {
                    handed = Err(error);
                    break;
                }
            }
            let read_next = reading.map(|reading| {
                reading
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            });
            (handed, read_next)
        });
        written += handed?;
        match read_next {
            Some(posts) => ready = posts?,
            None => return Ok(written),
        }
    }
}

/// Counts over every match: the top values of each facet, and posts per time bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Each facet's top values with their counts: `hashtags` (with `#`), `authors`
    /// (`platform:handle`), `languages`, `domains`, `platforms`, `countries`, `sentiments`.
    pub facets: Vec<(&'static str, Vec<(String, u64)>)>,
    /// The bucket's name (`15 minutes`), and the posts starting in each bucket.
    pub histogram: Option<(&'static str, std::collections::BTreeMap<Timestamp, u64>)>,
}

impl SearchIndex {
    /// Facets and a histogram of every post matching `query`, read from the index's columns;
    /// `None` when the query needs each post checked (`NEAR`, `geo:`), where the caller counts
    /// the checked posts instead.
    pub fn summarise(
        &self,
        query: &StarlingQuery,
        now: Timestamp,
        top: usize,
    ) -> Result<Option<Summary>, StoreError> {
        let (compiled, exact) = self.compile(query, now)?;
        if !exact {
            return Ok(None);
        }
        let searcher = self.reader.searcher();
        let (counts, times) = searcher
            .search(compiled.as_ref(), &FacetCounter)
            .map_err(|error| failure(&self.path, error))?
            .map_err(|error| failure(&self.path, error))?;
        let facets = FACETS
            .iter()
            .zip(counts)
            .map(|((name, _, _), values)| {
                let mut sorted: Vec<(String, u64)> = values.into_iter().collect();
                sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                sorted.truncate(top);
                (*name, sorted)
            })
            .collect();
        Ok(Some(Summary {
            facets,
            histogram: histogram(&times),
        }))
    }
}

/// The facets [`SearchIndex::summarise`] counts: name, column, and what is written before
/// each value.
const FACETS: [(&str, &str, &str); 7] = [
    ("hashtags", "hashtag", "#"),
    ("authors", "facet_author", ""),
    ("languages", "facet_lang", ""),
    ("domains", "facet_host", ""),
    ("platforms", "platform", ""),
    ("countries", "country", ""),
    ("sentiments", "sentiment", ""),
];

/// Counts, per facet, the values of every matching post, and gathers their times: in each
/// segment, a counter per value's ordinal in the column's dictionary, named once at the end.
struct FacetCounter;

type FacetFruit = std::io::Result<(Vec<std::collections::HashMap<String, u64>>, Vec<i64>)>;

struct SegmentFacetCounter {
    columns: Vec<Option<tantivy::columnar::StrColumn>>,
    counts: Vec<Vec<u32>>,
    created: Option<tantivy::columnar::Column<i64>>,
    times: Vec<i64>,
}

impl tantivy::collector::Collector for FacetCounter {
    type Fruit = FacetFruit;
    type Child = SegmentFacetCounter;

    fn for_segment(
        &self,
        _segment: tantivy::SegmentOrdinal,
        reader: &tantivy::SegmentReader,
    ) -> tantivy::Result<SegmentFacetCounter> {
        let fast = reader.fast_fields();
        let mut columns = Vec::with_capacity(FACETS.len());
        let mut counts = Vec::with_capacity(FACETS.len());
        for (_, field, _) in FACETS {
            let column = fast.str(field)?;
            counts.push(vec![
                0;
                column.as_ref().map_or(0, |column| column.num_terms())
            ]);
            columns.push(column);
        }
        Ok(SegmentFacetCounter {
            columns,
            counts,
            created: fast.i64("created").ok(),
            times: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<FacetFruit>) -> tantivy::Result<FacetFruit> {
        let mut counts = vec![std::collections::HashMap::new(); FACETS.len()];
        let mut times = Vec::new();
        for fruit in fruits {
            let (segment_counts, segment_times) = match fruit {
                Ok(fruit) => fruit,
                Err(error) => return Ok(Err(error)),
            };
            for (merged, segment) in counts.iter_mut().zip(segment_counts) {
                for (value, count) in segment {
                    *merged.entry(value).or_insert(0) += count;
                }
            }
            times.extend(segment_times);
        }
        Ok(Ok((counts, times)))
    }
}

impl tantivy::collector::SegmentCollector for SegmentFacetCounter {
    type Fruit = FacetFruit;

    fn collect(&mut self, doc: tantivy::DocId, _score: tantivy::Score) {
        for (column, counts) in self.columns.iter().zip(&mut self.counts) {
            if let Some(column) = column {
                for ordinal in column.term_ords(doc) {
                    if let Some(count) = counts.get_mut(ordinal as usize) {
                        *count += 1;
                    }
                }
            }
        }
        if let Some(time) = self.created.as_ref().and_then(|created| created.first(doc)) {
            self.times.push(time);
        }
    }

    fn harvest(self) -> FacetFruit {
        let mut named = Vec::with_capacity(FACETS.len());
        let mut text = String::new();
        for ((column, counts), (_, _, prefix)) in self.columns.iter().zip(self.counts).zip(FACETS) {
            let mut values = std::collections::HashMap::new();
            if let Some(column) = column {
                // Named in one pass over the dictionary, in ordinal order.
                let (ordinals, counts): (Vec<u64>, Vec<u32>) = counts
                    .into_iter()
                    .enumerate()
                    .filter(|(_, count)| *count > 0)
                    .map(|(ordinal, count)| (ordinal as u64, count))
                    .unzip();
                let mut counts = counts.into_iter();
                column
                    .dictionary()
                    .sorted_ords_to_term_cb(&ordinals, |term| {
                        if let Some(count) = counts.next() {
                            text.clear();
                            text.push_str(prefix);
                            text.push_str(&String::from_utf8_lossy(term));
                            values.insert(text.clone(), u64::from(count));
                        }
                    })?;
            }
            named.push(values);
        }
        Ok((named, self.times))
    }
}

/// Posts per bucket, the bucket chosen so that the span fits in about 60 of them.
pub fn histogram(
    times_ms: &[i64],
) -> Option<(&'static str, std::collections::BTreeMap<Timestamp, u64>)> {
    let first = *times_ms.iter().min()?;
    let last = *times_ms.iter().max()?;
    let span = ((last - first) / 1000).max(1);
    const BUCKETS: [(&str, i64); 8] = [
        ("minute", 60),
        ("5 minutes", 300),
        ("15 minutes", 900),
        ("hour", 3_600),
        ("6 hours", 21_600),
        ("day", 86_400),
        ("week", 604_800),
        ("30 days", 2_592_000),
    ];
    let (name, size) = BUCKETS
        .iter()
        .copied()
        .find(|(_, size)| span / size <= 60)
        .unwrap_or(BUCKETS[BUCKETS.len() - 1]);
    let mut counts = std::collections::BTreeMap::new();
    for millis in times_ms {
        let seconds = millis.div_euclid(1000);
        if let Some(start) = chrono::DateTime::from_timestamp(seconds - seconds.rem_euclid(size), 0)
        {
            *counts.entry(start).or_default() += 1;
        }
    }
    Some((name, counts))
}

/// The most candidates checked one by one against the archive for one search.
pub const CHECK_LIMIT: usize = 100_000;

/// What a search found.
#[derive(Debug, Clone)]
pub struct Found {
    /// Up to the limit asked for, in the order asked for.
    pub posts: Vec<Post>,
    /// How many posts match in all.
    pub total: usize,
    /// False when more candidates than [`CHECK_LIMIT`] needed checking: `total` then counts
    /// only the checked ones.
    pub total_is_exact: bool,
}

/// Searches the archive: candidates from the index, then, where the index cannot be exact,
/// each candidate checked against its archived post with the reference evaluator.
pub fn search(
    archive: &crate::Store,
    index: &SearchIndex,
    query: &StarlingQuery,
    now: Timestamp,
    sort: SortBy,
    limit: usize,
) -> Result<Found, StoreError> {
    let first = index.search(query, now, sort, limit)?;
    if !first.needs_check {
        let mut posts = Vec::with_capacity(first.keys.len());
        for key in &first.keys {
            posts.extend(archive.get(key)?);
        }
        return Ok(Found {
            posts,
            total: first.total,
            total_is_exact: true,
        });
    }
    let candidates = index.search(query, now, sort, first.total.min(CHECK_LIMIT))?;
    let mut posts = Vec::new();
    let mut total = 0;
    for key in &candidates.keys {
        let Some(post) = archive.get(key)? else {
            continue;
        };
        if query.matches(&starling_query::Document::new(&post), now) {
            total += 1;
            if posts.len() < limit {
                posts.push(post);
            }
        }
    }
    Ok(Found {
        posts,
        total,
        total_is_exact: first.total <= CHECK_LIMIT,
    })
}
