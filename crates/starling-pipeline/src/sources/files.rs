//! Files as a source: any number of paths (folders walked), gzip and zstd undone on the fly,
//! the format detected from the content (or given), and the bytes cut into records with
//! constant memory, whatever the file's size.

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use starling_formats::{Detected, Format, Framing, detect, record_complete};
use starling_model::{RawRecord, Source as Origin, Timestamp};

use crate::decode::{CSV_HEADER, UNREADABLE_SUMMARY, unreadable};
use crate::{Batch, Offset, PipelineError, Record, Source, UNREADABLE};

/// The longest line or event taken; longer ones are rejected, not loaded.
pub const MAX_RECORD: usize = 64 << 20;
/// The largest whole-file document (a feed, an export) loaded.
pub const MAX_DOCUMENT: u64 = 2 << 30;
/// The most record bytes in one batch.
pub const BATCH_BYTES: usize = 4 << 20;
/// How much of a file detection looks at.
const DETECT_BYTES: usize = 64 << 10;

/// Records read per format, for the import summary.
pub type RecordCounts = BTreeMap<String, u64>;

/// Reads files into records.
pub struct FileSource {
    pending: VecDeque<PathBuf>,
    current: Option<OpenFile>,
    format: Option<Format>,
    collected_at: Timestamp,
    next_offset: u64,
    acknowledged: Offset,
    bytes_read: Arc<AtomicU64>,
    records: RecordCounts,
}

struct OpenFile {
    name: String,
    reader: Box<dyn BufRead + Send>,
    detected: Detected,
    line: u64,
    offset: u64,
    started: bool,
    finished: bool,
}

/// Counts the bytes read from disk (before decompression), for progress.
struct Counting<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.counter.fetch_add(read as u64, Ordering::Relaxed);
        Ok(read)
    }
}

impl FileSource {
    /// A source over `paths` (folders are walked, hidden files skipped), in the order given;
    /// `format` overrides detection; `collected_at` stamps records whose format has no
    /// collection time of its own.
    pub fn new(paths: &[PathBuf], format: Option<Format>, collected_at: Timestamp) -> FileSource {
        let mut pending = VecDeque::new();
        for path in paths {
            walk(path, &mut pending);
        }
        FileSource {
            pending,
            current: None,
            format,
            collected_at,
            next_offset: 0,
            acknowledged: Offset(0),
            bytes_read: Arc::default(),
            records: RecordCounts::new(),
        }
    }

    /// The files still to read, then those being read, by total size on disk.
    pub fn total_bytes(&self) -> u64 {
        self.pending
            .iter()
            .filter_map(|path| path.metadata().ok())
            .map(|meta| meta.len())
            .sum()
    }

    /// A counter of bytes read from disk so far, for a progress display on another thread.
    pub fn bytes_read(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.bytes_read)
    }

    /// Records read so far, per format.
    pub fn record_counts(&self) -> &RecordCounts {
        &self.records
    }

    /// The offset through which the pipeline has acknowledged records.
    pub fn acknowledged(&self) -> Offset {
        self.acknowledged
    }

    fn unreadable(&self, name: &str, line: Option<u64>, reason: String) -> Record {
        Record {
            origin: Origin::File(name.to_owned()),
            format: UNREADABLE.to_owned(),
            line,
            offset: None,
            collected_at: self.collected_at,
            bytes: unreadable(reason),
        }
    }

    /// Opens the next file; a file that cannot be opened or recognised becomes one
    /// unreadable record, and reading goes on with the next.
    fn open_next(&mut self) -> Option<Result<OpenFile, Record>> {
        let path = self.pending.pop_front()?;
        let name = path.display().to_string();
        Some(
            open(&path, self.format, &self.bytes_read)
                .map_err(|reason| self.unreadable(&name, None, reason)),
        )
    }

    /// The next record of the current file, `None` at its end.
    fn next_record(&mut self, file: &mut OpenFile) -> Option<Record> {
        let format = file.detected.format.name().to_owned();
        let record =
            |file: &OpenFile, format: String, bytes: Vec<u8>, line: u64, offset: u64| Record {
                origin: Origin::File(file.name.clone()),
                format,
                line: Some(line),
                offset: Some(offset),
                collected_at: self.collected_at,
                bytes: RawRecord(bytes),
            };
        loop {
            if file.finished {
                return None;
            }
            let start_line = file.line + 1;
            let start_offset = file.offset;
            let result = match file.detected.framing {
                Framing::Lines => read_line(file),
                Framing::Events => read_event(file),
                Framing::CsvRows => read_csv_row(file),
                Framing::Document => read_document(file),
            };
            match result {
                Ok(None) => {
                    file.finished = true;
                    return None;
                }
                Ok(Some(bytes)) if bytes.iter().all(u8::is_ascii_whitespace) => continue,
                Ok(Some(bytes)) => {
                    let is_header = file.detected.framing == Framing::CsvRows && !file.started;
                    file.started = true;
                    let format = if is_header {
                        CSV_HEADER.to_owned()
                    } else {
                        format.clone()
                    };
                    let line = if file.detected.framing == Framing::Document {
                        1
                    } else {
                        start_line
                    };
                    return Some(record(file, format, bytes, line, start_offset));
                }
                Err(ReadError::Skipped(reason)) => {
                    return Some(self.unreadable(&file.name, Some(start_line), reason));
                }
                Err(ReadError::Broken(reason)) => {
                    // A damaged file (a truncated gzip stream, a disk error) ends here; what
                    // was read before stands.
                    file.finished = true;
                    return Some(self.unreadable(&file.name, Some(start_line), reason));
                }
            }
        }
    }
}

