//! `driftsync-client`; see [`driftsync_net::cli::client`].

fn main() -> std::process::ExitCode {
    driftsync_net::cli::client::main()
}
