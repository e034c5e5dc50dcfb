//! Offline maintenance: the engine's commands run against the state directory while the
//! daemon is stopped. Every change goes through the same validation and audit log as a
//! change made on the dashboard.

use carkey_core::audit::{AuditHead, verify_chain};
use carkey_core::engine::{Command, Engine, EngineConfig, Reply};
use carkey_core::ids::{KeyId, KeyName, ProfileId};
use carkey_core::key::{DigitalKey, KeyState, Role};
use carkey_core::ports::KeyStore;
use carkey_core::ports::{BusError, VehicleBus, VehicleCommand, VehicleState};
use carkey_core::profile::{AccessProfile, Action, ActionSet, builtin_profiles};
use carkey_core::time::{Validity, WallTime, WeeklySchedule};
use carkey_protocol::crypto::EcPublicKey;
use serde_json::json;

mod pairing;

use crate::cli::{KeysCommand, Maintenance, ProfilesCommand, RoleArg};
use crate::clock::SystemClock;
use crate::config::Config;
use crate::state::StateDir;

/// A maintenance command failed; the message is for the technician.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AdminError(String);

fn err(e: impl std::fmt::Display) -> AdminError {
    AdminError(e.to_string())
}

/// Offline there is no vehicle to command.
struct NoVehicle;

impl VehicleBus for NoVehicle {
    async fn execute(&mut self, _: VehicleCommand) -> Result<(), BusError> {
        Err(BusError("offline maintenance has no vehicle bus".into()))
    }

    fn state(&self) -> VehicleState {
        VehicleState::PARKED
    }
}

/// Runs a maintenance command and prints its result. Reading commands leave no trace;
/// changes (and the creation of the vehicle identity) go through the engine and its
/// audit log.
pub fn run(config: &Config, state: &StateDir, command: Maintenance) -> Result<(), AdminError> {
    let mut store = state.open_store().map_err(err)?;
    match command {
        Maintenance::Identity(out) => {
            let identity = match store.load().map_err(err)?.identity {
                Some(identity) => identity,
                None => start_engine(config, store)?.identity().clone(),
            };
            let (group, public) = (hex::encode(identity.group_id), hex::encode(identity.key.public().uncompressed()));
            if out.json {
                println!("{}", json!({ "group_id": group, "public_key": public }));
            } else {
                println!("group-id: {group}\npublic-key: {public}");
            }
            Ok(())
        }
        Maintenance::Keys(KeysCommand::List(out)) => {
            let mut keys: Vec<DigitalKey> = store.load().map_err(err)?.keys.into_iter().map(|k| k.key).collect();
            keys.sort_by(|a, b| b.recency.cmp(&a.recency).then(a.id.cmp(&b.id)));
            print_keys(&keys, out.json);
            Ok(())
        }
        Maintenance::Profiles(ProfilesCommand::List(out)) => {
            let mut profiles = builtin_profiles();
            profiles.extend(store.load().map_err(err)?.profiles);
            print_profiles(profiles, out.json)
        }
        Maintenance::Keys(command) => keys(&mut start_engine(config, store)?, command),
        Maintenance::Profiles(command) => profiles(&mut start_engine(config, store)?, command),
        Maintenance::Pairing(command) => pairing::run(config, &mut start_engine(config, store)?, command),
        Maintenance::FactoryReset { yes } => {
            if !yes {
                return Err(err("factory-reset erases every key and record for good; add --yes to confirm"));
            }
            let mut engine = start_engine(config, store)?;
            execute(&mut engine, Command::FactoryReset)?;
            println!("ok: factory reset; new reader group id {}", hex::encode(engine.identity().group_id));
            Ok(())
        }
        Maintenance::Audit { after, limit, verify, output } => {
            if verify {
                store.integrity_check().map_err(err)?;
                let head = store.verify_audit().map_err(err)?;
                println!("ok: database integrity and {} audit entries verified", head.seq);
                return Ok(());
            }
            let entries = store.audit_after(after, limit).map_err(err)?;
            if let Some(first) = entries.first() {
                let start = AuditHead { seq: first.seq.saturating_sub(1), hash: first.prev_hash };
                verify_chain(start, &entries).map_err(err)?;
            }
            for e in entries {
                let event = serde_json::to_value(&e.event).map_err(err)?;
                if output.json {
                    println!(
                        "{}",
                        json!({ "seq": e.seq, "at": e.at.time.0, "clock_trusted": e.at.trusted, "event": event })
                    );
                } else {
                    println!(
                        "{:>6} {} {}{}",
                        e.seq,
                        e.at.time.0,
                        if e.at.trusted { "" } else { "(untrusted clock) " },
                        event
                    );
                }
            }
            Ok(())
        }
    }
}

