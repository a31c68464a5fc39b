//! Decoding records shaped as each platform writes them, and rejecting broken ones cleanly.

use super::*;
use crate::csv::{CsvDecoder, CsvMapping, record_complete};

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
    let page = br#"{"data":[{"id":"1","text":"no date and not a snowflake","created_at":"last week"},{"id":"1403216129661628420","text":"ok #a","created_at":"2021-06-11T05:00:00.000Z","entities":{"hashtags":[{"start":3,"end":5,"tag":"a"}]}},{"id":5}],"errors":[{"resource_id":"99","title":"Not Found Error","detail":"Could not find tweet with ids: [99]."}]}"#;
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

#[test]
fn twitter_v1_stream_notices_are_kept_as_data() {
    let source = Source::File("stream.jsonl".into());
    let lines: [&[u8]; 5] = [
        br#"{"limit":{"track":1234,"timestamp_ms":"1245000000000"}}"#,
        br#"{"delete":{"status":{"id":1,"id_str":"1403216129661628420","user_id":2,"user_id_str":"2"},"timestamp_ms":"1"}}"#,
        br#"{"disconnect":{"code":7,"stream_name":"s","reason":"admin logout"}}"#,
        br#"{"status_withheld":{"id":1403216129661628421,"user_id":2,"withheld_in_countries":["IR"]}}"#,
        br#"{"scrub_geo":{"user_id":2,"user_id_str":"2","up_to_status_id":3,"up_to_status_id_str":"3"}}"#,
    ];
    let notices: Vec<Notice> = lines
        .iter()
        .flat_map(|line| decode(Format::TwitterV1, line, &context(&source)).notices)
        .collect();
    let kinds: Vec<&str> = notices.iter().map(|notice| notice.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["limit", "delete", "disconnect", "withheld", "scrub_geo"]
    );
    assert!(
        notices[0]
            .detail
            .starts_with("1234 matching tweets not delivered")
    );
    assert_eq!(
        notices[1].key.as_deref(),
        Some("twitter:1403216129661628420")
    );
    assert_eq!(notices[2].detail, "code 7: admin logout");
    assert_eq!(
        notices[3].key.as_deref(),
        Some("twitter:1403216129661628421")
    );
}

#[test]
fn twitter_v1_extended_retweet_takes_the_original_whole() {
    let line = br#"{"created_at":"Sat Jun 13 18:04:05 +0000 2009","id":2147052435,"id_str":"2147052435","text":"RT @mousavi1388: \u0645\u0648\u0633\u0648\u06cc &amp; #iranelection \u2026","truncated":false,"user":{"id_str":"10","screen_name":"relay","name":"Relay","followers_count":5},"lang":"fa","retweeted_status":{"created_at":"Sat Jun 13 18:00:00 +0000 2009","id_str":"2147000000","text":"cut","truncated":true,"user":{"id_str":"20","screen_name":"mousavi1388"},"extended_tweet":{"full_text":"\u0645\u0648\u0633\u0648\u06cc &amp; #iranelection https://t.co/x","entities":{"hashtags":[{"text":"iranelection","indices":[12,25]}],"urls":[{"url":"https://t.co/x","expanded_url":"https://example.org/a","indices":[26,40]}],"user_mentions":[],"symbols":[]}}},"coordinates":{"type":"Point","coordinates":[51.4,35.7]},"place":{"id":"p1","full_name":"Tehran, Iran","country_code":"IR"},"retweet_count":3}"#;
    let source = Source::File("twarc1.jsonl".into());
    let decoded = decode(Format::TwitterV1, line, &context(&source));
    assert!(decoded.rejects.is_empty(), "{:?}", decoded.rejects);
    let post = &decoded.posts[0];
    assert_eq!(post.key.as_str(), "twitter:2147052435");
    assert_eq!(post.created_at.to_rfc3339(), "2009-06-13T18:04:05+00:00");
    assert_eq!(post.text, "موسوی & #iranelection https://t.co/x");
    let tag = &post.entities.hashtags[0];
    assert_eq!(tag.span.unwrap().slice(&post.text), Some("#iranelection"));
    assert_eq!(post.entities.urls[0].target(), "https://example.org/a");
    assert_eq!(
        post.share_of.as_ref().unwrap().author_handle.as_deref(),
        Some("mousavi1388")
    );
    let geo = post.geo.as_ref().unwrap();
    assert_eq!(
        (geo.point.unwrap().lat, geo.country.as_deref()),
        (35.7, Some("IR"))
    );
    assert_eq!(post.provenance.format, "twitter-v1");
}

