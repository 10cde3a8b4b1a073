use super::{password, Context};
use crate::error::Result;
use crate::vault::{self, InitOptions};
use clap::Args;
use serde_json::json;

#[derive(Debug, Args)]
#[command(
    after_help = "The admin password is asked twice on a terminal, or read as one line from \
stdin with --admin-password-stdin (at least 8 characters). The master key goes to the OS keychain \
when one is usable, else to a 0600 file in the home; AGENTSECRETS_KEY_STORE=file|keychain forces \
the choice."
)]
pub struct InitArgs {
    /// Email recorded as the local user (shown by `status`).
    #[arg(long)]
    pub email: Option<String>,
    /// Read the admin password (needed for allowlist changes) from stdin instead of prompting.
    #[arg(long)]
    pub admin_password_stdin: bool,
}

pub fn run(ctx: &Context, args: InitArgs) -> Result<()> {
    // Fail before asking for a password when there is nothing to do.
    vault::create::refuse_existing(&ctx.home)?;
    if let Some(e) = &args.email {
        vault::create::validate_email(e)?;
    }
    let admin_password = password::new_admin(args.admin_password_stdin)?;
    let store = vault::initialise(
        &ctx.home,
        &InitOptions {
            email: args.email.as_deref(),
            admin_password: &admin_password,
        },
    )?;
    let home = ctx.home.root.display().to_string();
    ctx.out.result(
        &json!({
            "ok": true,
            "home": home,
            "workspaceName": vault::DEFAULT_WORKSPACE,
            "projectName": vault::DEFAULT_PROJECT,
            "storageMode": store.as_str(),
        }),
        || {
            format!(
                "Initialised {home}\n  workspace {} / project {} (active)\n  master key: {}\n\nNext: allow a host with `agentsecrets workspace allowlist add api.example.com`,\nthen store a secret with `agentsecrets secrets set API_KEY` (the value is read from stdin).",
                vault::DEFAULT_WORKSPACE,
                vault::DEFAULT_PROJECT,
                match store {
                    vault::KeyStore::Keychain => "OS keychain".to_owned(),
                    vault::KeyStore::File => format!("{} (0600)", ctx.home.key_path().display()),
                }
            )
        },
    );
    Ok(())
}
