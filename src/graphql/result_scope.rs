//! What a mutation's result may show a key without the `read` scope: the outcome
//! (`success`, `type`, ids) and the `id` of each record it wrote, nothing more. A
//! field deeper in the result (a shipment's status, its orders, their lines) is a
//! read and needs `read`, as the same field under a query does. The operation is
//! refused as a whole (`forbidden`) before anything is written.

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, Variables};

use super::RequestScope;
use crate::domain::Scope;
use crate::error::Error;

/// Extension holding mutation results to ids for keys without `read`.
pub struct ResultScope;

impl ExtensionFactory for ResultScope {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ResultScope)
    }
}

#[async_trait::async_trait]
impl Extension for ResultScope {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let can_read = ctx
            .data_opt::<RequestScope>()
            .is_none_or(|scope| scope.principal.require(Scope::Read).is_ok());
        if can_read {
            return Ok(document);
        }
        let mutations = document
            .operations
            .iter()
            .filter(|(_, op)| op.node.ty == OperationType::Mutation);
        for (_, operation) in mutations {
            let mut seen = HashSet::new();
            if let Some(field) =
                read_in(&document, &operation.node.selection_set.node, 1, &mut seen)
            {
                let error = Error::Forbidden(format!(
                    "`{field}` in a mutation's result is a read: this key lacks the `read` scope, so a mutation's result may select `success`, `type` and ids only"
                ));
                let mut refused: ServerError =
                    async_graphql::Error::new_with_source(error).into_server_error(operation.pos);
                refused.locations = vec![operation.pos];
                return Err(refused);
            }
        }
        Ok(document)
    }
}

/// The first field below a mutation's payload, other than `id` and `__typename`,
/// that `set` selects at `depth` (the mutation's own field is depth 1), fragments
/// included.
fn read_in<'d>(
    document: &'d ExecutableDocument,
    set: &'d SelectionSet,
    depth: usize,
    seen: &mut HashSet<&'d str>,
) -> Option<String> {
    for selection in &set.items {
        let found = match &selection.node {
            Selection::Field(field) => {
                let name = field.node.name.node.as_str();
                if depth >= 3 && name != "id" && !name.starts_with("__") {
                    return Some(name.to_string());
                }
                read_in(document, &field.node.selection_set.node, depth + 1, seen)
            }
            Selection::InlineFragment(fragment) => {
                read_in(document, &fragment.node.selection_set.node, depth, seen)
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                match document.fragments.get(name) {
                    Some(fragment) if seen.insert(name) => {
                        read_in(document, &fragment.node.selection_set.node, depth, seen)
                    }
                    _ => None,
                }
            }
        };
        if found.is_some() {
            return found;
        }
    }
    None
}