#[test]
fn twitter_v1_arrays_decode_each_element_and_name_the_bad_one() {
    let array = br#"[{"id_str":"1403216129661628420","text":"a","created_at":"Fri Jun 11 05:00:00 +0000 2021","user":{"id_str":"1","screen_name":"a"}},{"id_str":"2","text":"b","created_at":"yesterday"},{"screen_name":"not a tweet"}]"#;
    let source = Source::File("timeline.json".into());
    let decoded = decode(Format::TwitterV1, array, &context(&source));
    assert_eq!(decoded.posts.len(), 1);
    assert_eq!(decoded.rejects.len(), 2);
    assert_eq!(decoded.rejects[0].field, "[1].created_at");
    assert_eq!(decoded.rejects[1].field, "[2].id_str");
    assert!(
        decoded.posts[0]
            .raw
            .as_str()
            .unwrap()
            .starts_with(r#"{"id_str":"1403216129661628420""#)
    );
}

#[test]
fn twitter_v2_user_errors_name_no_post() {
    let page = br#"{"data":[],"errors":[{"resource_id":"12","resource_type":"user","title":"Forbidden","detail":"User has been suspended: [12]."},{"resource_id":"99","resource_type":"tweet","title":"Not Found Error"}]}"#;
    let source = Source::Generated("test".into());
    let decoded = decode(Format::TwitterV2, page, &context(&source));
    assert_eq!(decoded.notices[0].key, None);
    assert!(decoded.notices[0].detail.contains("suspended"));
    assert_eq!(decoded.notices[1].key.as_deref(), Some("twitter:99"));
}

#[test]
fn twitter_v2_long_posts_use_the_note_text_and_its_entities() {
    let page = br#"{"data":[{"id":"1403216129661628420","text":"short https://t.co/self","created_at":"2023-06-11T05:00:00.000Z","entities":{"urls":[{"start":6,"end":23,"url":"https://t.co/self"}]},"note_tweet":{"text":"a long text with #tag at the end","entities":{"hashtags":[{"start":17,"end":21,"tag":"tag"}]}}}]}"#;
    let source = Source::Generated("test".into());
    let post = &decode(Format::TwitterV2, page, &context(&source)).posts[0];
    assert_eq!(post.text, "a long text with #tag at the end");
    assert!(post.entities.urls.is_empty());
    assert_eq!(
        post.entities.hashtags[0].span.unwrap().slice(&post.text),
        Some("#tag")
    );
}

#[test]
fn bluesky_quotes_with_media_are_quotes_not_rejects() {
    let event = br#"{"did":"did:plc:x","time_us":1781222400000000,"kind":"commit","commit":{"rev":"r","operation":"create","collection":"app.bsky.feed.post","rkey":"k","record":{"text":"look","createdAt":"2026-06-12T00:00:00Z","embed":{"$type":"app.bsky.embed.recordWithMedia","media":{"$type":"app.bsky.embed.images","images":[]},"record":{"$type":"app.bsky.embed.record","record":{"uri":"at://did:plc:y/app.bsky.feed.post/q","cid":"c"}}}}}}"#;
    let source = Source::Generated("test".into());
    let decoded = decode(Format::Jetstream, event, &context(&source));
    assert!(decoded.rejects.is_empty(), "{:?}", decoded.rejects);
    assert_eq!(
        decoded.posts[0]
            .quote_of
            .as_ref()
            .unwrap()
            .key
            .as_ref()
            .unwrap()
            .as_str(),
        "at://did:plc:y/app.bsky.feed.post/q"
    );
}

#[test]
fn bluesky_text_that_normalizes_keeps_its_entities_without_positions() {
    // "e" + combining acute before the tag: NFC shortens the text.
    let event = "{\"did\":\"did:plc:x\",\"time_us\":1781222400000000,\"kind\":\"commit\",\"commit\":{\"rev\":\"r\",\"operation\":\"create\",\"collection\":\"app.bsky.feed.post\",\"rkey\":\"k\",\"record\":{\"text\":\"cafe\u{301} #t\",\"facets\":[{\"index\":{\"byteStart\":7,\"byteEnd\":9},\"features\":[{\"$type\":\"app.bsky.richtext.facet#tag\",\"tag\":\"t\"}]}]}}}";
    let source = Source::Generated("test".into());
    let post = &decode(Format::Jetstream, event.as_bytes(), &context(&source)).posts[0];
    assert_eq!(post.text, "caf\u{e9} #t");
    assert_eq!(post.entities.hashtags[0].tag, "t");
    assert_eq!(post.entities.hashtags[0].span, None);
}

#[test]
fn rss_items_without_guid_get_stable_keys() {
    let feed = br#"<rss version="2.0"><channel><title>T</title><item><title>Only a title</title></item><item><title>Linked</title><link>https://n.example/a</link></item></channel></rss>"#;
    let source = Source::Generated("test".into());
    let first = decode(Format::Rss, feed, &context(&source));
    let second = decode(Format::Rss, feed, &context(&source));
    let keys = |decoded: &Decoded| {
        decoded
            .posts
            .iter()
            .map(|post| post.key.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&first), keys(&second));
    assert!(
        keys(&first)[0].starts_with("rss:title-"),
        "{:?}",
        keys(&first)
    );
    assert_eq!(keys(&first)[1], "rss:https://n.example/a");
}

#[test]
fn mastodon_streaming_events_and_rest_arrays() {
    let source = Source::File("stream.sse".into());
    let update = b"event: update\ndata: {\"id\":\"1\",\"uri\":\"https://m.example/users/a/statuses/1\",\"created_at\":\"2026-06-12T00:00:00Z\",\"content\":\"<p>hi</p>\",\"account\":{\"username\":\"a\",\"acct\":\"a\",\"url\":\"https://m.example/@a\"}}\n";
    let decoded = decode(Format::Mastodon, update, &context(&source));
    assert_eq!(decoded.posts[0].text, "hi");
    let delete = decode(
        Format::Mastodon,
        b"event: delete\ndata: 109\n",
        &context(&source),
    );
    assert_eq!(delete.notices[0].kind, "delete");
    assert!(delete.notices[0].detail.contains("109"));
    let heartbeat = decode(Format::Mastodon, b":thump\n", &context(&source));
    assert!(
        heartbeat.posts.is_empty() && heartbeat.rejects.is_empty() && heartbeat.notices.is_empty()
    );
    let garbage = decode(Format::Mastodon, b"hello world", &context(&source));
    assert!(
        garbage.rejects[0]
            .reason
            .contains("not JSON and not a server-sent event")
    );
    let array = br#"[{"id":"1","uri":"https://m.example/users/a/statuses/1","created_at":"2026-06-12T00:00:00Z","content":"<p>one</p>","account":{"username":"a","acct":"a"}},{"id":"2"}]"#;
    let decoded = decode(Format::Mastodon, array, &context(&source));
    assert_eq!(decoded.posts.len(), 1);
    assert_eq!(decoded.rejects[0].field, "[1]");
}

#[test]
fn reddit_comments_and_submissions_with_numeric_or_string_times() {
    let source = Source::File("RC_2009-06.zst".into());
    let comment = br#"{"id":"c0abc","name":"t1_c0abc","author":"neda_fan","author_fullname":"t2_xyz","body":"Stay safe &amp; #iranelection","created_utc":"1244916245","subreddit":"worldnews","parent_id":"t3_8sq3x","link_id":"t3_8sq3x","permalink":"/r/worldnews/comments/8sq3x/_/c0abc/","score":-3}"#;
    let post = &decode(Format::Reddit, comment, &context(&source)).posts[0];
    assert_eq!(post.key.as_str(), "reddit:t1_c0abc");
    assert_eq!(post.created_at.to_rfc3339(), "2009-06-13T18:04:05+00:00");
    assert_eq!(
        post.reply_to
            .as_ref()
            .unwrap()
            .key
            .as_ref()
            .unwrap()
            .as_str(),
        "reddit:t3_8sq3x"
    );
    assert_eq!(post.community.as_deref(), Some("r/worldnews"));
    assert_eq!(post.metrics.likes, Some(0));
    let submission = br#"{"id":"8sq3x","author":"[deleted]","title":"Iran election protests","selftext":"[removed]","url":"https://news.example/a","is_self":false,"created_utc":1244900000.0,"subreddit":"worldnews","num_comments":1520}"#;
    let decoded = decode(Format::Reddit, submission, &context(&source));
    let post = &decoded.posts[0];
    assert_eq!(post.key.as_str(), "reddit:t3_8sq3x");
    assert_eq!(post.title.as_deref(), Some("Iran election protests"));
    assert_eq!(post.entities.urls[0].url, "https://news.example/a");
    assert_eq!(decoded.notices[0].kind, "deleted");
    let bad = decode(
        Format::Reddit,
        br#"{"id":"x","body":"hi","created_utc":"soon"}"#,
        &context(&source),
    );
    assert_eq!(bad.rejects[0].field, "created_utc");
}

#[test]
fn telegram_exports_of_one_chat_or_a_whole_account() {
    let chat = r##"{"name":"Tehran Live","type":"public_channel","id":1001,"messages":[
        {"id":1,"type":"service","date":"2009-06-13T10:00:00","date_unixtime":"1244887200","action":"create_channel"},
        {"id":2,"type":"message","date":"2009-06-13T10:01:00","date_unixtime":"1244887260","from":"Tehran Live","from_id":"channel1001","text":["جمعیت در ",{"type":"hashtag","text":"#آزادی"}," ",{"type":"text_link","text":"here","href":"https://news.example/x"}]},
        {"id":3,"type":"message","date":"2009-06-13T10:02:00","from":"x","text":"no unix time"},
        {"id":4,"type":"message","date_unixtime":"1244887380","from_id":"user5","text":"reply","reply_to_message_id":2,"forwarded_from":"Other Channel","photo":"photos/1.jpg"}
    ]}"##;
    let source = Source::File("result.json".into());
    let decoded = decode(Format::Telegram, chat.as_bytes(), &context(&source));
    assert_eq!(decoded.posts.len(), 2);
    let post = &decoded.posts[0];
    assert_eq!(post.key.as_str(), "telegram:1001/2");
    assert_eq!(post.text, "جمعیت در #آزادی here");
    assert_eq!(post.entities.hashtags[0].tag, "آزادی");
    assert_eq!(
        post.entities.hashtags[0].span.unwrap().slice(&post.text),
        Some("#آزادی")
    );
    assert_eq!(post.entities.urls[0].target(), "https://news.example/x");
    assert_eq!(post.community.as_deref(), Some("Tehran Live"));
    assert_eq!(decoded.rejects.len(), 1);
    assert_eq!(decoded.rejects[0].field, "messages[2].date_unixtime");
    let reply = &decoded.posts[1];
    assert_eq!(
        reply
            .reply_to
            .as_ref()
            .unwrap()
            .key
            .as_ref()
            .unwrap()
            .as_str(),
        "telegram:1001/2"
    );
    assert_eq!(
        reply.share_of.as_ref().unwrap().author_handle.as_deref(),
        Some("Other Channel")
    );
    assert_eq!(reply.media[0].kind, "photo");

    let account =
        format!(r#"{{"about":"x","chats":{{"about":"y","list":[{chat},{{"name":"broken"}}]}}}}"#);
    let decoded = decode(Format::Telegram, account.as_bytes(), &context(&source));
    assert_eq!(decoded.posts.len(), 2);
    assert!(
        decoded
            .rejects
            .iter()
            .any(|reject| reject.field == "chats.list[1].id"),
        "{:?}",
        decoded.rejects
    );
}

