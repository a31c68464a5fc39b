//! Links in canonical form, so that the same article shared with different tracking tails
//! counts as one.

/// Query parameters that say who shared a link, not what it points to; `host` for the
/// parameters only some sites use that way (`?s=` is a WordPress search, but Twitter's
/// share marker).
fn is_tracking(name: &str, host: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(host);
    let site_specific = match host {
        "twitter.com" | "x.com" | "mobile.twitter.com" => matches!(name.as_str(), "s" | "t"),
        "youtube.com" | "m.youtube.com" | "youtu.be" => matches!(name.as_str(), "feature" | "si"),
        "open.spotify.com" => name == "si",
        "instagram.com" => name == "igsh",
        _ => false,
    };
    site_specific
        || name.starts_with("utm_")
        || matches!(
            name.as_str(),
            "fbclid"
                | "gclid"
                | "dclid"
                | "gclsrc"
                | "msclkid"
                | "mc_cid"
                | "mc_eid"
                | "igshid"
                | "yclid"
                | "twclid"
                | "ref_src"
                | "ref_url"
                | "_hsenc"
                | "_hsmi"
                | "mkt_tok"
                | "cmpid"
                | "ocid"
                | "spm"
                | "smid"
        )
}

/// The canonical form of a link: scheme and host lowercased (IDNA for non-ASCII hosts),
/// `www.` kept, default port, fragment and tracking parameters removed, an empty query
/// dropped, the remaining parameters in their order. `None` for what is not an http(s) URL.
pub fn canonical_url(link: &str) -> Option<String> {
    let trimmed = link.trim();
    let has_other_scheme = trimmed.split_once(':').is_some_and(|(scheme, _)| {
        !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphabetic())
    });
    if has_other_scheme && !trimmed.contains("://") {
        return None;
    }
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("http://{trimmed}")
    };
    let mut url = url::Url::parse(&with_scheme).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    url.set_fragment(None);
    let host = url.host_str().unwrap_or_default().to_owned();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| !is_tracking(name, &host))
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    let mut text = String::from(url);
    // "https://example.com/" and "https://example.com" are one page.
    if url_path_is_root(&text) {
        text.pop();
    }
    Some(text)
}

fn url_path_is_root(text: &str) -> bool {
    text.ends_with('/') && text.matches('/').count() == 3
}

/// The host of a canonical link without `www.`, for counting by site.
pub fn domain(canonical: &str) -> Option<String> {
    let url = url::Url::parse(canonical).ok()?;
    let host = url.host_str()?;
    Some(host.strip_prefix("www.").unwrap_or(host).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_parameters_fragments_and_case_go() {
        assert_eq!(
            canonical_url(
                "HTTPS://WWW.BBC.co.uk:443/news/world-123?utm_source=twitter&utm_medium=social#top"
            ),
            Some("https://www.bbc.co.uk/news/world-123".into())
        );
        assert_eq!(
            canonical_url("https://example.com/a?id=7&fbclid=XYZ&page=2"),
            Some("https://example.com/a?id=7&page=2".into())
        );
        assert_eq!(
            canonical_url("https://example.com/"),
            Some("https://example.com".into())
        );
        // Site-specific markers go only where the site uses them.
        assert_eq!(
            canonical_url("https://twitter.com/a/status/1?s=20&t=abc"),
            Some("https://twitter.com/a/status/1".into())
        );
        assert_eq!(
            canonical_url("https://blog.example/?s=protest"),
            Some("https://blog.example/?s=protest".into())
        );
        assert_eq!(
            canonical_url("bbc.com/persian"),
            Some("http://bbc.com/persian".into())
        );
        assert_eq!(
            canonical_url("https://مثال.ایران/خبر"),
            Some("https://xn--mgbh0fb.xn--mgba3a4f16a/%D8%AE%D8%A8%D8%B1".into())
        );
        assert_eq!(canonical_url("mailto:someone@example.com"), None);
        assert_eq!(canonical_url("not a url at all"), None);
    }

    #[test]
    fn domains_drop_www() {
        assert_eq!(
            domain("https://www.bbc.co.uk/news").as_deref(),
            Some("bbc.co.uk")
        );
        assert_eq!(domain("https://t.co/abc").as_deref(), Some("t.co"));
    }
}
