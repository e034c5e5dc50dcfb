//! `status`: the vehicle at a glance (what a dashboard's status page shows).

use super::Ctx;
use crate::failure::Failure;
use crate::output::{json, table};

pub(crate) async fn run(ctx: &mut Ctx<'_>) -> Result<(), Failure> {
    let status = ctx.client().await?.status().await?;
    Ok(ctx.printer.document(|| table::status(&status), || json::status(&status))?)
}
