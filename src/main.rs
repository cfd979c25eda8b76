//! The `troupe` binary:
//! `troupe serve [--listen ADDR] [--data-dir DIR | --in-memory] [--index btree|learned]
//! [--partition-keys N]`.

use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use troupe::engine::DataDir;
use troupe::server::Server;
use troupe::storage::{IndexKind, StorageOptions, DEFAULT_PARTITION_KEYS};

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
        /// The index each table partition keeps its rows in.
        #[arg(long, value_enum, default_value_t = IndexChoice::Learned)]
        index: IndexChoice,
        /// A table partition splits in two (by key range, onto a new storage actor)
        /// when it holds this many keys.
        #[arg(long, default_value_t = DEFAULT_PARTITION_KEYS as u64, value_parser = clap::value_parser!(u64).range(2..))]
        partition_keys: u64,
    },
}

/// `--index`: the storage's `IndexKind`.
#[derive(Clone, Copy, ValueEnum)]
enum IndexChoice {
    /// `std::collections::BTreeMap`.
    Btree,
    /// The learned index (`src/storage/learned/`).
    Learned,
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
        Command::Serve { listen, data_dir, in_memory, index, partition_keys } => {
            let dir = if in_memory { DataDir::InMemory } else { DataDir::Path(data_dir) };
            let index = match index {
                IndexChoice::Btree => IndexKind::BTree,
                IndexChoice::Learned => IndexKind::Learned,
            };
            let options = StorageOptions {
                index,
                partition_keys: usize::try_from(partition_keys).unwrap_or(usize::MAX),
            };
            match Server::start_with_storage(listen, dir, options) {
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
