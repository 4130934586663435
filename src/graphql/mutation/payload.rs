//! `processPayload`: the unified ingest pipeline behind a GraphQL mutation.

use async_graphql::{Context, InputObject, Json, Object, Result, SimpleObject};

use crate::domain::Scope;
use crate::graphql::context::{own_business, principal, slug, state};
use crate::ingest::{self, Incoming};

#[derive(Default)]
pub struct PayloadMutations;

/// A payload in the sender's own shape, for the rules to classify and map.
#[derive(InputObject)]
pub struct ProcessPayloadInput {
    pub business_slug: String,
    /// Checked for form only: the rules take the facility from the payload.
    pub facility_slug: String,
    pub payload: Json<serde_json::Value>,
}

/// The acknowledgement, in short; the full one is at `GET /v1/ingest/{loggingId}`.
#[derive(SimpleObject)]
pub struct ProcessPayloadPayload {
    pub success: bool,
    /// `accepted`, `accepted_with_warnings`, `partially_accepted`, or the problem.
    pub message: String,
    pub logging_id: String,
}

#[Object]
impl PayloadMutations {
    /// Runs the payload through the same pipeline as `POST /v1/ingest`.
    async fn process_payload(
        &self,
        ctx: &Context<'_>,
        input: ProcessPayloadInput,
    ) -> Result<ProcessPayloadPayload> {
        let who = principal(ctx, Scope::Ingest)?;
        own_business(who, &input.business_slug)?;
        slug("input.facilitySlug", &input.facility_slug)?;
        let body = serde_json::to_vec(&input.payload.0)?;
        let incoming = Incoming {
            principal: who,
            content_type: Some("application/json"),
            body: body.into(),
            key: None,
        };
        let reply = ingest::ingest(state(ctx)?, incoming).await?;
        let outcome = reply.outcome();
        let message = match outcome {
            "rejected" => reply.body["detail"]
                .as_str()
                .unwrap_or("rejected")
                .to_string(),
            other => other.to_string(),
        };
        Ok(ProcessPayloadPayload {
            success: outcome != "rejected",
            message,
            logging_id: reply.body["logging_id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        })
    }
}
