//! portside-local: a local AWS Lambda. Everything lives in the library
//! (`portside_local::cli`); this only hands it the arguments.

// No function outside tests is longer than 80 lines (clippy.toml sets the bound).
#![warn(clippy::too_many_lines)]

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = portside_local::cli::run(args).await;
    std::process::exit(code);
}
