//! Signed webhook pushes (Standard Webhooks): signing, the SSRF guard and the
//! dispatcher that delivers the outbox.

pub mod dispatcher;
pub mod manage;
pub mod signer;
pub mod ssrf;
