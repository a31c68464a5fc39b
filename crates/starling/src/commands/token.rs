//! `starling token`: API tokens for a server bound beyond loopback.

use std::io::Write;

use starling_server::{Role, Tokens};

use super::Context;

/// Flags of `starling token`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, clap::Subcommand)]
enum TokenCommand {
    /// Make a token and print it, once (only its hash is kept).
    Add {
        /// Who or what it is for.
        name: String,
        /// reader (read everything), editor (also change watches, import) or admin (also
        /// manage tokens).
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// List the tokens (names and roles; the tokens themselves are not kept).
    List,
    /// Remove a token.
    Rm {
        /// Its name.
        name: String,
    },
}

fn parse_role(name: &str) -> Result<Role, String> {
    Role::parse(name).ok_or_else(|| format!("roles are reader, editor and admin, not {name:?}"))
}

pub fn run(context: &Context, args: Args, stdout: &mut dyn Write) -> anyhow::Result<()> {
    let tokens = Tokens::open(&context.data_dir)?;
    match args.command {
        TokenCommand::Add { name, role } => {
            let token = tokens.add(&name, role)?;
            writeln!(stdout, "{token}")?;
            eprintln!(
                "token {name:?} ({}) made; it is shown this once: send it as `Authorization: Bearer <token>`",
                role.as_str()
            );
        }
        TokenCommand::List => {
            for entry in tokens.list() {
                writeln!(
                    stdout,
                    "{:<24} {:<8} made {}",
                    crate::terminal::safe(&entry.name),
                    entry.role.as_str(),
                    entry.created_at.format("%Y-%m-%d %H:%M UTC")
                )?;
            }
        }
        TokenCommand::Rm { name } => {
            if !tokens.remove(&name)? {
                anyhow::bail!("no token called {name:?}");
            }
            writeln!(stdout, "token {name:?} removed")?;
        }
    }
    Ok(())
}