fn start_engine(config: &Config, store: carkey_store::SqliteStore) -> Result<OfflineEngine, AdminError> {
    let engine_config = EngineConfig {
        utc_offset: config.vehicle.utc_offset(),
        version: format!("{} (maintenance)", env!("CARGO_PKG_VERSION")),
        max_keys: config.keys.max_keys,
    };
    Engine::start(store, NoVehicle, SystemClock::new(config.vehicle.clock_trust), engine_config).map_err(err)
}

fn print_keys(keys: &[DigitalKey], json: bool) {
    if json {
        println!("{}", serde_json::Value::Array(keys.iter().map(key_json).collect()));
        return;
    }
    println!(
        "{:<16}  {:<7} {:<14} {:<9} {:>6} {:>6} {:>6} {:>6} {:>6}  NAME",
        "ID", "ROLE", "PROFILE", "STATE", "UNLOCK", "LOCK", "TRUNK", "START", "DENIED"
    );
    for k in keys {
        let u = k.usage;
        println!(
            "{:<16}  {:<7} {:<14} {:<9} {:>6} {:>6} {:>6} {:>6} {:>6}  {}",
            k.id.to_string(),
            role(k.role),
            k.profile.as_str(),
            k.state.as_str(),
            u.unlock,
            u.lock,
            u.trunk,
            u.engine_start,
            u.denied,
            k.name
        );
    }
}

