//! The command line: parsing (by hand), the help text, and the two
//! commands: serve (front door + sandbox, until Ctrl-C) and `invoke` (one
//! event, the result JSON on stdout). Errors are messages that say what to
//! do; nothing here panics on user input.
//!
//! * `args`: the help text, [`Options`] and [`parse`];
//! * `prepare`: the [`Function`](crate::function::Function) the options
//!   describe (the layer, the short form's scratch folder and handler);
//! * `commands`: serve and `invoke`;
//! * `web` goes to [`crate::web`], which parses its own options;
//! * `up` goes to [`crate::up`], which parses its own options (clap);
//! * `installed`: what an installed portside-local finds beside itself
//!   (adapter, layer zips, shim), `--version` and `layer-path`.

mod args;
mod commands;
mod daily;
pub mod installed;
mod prepare;
#[cfg(test)]
mod tests;

pub(crate) use commands::stop_signal;
use commands::{invoke_once, serve};

pub use args::{parse, Command, Options, DEFAULT_ENVIRONMENTS, HELP};
pub use daily::DailyOptions;
pub use installed::find_adapter;
pub use prepare::{local_layer, prepare, Prepared};

/// Runs the command; the exit code.
pub async fn run(args: Vec<String>) -> i32 {
    match args.first().map(String::as_str) {
        Some("--version" | "-V") => {
            println!("{}", installed::version_line());
            return 0;
        }
        Some("layer-path") => return installed::layer_path(&args[1..]),
        // `up` has its own options (crate::up::UpOptions).
        Some("up") => return crate::up::run(&args[1..]).await,
        _ => {}
    }
    let o = match parse(&args) {
        Ok(Command::Help) => {
            print!("{HELP}");
            return 0;
        }
        Ok(Command::Run(o)) => o,
        Ok(Command::Web(rest)) => return crate::web::run(rest).await,
        Err(e) => {
            eprintln!("portside-local: {e}");
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
