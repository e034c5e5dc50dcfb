//! `pair ...`: owner pairing with a one-time code.
//!
//! The code is shown once, here: the daemon keeps only its verifier, so a lost code means
//! starting again (which replaces the pending pairing).

use super::Ctx;
use crate::cli::PairCommand;
use crate::failure::Failure;
use crate::output::{json, table};

pub(crate) async fn run(command: PairCommand, ctx: &mut Ctx<'_>) -> Result<(), Failure> {
    let client = ctx.client().await?;
    match command {
        PairCommand::Start => {
            let (code, expires_at) = client.start_pairing().await?;
            // The API's "0 means none": a code without expiry.
            let expires_at = (expires_at != 0).then_some(expires_at);
            Ok(ctx
                .printer
                .document(|| table::pairing_code(&code, expires_at), || json::pairing_code(&code, expires_at))?)
        }
        PairCommand::Cancel => {
            client.cancel_pairing().await?;
            Ok(ctx.printer.document(|| "pairing cancelled\n".to_owned(), json::ok)?)
        }
        PairCommand::Status => {
            let pairing = client.pairing().await?;
            Ok(ctx.printer.document(|| table::pairing(&pairing), || json::pairing(&pairing))?)
        }
    }
}
