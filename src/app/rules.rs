//! The rules in use, as an operator checks them after changing a file.

use super::App;
use crate::domain::Scope;
use crate::error::{Error, Result};
use crate::rules::live::RulesStatus;
use crate::store::keys::Principal;

/// The loaded rules' version, count, files and warnings, and how the last reload
/// went (scope `ingest` or `read`).
pub fn status(app: &App, principal: &Principal) -> Result<RulesStatus> {
    principal.require_either(Scope::Ingest, Scope::Read)?;
    app.rules
        .status()
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("the rules status lock is poisoned")))
}
