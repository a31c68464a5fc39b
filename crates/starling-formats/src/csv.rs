//! CSV rows with a column mapping; 4CAT's minimal columns (`id, thread_id, author, body,
//! timestamp`) by default.
//!
//! A CSV row means nothing without its header, so CSV has its own decoder, built from the
//! header row: [`CsvDecoder::new`], then [`CsvDecoder::decode`] for each record. A record is
//! one CSV row as written, which may span several lines inside quotes ([`record_complete`]
//! tells a reader when it has all of one).

use starling_model::{Author, Platform, Post, PostKey, PostRef, nfc};

use crate::{Context, Decoded, Format, Reject, raw};

/// Which column holds which field. Every name is a header of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvMapping {
    /// The post's id (required).
    pub id: String,
    /// The text (required).
    pub body: String,
    /// The time (required): Unix seconds or milliseconds, RFC 3339, `YYYY-MM-DD HH:MM:SS`
    /// (read as UTC), or Twitter v1.1's `Wed Oct 10 20:19:24 +0000 2018`.
    pub timestamp: String,
    /// The author's handle (required).
    pub author: String,
    /// The thread the post belongs to; when it differs from the id, taken as the post replied to.
    pub thread_id: Option<String>,
    /// The author's stable id, when it differs from the handle.
    pub author_id: Option<String>,
    /// The platform's name (`twitter`, `reddit`, ...), per row.
    pub platform: Option<String>,
    /// A link to the post.
    pub url: Option<String>,
    /// The declared language.
    pub language: Option<String>,
    /// A title.
    pub title: Option<String>,
}

impl Default for CsvMapping {
    /// 4CAT's importer columns.
    fn default() -> CsvMapping {
        CsvMapping {
            id: "id".into(),
            body: "body".into(),
            timestamp: "timestamp".into(),
            author: "author".into(),
            thread_id: Some("thread_id".into()),
            author_id: None,
            platform: None,
            url: None,
            language: None,
            title: None,
        }
    }
}

impl CsvMapping {
    /// The default mapping changed by `field=column` pairs separated by commas, e.g.
    /// `body=text,timestamp=created_at,language=lang`.
    pub fn parse(pairs: &str) -> Result<CsvMapping, String> {
        let mut mapping = CsvMapping::default();
        for pair in pairs
            .split(',')
            .map(str::trim)
            .filter(|pair| !pair.is_empty())
        {
            let Some((field, column)) = pair.split_once('=') else {
                return Err(format!("expected field=column, got {pair:?}"));
            };
            let column = column.trim().to_owned();
            match field.trim() {
                "id" => mapping.id = column,
                "body" => mapping.body = column,
                "timestamp" => mapping.timestamp = column,
                "author" => mapping.author = column,
                "thread_id" => mapping.thread_id = Some(column),
                "author_id" => mapping.author_id = Some(column),
                "platform" => mapping.platform = Some(column),
                "url" => mapping.url = Some(column),
                "language" => mapping.language = Some(column),
                "title" => mapping.title = Some(column),
                other => {
                    return Err(format!(
                        "unknown field {other:?}; expected one of id, body, timestamp, author, \
                         thread_id, author_id, platform, url, language, title"
                    ));
                }
            }
        }
        Ok(mapping)
    }
}

/// Column positions resolved from a header.
#[derive(Debug, Clone)]
pub struct CsvDecoder {
    id: usize,
    body: usize,
    timestamp: usize,
    author: usize,
    thread_id: Option<usize>,
    author_id: Option<usize>,
    platform: Option<usize>,
    url: Option<usize>,
    language: Option<usize>,
    title: Option<usize>,
    default_platform: Platform,
    names: Vec<String>,
}

/// Parses one CSV record (the header, or a row) into its fields.
fn fields(bytes: &[u8]) -> Result<::csv::StringRecord, String> {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut record = ::csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => Ok(record),
        Ok(false) => Err("empty".into()),
        Err(error) => Err(error.to_string()),
    }
}

impl CsvDecoder {
    /// A decoder for rows under `header`; rows without a platform column get `default_platform`.
    pub fn new(
        header: &[u8],
        mapping: &CsvMapping,
        default_platform: Platform,
        context: &Context<'_>,
    ) -> Result<CsvDecoder, Reject> {
        // A byte-order mark before the first header is common in spreadsheet exports.
        let header = header.strip_prefix("\u{feff}".as_bytes()).unwrap_or(header);
        let record = fields(header)
            .map_err(|error| context.reject("header", format!("not a CSV header: {error}")))?;
        let names: Vec<String> = record.iter().map(|name| name.trim().to_owned()).collect();
        let find = |column: &str| names.iter().position(|name| name == column);
        let required = |column: &String| {
            find(column).ok_or_else(|| {
                context.reject(
                    "header",
                    format!("no column {column:?}; the header has {}", names.join(", ")),
                )
            })
        };
        let optional = |column: &Option<String>| -> Result<Option<usize>, Reject> {
            column.as_ref().map(required).transpose()
        };
        // 4CAT's thread_id is optional in practice: only a column named explicitly must exist.
        let thread_id = match &mapping.thread_id {
            Some(column) if column == "thread_id" => find(column),
            other => optional(other)?,
        };
        Ok(CsvDecoder {
            id: required(&mapping.id)?,
            body: required(&mapping.body)?,
            timestamp: required(&mapping.timestamp)?,
            author: required(&mapping.author)?,
            thread_id,
            author_id: optional(&mapping.author_id)?,
            platform: optional(&mapping.platform)?,
            url: optional(&mapping.url)?,
            language: optional(&mapping.language)?,
            title: optional(&mapping.title)?,
            default_platform,
            names,
        })
    }

