//! The grammar: text in, a [`Query`] out, or an error at a column saying what was expected.
//!
//! ```text
//! query    = or
//! or       = and { "OR" and }
//! and      = unary { ["AND"] unary }              (juxtaposition is AND)
//! unary    = ("NOT" | "-") unary | near
//! near     = primary { ("NEAR/" n | "ONEAR/" n) primary }
//! primary  = "(" query ")" | '"' words '"' | "#"tag | "@"user | field ":" value | word ["*"]
//! ```

use std::fmt;

use starling_model::Platform;
use starling_text::{analyze, normalize_word};

use crate::{Has, Is, Query, TimeBound};

/// Why a query could not be read: the column (1-based, in characters) and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Where, counting characters from 1.
    pub column: usize,
    /// What was expected and what was found.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for ParseError {}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Word(String),
    Phrase(String),
    Open,
    Close,
    And,
    Or,
    Not,
    Minus,
    Near { distance: u32, ordered: bool },
}

#[derive(Debug, Clone)]
struct Lexeme {
    kind: Kind,
    column: usize,
}

fn describe(kind: Option<&Kind>) -> String {
    match kind {
        None => "the end of the query".into(),
        Some(Kind::Word(word)) => format!("{word:?}"),
        Some(Kind::Phrase(_)) => "a phrase".into(),
        Some(Kind::Open) => "\"(\"".into(),
        Some(Kind::Close) => "\")\"".into(),
        Some(Kind::And) => "AND".into(),
        Some(Kind::Or) => "OR".into(),
        Some(Kind::Not) => "NOT".into(),
        Some(Kind::Minus) => "\"-\"".into(),
        Some(Kind::Near { ordered, .. }) => (if *ordered { "ONEAR" } else { "NEAR" }).into(),
    }
}

fn lex(text: &str) -> Result<Vec<Lexeme>, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let mut lexemes = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        let column = index + 1;
        let character = chars[index];
        if character.is_whitespace() {
            index += 1;
            continue;
        }
        match character {
            '(' => {
                lexemes.push(Lexeme {
                    kind: Kind::Open,
                    column,
                });
                index += 1;
            }
            ')' => {
                lexemes.push(Lexeme {
                    kind: Kind::Close,
                    column,
                });
                index += 1;
            }
            '"' | '“' | '”' => {
                let start = index + 1;
                let Some(length) = chars[start..]
                    .iter()
                    .position(|c| matches!(c, '"' | '“' | '”'))
                else {
                    return Err(ParseError {
                        column,
                        message: "expected a closing quote for this phrase".into(),
                    });
                };
                lexemes.push(Lexeme {
                    kind: Kind::Phrase(chars[start..start + length].iter().collect()),
                    column,
                });
                index = start + length + 1;
            }
            // Here a `-` starts a token (inside a word, as in `e-mail` or `-24h`, it is read with
            // the word): it negates what follows.
            '-' => {
                lexemes.push(Lexeme {
                    kind: Kind::Minus,
                    column,
                });
                index += 1;
            }
            _ => {
                let start = index;
                // A field value may hold quotes (`from:"x y"`); otherwise a word ends at space
                // or a parenthesis.
                while index < chars.len()
                    && !chars[index].is_whitespace()
                    && !matches!(chars[index], '(' | ')')
                {
                    if chars[index] == '"' && index > start && chars[index - 1] == ':' {
                        let Some(length) = chars[index + 1..].iter().position(|c| *c == '"') else {
                            return Err(ParseError {
                                column: index + 1,
                                message: "expected a closing quote for this value".into(),
                            });
                        };
                        index += length + 2;
                        continue;
                    }
                    index += 1;
                }
                let word: String = chars[start..index].iter().collect();
                let kind = match word.as_str() {
                    "AND" | "&&" => Kind::And,
                    "OR" | "||" => Kind::Or,
                    "NOT" => Kind::Not,
                    _ => match near_operator(&word) {
                        Some(Ok(kind)) => kind,
                        Some(Err(message)) => return Err(ParseError { column, message }),
                        None => Kind::Word(word),
                    },
                };
                lexemes.push(Lexeme { kind, column });
            }
        }
    }
    Ok(lexemes)
}