#[test]
fn csv_rows_through_4cat_columns_or_a_mapping() {
    let source = Source::File("export.csv".into());
    let header = "\u{feff}id,thread_id,author,body,timestamp,extra\n".as_bytes();
    let decoder = CsvDecoder::new(
        header,
        &CsvMapping::default(),
        starling_model::Platform::Other,
        &context(&source),
    )
    .unwrap();
    let row =
        "1403216129661628420,1,@a,\"line one\nline \"\"two\"\" #x\",2021-06-11 05:00:00,ignored\n"
            .as_bytes();
    assert!(record_complete(row));
    assert!(!record_complete(b"1,1,a,\"open"));
    let post = &decoder.decode(row, &context(&source)).posts[0];
    assert_eq!(post.id, "1403216129661628420");
    assert_eq!(post.author.handle, "a");
    assert_eq!(post.text, "line one\nline \"two\" #x");
    assert_eq!(post.created_at.to_rfc3339(), "2021-06-11T05:00:00+00:00");
    assert_eq!(post.reply_to.as_ref().unwrap().id, "1");
    let bad = decoder.decode(b"2,2,a,text,next tuesday\n", &context(&source));
    assert_eq!(bad.rejects[0].field, "timestamp");
    assert!(bad.rejects[0].reason.contains("next tuesday"));

    let mapping =
        CsvMapping::parse("body=text, timestamp=created_at, platform=network, language=lang")
            .unwrap();
    let decoder = CsvDecoder::new(
        b"id,author,text,created_at,network,lang\n",
        &mapping,
        starling_model::Platform::Other,
        &context(&source),
    )
    .unwrap();
    let post = &decoder
        .decode(b"9,b,hello,1244916245,mastodon,fa\n", &context(&source))
        .posts[0];
    assert_eq!(post.platform, starling_model::Platform::Mastodon);
    assert_eq!(post.key.as_str(), "mastodon:9");
    assert_eq!(post.declared_lang.as_deref(), Some("fa"));
    assert_eq!(post.created_at.to_rfc3339(), "2009-06-13T18:04:05+00:00");

    let missing = CsvDecoder::new(
        b"id,author,text\n",
        &CsvMapping::default(),
        starling_model::Platform::Other,
        &context(&source),
    )
    .unwrap_err();
    assert!(
        missing.reason.contains("no column \"body\"")
            && missing.reason.contains("id, author, text"),
        "{missing}"
    );
    assert!(
        CsvMapping::parse("bdy=text")
            .unwrap_err()
            .contains("unknown field \"bdy\"")
    );
}