impl Source for FileSource {
    fn next_batch(&mut self, max: usize) -> Result<Option<Batch<Record>>, PipelineError> {
        let mut items = Vec::with_capacity(max);
        let mut bytes = 0;
        // A batch ends at `max` records or `BATCH_BYTES`, whichever comes first: one record
        // may hold a hundred posts, and memory must not grow with that.
        while items.len() < max && bytes < BATCH_BYTES {
            let mut file = match self.current.take() {
                Some(file) => file,
                None => match self.open_next() {
                    None => break,
                    Some(Ok(file)) => file,
                    Some(Err(record)) => {
                        *self.records.entry(record_format(&record)).or_default() += 1;
                        items.push(record);
                        continue;
                    }
                },
            };
            // At a file's end it is dropped, and the next one opens on the next turn.
            if let Some(record) = self.next_record(&mut file) {
                *self.records.entry(record_format(&record)).or_default() += 1;
                bytes += record.bytes.as_bytes().len();
                items.push(record);
                self.current = Some(file);
            }
        }
        Ok(Batch::following(&mut self.next_offset, items))
    }

    fn acknowledge(&mut self, through: Offset) -> Result<(), PipelineError> {
        self.acknowledged = self.acknowledged.max(through);
        Ok(())
    }
}

/// The format a record counts under in the summary (a CSV header counts as CSV).
fn record_format(record: &Record) -> String {
    match record.format.as_str() {
        CSV_HEADER => "csv".to_owned(),
        UNREADABLE => UNREADABLE_SUMMARY.to_owned(),
        other => other.to_owned(),
    }
}

fn walk(path: &Path, found: &mut VecDeque<PathBuf>) {
    if path.is_dir() {
        let Ok(entries) = std::fs::read_dir(path) else {
            found.push_back(path.to_owned());
            return;
        };
        let mut children: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|child| {
                !child
                    .file_name()
                    .is_some_and(|name| name.to_string_lossy().starts_with('.'))
            })
            .collect();
        children.sort();
        for child in children {
            walk(&child, found);
        }
    } else {
        found.push_back(path.to_owned());
    }
}

/// Opens a file, undoes its compression and detects its format.
fn open(path: &Path, format: Option<Format>, counter: &Arc<AtomicU64>) -> Result<OpenFile, String> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|error| format!("cannot open: {error}"))?;
    let mut counted = BufReader::new(Counting {
        inner: file,
        counter: Arc::clone(counter),
    });
    let magic = counted
        .fill_buf()
        .map_err(|error| format!("cannot read: {error}"))?
        .to_vec();
    let decompressed: Box<dyn Read + Send> = if magic.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(counted))
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let mut decoder = zstd::Decoder::with_buffer(counted)
            .map_err(|error| format!("not a zstd stream: {error}"))?;
        // Reddit dumps are compressed with a 2 GiB window (`zstd --long=31`).
        decoder
            .window_log_max(31)
            .map_err(|error| format!("zstd: {error}"))?;
        Box::new(decoder)
    } else {
        Box::new(counted)
    };
    let mut reader: Box<dyn BufRead + Send> =
        Box::new(BufReader::with_capacity(DETECT_BYTES, decompressed));
    let prefix = reader
        .fill_buf()
        .map_err(|error| format!("cannot read: {error}"))?;
    let detected = match (format, detect(prefix)) {
        (Some(format), Some(detected)) if detected.format == format => detected,
        (Some(format), _) => Detected {
            format,
            framing: default_framing(format, prefix),
        },
        (None, Some(detected)) => detected,
        (None, None) if prefix.is_empty() => return Err("empty file".into()),
        (None, None) => {
            return Err(format!(
                "format not recognised from its first bytes ({:?}); give it with --format",
                String::from_utf8_lossy(&prefix[..prefix.len().min(60)])
            ));
        }
    };
    Ok(OpenFile {
        name,
        reader,
        detected,
        line: 0,
        offset: 0,
        started: false,
        finished: false,
    })
}