/// `NEAR/5`, `ONEAR/3` (and bare `NEAR`, distance 5).
fn near_operator(word: &str) -> Option<Result<Kind, String>> {
    let (ordered, rest) = if let Some(rest) = word.strip_prefix("ONEAR") {
        (true, rest)
    } else {
        (false, word.strip_prefix("NEAR")?)
    };
    if rest.is_empty() {
        return Some(Ok(Kind::Near {
            distance: 5,
            ordered,
        }));
    }
    let number = rest.strip_prefix('/')?;
    Some(match number.parse::<u32>() {
        Ok(distance) if distance <= 1000 => Ok(Kind::Near { distance, ordered }),
        _ => Err(format!(
            "expected a distance from 0 to 1000 after {}/, found {number:?}",
            if ordered { "ONEAR" } else { "NEAR" }
        )),
    })
}

struct Parser {
    lexemes: Vec<Lexeme>,
    next: usize,
    length: usize,
}

/// Parses `text` into a [`Query`].
pub fn parse(text: &str) -> Result<Query, ParseError> {
    let lexemes = lex(text)?;
    let mut parser = Parser {
        lexemes,
        next: 0,
        length: text.chars().count(),
    };
    if parser.lexemes.is_empty() {
        return Err(ParseError {
            column: 1,
            message: "expected a query, found nothing".into(),
        });
    }
    check_depth(&parser.lexemes)?;
    let query = parser.or()?;
    if let Some(lexeme) = parser.peek() {
        let message = match lexeme.kind {
            Kind::Close => "found \")\" without its \"(\"".to_owned(),
            _ => format!(
                "expected AND, OR or the end of the query, found {}",
                describe(Some(&lexeme.kind))
            ),
        };
        return Err(ParseError {
            column: lexeme.column,
            message,
        });
    }
    Ok(query)
}

/// How deeply parentheses and negations may nest: deeper than any query a person writes,
/// shallow enough that parsing and evaluating never run out of stack.
pub const MAX_DEPTH: usize = 64;

/// Refuses a query nested deeper than [`MAX_DEPTH`] before the recursive parser sees it.
fn check_depth(lexemes: &[Lexeme]) -> Result<(), ParseError> {
    let (mut open, mut negations) = (0usize, 0usize);
    for lexeme in lexemes {
        match lexeme.kind {
            Kind::Open => open += 1,
            Kind::Close => open = open.saturating_sub(1),
            _ => {}
        }
        if matches!(lexeme.kind, Kind::Not | Kind::Minus) {
            negations += 1;
        } else if !matches!(lexeme.kind, Kind::Open) {
            negations = 0;
        }
        if open + negations > MAX_DEPTH {
            return Err(ParseError {
                column: lexeme.column,
                message: format!("the query nests deeper than {MAX_DEPTH} levels"),
            });
        }
    }
    Ok(())
}

impl Parser {
    fn peek(&self) -> Option<&Lexeme> {
        self.lexemes.get(self.next)
    }

    fn column(&self) -> usize {
        self.peek().map_or(self.length + 1, |lexeme| lexeme.column)
    }

    fn expected(&self, what: &str) -> ParseError {
        ParseError {
            column: self.column(),
            message: format!(
                "expected {what}, found {}",
                describe(self.peek().map(|lexeme| &lexeme.kind))
            ),
        }
    }

