//! `starling serve`: the pipeline running continuously beside the API, the live stream and
//! the dashboard.

use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use starling_formats::Format;
use starling_server::{Access, App, Job, Options, Tokens};

use super::Context;

/// Flags of `starling serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to listen. Bound to a loopback address, no token is needed; bound to any other,
    /// every API call needs one (`starling token add`).
    #[arg(long, default_value = DEFAULT_ADDR, value_name = "HOST:PORT")]
    addr: String,
    /// Files or folders to import once the server is up (more can be sent to /api/import).
    #[arg(long = "import", value_name = "PATH")]
    imports: Vec<PathBuf>,
    /// The format of --import files, when detection from the content should not decide.
    #[arg(long, value_parser = super::import::parse_format)]
    format: Option<Format>,
    /// Require a token even on loopback.
    #[arg(long)]
    require_token: bool,
}

/// Where `serve` and `demo` listen unless told otherwise.
pub const DEFAULT_ADDR: &str = "127.0.0.1:7878";

pub fn run(context: &Context, args: Args, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let address = resolve(&args.addr)?;
    let access = access(context, address, args.require_token, stdout)?;
    let matcher = super::watch::matcher(context, &starling_store::Store::open(&context.data_dir)?)?;
    let options = Options {
        config_watches: context.config.watches.clone(),
        config_alerts: context.config.alerts.clone(),
        sources: context.config.sources.clone(),
        ..options(access)
    };
    let app = App::open(&context.data_dir, matcher, options)?;
    if !args.imports.is_empty() {
        app.submit(Job::Files {
            paths: args.imports,
            format: args.format,
            remove_after: false,
            done: None,
        });
    }
    let what = format!("the archive in {}", context.data_dir.display());
    serve(app, address, &what, stdout)
}

/// The server's options: `STARLING_ASSETS_DIR` serves the dashboard from a folder (for
/// working on it without rebuilding).
pub fn options(access: Access) -> Options {
    Options {
        access,
        assets_dir: std::env::var_os("STARLING_ASSETS_DIR").map(PathBuf::from),
        ..Options::default()
    }
}

/// `addr` as one socket address (a host name is looked up).
pub fn resolve(addr: &str) -> anyhow::Result<SocketAddr> {
    addr.to_socket_addrs()
        .with_context(|| format!("--addr {addr:?}: expected HOST:PORT, like {DEFAULT_ADDR}"))?
        .next()
        .ok_or_else(|| anyhow::anyhow!("--addr {addr:?} names no address"))
}

/// Open on loopback (unless a token is required); tokens from the data folder otherwise.
pub fn access(
    context: &Context,
    address: SocketAddr,
    require_token: bool,
    stdout: &mut dyn Write,
) -> anyhow::Result<Access> {
    if address.ip().is_loopback() && !require_token {
        return Ok(Access::Open);
    }
    let tokens = Tokens::open(&context.data_dir)?;
    if tokens.is_empty() {
        writeln!(
            stdout,
            "note: no API tokens yet, so every API call will be refused; make one with `starling token add NAME --role admin`"
        )?;
    }
    Ok(Access::Tokens(tokens))
}

/// Serves `app` on `address` until Ctrl-C, saying where.
pub fn serve(
    app: Arc<App>,
    address: SocketAddr,
    what: &str,
    stdout: &mut dyn Write,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("http")
        .build()
        .context("starting the HTTP runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("listening on {address}"))?;
        let bound = listener.local_addr()?;
        writeln!(
            stdout,
            "Starling serves {what} at http://{bound}/ (API under /api, live stream /api/stream, metrics /metrics); Ctrl-C stops it."
        )?;
        stdout.flush()?;
        let shutdown = async {
            // Without a signal handler there is no clean stop, only a kill: wait forever.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        starling_server::serve(app, listener, shutdown).await?;
        anyhow::Ok(())
    })
}