#[test]
fn every_format_parses_back_from_its_name() {
    // An exhaustive match: a new variant fails to compile here until it is listed in ALL.
    let listed = |format: Format| match format {
        Format::TwitterV1
        | Format::TwitterV2
        | Format::Mastodon
        | Format::Jetstream
        | Format::Rss
        | Format::Reddit
        | Format::Telegram
        | Format::Csv => Format::ALL.contains(&format),
    };
    for format in [
        Format::TwitterV1,
        Format::TwitterV2,
        Format::Mastodon,
        Format::Jetstream,
        Format::Rss,
        Format::Reddit,
        Format::Telegram,
        Format::Csv,
    ] {
        assert!(listed(format), "{format} missing from Format::ALL");
    }
    for format in Format::ALL {
        assert_eq!(Format::parse(format.name()), Some(format));
    }
    assert_eq!(Format::parse("twitter"), None);
}

#[test]
fn entities_are_found_where_the_platform_lists_none_and_placed_where_it_lists_no_positions() {
    let source = Source::Generated("test".into());
    let comment = br#"{"id":"c1","name":"t1_c1","author":"a","body":"Look #Tehran @someone https://news.bbc.co.uk/x","created_utc":1244916245}"#;
    let post = &decode(Format::Reddit, comment, &context(&source)).posts[0];
    assert_eq!(post.entities.hashtags[0].tag, "Tehran");
    assert_eq!(post.entities.mentions[0].handle, "someone");
    assert_eq!(post.entities.urls[0].url, "https://news.bbc.co.uk/x");
    let status = br#"{"id":"1","uri":"https://m.example/users/a/statuses/1","created_at":"2026-06-12T00:00:00Z","content":"<p>Hi <span class=\"h-card\"><a href=\"https://o.example/@bob\" class=\"u-url mention\">@<span>bob</span></a></span> <a href=\"https://m.example/tags/Tehran\" class=\"mention hashtag\" rel=\"tag\">#<span>Tehran</span></a> <a href=\"https://news.example/x\">news.example/x</a></p>","account":{"username":"a","acct":"a"},"tags":[{"name":"tehran"}],"mentions":[{"acct":"bob@o.example","url":"https://o.example/@bob"}]}"#;
    let post = &decode(Format::Mastodon, status, &context(&source)).posts[0];
    assert_eq!(post.text, "Hi @bob #Tehran news.example/x");
    assert_eq!(post.entities.hashtags[0].tag, "tehran");
    assert_eq!(
        post.entities.hashtags[0].span.unwrap().slice(&post.text),
        Some("#Tehran")
    );
    assert_eq!(
        post.entities.mentions[0].span.unwrap().slice(&post.text),
        Some("@bob")
    );
    // The link comes from the status's own markup, as Mastodon rendered it.
    assert_eq!(post.entities.urls[0].target(), "https://news.example/x");
    assert_eq!(
        post.entities.urls[0].span.unwrap().slice(&post.text),
        Some("news.example/x")
    );
}