    /// Decodes one row.
    pub fn decode(&self, bytes: &[u8], context: &Context<'_>) -> Decoded {
        let mut decoded = Decoded::default();
        let record = match fields(bytes) {
            Ok(record) => record,
            Err(error) => {
                decoded
                    .rejects
                    .push(context.reject("row", format!("not a CSV row: {error}")));
                return decoded;
            }
        };
        let get = |index: usize| {
            record
                .get(index)
                .map(str::trim)
                .filter(|value| !value.is_empty())
        };
        let column = |index: usize| self.names[index].clone();
        let Some(id) = get(self.id) else {
            decoded
                .rejects
                .push(context.reject(column(self.id), "empty: every row needs an id"));
            return decoded;
        };
        let Some(time_text) = get(self.timestamp) else {
            decoded
                .rejects
                .push(context.reject(column(self.timestamp), "empty: every row needs a time"));
            return decoded;
        };
        let Some(created_at) = parse_any_time(time_text) else {
            decoded.rejects.push(context.reject(
                column(self.timestamp),
                format!("{time_text:?} is not a time (expected Unix seconds, RFC 3339 or YYYY-MM-DD HH:MM:SS)"),
            ));
            return decoded;
        };
        let platform = match self.platform.map(get) {
            Some(Some(name)) => match Platform::parse(name) {
                Some(platform) => platform,
                None => {
                    decoded.rejects.push(context.reject(
                        column(self.platform.unwrap_or(0)),
                        format!("unknown platform {name:?}"),
                    ));
                    return decoded;
                }
            },
            _ => self.default_platform,
        };
        let handle = get(self.author)
            .unwrap_or_default()
            .trim_start_matches('@')
            .to_owned();
        let author_id = self
            .author_id
            .and_then(get)
            .map_or_else(|| handle.clone(), str::to_owned);
        let thread = self.thread_id.and_then(get).filter(|thread| *thread != id);
        decoded.posts.push(Post {
            platform,
            key: PostKey::for_platform_id(platform, id),
            id: id.to_owned(),
            url: self.url.and_then(get).map(str::to_owned),
            author: Author {
                id: author_id,
                handle,
                display_name: None,
                followers: None,
                location: None,
            },
            created_at,
            collected_at: context.collected_at,
            title: self.title.and_then(get).map(nfc),
            community: None,
            text: nfc(record.get(self.body).unwrap_or_default()),
            declared_lang: self.language.and_then(get).map(str::to_owned),
            reply_to: thread.map(|thread| PostRef {
                id: thread.to_owned(),
                key: Some(PostKey::for_platform_id(platform, thread)),
                author_id: None,
                author_handle: None,
            }),
            quote_of: None,
            share_of: None,
            entities: Default::default(),
            media: Vec::new(),
            metrics: Default::default(),
            geo: None,
            provenance: context.provenance(Format::Csv),
            enrichment: None,
            raw: raw(bytes),
        });
        crate::complete_entities(&mut decoded, Format::Csv);
        decoded
    }
}

/// True when `bytes` hold whole CSV records: no quoted field is left open. A reader appends
/// lines to a record until this holds.
pub fn record_complete(bytes: &[u8]) -> bool {
    // Inside quotes a doubled quote is an escaped quote: counting all quotes, an even count
    // means every quoted field is closed.
    bytes.iter().filter(|byte| **byte == b'"').count() % 2 == 0
}

/// A time in any of the forms spreadsheets and exports use.
pub fn parse_any_time(text: &str) -> Option<starling_model::Timestamp> {
    let text = text.trim();
    if let Ok(number) = text.parse::<f64>() {
        if !number.is_finite() {
            return None;
        }
        // Seconds until the year 5138; anything larger is milliseconds.
        let millis = if number.abs() < 1e11 {
            number * 1000.0
        } else {
            number
        };
        return chrono::DateTime::from_timestamp_millis(millis as i64);
    }
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&chrono::Utc));
    }
    if let Ok(time) = chrono::DateTime::parse_from_str(text, "%a %b %d %H:%M:%S %z %Y") {
        return Some(time.with_timezone(&chrono::Utc));
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%d/%m/%Y %H:%M:%S",
    ] {
        if let Ok(time) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Some(time.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|time| time.and_utc())
}