/// The framing of a format forced with `--format`.
fn default_framing(format: Format, prefix: &[u8]) -> Framing {
    match format {
        Format::Rss | Format::Telegram => Framing::Document,
        Format::Csv => Framing::CsvRows,
        Format::Mastodon
            if !prefix.trim_ascii_start().starts_with(b"{")
                && !prefix.trim_ascii_start().starts_with(b"[") =>
        {
            Framing::Events
        }
        _ => Framing::Lines,
    }
}

/// Why a record could not be read.
enum ReadError {
    /// The record was too large and was skipped; reading goes on after it.
    Skipped(String),
    /// The file cannot be read further.
    Broken(String),
}

fn broken(error: std::io::Error) -> ReadError {
    ReadError::Broken(format!(
        "read failed, the rest of the file is lost: {error}"
    ))
}

/// Reads up to and including the next newline, at most [`MAX_RECORD`] bytes kept; returns the
/// line without its line ending. A longer line is skipped to its end and reported.
fn read_raw_line(file: &mut OpenFile) -> Result<Option<Vec<u8>>, ReadError> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let available = file.reader.fill_buf().map_err(broken)?;
        if available.is_empty() {
            break;
        }
        let (chunk, done) = match memchr(available) {
            Some(end) => (&available[..=end], true),
            None => (available, false),
        };
        let used = chunk.len();
        if line.len() + used <= MAX_RECORD {
            line.extend_from_slice(chunk);
        } else {
            too_long = true;
        }
        file.reader.consume(used);
        file.offset += used as u64;
        if done {
            break;
        }
    }
    if line.is_empty() && !too_long {
        return Ok(None);
    }
    file.line += 1;
    if too_long {
        return Err(ReadError::Skipped(format!(
            "line longer than {} MiB: skipped",
            MAX_RECORD >> 20
        )));
    }
    if line.ends_with(b"\n") {
        line.pop();
    }
    if line.ends_with(b"\r") {
        line.pop();
    }
    Ok(Some(line))
}

fn memchr(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|byte| *byte == b'\n')
}

fn read_line(file: &mut OpenFile) -> Result<Option<Vec<u8>>, ReadError> {
    read_raw_line(file)
}

/// A server-sent event: lines up to a blank line.
fn read_event(file: &mut OpenFile) -> Result<Option<Vec<u8>>, ReadError> {
    let mut event: Vec<u8> = Vec::new();
    while let Some(line) = read_raw_line(file)? {
        if line.is_empty() {
            if event.is_empty() {
                continue;
            }
            break;
        }
        if event.len() + line.len() > MAX_RECORD {
            return Err(ReadError::Skipped(format!(
                "event longer than {} MiB: skipped",
                MAX_RECORD >> 20
            )));
        }
        event.extend_from_slice(&line);
        event.push(b'\n');
    }
    Ok((!event.is_empty()).then_some(event))
}

/// A CSV row: lines until no quoted field is left open.
fn read_csv_row(file: &mut OpenFile) -> Result<Option<Vec<u8>>, ReadError> {
    let mut row: Vec<u8> = Vec::new();
    while let Some(line) = read_raw_line(file)? {
        if !row.is_empty() {
            row.push(b'\n');
        }
        row.extend_from_slice(&line);
        if record_complete(&row) {
            return Ok(Some(row));
        }
        if row.len() > MAX_RECORD {
            return Err(ReadError::Skipped(format!(
                "CSV row longer than {} MiB (an unclosed quote?): skipped",
                MAX_RECORD >> 20
            )));
        }
    }
    // The file ended inside quotes: the row is given as it stands, and its parse says why.
    Ok((!row.is_empty()).then_some(row))
}

/// The whole rest of the file, once.
fn read_document(file: &mut OpenFile) -> Result<Option<Vec<u8>>, ReadError> {
    // A document is one record: whatever happens, the file is done after this.
    file.finished = true;
    let mut document = Vec::new();
    let read = (&mut file.reader)
        .take(MAX_DOCUMENT + 1)
        .read_to_end(&mut document)
        .map_err(broken)?;
    file.offset += read as u64;
    file.line = 1;
    if read as u64 > MAX_DOCUMENT {
        return Err(ReadError::Broken(format!(
            "document larger than {} GiB: not loaded",
            MAX_DOCUMENT >> 30
        )));
    }
    Ok(Some(document))
}
