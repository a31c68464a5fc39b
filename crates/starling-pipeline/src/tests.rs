//! The runner: every record reaches the sink, acknowledgements follow durable writes, and a
//! failing sink stops the run without acknowledging what it did not store.

use std::sync::{Arc, Mutex};

use super::*;

/// Emits `total` Jetstream lines and remembers what was acknowledged.
struct Lines {
    next: u64,
    total: u64,
    acknowledged: Arc<Mutex<Vec<u64>>>,
}

impl Source for Lines {
    fn next_batch(&mut self, max: usize) -> Result<Option<Batch<Record>>, PipelineError> {
        if self.next == self.total {
            return Ok(None);
        }
        let end = (self.next + max as u64).min(self.total);
        let items = (self.next..end)
            .map(|index| Record {
                origin: Origin::Generated("test".into()),
                format: if index == 3 { "nonsense".into() } else { "jetstream".into() },
                line: Some(index + 1),
                offset: None,
                collected_at: "2026-06-12T00:00:00Z".parse().unwrap(),
                bytes: RawRecord(format!(
                    r#"{{"did":"did:plc:a","time_us":{},"kind":"commit","commit":{{"rev":"r","operation":"create","collection":"app.bsky.feed.post","rkey":"k{index}","record":{{"text":"post {index}"}}}}}}"#,
                    1_781_222_400_000_000u64 + index
                ).into_bytes()),
            })
            .collect();
        let batch = Batch {
            offsets: self.next..end,
            items,
        };
        self.next = end;
        Ok(Some(batch))
    }

    fn acknowledge(&mut self, through: Offset) -> Result<(), PipelineError> {
        self.acknowledged.lock().unwrap().push(through.0);
        Ok(())
    }
}

#[derive(Default)]
struct Collect {
    items: Vec<Item>,
    fail_after: Option<usize>,
    finished: usize,
}

impl Sink for Collect {
    type Item = Item;

    fn write(&mut self, batch: Batch<Item>) -> Result<Offset, PipelineError> {
        if self
            .fail_after
            .is_some_and(|limit| self.items.len() >= limit)
        {
            return Err(PipelineError::Sink {
                sink: "collect".into(),
                message: "disk full".into(),
            });
        }
        self.items.extend(batch.items);
        Ok(Offset(batch.offsets.end))
    }

    fn finish(&mut self) -> Result<(), PipelineError> {
        self.finished += 1;
        Ok(())
    }
}

#[test]
fn every_record_is_decoded_and_acknowledged_in_order() {
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let mut source = Lines {
        next: 0,
        total: 1000,
        acknowledged: Arc::clone(&acknowledged),
    };
    let mut sink = Collect::default();
    let options = RunOptions {
        batch_size: 64,
        channel_depth: 2,
        ..RunOptions::default()
    };
    let stats = run(&mut source, &mut Decode::default(), &mut sink, options).unwrap();
    assert_eq!(stats.records, 1000);
    assert_eq!(stats.acknowledged, 1000);
    // What a sink keeps back for efficiency (an index commit) is flushed once, at the end.
    assert_eq!(sink.finished, 1);
    let posts = sink
        .items
        .iter()
        .filter(|item| matches!(item, Item::Post(_)))
        .count();
    let rejects: Vec<&Reject> = sink
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Reject { reject, .. } => Some(reject),
            _ => None,
        })
        .collect();
    assert_eq!(posts, 999);
    assert_eq!(rejects.len(), 1);
    assert_eq!(
        rejects[0].to_string(),
        "test:4: format: no decoder for format \"nonsense\""
    );
    let acknowledged = acknowledged.lock().unwrap();
    assert_eq!(acknowledged.last(), Some(&1000));
    assert!(acknowledged.windows(2).all(|pair| pair[0] < pair[1]));
}

#[test]
fn a_failing_sink_stops_the_run_and_leaves_the_rest_unacknowledged() {
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let mut source = Lines {
        next: 0,
        total: 10_000,
        acknowledged: Arc::clone(&acknowledged),
    };
    let mut sink = Collect {
        fail_after: Some(200),
        ..Collect::default()
    };
    let error = run(
        &mut source,
        &mut Decode::default(),
        &mut sink,
        RunOptions {
            batch_size: 100,
            channel_depth: 1,
            group_items: 1,
        },
    )
    .unwrap_err();
    assert_eq!(error.to_string(), "writing collect: disk full");
    assert_eq!(sink.finished, 0);
    assert!(
        acknowledged
            .lock()
            .unwrap()
            .iter()
            .all(|offset| *offset <= 200)
    );
}

