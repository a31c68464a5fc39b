//! `starling bench sources`: posts/s through the Jetstream (WebSocket) and Mastodon
//! (server-sent events) connectors from a loopback server that sends as fast as it can: first
//! into a sink that only counts (the connector's own ceiling), then through decoding into a
//! durable, indexed archive (what a user gets).

use std::io::Write;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use starling_pipeline::sinks::StoreSink;
use starling_pipeline::{Batch, Decode, Offset, PipelineError, RunOptions, Sink, run};
use starling_simulate::{Config, Generator};
use starling_sources::{Kind, SourceConfig};
use starling_store::{SearchIndex, Store};

/// Flags of `starling bench sources`.
#[derive(Debug, clap::Args)]
pub struct SourcesArgs {
    /// Posts each server sends.
    #[arg(long, default_value_t = 100_000)]
    posts: usize,
    /// One JSON object per measurement.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct SourceFigure {
    connector: &'static str,
    into: &'static str,
    posts: u64,
    seconds: f64,
    posts_per_sec: f64,
    mb_per_sec: f64,
    /// Sink writes (batches joined by group commit): fewer, larger writes cost less.
    writes: u64,
}

/// Records as a server sends them.
type Records = Vec<Vec<u8>>;

/// Generated Jetstream events and Mastodon statuses, `posts` of each.
fn records(posts: usize) -> anyhow::Result<(Records, Records)> {
    let generator = Generator::new(Config {
        posts: (posts as u64).saturating_mul(12).max(10_000),
        ..Config::default()
    })
    .map_err(|error| anyhow::anyhow!("cannot generate: {error}"))?;
    let (mut jetstream, mut mastodon) = (Vec::new(), Vec::new());
    for output in generator {
        match output.format {
            starling_formats::Format::Jetstream if jetstream.len() < posts => {
                jetstream.push(output.bytes);
            }
            starling_formats::Format::Mastodon if mastodon.len() < posts => {
                mastodon.push(output.bytes);
            }
            _ => {}
        }
        if jetstream.len() >= posts && mastodon.len() >= posts {
            break;
        }
    }
    Ok((jetstream, mastodon))
}

/// A WebSocket server sending every event to each connection, then holding it open.
fn websocket_server(events: Arc<Vec<Vec<u8>>>) -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let events = Arc::clone(&events);
            std::thread::spawn(move || {
                let Ok(mut socket) = tungstenite::accept(stream) else {
                    return;
                };
                for event in events.iter() {
                    let text = String::from_utf8_lossy(event).into_owned();
                    if socket.write(tungstenite::Message::text(text)).is_err() {
                        return;
                    }
                }
                let _ = socket.flush();
                std::thread::sleep(Duration::from_secs(3600));
            });
        }
    });
    Ok(port)
}

/// A Mastodon streaming server: every status as an `update` event, then held open.
fn sse_server(statuses: Arc<Vec<Vec<u8>>>) -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let statuses = Arc::clone(&statuses);
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match std::io::Read::read(&mut stream, &mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let mut out = std::io::BufWriter::with_capacity(1 << 16, stream);
                let _ = out.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n",
                );
                for status in statuses.iter() {
                    let written = out
                        .write_all(b"event: update\ndata: ")
                        .and_then(|()| out.write_all(status))
                        .and_then(|()| out.write_all(b"\n\n"));
                    if written.is_err() {
                        return;
                    }
                }
                let _ = out.flush();
                std::thread::sleep(Duration::from_secs(3600));
            });
        }
    });
    Ok(port)
}

/// Counts what arrives; durable at once.
struct Count(Arc<AtomicU64>);

impl Sink for Count {
    type Item = starling_pipeline::Record;

    fn write(&mut self, batch: Batch<Self::Item>) -> Result<Offset, PipelineError> {
        self.0
            .fetch_add(batch.items.len() as u64, Ordering::Relaxed);
        Ok(Offset(batch.offsets.end))
    }
}

/// Passes records through untouched (for the counting sink).
struct Pass;

impl starling_pipeline::Stage for Pass {
    type Input = starling_pipeline::Record;
    type Output = starling_pipeline::Record;

    fn process(&mut self, batch: Batch<Self::Input>) -> Batch<Self::Output> {
        batch
    }
}