    fn or(&mut self) -> Result<Query, ParseError> {
        let mut parts = vec![self.and()?];
        while matches!(self.peek().map(|lexeme| &lexeme.kind), Some(Kind::Or)) {
            self.next += 1;
            parts.push(self.and().map_err(|error| self.after("OR", error))?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Query::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Query, ParseError> {
        let mut parts = vec![self.unary()?];
        loop {
            match self.peek().map(|lexeme| &lexeme.kind) {
                Some(Kind::And) => {
                    self.next += 1;
                    parts.push(self.unary().map_err(|error| self.after("AND", error))?);
                }
                Some(Kind::Word(_) | Kind::Phrase(_) | Kind::Open | Kind::Not | Kind::Minus) => {
                    parts.push(self.unary()?)
                }
                _ => break,
            }
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Query::And(parts)
        })
    }

    /// Rewords "expected a term" after an operator to name the operator.
    fn after(&self, operator: &str, error: ParseError) -> ParseError {
        if error.message.starts_with("expected a term") {
            ParseError {
                column: error.column,
                message: error.message.replacen(
                    "expected a term",
                    &format!("expected a term after {operator}"),
                    1,
                ),
            }
        } else {
            error
        }
    }

    fn unary(&mut self) -> Result<Query, ParseError> {
        match self.peek().map(|lexeme| &lexeme.kind) {
            Some(Kind::Not | Kind::Minus) => {
                let operator = if matches!(self.peek().map(|lexeme| &lexeme.kind), Some(Kind::Not))
                {
                    "NOT"
                } else {
                    "-"
                };
                self.next += 1;
                let inner = self.unary().map_err(|error| self.after(operator, error))?;
                Ok(Query::Not(Box::new(inner)))
            }
            _ => self.near(),
        }
    }

    fn near(&mut self) -> Result<Query, ParseError> {
        let first = self.primary()?;
        let mut operands = vec![first];
        let mut operator: Option<(u32, bool)> = None;
        while let Some(Lexeme {
            kind: Kind::Near { distance, ordered },
            column,
        }) = self.peek().cloned()
        {
            if operator.is_some_and(|known| known != (distance, ordered)) {
                return Err(ParseError {
                    column,
                    message: "expected the same NEAR operator throughout a chain; use parentheses"
                        .into(),
                });
            }
            operator = Some((distance, ordered));
            self.next += 1;
            let operand = self
                .primary()
                .map_err(|error| self.after(if ordered { "ONEAR" } else { "NEAR" }, error))?;
            operands.push(operand);
        }
        let Some((distance, ordered)) = operator else {
            return Ok(operands.remove(0));
        };
        let mut words = Vec::new();
        for operand in operands {
            match operand {
                Query::Term(word) => words.push(vec![word]),
                Query::Phrase(phrase) => words.push(phrase),
                _ => {
                    return Err(ParseError {
                        column: self.column(),
                        message:
                            "expected words or phrases on both sides of NEAR, not fields or groups"
                                .into(),
                    });
                }
            }
        }
        Ok(Query::Near {
            operands: words,
            distance,
            ordered,
        })
    }

    fn primary(&mut self) -> Result<Query, ParseError> {
        let Some(lexeme) = self.peek().cloned() else {
            return Err(self.expected("a term"));
        };
        match lexeme.kind {
            Kind::Open => {
                self.next += 1;
                let inner = self.or()?;
                match self.peek().map(|lexeme| &lexeme.kind) {
                    Some(Kind::Close) => {
                        self.next += 1;
                        Ok(inner)
                    }
                    _ => Err(ParseError {
                        column: self.column(),
                        message: format!(
                            "expected \")\" to close the \"(\" at column {}, found {}",
                            lexeme.column,
                            describe(self.peek().map(|lexeme| &lexeme.kind))
                        ),
                    }),
                }
            }
            Kind::Phrase(text) => {
                self.next += 1;
                let words: Vec<String> =
                    analyze(&text).into_iter().map(|token| token.text).collect();
                match words.len() {
                    0 => Err(ParseError {
                        column: lexeme.column,
                        message: "expected words inside the quotes".into(),
                    }),
                    1 => Ok(Query::Term(words.into_iter().next().unwrap_or_default())),
                    _ => Ok(Query::Phrase(words)),
                }
            }
            Kind::Word(word) => {
                self.next += 1;
                word_query(&word, lexeme.column)
            }
            _ => Err(self.expected("a term")),
        }
    }
}

/// A bare word, `#tag`, `@user`, `prefix*` or `field:value`.
fn word_query(word: &str, column: usize) -> Result<Query, ParseError> {
    if let Some(tag) = word.strip_prefix('#').or_else(|| word.strip_prefix('＃')) {
        return non_empty(tag, column, "a hashtag after #")
            .map(|tag| Query::Hashtag(normalize_word(tag)));
    }
    if let Some(user) = word.strip_prefix('@').or_else(|| word.strip_prefix('＠')) {
        return non_empty(user, column, "a handle after @")
            .map(|user| Query::Mention(user.to_lowercase()));
    }
    if let Some((field, value)) = word.split_once(':').filter(|(field, _)| is_field(field)) {
        let value = value.trim_matches('"');
        let value_column = column + field.chars().count() + 1;
        return field_query(field, value, value_column);
    }
    if let Some(stem) = word.strip_suffix('*') {
        let stem = normalize_word(stem);
        if stem.chars().count() < 2 {
            return Err(ParseError {
                column,
                message: "expected at least two letters before *".into(),
            });
        }
        return Ok(Query::Prefix(stem));
    }
    let words: Vec<String> = analyze(word).into_iter().map(|token| token.text).collect();
    match words.len() {
        0 => Err(ParseError {
            column,
            message: format!("expected a word, found {word:?}, which has no letters or digits"),
        }),
        1 => Ok(Query::Term(words.into_iter().next().unwrap_or_default())),
        // `e-mail`, `نیو‌یورک`, a CJK word: its parts, in order.
        _ => Ok(Query::Phrase(words)),
    }
}

fn non_empty<'a>(value: &'a str, column: usize, what: &str) -> Result<&'a str, ParseError> {
    if value.is_empty() {
        Err(ParseError {
            column,
            message: format!("expected {what}"),
        })
    } else {
        Ok(value)
    }
}

