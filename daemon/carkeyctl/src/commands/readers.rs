//! `readers`: the NFC readers, sorted by name, and whether they work.

use super::Ctx;
use crate::failure::Failure;
use crate::output::{json, table};

pub(crate) async fn run(ctx: &mut Ctx<'_>) -> Result<(), Failure> {
    let readers = ctx.client().await?.readers().await?;
    Ok(ctx.printer.document(|| table::readers(&readers), || json::readers(&readers))?)
}