#[test]
fn items_cross_a_process_boundary_as_json() {
    let item = Item::Reject {
        format: "jetstream".into(),
        record: Some(RawRecord(vec![0xff])),
        reject: Reject {
            source: "a.jsonl".into(),
            line: Some(2),
            field: "record".into(),
            reason: "bad".into(),
        },
    };
    let json = serde_json::to_string(&item).unwrap();
    assert!(json.starts_with(r#"{"type":"reject""#), "{json}");
    assert_eq!(serde_json::from_str::<Item>(&json).unwrap(), item);
}

/// A stage that panics on its second batch.
struct Fragile {
    batches: usize,
}

impl Stage for Fragile {
    type Input = Record;
    type Output = Item;

    fn process(&mut self, batch: Batch<Record>) -> Batch<Item> {
        self.batches += 1;
        assert!(self.batches < 2, "stage broke on batch {}", self.batches);
        Decode::default().process(batch)
    }
}

#[test]
fn a_panicking_stage_is_an_error_not_a_crash() {
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let mut source = Lines {
        next: 0,
        total: 1_000,
        acknowledged: Arc::clone(&acknowledged),
    };
    let mut sink = Collect::default();
    let error = run(
        &mut source,
        &mut Fragile { batches: 0 },
        &mut sink,
        RunOptions {
            batch_size: 10,
            channel_depth: 1,
            group_items: 1,
        },
    )
    .unwrap_err();
    assert!(
        matches!(error, PipelineError::Panicked(ref message) if message.contains("stage broke on batch 2")),
        "{error}"
    );
    assert!(
        acknowledged
            .lock()
            .unwrap()
            .iter()
            .all(|offset| *offset <= 10)
    );
}

#[test]
fn a_batch_size_of_zero_still_moves_records() {
    let mut source = Lines {
        next: 0,
        total: 5,
        acknowledged: Arc::default(),
    };
    let mut sink = Collect::default();
    let stats = run(
        &mut source,
        &mut Decode::default(),
        &mut sink,
        RunOptions {
            batch_size: 0,
            channel_depth: 1,
            ..RunOptions::default()
        },
    )
    .unwrap();
    assert_eq!(stats.records, 5);
}

/// Counts its writes, and is slow on the first, so that batches queue up behind it.
#[derive(Default)]
struct Slow {
    writes: usize,
    offsets: Vec<std::ops::Range<u64>>,
    items: usize,
}

impl Sink for Slow {
    type Item = Item;

    fn write(&mut self, batch: Batch<Item>) -> Result<Offset, PipelineError> {
        if self.writes == 0 {
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
        self.writes += 1;
        self.items += batch.items.len();
        self.offsets.push(batch.offsets.clone());
        Ok(Offset(batch.offsets.end))
    }
}

#[test]
fn batches_waiting_behind_a_slow_write_are_written_together_in_order() {
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let mut source = Lines {
        next: 0,
        total: 1000,
        acknowledged: Arc::clone(&acknowledged),
    };
    let mut sink = Slow::default();
    let options = RunOptions {
        batch_size: 10,
        channel_depth: 100,
        group_items: 300,
    };
    let stats = run(&mut source, &mut Decode::default(), &mut sink, options).unwrap();
    assert_eq!(stats.acknowledged, 1000);
    assert_eq!(sink.items, 1000);
    // A hundred batches of ten, joined while the first write slept.
    assert!(sink.writes < 50, "{} writes", sink.writes);
    // Joined batches cover contiguous offsets, in order, and none is larger than allowed
    // (by more than the batch that crossed the limit).
    assert_eq!(sink.offsets.first().map(|range| range.start), Some(0));
    assert!(
        sink.offsets
            .windows(2)
            .all(|pair| pair[0].end == pair[1].start)
    );
    assert!(
        sink.offsets
            .iter()
            .all(|range| range.end - range.start < 300 + 10)
    );
    assert_eq!(acknowledged.lock().unwrap().last(), Some(&1000));
}

#[test]
fn watch_matches_are_archived_with_their_posts_and_told_to_listeners() {
    let dir = tempfile::tempdir().unwrap();
    let store = starling_store::Store::open(dir.path()).unwrap();
    let mut matcher = starling_watch::Matcher::default();
    for (name, query) in [("all", "post"), ("seven", "\"post 7\""), ("none", "karaj")] {
        matcher
            .insert(&starling_watch::WatchDef::new(name, query))
            .unwrap();
    }
    let told = Arc::new(Mutex::new(Vec::new()));
    let heard = Arc::clone(&told);
    let mut sink =
        crate::sinks::StoreSink::new(&store, dir.path(), "2026-06-12T00:00:00Z".parse().unwrap())
            .with_watches(matcher)
            .on_match(move |found, post| {
                // Told only after the match is durable: the archive already holds it.
                heard
                    .lock()
                    .unwrap()
                    .push((found.watch.clone(), post.key.as_str().to_owned()));
            });
    let mut source = Lines {
        next: 0,
        total: 20,
        acknowledged: Arc::default(),
    };
    run(
        &mut source,
        &mut Decode::default(),
        &mut sink,
        RunOptions::default(),
    )
    .unwrap();
    // Line 4 is in a format nothing decodes: 19 posts.
    assert_eq!(sink.matches.get("all"), Some(&19));
    assert_eq!(sink.matches.get("seven"), Some(&1));
    assert_eq!(sink.matches.get("none"), None);
    let told = told.lock().unwrap();
    assert_eq!(told.len(), 20);
    let (stored, total) = store.matches_of("seven", 10).unwrap();
    assert_eq!(total, 1);
    assert!(told.contains(&("seven".to_owned(), stored[0].key.clone())));
    assert_eq!(store.matches_of("all", 0).unwrap().1, 19);
}