#[test]
fn edits_are_posts_with_a_notice_that_they_replace_an_earlier_version() {
    let source = Source::Generated("test".into());
    let event = br#"{"did":"did:plc:x","time_us":1781222400000000,"kind":"commit","commit":{"rev":"r","operation":"update","collection":"app.bsky.feed.post","rkey":"k","record":{"text":"fixed typo"}}}"#;
    let decoded = decode(Format::Jetstream, event, &context(&source));
    assert_eq!(decoded.posts[0].text, "fixed typo");
    assert_eq!(decoded.notices[0].kind, "edit");
    assert_eq!(
        decoded.notices[0].key.as_deref(),
        Some("at://did:plc:x/app.bsky.feed.post/k")
    );
    let edit = b"event: status.update\ndata: {\"id\":\"1\",\"uri\":\"https://m.example/users/a/statuses/1\",\"created_at\":\"2026-06-12T00:00:00Z\",\"content\":\"<p>v2</p>\",\"account\":{\"username\":\"a\",\"acct\":\"a\"}}\n";
    let decoded = decode(Format::Mastodon, edit, &context(&source));
    assert_eq!(decoded.posts[0].text, "v2");
    assert_eq!(
        decoded.notices[0].key.as_deref(),
        Some("https://m.example/users/a/statuses/1")
    );
}
