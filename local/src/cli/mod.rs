//! The command line: one clap table of flags and subcommands (`args`), and
//! the commands: serve (front door + sandbox, until Ctrl-C), `invoke` (one
//! event, the result JSON on stdout), `layer-path` and `--version`; `web`
//! and `up` parse their own options. Errors are messages that say what to
//! do; nothing here panics on user input.
//!
//! * `args`: the flags ([`Options`]) and [`parse`], the help and the
//!   guide's flag tables ([`flags_table`]);
//! * `daily`: the daily loop's flags and what they set up;
//! * `prepare`: the [`Function`](crate::function::Function) the options
//!   describe (the layer, the short form's scratch folder and handler);
//! * `commands`: serve and `invoke`;
//! * `web` goes to [`crate::web`], `up` to [`crate::up`] (each parses its
//!   own options with clap);
//! * `installed`: what an installed portside-local finds beside itself
//!   (adapter, layer zips, shim), `--version` and `layer-path`.

mod args;
mod commands;
mod daily;
pub mod installed;
mod prepare;
#[cfg(test)]
#[allow(clippy::too_many_lines)] // tests are exempt from the 80-line bound
mod tests;

pub(crate) use commands::stop_signal;
use commands::{invoke_once, serve};

pub(crate) use args::{environments, key_value, AUTHORIZERS};
pub use args::{flags_table, parse, Command, Options, DEFAULT_ENVIRONMENTS};
pub use daily::DailyOptions;
pub use installed::find_adapter;
pub use prepare::{local_layer, prepare, Prepared};

/// Runs the command; the exit code.
pub async fn run(args: Vec<String>) -> i32 {
    let o = match parse(&args) {
        Ok(Command::Help(text)) => {
            print!("{text}");
            return 0;
        }
        Ok(Command::Run(o)) => o,
        Ok(Command::Web(rest)) => return crate::web::run(rest).await,
        Ok(Command::Up(rest)) => return crate::up::run(&rest).await,
        Ok(Command::LayerPath(arch)) => return installed::layer_path(&arch),
        Err(e) => {
            eprint!("{e}");
            return 2;
        }
    };
    let prepared = match prepare(&o).await {
        Ok(p) => p,
        Err(e) => {
            eprintln!("portside-local: {e}");
            return 1;
        }
    };
    match &o.invoke_file {
        Some(file) => invoke_once(&prepared.function, file).await,
        None => serve(prepared, &o).await,
    }
}
