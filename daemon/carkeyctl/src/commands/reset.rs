//! `factory-reset --yes`: erase everything and give the vehicle a new identity.
//!
//! Refused without `--yes` before anything is sent; the daemon then also wants the owner
//! in the car, so a confirmed command still cannot erase a car from a distance.

use super::Ctx;
use crate::cli::Confirm;
use crate::failure::Failure;
use crate::output::json;

pub(crate) async fn run(confirm: Confirm, ctx: &mut Ctx<'_>) -> Result<(), Failure> {
    if !confirm.yes {
        return Err(Failure::NotConfirmed(
            "a factory reset erases every key, profile and the audit log and cannot be undone: pass --yes to confirm"
                .to_owned(),
        ));
    }
    ctx.client().await?.factory_reset().await?;
    Ok(ctx
        .printer
        .document(|| "factory reset done: the vehicle has no keys and a new identity\n".to_owned(), json::ok)?)
}
