//! The `troupe` binary: `troupe serve [--listen ADDR] [--data-dir DIR | --in-memory]`.

use clap::{Parser, Subcommand};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use troupe::engine::DataDir;
use troupe::server::Server;

// glibc malloc showed up as ~15% of a select-only profile (many small, short-lived
// allocations per statement across threads); mimalloc handles that pattern better.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "troupe",
    version,
    about = "A PostgreSQL-compatible OLTP database server built as a set of actors"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on; port 0 picks a free port (printed on stdout).
        #[arg(long, default_value = "127.0.0.1:5433")]
        listen: SocketAddr,
        /// Directory for the data files.
        #[arg(long, default_value = "./troupe-data", conflicts_with = "in_memory")]
        data_dir: PathBuf,
        /// Keep everything in memory and write nothing to disk (a throwaway server).
        #[arg(long)]
        in_memory: bool,
    },
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TROUPE_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { listen, data_dir, in_memory } => {
            let dir = if in_memory { DataDir::InMemory } else { DataDir::Path(data_dir) };
            match Server::start(listen, dir) {
                Ok(server) => {
                    // Test harnesses read this line to learn the port.
                    println!("troupe listening on {}", server.addr);
                    let _ = std::io::stdout().flush();
                    server.wait();
                }
                Err(e) => {
                    eprintln!("troupe: {}", e.message);
                    std::process::exit(1);
                }
            }
        }
    }
}