fn print_profiles(profiles: Vec<AccessProfile>, json: bool) -> Result<(), AdminError> {
    if json {
        println!("{}", serde_json::to_string(&profiles).map_err(err)?);
        return Ok(());
    }
    for p in profiles {
        let actions: Vec<&str> = p.actions.iter().map(Action::as_str).collect();
        let schedule = p.schedule.map(|s| s.0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "));
        println!(
            "{:<16} {:<40} {:>9} {}",
            p.id.as_str(),
            actions.join(","),
            p.speed_limit_kmh.map_or_else(|| "-".to_owned(), |s| format!("{s} km/h")),
            schedule.unwrap_or_default()
        );
    }
    Ok(())
}

type OfflineEngine = Engine<carkey_store::SqliteStore, NoVehicle, SystemClock>;

fn execute(engine: &mut OfflineEngine, command: Command) -> Result<Reply, AdminError> {
    engine.execute(command).map_err(err)
}

fn key_id(s: &str) -> Result<KeyId, AdminError> {
    s.parse().map_err(err)
}

fn validity(not_before: Option<i64>, not_after: Option<i64>) -> Validity {
    Validity { not_before: not_before.map(WallTime), not_after: not_after.map(WallTime) }
}

/// The enrolment command from its text forms (command line or import file).
fn enroll_command(
    slot: &str,
    public_key: &str,
    name: &str,
    profile: &str,
    role: Role,
    validity: Validity,
) -> Result<Command, AdminError> {
    let bytes = hex::decode(public_key.trim()).map_err(|e| err(format!("public key: {e}")))?;
    Ok(Command::EnrollKey {
        id: key_id(slot)?,
        name: KeyName::new(name).map_err(err)?,
        endpoint: EcPublicKey::from_uncompressed(&bytes).map_err(|e| err(format!("public key: {e}")))?,
        role,
        profile: ProfileId::new(profile).map_err(err)?,
        validity,
    })
}

fn keys(engine: &mut OfflineEngine, command: KeysCommand) -> Result<(), AdminError> {
    let command = match command {
        KeysCommand::List(_) => return Err(err("listing needs no engine")),
        KeysCommand::Add { slot, public_key, name, profile, role, not_before, not_after } => {
            let role = match role {
                RoleArg::Owner => Role::Owner,
                RoleArg::Friend => Role::Friend,
            };
            enroll_command(&slot, &public_key, &name, &profile, role, validity(not_before, not_after))?
        }
        KeysCommand::Import { file } => {
            let text = std::fs::read_to_string(&file).map_err(|e| err(format!("{}: {e}", file.display())))?;
            let mut count = 0usize;
            for (index, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let at = |e: &dyn std::fmt::Display| err(format!("{}:{}: {e}", file.display(), index + 1));
                let entry: ImportLine = serde_json::from_str(line).map_err(|e| at(&e))?;
                let command = enroll_command(
                    &entry.slot,
                    &entry.public_key,
                    &entry.name,
                    entry.profile.as_deref().unwrap_or("driver"),
                    entry.role.unwrap_or(Role::Friend),
                    Validity::ALWAYS,
                )
                .map_err(|e| at(&e))?;
                execute(engine, command).map_err(|e| at(&e))?;
                count += 1;
            }
            println!("ok: {count} keys enrolled");
            return Ok(());
        }
        KeysCommand::Rename { id, name } => Command::Rename(key_id(&id)?, KeyName::new(&name).map_err(err)?),
        KeysCommand::SetProfile { id, profile } => {
            Command::SetProfile(key_id(&id)?, ProfileId::new(&profile).map_err(err)?)
        }
        KeysCommand::Suspend { id, reason } => Command::Suspend(key_id(&id)?, reason),
        KeysCommand::Resume { id } => Command::Resume(key_id(&id)?),
        KeysCommand::Revoke { id, reason } => Command::Revoke(key_id(&id)?, reason),
        KeysCommand::Terminate { attestation } => {
            Command::ApplyTermination(hex::decode(attestation.trim()).map_err(|e| err(format!("attestation: {e}")))?)
        }
    };
    execute(engine, command)?;
    println!("ok");
    Ok(())
}

fn profiles(engine: &mut OfflineEngine, command: ProfilesCommand) -> Result<(), AdminError> {
    let command = match command {
        ProfilesCommand::List(_) => return Err(err("listing needs no engine")),
        ProfilesCommand::Put { name, actions, speed_limit, schedule, not_before, not_after } => {
            let actions: Vec<Action> = actions
                .iter()
                .map(|a| serde_json::from_value(json!(a)).map_err(|_| err(format!("unknown action {a:?}"))))
                .collect::<Result<_, _>>()?;
            let schedule = if schedule.is_empty() {
                None
            } else {
                Some(WeeklySchedule(schedule.iter().map(|s| s.parse()).collect::<Result<_, _>>().map_err(err)?))
            };
            Command::PutProfile(AccessProfile {
                id: ProfileId::new(&name).map_err(err)?,
                actions: ActionSet::of(&actions),
                speed_limit_kmh: speed_limit,
                validity: validity(not_before, not_after),
                schedule,
            })
        }
        ProfilesCommand::Remove { name } => Command::DeleteProfile(ProfileId::new(&name).map_err(err)?),
    };
    execute(engine, command)?;
    println!("ok");
    Ok(())
}

/// One line of `keys import`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportLine {
    slot: String,
    public_key: String,
    name: String,
    #[serde(default)]
    profile: Option<String>,
    #[serde(default)]
    role: Option<Role>,
}

const fn role(role: Role) -> &'static str {
    match role {
        Role::Owner => "owner",
        Role::Friend => "friend",
    }
}

fn key_json(k: &DigitalKey) -> serde_json::Value {
    let reason = match &k.state {
        KeyState::Active => None,
        KeyState::Suspended(r) | KeyState::Revoked(r) => Some(r.clone()),
    };
    json!({
        "id": k.id,
        "name": k.name,
        "role": role(k.role),
        "profile": k.profile,
        "state": k.state.as_str(),
        "state_reason": reason,
        "public_key": hex::encode(k.endpoint.uncompressed()),
        "not_before": k.validity.not_before,
        "not_after": k.validity.not_after,
        "created_at": k.created_at,
        "last_used_at": k.last_used_at,
        "usage": k.usage,
        "recency": k.recency,
        "shared_by": k.shared_by.map(|s| json!({ "owner": s.owner, "serial": s.serial })),
    })
}
