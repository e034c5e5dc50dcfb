//! Finding, parsing and merging configuration layers.

use std::path::{Path, PathBuf};

use super::Config;

/// The distribution's defaults, then the automaker's file, then drop-ins (sorted).
pub const DEFAULT_LAYERS: (&str, &str, &str) =
    ("/usr/share/carkey/carkeyd.toml", "/etc/carkey/carkeyd.toml", "/etc/carkey/conf.d");

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is not valid TOML, has an unknown key, or a value of the wrong type.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message (with line and column).
        message: String,
    },
    /// The merged configuration breaks a rule.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Loads the default layers under `root` (`/` in production; tests pass a temporary
/// directory). Missing files are skipped; the built-in defaults apply underneath.
pub fn load(root: &Path) -> Result<(Config, Vec<PathBuf>), ConfigError> {
    let under = |p: &str| root.join(p.trim_start_matches('/'));
    let mut files: Vec<PathBuf> =
        [under(DEFAULT_LAYERS.0), under(DEFAULT_LAYERS.1)].into_iter().filter(|p| p.is_file()).collect();
    let drop_ins = under(DEFAULT_LAYERS.2);
    match std::fs::read_dir(&drop_ins) {
        Ok(entries) => {
            let mut found: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
                .collect();
            found.sort();
            files.extend(found);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(ConfigError::Read { path: drop_ins, source }),
    }
    let config = load_files(&files)?;
    Ok((config, files))
}

/// Loads exactly these files, in order, over the built-in defaults.
pub fn load_files(files: &[PathBuf]) -> Result<Config, ConfigError> {
    let mut merged = toml::Table::new();
    for path in files {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.clone(), source })?;
        let parse_error = |e: toml::de::Error| ConfigError::Parse { path: path.clone(), message: e.to_string() };
        let table: toml::Table = toml::from_str(&text).map_err(parse_error)?;
        // Each layer must make sense on its own, so errors name the file they are in.
        Config::deserialize_table(table.clone())
            .map_err(|message| ConfigError::Parse { path: path.clone(), message })?;
        merge(&mut merged, table);
    }
    let config = Config::deserialize_table(merged).map_err(ConfigError::Invalid)?;
    config.validate()?;
    Ok(config)
}

impl Config {
    fn deserialize_table(table: toml::Table) -> Result<Self, String> {
        serde::Deserialize::deserialize(toml::Value::Table(table)).map_err(|e: toml::de::Error| e.to_string())
    }
}

/// Later wins; tables merge key by key, except a reader's own table which is replaced
/// whole (a drop-in that redefines a reader means the new definition, not a blend).
fn merge(into: &mut toml::Table, from: toml::Table) {
    merge_at(into, from, 0, false);
}

fn merge_at(into: &mut toml::Table, from: toml::Table, depth: usize, in_readers: bool) {
    for (key, value) in from {
        let is_readers = depth == 1 && key == "readers";
        match (into.get_mut(&key), value) {
            (Some(toml::Value::Table(existing)), toml::Value::Table(incoming)) if !in_readers => {
                merge_at(existing, incoming, depth + 1, is_readers);
            }
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}
