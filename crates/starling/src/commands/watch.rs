//! `starling watch`: standing queries kept in the archive (or the configuration file), matched
//! against every post an import or a live source brings.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::{Context as _, bail};
use serde::Serialize;
use starling_query::Document;
use starling_store::{SearchIndex, SortBy, Store};
use starling_watch::{Matcher, WatchDef};

use super::Context;
use super::search::{post_line, write_row};
use crate::terminal::{self, safe};

/// Flags of `starling watch`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: WatchCommand,
}

#[derive(Debug, clap::Subcommand)]
enum WatchCommand {
    /// Save a watch: every post imported or followed from now on is matched against it.
    Add {
        /// Its name (unique).
        name: String,
        /// The query (see docs/query-language.md).
        query: String,
        /// Who keeps it.
        #[arg(long)]
        owner: Option<String>,
        /// A label (repeat for several).
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
        /// Keep it without matching it.
        #[arg(long)]
        inactive: bool,
        /// Replace a watch of the same name.
        #[arg(long)]
        replace: bool,
    },
    /// List the watches, with how many posts each has matched.
    List {
        /// One JSON object per watch.
        #[arg(long)]
        json: bool,
    },
    /// Remove a watch (the matches it recorded stay in the archive).
    Rm {
        /// Its name.
        name: String,
    },
    /// Show which recent archived posts a query would have matched, by the watch matcher.
    Test {
        /// The query.
        query: String,
        /// How many of the newest archived posts to try.
        #[arg(long, default_value_t = 10_000)]
        recent: usize,
        /// How many matching posts to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// What "now" is for relative times like since:-24h (RFC 3339) [default: the clock]
        #[arg(long, value_name = "TIME")]
        now: Option<chrono::DateTime<chrono::Utc>>,
        /// One JSON object per matching post, then a summary object.
        #[arg(long)]
        json: bool,
    },
    /// Show the posts a watch has matched, newest first.
    Matches {
        /// The watch's name.
        name: String,
        /// How many to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// One JSON object per match.
        #[arg(long)]
        json: bool,
    },
}

/// Where a watch is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Saved in the archive with `starling watch add`.
    Archive,
    /// In the configuration file's `[[watches]]`.
    Config,
}

/// Every watch: those saved in the archive, and the configuration file's, which win when
/// both define a name.
pub fn all_watches(
    context: &Context,
    store: &Store,
) -> anyhow::Result<BTreeMap<String, (WatchDef, Origin)>> {
    let mut watches = BTreeMap::new();
    for watch in store.watches()? {
        watches.insert(watch.name.clone(), (watch, Origin::Archive));
    }
    for watch in &context.config.watches {
        watch
            .compile()
            .with_context(|| "in the configuration file's [[watches]]")?;
        watches.insert(watch.name.clone(), (watch.clone(), Origin::Config));
    }
    Ok(watches)
}

/// The active watches, compiled.
pub fn matcher(context: &Context, store: &Store) -> anyhow::Result<Matcher> {
    let mut matcher = Matcher::default();
    for (watch, _) in all_watches(context, store)?.values() {
        matcher.insert(watch)?;
    }
    Ok(matcher)
}

#[derive(Serialize)]
struct WatchLine<'a> {
    #[serde(flatten)]
    watch: &'a WatchDef,
    defined_in: Origin,
    matches: u64,
}

