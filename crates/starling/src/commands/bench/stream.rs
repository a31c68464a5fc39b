//! `starling bench stream`: the live stream's fan-out. A server on loopback, clients reading
//! `/api/stream` over real connections, events published at a steady rate; how long each
//! event takes to reach each client, and whether every client got every event.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::terminal;

/// Flags of `starling bench stream`.
#[derive(Debug, clap::Args)]
pub struct StreamArgs {
    /// Clients connected to the stream.
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// Events published.
    #[arg(long, default_value_t = 10_000)]
    events: u64,
    /// Events published per second.
    #[arg(long, default_value_t = 1_000)]
    rate: u64,
    /// One JSON object with the figures.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct StreamFigure {
    clients: usize,
    events: u64,
    event_bytes: usize,
    rate: u64,
    deliveries: u64,
    missing: u64,
    seconds: f64,
    deliveries_per_sec: f64,
    latency_p50_ms: f64,
    latency_p99_ms: f64,
    latency_max_ms: f64,
}

/// What one event carries besides its send time: about the size of a match with its post.
const PADDING: usize = 900;

pub fn run(args: StreamArgs, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let folder = tempfile::tempdir()?;
    let app = starling_server::App::open(
        folder.path(),
        starling_watch::Matcher::default(),
        starling_server::Options::default(),
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let epoch = Instant::now();
    let figure = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(starling_server::serve(Arc::clone(&app), listener, async {
            let _ = stopped.await;
        }));
        let mut clients = Vec::with_capacity(args.clients);
        for _ in 0..args.clients {
            clients.push(tokio::spawn(client(address, args.events, epoch)));
        }
        while app.hub.subscribers() < args.clients {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let padding = "x".repeat(PADDING);
        let started = Instant::now();
        let interval = Duration::from_secs_f64(1.0 / args.rate.max(1) as f64);
        for n in 0..args.events {
            // Paced against the start, so that a late wake-up catches up instead of drifting.
            let due = started + interval.mul_f64(n as f64);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                tokio::time::sleep(wait).await;
            }
            let sent_us = epoch.elapsed().as_micros() as u64;
            app.hub.publish(
                "match",
                &serde_json::json!({"sent_us": sent_us, "n": n, "padding": padding}),
            );
        }
        let mut latencies = Vec::new();
        let mut deliveries = 0u64;
        for client in clients {
            let received = client.await??;
            deliveries += received.len() as u64;
            latencies.extend(received);
        }
        let seconds = started.elapsed().as_secs_f64();
        let _ = stop.send(());
        let _ = server.await;
        latencies.sort_unstable();
        let percentile = |p: f64| -> f64 {
            if latencies.is_empty() {
                return 0.0;
            }
            let at = ((latencies.len() as f64 - 1.0) * p).round() as usize;
            latencies[at] as f64 / 1000.0
        };
        let expected = args.events * args.clients as u64;
        anyhow::Ok(StreamFigure {
            clients: args.clients,
            events: args.events,
            event_bytes: PADDING + 60,
            rate: args.rate,
            deliveries,
            missing: expected.saturating_sub(deliveries),
            seconds,
            deliveries_per_sec: deliveries as f64 / seconds.max(1e-9),
            latency_p50_ms: percentile(0.5),
            latency_p99_ms: percentile(0.99),
            latency_max_ms: latencies.last().map_or(0.0, |max| *max as f64 / 1000.0),
        })
    })?;
    app.shutdown();
    if args.json {
        return crate::terminal::json_line(stdout, &figure);
    }
    writeln!(
        stdout,
        "{} clients, {} events of about {} bytes at {}/s: {} deliveries ({} missing) in {:.2} s, {}/s",
        figure.clients,
        terminal::count(figure.events),
        figure.event_bytes,
        terminal::count(figure.rate),
        terminal::count(figure.deliveries),
        terminal::count(figure.missing),
        figure.seconds,
        terminal::count(figure.deliveries_per_sec as u64),
    )?;
    writeln!(
        stdout,
        "publish to receipt: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        figure.latency_p50_ms, figure.latency_p99_ms, figure.latency_max_ms
    )?;
    Ok(())
}

/// Reads the stream until `events` published events have come; each one's latency in µs.
async fn client(
    address: std::net::SocketAddr,
    events: u64,
    epoch: Instant,
) -> anyhow::Result<Vec<u64>> {
    let mut stream = tokio::net::TcpStream::connect(address).await?;
    stream
        .write_all(b"GET /api/stream HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n")
        .await?;
    let mut lines = BufReader::new(stream).lines();
    let mut latencies = Vec::with_capacity(events as usize);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    while (latencies.len() as u64) < events {
        let line = tokio::time::timeout_at(deadline, lines.next_line()).await??;
        let Some(line) = line else {
            anyhow::bail!("the stream ended after {} events", latencies.len());
        };
        // Chunked framing lines and other events (stats) are skipped; only published events
        // count.
        let Some(data) = line.strip_prefix("data: ") else {
            continue;
        };
        let now = epoch.elapsed().as_micros() as u64;
        let Some(sent) = serde_json::from_str::<serde_json::Value>(data)
            .ok()
            .and_then(|value| value["sent_us"].as_u64())
        else {
            continue;
        };
        latencies.push(now.saturating_sub(sent));
    }
    Ok(latencies)
}
