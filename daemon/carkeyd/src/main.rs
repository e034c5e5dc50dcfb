//! `carkeyd`: see `carkeyd --help`.

use std::process::ExitCode;

use carkeyd::cli::Cli;
use carkeyd::config::{self, Config, ConfigError};
use carkeyd::state::StateDir;
use clap::Parser;

fn load_config(cli: &Cli) -> Result<Config, ConfigError> {
    if cli.config.is_empty() {
        config::load(std::path::Path::new("/")).map(|(c, _)| c)
    } else {
        config::load_files(&cli.config)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match load_config(&cli) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("carkeyd: {e}");
            return ExitCode::from(78); // EX_CONFIG: systemd will not restart-loop on it.
        }
    };
    if cli.check_config {
        match toml::to_string_pretty(&config) {
            Ok(text) => {
                print!("{text}");
                return ExitCode::SUCCESS;
            }
            Err(e) => {
                eprintln!("carkeyd: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    carkeyd::logging::init(&config.log);
    let state_path = StateDir::choose(cli.state_dir.as_deref(), &config.state.directory);
    let state = match StateDir::acquire(&state_path) {
        Ok(state) => state,
        Err(e) => {
            eprintln!("carkeyd: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Some(command) => carkeyd::admin::run(&config, &state, command).map_err(|e| e.to_string()),
        None => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
            .and_then(|rt| rt.block_on(carkeyd::daemon::run(config, state)).map_err(|e| e.to_string())),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("carkeyd: {e}");
            ExitCode::FAILURE
        }
    }
}