const FIELDS: &[&str] = &[
    "from",
    "lang",
    "platform",
    "has",
    "is",
    "url",
    "domain",
    "country",
    "since",
    "until",
    "geo",
    "sentiment",
];

fn is_field(name: &str) -> bool {
    FIELDS.contains(&name)
}

fn field_query(field: &str, value: &str, column: usize) -> Result<Query, ParseError> {
    let error = |message: String| ParseError { column, message };
    if value.is_empty() {
        return Err(error(format!("expected a value after {field}:")));
    }
    match field {
        "from" => Ok(Query::From(value.trim_start_matches('@').to_lowercase())),
        "lang" => Ok(Query::Lang(value.to_lowercase())),
        "sentiment" => match value.to_lowercase().as_str() {
            "negative" | "neg" => Ok(Query::Sentiment("negative".into())),
            "neutral" => Ok(Query::Sentiment("neutral".into())),
            "positive" | "pos" => Ok(Query::Sentiment("positive".into())),
            _ => Err(error(format!(
                "expected negative, neutral or positive after sentiment:, found {value:?}"
            ))),
        },
        "platform" => Platform::parse(value).map(Query::Platform).ok_or_else(|| {
            let known: Vec<&str> = Platform::ALL
                .iter()
                .map(|platform| platform.as_str())
                .collect();
            error(format!(
                "expected a platform ({}), found {value:?}",
                known.join(", ")
            ))
        }),
        "has" => match value.to_lowercase().as_str() {
            "links" | "link" | "url" | "urls" => Ok(Query::Has(Has::Links)),
            "media" | "image" | "images" | "video" => Ok(Query::Has(Has::Media)),
            "geo" | "location" => Ok(Query::Has(Has::Geo)),
            _ => Err(error(format!(
                "expected links, media or geo after has:, found {value:?}"
            ))),
        },
        "is" => match value.to_lowercase().as_str() {
            "reply" => Ok(Query::Is(Is::Reply)),
            "share" | "retweet" | "boost" | "repost" => Ok(Query::Is(Is::Share)),
            "quote" => Ok(Query::Is(Is::Quote)),
            _ => Err(error(format!(
                "expected reply, share or quote after is:, found {value:?}"
            ))),
        },
        "url" => Ok(Query::Url(value.to_lowercase())),
        "domain" => Ok(Query::Domain(
            value.trim_start_matches("www.").to_lowercase(),
        )),
        "country" => {
            if value.len() == 2 && value.chars().all(|c| c.is_ascii_alphabetic()) {
                Ok(Query::Country(value.to_ascii_uppercase()))
            } else {
                Err(error(format!(
                    "expected a two-letter country code (IR, US), found {value:?}"
                )))
            }
        }
        "since" => time_bound(value).map(Query::Since).map_err(error),
        "until" => time_bound(value).map(Query::Until).map_err(error),
        "geo" => geo(value).map_err(error),
        _ => Err(error(format!("unknown field {field}"))),
    }
}

