//! Refuses operations whose fragments expand to more fields than the complexity
//! limit allows, before anything else walks them: a few nested fragments that each
//! spread the previous one twice expand exponentially, and validating such a
//! document took minutes of CPU before any other limit was reached.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, Variables};

/// Extension bounding the expanded size of every operation in a document.
pub struct ExpansionLimit(pub usize);

impl ExtensionFactory for ExpansionLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ExpansionLimit(self.0))
    }
}

#[async_trait::async_trait]
impl Extension for ExpansionLimit {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        // async-graphql's own recursion-depth check walks every spread without
        // memoising, so the document is measured here before it runs; a document
        // that does not parse is left to the normal path to report.
        let too_large = async_graphql::parser::parse_query(query)
            .is_ok_and(|document| expanded_fields(&document) > self.0);
        if too_large {
            return Err(ServerError::new(
                format!(
                    "Query is too complex: its fragments expand to more than {} fields",
                    self.0
                ),
                None,
            ));
        }
        next.run(ctx, query, variables).await
    }
}

/// Fields of the largest operation with every fragment spread expanded, counted
/// with memoised fragment sizes (saturating; a fragment cycle counts as unbounded).
pub fn expanded_fields(document: &ExecutableDocument) -> usize {
    let mut sizes = Sizes {
        document,
        memo: HashMap::new(),
    };
    document
        .operations
        .iter()
        .map(|(_, op)| sizes.of(&op.node.selection_set.node))
        .max()
        .unwrap_or(0)
}

struct Sizes<'a> {
    document: &'a ExecutableDocument,
    /// `None` while a fragment is being measured, so a cycle is noticed.
    memo: HashMap<&'a str, Option<usize>>,
}

impl<'a> Sizes<'a> {
    fn of(&mut self, set: &'a SelectionSet) -> usize {
        set.items.iter().fold(0usize, |total, item| {
            let size = match &item.node {
                Selection::Field(field) => {
                    1usize.saturating_add(self.of(&field.node.selection_set.node))
                }
                Selection::InlineFragment(inline) => self.of(&inline.node.selection_set.node),
                Selection::FragmentSpread(spread) => {
                    self.fragment(spread.node.fragment_name.node.as_str())
                }
            };
            total.saturating_add(size)
        })
    }

    fn fragment(&mut self, name: &'a str) -> usize {
        match self.memo.get(name) {
            Some(Some(size)) => return *size,
            Some(None) => return usize::MAX,
            None => {}
        }
        let Some(definition) = self.document.fragments.get(name) else {
            return 0;
        };
        self.memo.insert(name, None);
        let size = self.of(&definition.node.selection_set.node);
        self.memo.insert(name, Some(size));
        size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(query: &str) -> usize {
        expanded_fields(&async_graphql::parser::parse_query(query).unwrap())
    }

    #[test]
    fn fragments_are_counted_as_expanded() {
        assert_eq!(fields("{ a b { c } }"), 3);
        assert_eq!(fields("{ ...F x } fragment F on Q { a b }"), 3);
        let mut doubling = String::from("fragment F0 on Q { a }");
        for i in 1..40 {
            doubling.push_str(&format!(
                " fragment F{i} on Q {{ ...F{p} ...F{p} }}",
                p = i - 1
            ));
        }
        doubling.push_str(" { ...F39 }");
        assert_eq!(fields(&doubling), 1 << 39);
        assert_eq!(
            fields("{ ...A } fragment A on Q { ...B } fragment B on Q { ...A }"),
            usize::MAX
        );
    }
}
