//! `processPayload`: the unified ingest pipeline behind a GraphQL mutation.

use async_graphql::{Context, InputObject, Json, Object, Result, SimpleObject};

use crate::app::ingest::{self, Answer, Incoming, Outcome};
use crate::domain::Scope;
use crate::error::Error;
use crate::graphql::context::{own_business, principal, slug, state};

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
            source: crate::ingest::Source::Graphql,
        };
        let ack = match ingest::ingest(state(ctx)?, incoming, None).await? {
            Answer::Fresh(ack) => ack,
            Answer::Replayed { .. } => {
                return Err(Error::Internal(anyhow::anyhow!(
                    "a payload without an Idempotency-Key was answered as a repeat"
                ))
                .into());
            }
        };
        let message = match &ack.refusal {
            Some(refusal) => refusal.detail.clone(),
            None => ack.outcome.as_str().to_string(),
        };
        Ok(ProcessPayloadPayload {
            success: ack.outcome != Outcome::Rejected,
            message,
            logging_id: ack.logging_id,
        })
    }
}