/// `2026-06-12`, `2026-06-12T18:00:00Z`, or relative: `-24h`, `-30m`, `-7d`, `-2w`.
fn time_bound(value: &str) -> Result<TimeBound, String> {
    if let Some(amount) = value.strip_prefix('-') {
        let split = amount
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(amount.len());
        let (number, unit) = amount.split_at(split);
        let number: i64 = number
            .parse()
            .map_err(|_| format!("expected a number in {value:?}, like -24h"))?;
        let seconds = match unit {
            "s" => 1,
            "m" | "min" => 60,
            "h" => 3_600,
            "d" => 86_400,
            "w" => 604_800,
            _ => {
                return Err(format!(
                    "expected a unit s, m, h, d or w in {value:?}, like -24h"
                ));
            }
        };
        return number
            .checked_mul(seconds)
            .and_then(chrono::Duration::try_seconds)
            .map(TimeBound::Ago)
            .ok_or_else(|| format!("{value:?} is too far back"));
    }
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(value) {
        return Ok(TimeBound::At(time.with_timezone(&chrono::Utc)));
    }
    if let Some(midnight) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
    {
        return Ok(TimeBound::At(midnight.and_utc()));
    }
    Err(format!(
        "expected a date (2026-06-12), a time (2026-06-12T18:00:00Z) or a span back from now (-24h), found {value:?}"
    ))
}

/// `lat,lon,radius` with the radius in km (default), m or mi.
fn geo(value: &str) -> Result<Query, String> {
    let parts: Vec<&str> = value.split(',').map(str::trim).collect();
    let [lat, lon, radius] = parts.as_slice() else {
        return Err(format!(
            "expected latitude,longitude,radius (35.69,51.39,25km), found {value:?}"
        ));
    };
    let lat: f64 = lat
        .parse()
        .ok()
        .filter(|lat: &f64| (-90.0..=90.0).contains(lat))
        .ok_or_else(|| format!("expected a latitude from -90 to 90, found {lat:?}"))?;
    let lon: f64 = lon
        .parse()
        .ok()
        .filter(|lon: &f64| (-180.0..=180.0).contains(lon))
        .ok_or_else(|| format!("expected a longitude from -180 to 180, found {lon:?}"))?;
    let (number, factor) = if let Some(number) = radius.strip_suffix("km") {
        (number, 1.0)
    } else if let Some(number) = radius.strip_suffix("mi") {
        (number, 1.609_344)
    } else if let Some(number) = radius.strip_suffix('m') {
        (number, 0.001)
    } else {
        (*radius, 1.0)
    };
    let radius_km = number
        .parse::<f64>()
        .ok()
        .filter(|radius| radius.is_finite() && *radius > 0.0)
        .map(|radius| radius * factor);
    let radius_km = radius_km.ok_or_else(|| {
        format!("expected a positive radius (25km, 10mi, 500m), found {radius:?}")
    })?;
    Ok(Query::Geo {
        lat,
        lon,
        radius_km,
    })
}
