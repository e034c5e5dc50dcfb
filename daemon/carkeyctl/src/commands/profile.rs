//! `profile ...`: list access profiles, give a key another one, and create, replace or
//! remove custom ones.
//!
//! Action names are passed to the daemon as typed: it is the judge of which actions exist
//! (a newer daemon may know more than this carkeyctl), and refuses an unknown one with
//! `InvalidArgument`.

use carkey_client::{Action, ClientError, ProfileSpec};

use super::{Ctx, key, key_id, time};
use crate::cli::{ProfileCommand, Window};
use crate::failure::Failure;
use crate::output::{json, table};

pub(crate) async fn run(command: ProfileCommand, ctx: &mut Ctx<'_>) -> Result<(), Failure> {
    match command {
        ProfileCommand::List => {
            let profiles = ctx.client().await?.profiles().await?;
            Ok(ctx.printer.document(|| table::profiles(&profiles), || json::profiles(&profiles))?)
        }
        ProfileCommand::Set { id, profile } => {
            let id = key_id(&id)?;
            let client = ctx.client().await?;
            client.set_profile(&id, &profile).await?;
            key::changed(ctx, &client, &id, format!("key {id} now has profile {profile:?}")).await
        }
        ProfileCommand::Put { name, actions, speed_limit, schedule, window } => {
            let spec = spec(name, &actions, speed_limit, schedule, &window)?;
            let client = ctx.client().await?;
            client.put_profile(&spec).await?;
            if !ctx.printer.json() {
                return Ok(ctx.printer.text(&format!("profile {:?} saved\n", spec.name))?);
            }
            // Read back: the daemon stores a normalized form (a schedule's day range as a
            // list of days), and a script should see what it holds.
            let stored = client.profiles().await?.into_iter().find(|profile| profile.name == spec.name);
            let stored =
                stored.ok_or_else(|| ClientError::InvalidReply(format!("profile {:?} not listed", spec.name)))?;
            Ok(ctx.printer.value(&json::profile(&stored))?)
        }
        ProfileCommand::Remove { name } => {
            ctx.client().await?.remove_profile(&name).await?;
            Ok(ctx.printer.document(|| format!("profile {name:?} removed\n"), json::ok)?)
        }
    }
}

/// The profile as typed; a speed limit of 0 means none, as on the wire.
fn spec(
    name: String,
    actions: &[String],
    speed_limit: Option<u16>,
    schedule: Vec<String>,
    window: &Window,
) -> Result<ProfileSpec, Failure> {
    Ok(ProfileSpec {
        name,
        actions: actions.iter().map(|action| Action::from(action.trim())).collect(),
        speed_limit: speed_limit.filter(|limit| *limit != 0),
        schedule,
        not_before: time(window.not_before.as_deref())?,
        not_after: time(window.not_after.as_deref())?,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::exit::Exit;

    #[test]
    fn a_typed_profile_becomes_a_spec() {
        let window = Window { not_before: None, not_after: Some("2027-01-01".into()) };
        let actions = ["unlock".to_owned(), "engine-start".to_owned(), "honk".to_owned()];
        let typed = spec("weekend".into(), &actions, Some(0), vec!["sat-sun 08:00-20:00".into()], &window).unwrap();
        assert_eq!(typed.actions, [Action::Unlock, Action::EngineStart, Action::Other("honk".into())]);
        assert_eq!((typed.speed_limit, typed.not_before, typed.not_after), (None, None, Some(1_798_761_600)));
        let bad = Window { not_before: Some("soon".into()), not_after: None };
        assert_eq!(spec("x".into(), &actions, None, vec![], &bad).unwrap_err().exit(), Exit::InvalidArgument);
    }
}
