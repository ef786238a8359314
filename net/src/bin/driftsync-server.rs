//! `driftsync-server`; see [`driftsync_net::cli::server`].

#[cfg(not(madsim))]
fn main() -> std::process::ExitCode {
    driftsync_net::cli::server::main()
}

/// Under madsim there are no processes to run: the binary does nothing.
#[cfg(madsim)]
fn main() {}
