//! The `deploylink` binary: parse the command line, set up logging, run, map to an exit code.

use std::io::Write;

use clap::Parser;
use deploylink::command::cli::Cli;
use deploylink::error::Error;
use deploylink::ExitCode;

fn main() {
    let cli = Cli::parse();
    init_logging(cli.global.verbose, cli.global.quiet);
    let mut out = anstream::stdout().lock();
    // A panic is a bug: the panic hook has printed where; it exits with the internal code.
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        deploylink::command::run(cli, &mut out)
    }));
    let result = ran.unwrap_or_else(|_| Err(Error::internal("deploylink panicked")));
    let code = match result {
        Ok(()) => ExitCode::Success,
        Err(error) => {
            let _ = out.flush();
            let mut err = anstream::stderr().lock();
            let _ = writeln!(
                err,
                "{}error:{} {error}",
                STYLE_ERROR.render(),
                STYLE_ERROR.render_reset()
            );
            error.exit_code()
        }
    };
    // A flush into a closed pipe (`deploylink keys | head -1`) fails with BrokenPipe: the
    // reader has what it wanted and there is nobody left to tell, so it changes nothing.
    let _ = out.flush();
    std::process::exit(code.code());
}

const STYLE_ERROR: anstyle::Style = anstyle::AnsiColor::Red.on_default().bold();

/// Logs go to stderr: warnings by default, `-v` debug, `-vv` trace, `-q` errors only.
/// `-v` raises deploylink's own logs only: the HTTP and TLS libraries stay at warnings, so
/// verbosity never shows their connection internals. `RUST_LOG` (e.g.
/// `RUST_LOG=deploylink=trace`) overrides.
fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => log::LevelFilter::Error,
        (false, 0) => log::LevelFilter::Warn,
        (false, 1) => log::LevelFilter::Debug,
        (false, _) => log::LevelFilter::Trace,
    };
    let mut builder = env_logger::Builder::new();
    builder
        .filter_level(level.min(log::LevelFilter::Warn))
        .filter_module("deploylink", level)
        // Without a system CA bundle (a scratch image, an empty chroot) the bundled roots are
        // used; the verifier's complaint about each missing system path is noise unless asked.
        .filter_module(
            "rustls_platform_verifier",
            if verbose > 0 {
                log::LevelFilter::Warn
            } else {
                log::LevelFilter::Error
            },
        );
    if let Ok(filter) = std::env::var("RUST_LOG") {
        builder.parse_filters(&filter);
    }
    builder.format(|buf, record| {
        let level = match record.level() {
            log::Level::Error => "error",
            log::Level::Warn => "warning",
            log::Level::Info => "info",
            log::Level::Debug => "debug",
            log::Level::Trace => "trace",
        };
        writeln!(buf, "{level}: {}", record.args())
    });
    builder.init();
}
