//! The one place where errors become GraphQL errors: every error carries
//! `extensions.code`, the same stable code the REST API puts in problem+json.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextRequest, NextSubscribe,
};
use async_graphql::{Response, ServerError};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;

use crate::error::{Error, ProblemCode};

/// Extension adding `extensions.code` (and logging internal errors once).
pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodes)
    }
}

#[async_trait::async_trait]
impl Extension for ErrorCodes {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        for error in &mut response.errors {
            annotate(error);
        }
        response
    }

    /// Operations over the websocket (subscriptions, and queries and mutations sent
    /// there) answer through a stream: their errors get codes too.
    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream)
            .map(|mut response| {
                for error in &mut response.errors {
                    annotate(error);
                }
                response
            })
            .boxed()
    }
}

/// Sets the code of one error: ours from its source, else one for the GraphQL stage
/// that raised it.
pub fn annotate(error: &mut ServerError) {
    let code = match error.source::<Error>() {
        Some(source) => {
            if source.status().is_server_error() {
                tracing::error!(error = ?source, "GraphQL resolver failed");
            }
            source.code()
        }
        None => stage_code(error),
    };
    let extensions = error.extensions.get_or_insert_with(Default::default);
    if extensions.get("code").is_none() {
        extensions.set("code", code.as_str());
    }
}

/// async-graphql reports its depth and complexity limits only as messages, so those
/// two are told apart by their text.
fn stage_code(error: &ServerError) -> ProblemCode {
    let message = error.message.as_str();
    if message.contains("nested too deep") {
        ProblemCode::QueryTooDeep
    } else if message.contains("too complex") {
        ProblemCode::QueryTooComplex
    } else if error.path.is_empty() {
        ProblemCode::GraphqlValidationFailed
    } else {
        ProblemCode::BadRequest
    }
}
