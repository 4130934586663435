//! The role gate for GraphQL: a role-bound key may only use the root fields
//! `app::access` lists for its role, whatever alias or fragment spells them. Every
//! other field's resolver never runs for it.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::{Pos, ServerResult, Value};

use super::context::RequestScope;

/// Extension refusing the root fields a key's role does not allow.
pub struct RoleGate;

impl ExtensionFactory for RoleGate {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RoleGate)
    }
}

#[async_trait::async_trait]
impl Extension for RoleGate {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let at_root = info.path_node.parent.is_none();
        if at_root
            && !info.is_for_introspection
            && let Ok(scope) = ctx.data::<RequestScope>()
            && let Err(error) = crate::app::access::graphql(&scope.principal, info.name)
        {
            return Err(
                async_graphql::Error::new_with_source(error).into_server_error(Pos::default())
            );
        }
        next.run(ctx, info).await
    }
}
