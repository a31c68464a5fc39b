//! Decoding records shaped as each platform writes them, and rejecting broken ones cleanly.

use super::*;

fn context(source: &Source) -> Context<'_> {
    Context {
        source,
        line: Some(3),
        offset: Some(100),
        collected_at: "2026-06-12T10:00:00Z".parse().unwrap(),
    }
}

#[test]
fn broken_json_is_rejected_with_source_line_and_column() {
    let source = Source::File("capture.jsonl".into());
    for format in [Format::TwitterV2, Format::Mastodon, Format::Jetstream] {
        let decoded = decode(format, br#"{"data": [1, 2"#, &context(&source));
        assert!(decoded.posts.is_empty());
        let reject = decoded.rejects[0].to_string();
        assert!(
            reject.starts_with("capture.jsonl:3: record: not a"),
            "{reject}"
        );
        assert!(reject.contains("column"), "{reject}");
    }
    let decoded = decode(Format::Rss, b"<rss><channel><item>", &context(&source));
    assert_eq!(decoded.rejects[0].field, "document");
}

#[test]
fn one_bad_tweet_does_not_lose_the_others() {
    let page = br#"{"data":[{"id":"1","text":"no date and not a snowflake"},{"id":"1403216129661628420","text":"ok #a","created_at":"2021-06-11T05:00:00.000Z","entities":{"hashtags":[{"start":3,"end":5,"tag":"a"}]}},{"id":5}],"errors":[{"resource_id":"99","title":"Not Found Error","detail":"Could not find tweet with ids: [99]."}]}"#;
    let source = Source::File("page.jsonl".into());
    let decoded = decode(Format::TwitterV2, page, &context(&source));
    assert_eq!(decoded.posts.len(), 1);
    assert_eq!(
        decoded.posts[0].entities.hashtags[0]
            .span
            .unwrap()
            .byte_start,
        3
    );
    assert_eq!(decoded.rejects.len(), 2);
    assert_eq!(decoded.rejects[0].field, "data[0].created_at");
    assert_eq!(decoded.rejects[1].field, "data[2]");
    assert_eq!(decoded.notices[0].key.as_deref(), Some("twitter:99"));
    assert_eq!(
        decoded.posts[0].raw.as_str().unwrap(),
        r#"{"id":"1403216129661628420","text":"ok #a","created_at":"2021-06-11T05:00:00.000Z","entities":{"hashtags":[{"start":3,"end":5,"tag":"a"}]}}"#
    );
}

#[test]
fn mastodon_boost_takes_the_boosted_text() {
    let status = br#"{"id":"2","uri":"https://a.example/users/b/statuses/2/activity","created_at":"2026-06-12T00:00:00.000Z","content":"","account":{"username":"b","acct":"b","url":"https://a.example/@b"},"reblog":{"id":"1","uri":"https://c.example/users/d/statuses/1","created_at":"2026-06-11T00:00:00.000Z","content":"<p>hi &amp; <a href=\"x\" class=\"mention hashtag\">#<span>Tag</span></a></p>","language":"en","account":{"username":"d","acct":"d@c.example"},"tags":[{"name":"tag"}]}}"#;
    let source = Source::Generated("test".into());
    let decoded = decode(Format::Mastodon, status, &context(&source));
    let post = &decoded.posts[0];
    assert_eq!(post.text, "hi & #Tag");
    assert_eq!(post.author.handle, "b@a.example");
    assert_eq!(
        post.share_of
            .as_ref()
            .unwrap()
            .key
            .as_ref()
            .unwrap()
            .as_str(),
        "https://c.example/users/d/statuses/1"
    );
    assert_eq!(post.entities.hashtags[0].tag, "tag");
    assert_eq!(post.declared_lang.as_deref(), Some("en"));
}

#[test]
fn jetstream_delete_is_a_notice_and_facets_outside_the_text_lose_their_span() {
    let source = Source::Generated("test".into());
    let delete = br#"{"did":"did:plc:x","time_us":1781222400000000,"kind":"commit","commit":{"rev":"r","operation":"delete","collection":"app.bsky.feed.post","rkey":"k"}}"#;
    let decoded = decode(Format::Jetstream, delete, &context(&source));
    assert_eq!(
        decoded.notices[0].key.as_deref(),
        Some("at://did:plc:x/app.bsky.feed.post/k")
    );
    let post = br#"{"did":"did:plc:x","time_us":1781222400000000,"kind":"commit","commit":{"rev":"r","operation":"create","collection":"app.bsky.feed.post","rkey":"k","record":{"text":"\u0647\u0644\u0648 #t","createdAt":"1999-01-01T00:00:00Z","facets":[{"index":{"byteStart":7,"byteEnd":9},"features":[{"$type":"app.bsky.richtext.facet#tag","tag":"t"}]},{"index":{"byteStart":1,"byteEnd":99},"features":[{"$type":"app.bsky.richtext.facet#tag","tag":"far"}]}]}}}"#;
    let decoded = decode(Format::Jetstream, post, &context(&source));
    let post = &decoded.posts[0];
    assert_eq!(post.entities.hashtags[0].span.unwrap().start, 4);
    assert_eq!(post.entities.hashtags[1].span, None);
    // A client clock decades off is not trusted: the relay's time stands.
    assert_eq!(post.created_at.to_rfc3339(), "2026-06-12T00:00:00+00:00");
}

#[test]
fn rss_items_keep_their_own_raw_bytes() {
    let feed = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://n.example/</link><item><title>A &amp; B</title><link>https://n.example/1</link><guid>https://n.example/1</guid><pubDate>Fri, 12 Jun 2026 01:00:00 +0000</pubDate><description>&lt;b&gt;x&lt;/b&gt; y</description></item><item><title>C</title><link>https://n.example/2</link><pubDate>Fri, 12 Jun 2026 02:00:00 +0000</pubDate></item></channel></rss>"#;
    let source = Source::Generated("test".into());
    let decoded = decode(Format::Rss, feed, &context(&source));
    assert_eq!(decoded.posts.len(), 2, "{:?}", decoded.rejects);
    assert_eq!(decoded.posts[0].key.as_str(), "rss:https://n.example/1");
    assert_eq!(decoded.posts[0].title.as_deref(), Some("A & B"));
    assert_eq!(decoded.posts[0].text, "x y");
    assert_eq!(decoded.posts[0].author.handle, "n.example");
    assert!(
        decoded.posts[1]
            .raw
            .as_str()
            .unwrap()
            .starts_with("<item><title>C</title>")
    );
}

#[test]
fn twitter_text_is_unescaped_and_entity_offsets_follow() {
    // Offsets count the escaped text: "#b" is at code points 12..14 of "a &amp; &lt;3 #b".
    let page = br#"{"data":[{"id":"1403216129661628420","text":"a &amp; &lt;3 #b","created_at":"2021-06-11T05:00:00.000Z","entities":{"hashtags":[{"start":14,"end":16,"tag":"b"}]}}]}"#;
    let source = Source::Generated("test".into());
    let decoded = decode(Format::TwitterV2, page, &context(&source));
    let post = &decoded.posts[0];
    assert_eq!(post.text, "a & <3 #b");
    let span = post.entities.hashtags[0].span.unwrap();
    assert_eq!(span.slice(&post.text), Some("#b"));
    assert_eq!((span.start, span.end), (7, 9));
}