pub fn run(context: &Context, args: Args, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let store = Store::open(&context.data_dir)?;
    match args.command {
        WatchCommand::Add {
            name,
            query,
            owner,
            tags,
            inactive,
            replace,
        } => {
            let watch = WatchDef {
                name,
                query,
                owner,
                tags,
                active: !inactive,
            };
            watch.compile()?;
            let existing = all_watches(context, &store)?;
            if let Some((_, origin)) = existing.get(&watch.name) {
                if *origin == Origin::Config {
                    bail!(
                        "a watch named {:?} is defined in the configuration file; change it there",
                        watch.name
                    );
                }
                if !replace {
                    bail!(
                        "a watch named {:?} exists; add --replace to replace it",
                        watch.name
                    );
                }
            }
            store.put_watch(&watch)?;
            writeln!(
                stdout,
                "Watch {:?} saved{}: {}",
                safe(&watch.name),
                if watch.active { "" } else { " (inactive)" },
                safe(&watch.query)
            )?;
        }
        WatchCommand::List { json } => {
            let watches = all_watches(context, &store)?;
            if !json && watches.is_empty() {
                writeln!(
                    stdout,
                    "No watches yet: add one with `starling watch add NAME QUERY`."
                )?;
            }
            for (watch, origin) in watches.values() {
                let (_, matches) = store.matches_of(&watch.name, 0)?;
                if json {
                    serde_json::to_writer(
                        &mut *stdout,
                        &WatchLine {
                            watch,
                            defined_in: *origin,
                            matches,
                        },
                    )?;
                    writeln!(stdout)?;
                    continue;
                }
                writeln!(
                    stdout,
                    "{:<24} {:>10} matches  {}{}{}{}",
                    safe(&watch.name),
                    terminal::count(matches),
                    if watch.active { "" } else { "[inactive] " },
                    if *origin == Origin::Config {
                        "[config] "
                    } else {
                        ""
                    },
                    safe(&watch.query),
                    match (&watch.owner, watch.tags.is_empty()) {
                        (None, true) => String::new(),
                        (owner, _) => format!(
                            "  ({}{})",
                            owner
                                .as_deref()
                                .map(|owner| format!("owner {} ", safe(owner)))
                                .unwrap_or_default(),
                            safe(&watch.tags.join(", "))
                        ),
                    }
                )?;
            }
        }
        WatchCommand::Rm { name } => {
            if context
                .config
                .watches
                .iter()
                .any(|watch| watch.name == name)
            {
                bail!("the watch {name:?} is defined in the configuration file; remove it there");
            }
            if !store.remove_watch(&name)? {
                bail!("there is no watch named {name:?} (see `starling watch list`)");
            }
            writeln!(stdout, "Watch {:?} removed.", safe(&name))?;
        }
        WatchCommand::Test {
            query,
            recent,
            limit,
            now,
            json,
        } => test(context, &store, &query, recent, limit, now, json, stdout)?,
        WatchCommand::Matches { name, limit, json } => {
            let (found, total) = store.matches_of(&name, limit)?;
            if !json {
                writeln!(
                    stdout,
                    "{} posts matched {:?}; newest first:",
                    terminal::count(total),
                    safe(&name)
                )?;
            }
            for found in found {
                let Some(post) = store.get(&found.key)? else {
                    continue;
                };
                let status = store.status(&found.key)?;
                if json {
                    serde_json::to_writer(
                        &mut *stdout,
                        &serde_json::json!({
                            "watch": found.watch,
                            "matched_at": found.matched_at,
                            "post": post_line(&post, status),
                        }),
                    )?;
                    writeln!(stdout)?;
                } else {
                    write_row(stdout, &post, &status)?;
                }
            }
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments, reason = "the subcommand's flags")]
fn test(
    context: &Context,
    store: &Store,
    query: &str,
    recent: usize,
    limit: usize,
    now: Option<chrono::DateTime<chrono::Utc>>,
    json: bool,
    stdout: &mut dyn Write,
) -> anyhow::Result<()> {
    let now = now.unwrap_or_else(chrono::Utc::now);
    let mut matcher = Matcher::default();
    matcher.insert(&WatchDef::new("test", query))?;
    let index = SearchIndex::open(&context.data_dir)?;
    let everything =
        starling_query::parse("since:1970-01-01").map_err(|error| anyhow::anyhow!("{error}"))?;
    let newest = index.search(&everything, now, SortBy::Time, recent)?;
    let mut matched = 0;
    let mut shown = 0;
    let mut checked = 0;
    for key in &newest.keys {
        let Some(post) = store.get(key)? else {
            continue;
        };
        checked += 1;
        if matcher
            .match_document(&Document::new(&post), now)
            .watches
            .is_empty()
        {
            continue;
        }
        matched += 1;
        if shown < limit {
            shown += 1;
            let status = store.status(key)?;
            if json {
                crate::terminal::json_line(stdout, &post_line(&post, status))?;
            } else {
                write_row(stdout, &post, &status)?;
            }
        }
    }
    if json {
        serde_json::to_writer(
            &mut *stdout,
            &serde_json::json!({"kind": "summary", "checked": checked, "matched": matched}),
        )?;
        writeln!(stdout)?;
    } else {
        writeln!(
            stdout,
            "{} of the {} newest archived posts match ({} shown).",
            terminal::count(matched),
            terminal::count(checked),
            shown
        )?;
    }
    Ok(())
}
