//! The command line, as clap types.
//!
//! Key ids and times are taken as text here and checked by the commands, not by clap: a
//! malformed value is then reported with carkeyctl's own "invalid argument" code (3) and
//! message, while clap's code (2) stays reserved for a command line that does not parse.

use clap::{Args, Parser, Subcommand};
use clap_complete::Shell;

use crate::exit;

/// carkeyctl: manage and watch a vehicle's digital keys through carkeyd.
#[derive(Debug, Parser)]
#[command(name = "carkeyctl", version, after_help = exit::help_table())]
pub struct Cli {
    /// Print machine-readable JSON: one document per command, one object per line for monitor.
    #[arg(long, global = true)]
    pub json: bool,

    /// The D-Bus address of the bus carkeyd serves on [default: the system bus].
    #[arg(long, global = true, value_name = "ADDR")]
    pub address: Option<String>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List every key, revoked ones included, most recently used first.
    Keys,
    /// Show or change one key.
    #[command(subcommand)]
    Key(KeyCommand),
    /// List and manage access profiles.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Owner pairing with a one-time code.
    #[command(subcommand)]
    Pair(PairCommand),
    /// List the NFC readers and whether they work.
    Readers,
    /// Show the vehicle's state: keys in use, owner presence, pairing, locks, immobilizer, sync.
    Status,
    /// Print decided taps and key, reader and vehicle changes as they happen, until Ctrl-C.
    Monitor {
        /// Stop after this many decided taps.
        #[arg(long, value_name = "N")]
        count: Option<u64>,
    },
    /// Erase every key, secret, profile and the audit log (needs the owner present).
    FactoryReset(Confirm),
    /// Print a shell completion script.
    Completions {
        /// The shell to complete for.
        shell: Shell,
    },
}

/// `--yes`: destructive commands do nothing without it, so a mistyped line in a script or
/// a shell history cannot erase keys.
#[derive(Debug, Args)]
pub struct Confirm {
    /// Confirm a change that cannot be undone.
    #[arg(long)]
    pub yes: bool,
}

/// `key ...`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Show every property of a key.
    Show {
        /// The key id (16 hex digits).
        id: String,
    },
    /// Give a key a new display name.
    Rename {
        /// The key id (16 hex digits).
        id: String,
        /// The new name (1 to 64 characters).
        name: String,
    },
    /// Disable a key until resumed (a lost phone).
    Suspend {
        /// The key id (16 hex digits).
        id: String,
        /// Why, kept with the key and in the audit log.
        #[arg(long, value_name = "TEXT", default_value = "", hide_default_value = true)]
        reason: String,
    },
    /// Enable a suspended key again.
    Resume {
        /// The key id (16 hex digits).
        id: String,
    },
    /// Disable a key for good and erase its secrets (cannot be undone).
    Revoke {
        /// The key id (16 hex digits).
        id: String,
        /// Why, kept with the key and in the audit log.
        #[arg(long, value_name = "TEXT", default_value = "", hide_default_value = true)]
        reason: String,
        /// Whether the revocation was confirmed.
        #[command(flatten)]
        confirm: Confirm,
    },
    /// Set the key's own validity window; a bound left out is unbounded.
    Validity {
        /// The key id (16 hex digits).
        id: String,
        /// The new window.
        #[command(flatten)]
        window: Window,
    },
}

/// A validity window, as typed: `YYYY-MM-DDTHH:MM:SSZ`, `YYYY-MM-DD` or `@UNIX-SECONDS`.
#[derive(Debug, Args)]
pub struct Window {
    /// Valid from, in UTC: YYYY-MM-DD[THH:MM:SSZ] or @UNIX-SECONDS [default: unbounded].
    #[arg(long, value_name = "TIME")]
    pub not_before: Option<String>,
    /// Valid until, in UTC: YYYY-MM-DD[THH:MM:SSZ] or @UNIX-SECONDS [default: unbounded].
    #[arg(long, value_name = "TIME")]
    pub not_after: Option<String>,
}

