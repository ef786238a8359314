//! `driftsync-client`; see [`driftsync_net::cli::client`].

#[cfg(not(madsim))]
fn main() -> std::process::ExitCode {
    driftsync_net::cli::client::main()
}

/// Under madsim there are no processes to run: the binary does nothing.
#[cfg(madsim)]
fn main() {}