fn measure(
    connector: &'static str,
    config: &SourceConfig,
    posts: u64,
    bytes: u64,
    into_store: bool,
) -> anyhow::Result<SourceFigure> {
    let work = tempfile::tempdir()?;
    let options = starling_sources::Options {
        data_dir: Some(work.path().to_owned()),
        ..starling_sources::Options::default()
    };
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let (mut sources, mut live) = starling_sources::start(std::slice::from_ref(config), options)?;
    let watcher = {
        let counter = Arc::clone(&counter);
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(600);
            while counter.load(Ordering::Relaxed) < posts && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
            let elapsed = started.elapsed();
            sources.stop();
            elapsed
        })
    };
    let options = RunOptions::default();
    let writes;
    if into_store {
        let store = Store::open(work.path())?;
        let index = SearchIndex::open(work.path())?;
        let mut sink = StoreSink::new(&store, work.path(), chrono::Utc::now())
            .with_index(index.indexer()?)
            .commit_every(Duration::from_millis(500));
        let seen = sink.posts_seen();
        let forward = {
            let counter = Arc::clone(&counter);
            std::thread::spawn(move || {
                while Arc::strong_count(&seen) > 1 {
                    counter.store(seen.load(Ordering::Relaxed), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(1));
                }
            })
        };
        writes = run(&mut live, &mut Decode::default(), &mut sink, options)?.batches;
        drop(sink);
        let _ = forward.join();
    } else {
        writes = run(
            &mut live,
            &mut Pass,
            &mut Count(Arc::clone(&counter)),
            options,
        )?
        .batches;
    }
    let elapsed = watcher
        .join()
        .map_err(|_| anyhow::anyhow!("the watcher thread panicked"))?;
    let got = counter.load(Ordering::Relaxed);
    if got < posts {
        anyhow::bail!("{connector}: only {got} of {posts} posts arrived within 10 minutes");
    }
    let seconds = elapsed.as_secs_f64();
    Ok(SourceFigure {
        connector,
        into: if into_store { "archive" } else { "count" },
        posts,
        seconds,
        posts_per_sec: posts as f64 / seconds,
        mb_per_sec: bytes as f64 / seconds / 1e6,
        writes,
    })
}

/// The same records imported from a JSON lines file through the same sink: the baseline a
/// connector is measured against.
fn measure_file(
    connector: &'static str,
    records: &[Vec<u8>],
    format: starling_formats::Format,
    bytes: u64,
) -> anyhow::Result<SourceFigure> {
    let work = tempfile::tempdir()?;
    let path = work.path().join("records.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
    for record in records {
        file.write_all(record)?;
        file.write_all(b"\n")?;
    }
    file.into_inner()
        .map_err(|error| error.into_error())?
        .sync_all()?;
    let archive = work.path().join("archive");
    let started = Instant::now();
    let store = Store::open(&archive)?;
    let index = SearchIndex::open(&archive)?;
    let mut sink = StoreSink::new(&store, &archive, chrono::Utc::now())
        .with_index(index.indexer()?)
        .commit_every(Duration::from_millis(500));
    let mut source =
        starling_pipeline::sources::FileSource::new(&[path], Some(format), chrono::Utc::now());
    let writes = run(
        &mut source,
        &mut Decode::default(),
        &mut sink,
        RunOptions::default(),
    )?
    .batches;
    let posts = sink.posts_seen().load(Ordering::Relaxed);
    let seconds = started.elapsed().as_secs_f64();
    Ok(SourceFigure {
        connector,
        into: "archive, from a file",
        posts,
        seconds,
        posts_per_sec: posts as f64 / seconds,
        mb_per_sec: bytes as f64 / seconds / 1e6,
        writes,
    })
}

pub fn run_bench(args: SourcesArgs, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let (jetstream, mastodon) = records(args.posts)?;
    let jetstream_bytes: u64 = jetstream.iter().map(|event| event.len() as u64).sum();
    let mastodon_bytes: u64 = mastodon.iter().map(|status| status.len() as u64).sum();
    let (jetstream_posts, mastodon_posts) = (jetstream.len() as u64, mastodon.len() as u64);
    let (jetstream, mastodon) = (Arc::new(jetstream), Arc::new(mastodon));
    let websocket = websocket_server(Arc::clone(&jetstream))?;
    let sse = sse_server(Arc::clone(&mastodon))?;
    let configs = [
        (
            "jetstream",
            SourceConfig {
                kind: Some(Kind::Jetstream),
                urls: vec![format!("ws://127.0.0.1:{websocket}/subscribe")],
                allow_private: vec!["127.0.0.1".into()],
                ..SourceConfig::default()
            },
            jetstream_posts,
            jetstream_bytes,
            Arc::clone(&jetstream),
            starling_formats::Format::Jetstream,
        ),
        (
            "mastodon",
            SourceConfig {
                kind: Some(Kind::Mastodon),
                urls: vec![format!("http://127.0.0.1:{sse}")],
                allow_private: vec!["127.0.0.1".into()],
                ..SourceConfig::default()
            },
            mastodon_posts,
            mastodon_bytes,
            Arc::clone(&mastodon),
            starling_formats::Format::Mastodon,
        ),
    ];
    if !args.json {
        writeln!(
            stdout,
            "Connectors from a loopback server sending as fast as it can ({} Jetstream events, {} Mastodon statuses):",
            jetstream_posts, mastodon_posts
        )?;
    }
    for (name, config, posts, bytes, records, format) in &configs {
        for step in 0..3 {
            let figure = match step {
                0 => measure(name, config, *posts, *bytes, false)?,
                1 => measure(name, config, *posts, *bytes, true)?,
                _ => measure_file(name, records, *format, *bytes)?,
            };
            if args.json {
                serde_json::to_writer(&mut *stdout, &figure)?;
                writeln!(stdout)?;
            } else {
                writeln!(
                    stdout,
                    "  {:<10} into {:<21} {:>9} posts in {:>6.2} s: {:>9.0} posts/s ({:.1} MB/s, {} writes)",
                    figure.connector,
                    figure.into,
                    figure.posts,
                    figure.seconds,
                    figure.posts_per_sec,
                    figure.mb_per_sec,
                    figure.writes
                )?;
            }
            stdout.flush()?;
        }
    }
    Ok(())
}
