//! `keys`: every key, revoked ones included, most recently used first (the daemon's order).

use super::Ctx;
use crate::failure::Failure;
use crate::output::{json, table};

pub(crate) async fn run(ctx: &mut Ctx<'_>) -> Result<(), Failure> {
    let keys = ctx.client().await?.keys().await?;
    Ok(ctx.printer.document(|| table::keys(&keys), || json::keys(&keys))?)
}
