//! `driftsync-server`; see [`driftsync_net::cli::server`].

fn main() -> std::process::ExitCode {
    driftsync_net::cli::server::main()
}
