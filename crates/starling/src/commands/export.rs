//! `starling export`: every post matching a query, streamed to a file or standard output.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context as _;
use starling_model::{Post, Timestamp};
use starling_store::{SearchIndex, Store, StoreError, for_each_match};

use super::Context;

/// Flags of `starling export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The query (see docs/query-language.md); `since:2000-01-01` exports everything.
    query: String,
    /// csv (every field quoted, ids as text), jsonl (Starling's post model), raw (each record
    /// exactly as received, one per line) or ids (one platform id per line, for re-fetching).
    #[arg(long, value_parser = ["csv", "jsonl", "raw", "ids"])]
    format: String,
    /// Write here instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// What "now" is for relative times like since:-24h (RFC 3339) [default: the clock]
    #[arg(long, value_name = "TIME")]
    now: Option<Timestamp>,
}

const CSV_COLUMNS: [&str; 18] = [
    "key",
    "platform",
    "id",
    "created_at",
    "author_id",
    "author",
    "text",
    "title",
    "lang",
    "url",
    "reply_to",
    "share_of",
    "quote_of",
    "hashtags",
    "mentions",
    "urls",
    "country",
    "point",
];

pub fn run(context: &Context, args: Args, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let query = starling_query::parse(&args.query)
        .map_err(|error| anyhow::anyhow!("in the query {:?}: {error}", args.query))?;
    let now = args.now.unwrap_or_else(chrono::Utc::now);
    let store = Store::open(&context.data_dir)?;
    let index = SearchIndex::open(&context.data_dir)?;
    let mut file;
    let output: &mut dyn Write = match &args.out {
        Some(path) => {
            file = BufWriter::new(
                File::create(path).with_context(|| format!("creating {}", path.display()))?,
            );
            &mut file
        }
        None => stdout,
    };
    let io = StoreError::Output;
    let count = match args.format.as_str() {
        "csv" => {
            // Every field quoted: spreadsheets then keep 19-digit ids as text.
            let mut writer = csv::WriterBuilder::new()
                .quote_style(csv::QuoteStyle::Always)
                .from_writer(&mut *output);
            writer
                .write_record(CSV_COLUMNS)
                .map_err(|error| io(error.into()))?;
            let count = for_each_match(&store, &index, &query, now, |post| {
                writer
                    .write_record(csv_row(&post))
                    .map_err(|error| io(error.into()))
            })?;
            writer.flush().map_err(io)?;
            count
        }
        "jsonl" => for_each_match(&store, &index, &query, now, |post| {
            serde_json::to_writer(&mut *output, &post).map_err(|error| io(error.into()))?;
            output.write_all(b"\n").map_err(io)
        })?,
        "raw" => for_each_match(&store, &index, &query, now, |post| {
            output.write_all(post.raw.as_bytes()).map_err(io)?;
            output.write_all(b"\n").map_err(io)
        })?,
        _ => for_each_match(&store, &index, &query, now, |post| {
            writeln!(output, "{}", post.id).map_err(io)
        })?,
    };
    output.flush()?;
    if let Some(path) = &args.out {
        eprintln!("{count} posts written to {}", path.display());
    }
    Ok(())
}

fn csv_row(post: &Post) -> [String; 18] {
    let join = |values: Vec<&str>| values.join(" ");
    let reference = |reference: &Option<starling_model::PostRef>| {
        reference
            .as_ref()
            .map(|reference| reference.id.clone())
            .unwrap_or_default()
    };
    [
        post.key.as_str().to_owned(),
        post.platform.as_str().to_owned(),
        post.id.clone(),
        post.created_at
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        post.author.id.clone(),
        post.author.handle.clone(),
        post.text.clone(),
        post.title.clone().unwrap_or_default(),
        post.declared_lang.clone().unwrap_or_default(),
        post.url.clone().unwrap_or_default(),
        reference(&post.reply_to),
        reference(&post.share_of),
        reference(&post.quote_of),
        join(
            post.entities
                .hashtags
                .iter()
                .map(|tag| tag.tag.as_str())
                .collect(),
        ),
        join(
            post.entities
                .mentions
                .iter()
                .map(|mention| mention.handle.as_str())
                .collect(),
        ),
        join(post.entities.urls.iter().map(|url| url.target()).collect()),
        post.geo
            .as_ref()
            .and_then(|geo| geo.country.clone())
            .unwrap_or_default(),
        post.geo
            .as_ref()
            .and_then(|geo| geo.point)
            .map(|point| format!("{},{}", point.lat, point.lon))
            .unwrap_or_default(),
    ]
}
