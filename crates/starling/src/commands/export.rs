//! `starling export`: every post matching a query, streamed to a file or standard output.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context as _;
use starling_model::{Post, Timestamp};
use starling_store::views::{CSV_COLUMNS, csv_row};
use starling_store::{SortBy, StoreError, for_each_match};

use super::{Context, open_for_query};

/// Flags of `starling export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The query (see docs/query-language.md); `since:2000-01-01` exports everything.
    query: String,
    /// csv (every field quoted, ids as text), jsonl (Starling's post model), raw (each record
    /// exactly as received, one per line), ids (one platform id per line, for re-fetching) or
    /// parquet (the CSV's columns, typed, for pandas, R and DuckDB; needs --out).
    #[arg(long, value_parser = ["csv", "jsonl", "raw", "ids", "parquet"])]
    format: String,
    /// Write here instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// What "now" is for relative times like since:-24h (RFC 3339) [default: the clock]
    #[arg(long, value_name = "TIME")]
    now: Option<Timestamp>,
}

pub fn run(context: &Context, args: Args, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let (query, store, index) = open_for_query(context, &args.query)?;
    let now = args.now.unwrap_or_else(chrono::Utc::now);
    let mut file;
    let output: &mut dyn Write = match &args.out {
        Some(_) if args.format == "parquet" => stdout,
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
            let count = for_each_match(&store, &index, &query, now, SortBy::Time, |post| {
                writer
                    .write_record(csv_row(&post))
                    .map_err(|error| io(error.into()))
            })?;
            writer.flush().map_err(io)?;
            count
        }
        "jsonl" => for_each_match(&store, &index, &query, now, SortBy::Time, |post| {
            serde_json::to_writer(&mut *output, &post).map_err(|error| io(error.into()))?;
            output.write_all(b"\n").map_err(io)
        })?,
        "parquet" => {
            // Checked above: Parquet always goes to a file of its own.
            let path = args
                .out
                .as_ref()
                .ok_or_else(|| anyhow::anyhow!("Parquet needs --out"))?;
            let file =
                File::create(path).with_context(|| format!("creating {}", path.display()))?;
            let mut writer = ParquetOut::new(BufWriter::new(file))?;
            let count = for_each_match(&store, &index, &query, now, SortBy::Time, |post| {
                writer
                    .push(&post)
                    .map_err(|error| io(std::io::Error::other(error.to_string())))
            })?;
            writer.finish()?;
            count
        }
        "raw" => for_each_match(&store, &index, &query, now, SortBy::Time, |post| {
            output.write_all(post.raw.as_bytes()).map_err(io)?;
            output.write_all(b"\n").map_err(io)
        })?,
        _ => for_each_match(&store, &index, &query, now, SortBy::Time, |post| {
            writeln!(output, "{}", post.id).map_err(io)
        })?,
    };
    output.flush()?;
    if let Some(path) = &args.out {
        eprintln!("{count} posts written to {}", path.display());
    }
    Ok(())
}

/// Rows of posts written as Parquet, in row groups of [`ParquetOut::ROW_GROUP`].
struct ParquetOut<W: Write + Send> {
    writer: parquet::arrow::ArrowWriter<W>,
    schema: std::sync::Arc<arrow_schema::Schema>,
    rows: Vec<[String; 23]>,
    times: Vec<i64>,
    points: Vec<Option<(f64, f64)>>,
    scores: Vec<Option<f32>>,
}

impl<W: Write + Send> ParquetOut<W> {
    const ROW_GROUP: usize = 50_000;

    fn new(output: W) -> anyhow::Result<ParquetOut<W>> {
        use arrow_schema::{DataType, Field, Schema, TimeUnit};
        let mut fields: Vec<Field> = CSV_COLUMNS
            .iter()
            .filter(|name| !matches!(**name, "created_at" | "point" | "sentiment_score"))
            .map(|name| Field::new(*name, DataType::Utf8, false))
            .collect();
        fields.insert(
            3,
            Field::new(
                "created_at",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                false,
            ),
        );
        fields.push(Field::new("lat", DataType::Float64, true));
        fields.push(Field::new("lon", DataType::Float64, true));
        fields.push(Field::new("sentiment_score", DataType::Float32, true));
        let schema = std::sync::Arc::new(Schema::new(fields));
        let properties = parquet::file::properties::WriterProperties::builder()
            .set_compression(parquet::basic::Compression::SNAPPY)
            .build();
        let writer = parquet::arrow::ArrowWriter::try_new(
            output,
            std::sync::Arc::clone(&schema),
            Some(properties),
        )?;
        Ok(ParquetOut {
            writer,
            schema,
            rows: Vec::new(),
            times: Vec::new(),
            points: Vec::new(),
            scores: Vec::new(),
        })
    }

    fn push(&mut self, post: &Post) -> anyhow::Result<()> {
        self.rows.push(csv_row(post));
        self.times.push(post.created_at.timestamp_millis());
        self.points.push(
            post.geo
                .as_ref()
                .and_then(|geo| geo.point)
                .map(|point| (point.lat, point.lon)),
        );
        self.scores.push(
            post.enrichment
                .as_ref()
                .map(|enrichment| enrichment.sentiment_score),
        );
        if self.rows.len() >= Self::ROW_GROUP {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> anyhow::Result<()> {
        use arrow_array::{
            ArrayRef, Float64Array, RecordBatch, StringArray, TimestampMillisecondArray,
        };
        if self.rows.is_empty() {
            return Ok(());
        }
        let column = |index: usize| -> ArrayRef {
            std::sync::Arc::new(StringArray::from_iter_values(
                self.rows.iter().map(|row| row[index].as_str()),
            ))
        };
        let mut columns: Vec<ArrayRef> = (0..CSV_COLUMNS.len())
            .filter(|index| {
                !matches!(
                    CSV_COLUMNS[*index],
                    "created_at" | "point" | "sentiment_score"
                )
            })
            .map(column)
            .collect();
        columns.insert(
            3,
            std::sync::Arc::new(
                TimestampMillisecondArray::from(self.times.clone()).with_timezone("UTC"),
            ),
        );
        columns.push(std::sync::Arc::new(Float64Array::from(
            self.points
                .iter()
                .map(|point| point.map(|(lat, _)| lat))
                .collect::<Vec<_>>(),
        )));
        columns.push(std::sync::Arc::new(Float64Array::from(
            self.points
                .iter()
                .map(|point| point.map(|(_, lon)| lon))
                .collect::<Vec<_>>(),
        )));
        columns.push(std::sync::Arc::new(arrow_array::Float32Array::from(
            self.scores.clone(),
        )));
        let batch = RecordBatch::try_new(std::sync::Arc::clone(&self.schema), columns)?;
        self.writer.write(&batch)?;
        self.rows.clear();
        self.times.clear();
        self.points.clear();
        self.scores.clear();
        Ok(())
    }

    fn finish(mut self) -> anyhow::Result<()> {
        self.flush()?;
        self.writer.close()?;
        Ok(())
    }
}