/// `profile ...`.
#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// List the access profiles, built-in first.
    List,
    /// Give a key another access profile.
    Set {
        /// The key id (16 hex digits).
        id: String,
        /// The profile's name.
        profile: String,
    },
    /// Create or replace a custom profile.
    Put {
        /// The profile's name.
        name: String,
        /// What keys with this profile may do: unlock, lock, trunk, engine-start (repeat or
        /// separate with commas).
        #[arg(long = "action", value_name = "ACTION", required = true, value_delimiter = ',')]
        actions: Vec<String>,
        /// Speed limit at engine start, km/h [default: none].
        #[arg(long, value_name = "KMH")]
        speed_limit: Option<u16>,
        /// A weekly window such as "mon-fri 18:00-23:00" (repeatable) [default: any time].
        #[arg(long, value_name = "WINDOW")]
        schedule: Vec<String>,
        /// When the profile is valid at all.
        #[command(flatten)]
        window: Window,
    },
    /// Remove a custom profile that no key uses.
    Remove {
        /// The profile's name.
        name: String,
    },
}

/// `pair ...`.
#[derive(Debug, Subcommand)]
pub enum PairCommand {
    /// Make a one-time code for the owner's phone (needs the owner present once an owner
    /// key exists); replaces any pending pairing.
    Start,
    /// Withdraw the pending pairing.
    Cancel,
    /// Show whether a pairing is pending.
    Status,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("carkeyctl").chain(args.iter().copied()))
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_go_anywhere() {
        let cli = parse(&["keys", "--json", "--address", "unix:path=/run/bus"]).unwrap();
        assert!(cli.json);
        assert_eq!(cli.address.as_deref(), Some("unix:path=/run/bus"));
        assert!(matches!(cli.command, Command::Keys));
        let cli = parse(&["--json", "key", "show", "0011223344556677"]).unwrap();
        assert!(cli.json && cli.address.is_none());
        assert!(matches!(cli.command, Command::Key(KeyCommand::Show { id }) if id == "0011223344556677"));
    }

    #[test]
    fn destructive_commands_parse_without_yes_so_that_they_can_refuse() {
        match parse(&["key", "revoke", "0011223344556677", "--reason", "stolen"]).unwrap().command {
            Command::Key(KeyCommand::Revoke { reason, confirm, .. }) => {
                assert_eq!((reason.as_str(), confirm.yes), ("stolen", false))
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse(&["factory-reset", "--yes"]).unwrap().command,
            Command::FactoryReset(Confirm { yes: true })
        ));
    }

    #[test]
    fn profile_put_takes_repeated_or_comma_separated_actions() {
        let cli = parse(&[
            "profile",
            "put",
            "weekend",
            "--action",
            "unlock,lock",
            "--action",
            "trunk",
            "--speed-limit",
            "80",
            "--schedule",
            "sat-sun 08:00-20:00",
            "--not-after",
            "2027-01-01",
        ])
        .unwrap();
        match cli.command {
            Command::Profile(ProfileCommand::Put { name, actions, speed_limit, schedule, window }) => {
                assert_eq!(name, "weekend");
                assert_eq!(actions, ["unlock", "lock", "trunk"]);
                assert_eq!((speed_limit, schedule), (Some(80), vec!["sat-sun 08:00-20:00".to_owned()]));
                assert_eq!((window.not_before, window.not_after.as_deref()), (None, Some("2027-01-01")));
            }
            other => panic!("{other:?}"),
        }
        assert!(parse(&["profile", "put", "weekend"]).is_err(), "actions are required");
    }

    #[test]
    fn malformed_command_lines_are_usage_errors() {
        for args in
            [&["frobnicate"][..], &["key"], &["key", "rename", "0011223344556677"], &["monitor", "--count", "x"]]
        {
            let error = parse(args).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{args:?}");
        }
        assert!(parse(&["completions", "bash"]).is_ok());
        assert!(parse(&["completions", "tcsh"]).is_err());
    }

    #[test]
    fn help_ends_with_the_exit_codes() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("Exit codes:"), "{help}");
        assert!(help.contains(" 5  the owner must tap the console reader first"), "{help}");
    }
}
