use super::Context;
use crate::error::Result;
use crate::proxy::lifecycle;
use crate::vault::Vault;
use serde::Serialize;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    user_email: Option<String>,
    workspace_name: String,
    project_name: String,
    /// When the active project was last pulled from its remote (sync mode); null if never.
    last_pull: Option<String>,
    proxy_running: bool,
    storage_mode: &'static str,
    home: String,
}

pub fn run(ctx: &Context) -> Result<()> {
    let vault = Vault::open(&ctx.home)?;
    let scope = vault.active()?;
    // The same check as `proxy status`: a live pid whose proxy lock is held.
    let proxy = lifecycle::current(&ctx.home)?;
    let s = Status {
        user_email: vault.email()?,
        workspace_name: scope.workspace.clone(),
        project_name: scope.project.clone(),
        last_pull: crate::remote::sync::last_pull(&ctx.home, &scope)?,
        proxy_running: proxy.is_some(),
        storage_mode: vault.storage_mode().as_str(),
        home: ctx.home.root.display().to_string(),
    };
    ctx.out.result(&s, || {
        let proxy_line = match &proxy {
            Some(p) => format!("running (pid {}, port {}, socket {})", p.pid, p.port, p.socket),
            None => "not running (start it with `agentsecrets proxy start --detach`)".to_owned(),
        };
        format!(
            "user:       {}\nworkspace:  {}\nproject:    {}\nproxy:      {}\nmaster key: {}\nhome:       {}",
            s.user_email.as_deref().unwrap_or("(local, no email)"),
            s.workspace_name,
            s.project_name,
            proxy_line,
            s.storage_mode,
            s.home
        )
    });
    Ok(())
}
