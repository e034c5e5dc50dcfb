//! `key ...`: show and change one key.
//!
//! A change prints one confirming line, or with `--json` the key as it is afterwards, read
//! back from the daemon: a script then sees the state the daemon holds (a revoked key's
//! state and reason, a validity window as stored) rather than its own request echoed.

use carkey_client::{Client, KeyId};

use super::{Ctx, key_id, time};
use crate::cli::KeyCommand;
use crate::failure::Failure;
use crate::output::{json, table};
use crate::time::format_optional;

pub(crate) async fn run(command: KeyCommand, ctx: &mut Ctx<'_>) -> Result<(), Failure> {
    match command {
        KeyCommand::Show { id } => {
            let id = key_id(&id)?;
            let key = ctx.client().await?.key(&id).await?;
            Ok(ctx.printer.document(|| table::key(&key), || json::key(&key))?)
        }
        KeyCommand::Rename { id, name } => {
            let id = key_id(&id)?;
            let client = ctx.client().await?;
            client.rename(&id, &name).await?;
            changed(ctx, &client, &id, format!("key {id} renamed to {name:?}")).await
        }
        KeyCommand::Suspend { id, reason } => {
            let id = key_id(&id)?;
            let client = ctx.client().await?;
            client.suspend(&id, &reason).await?;
            changed(ctx, &client, &id, format!("key {id} suspended")).await
        }
        KeyCommand::Resume { id } => {
            let id = key_id(&id)?;
            let client = ctx.client().await?;
            client.resume(&id).await?;
            changed(ctx, &client, &id, format!("key {id} resumed")).await
        }
        KeyCommand::Revoke { id, reason, confirm } => {
            let id = key_id(&id)?;
            if !confirm.yes {
                return Err(Failure::NotConfirmed(format!(
                    "revoking key {id} erases its secrets and cannot be undone: pass --yes to confirm"
                )));
            }
            let client = ctx.client().await?;
            client.revoke(&id, &reason).await?;
            changed(ctx, &client, &id, format!("key {id} revoked")).await
        }
        KeyCommand::Validity { id, window } => {
            let id = key_id(&id)?;
            let not_before = time(window.not_before.as_deref())?;
            let not_after = time(window.not_after.as_deref())?;
            let client = ctx.client().await?;
            client.set_validity(&id, not_before, not_after).await?;
            let message = format!(
                "key {id} validity set: not before {}, not after {}",
                format_optional(not_before, "-"),
                format_optional(not_after, "-")
            );
            changed(ctx, &client, &id, message).await
        }
    }
}

/// Reports a change to key `id`: the `message` line, or the key as it is now for `--json`.
pub(crate) async fn changed(ctx: &mut Ctx<'_>, client: &Client, id: &KeyId, message: String) -> Result<(), Failure> {
    if ctx.printer.json() {
        let key = client.key(id).await?;
        Ok(ctx.printer.value(&json::key(&key))?)
    } else {
        Ok(ctx.printer.text(&(message + "\n"))?)
    }
}
