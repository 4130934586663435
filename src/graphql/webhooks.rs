//! Webhook endpoint management over GraphQL: the same use cases as the REST API
//! (`crate::app::webhooks`), scope `webhooks`.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};

use super::context::{principal, state};
use super::types::{iso, parse_time};
use crate::app::webhooks as use_case;
use crate::domain::public_id;
use crate::domain::{DeliveryId, DeliveryState, EndpointId, Scope};
use crate::error::Error;
use crate::store::entities::{delivery, delivery_attempt, message, webhook_endpoint};
use crate::webhooks::manage::EndpointRequest;
use sea_orm::Iterable;

/// A receiver of the business's webhook pushes.
pub struct WebhookEndpoint(pub webhook_endpoint::Model);

#[Object]
impl WebhookEndpoint {
    async fn id(&self) -> i64 {
        public_id::public(self.0.id)
    }
    async fn url(&self) -> &str {
        &self.0.url
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Event types it receives; null means all.
    async fn event_types(&self) -> Option<Vec<String>> {
        self.0.event_type_names()
    }
    /// Facility slugs it receives; null means all.
    async fn facilities(&self) -> Option<Vec<String>> {
        self.0.facility_slugs()
    }
    async fn disabled(&self) -> bool {
        self.0.disabled
    }
    async fn disabled_reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }
    async fn created_at(&self) -> String {
        iso(self.0.created_at)
    }
    /// Deliveries, newest first; `state` is `pending`, `delivered` or `failed`.
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        state: Option<String>,
        limit: Option<u64>,
    ) -> Result<Vec<WebhookDelivery>> {
        let state = state
            .map(|s| {
                DeliveryState::iter()
                    .find(|known| known.as_str() == s)
                    .ok_or_else(|| {
                        Error::invalid_field(
                            "state",
                            format!("`{s}` is not a delivery state: pending, delivered or failed"),
                        )
                    })
            })
            .transpose()?;
        let who = principal(ctx, Scope::Webhooks)?;
        let rows = use_case::deliveries(
            super::context::state(ctx)?,
            who,
            EndpointId::new(self.0.id),
            state,
            limit,
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|(d, m)| WebhookDelivery::new(d, m))
            .collect())
    }
    /// Success rate over the last 24 hours, last success, since when it fails,
    /// backlog and dead letters.
    async fn health(&self, ctx: &Context<'_>) -> Result<super::operator::WebhookEndpointHealth> {
        let who = principal(ctx, Scope::Webhooks)?;
        Ok(
            use_case::health(state(ctx)?, who, EndpointId::new(self.0.id))
                .await?
                .into(),
        )
    }
    /// Every attempt, newest first.
    async fn attempts(&self, ctx: &Context<'_>, limit: Option<u64>) -> Result<Vec<WebhookAttempt>> {
        let who = principal(ctx, Scope::Webhooks)?;
        let rows = use_case::attempts(state(ctx)?, who, EndpointId::new(self.0.id), limit).await?;
        Ok(rows
            .into_iter()
            .map(|(a, _)| WebhookAttempt::from(a))
            .collect())
    }
}

/// One message on its way to one endpoint.
#[derive(SimpleObject)]
pub struct WebhookDelivery {
    pub id: i64,
    /// The endpoint it goes to.
    pub endpoint_id: i64,
    pub message_id: i64,
    pub webhook_id: Option<String>,
    pub event_type: Option<String>,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: String,
    pub last_status: Option<i32>,
    /// Why the last attempt failed, when it did.
    pub last_error: Option<String>,
    pub created_at: String,
}

impl WebhookDelivery {
    pub(crate) fn new(d: delivery::Model, m: Option<message::Model>) -> Self {
        Self {
            id: public_id::public(d.id),
            endpoint_id: public_id::public(d.endpoint_id),
            message_id: public_id::public(d.message_id),
            webhook_id: m.as_ref().map(|m| m.webhook_id.clone()),
            event_type: m.map(|m| m.event_type),
            state: d.state.as_str().to_string(),
            attempts: d.attempts,
            next_attempt_at: iso(d.next_attempt_at),
            last_status: d.last_status,
            last_error: d.last_error,
            created_at: iso(d.created_at),
        }
    }
}

/// One delivery attempt.
#[derive(SimpleObject)]
pub struct WebhookAttempt {
    pub id: i64,
    pub delivery_id: i64,
    pub attempt: i32,
    pub attempted_at: String,
    pub status_code: Option<i32>,
    pub duration_ms: i32,
    /// The first 4 KiB of the answer.
    pub response_body: Option<String>,
    pub error: Option<String>,
}

impl From<delivery_attempt::Model> for WebhookAttempt {
    fn from(a: delivery_attempt::Model) -> Self {
        Self {
            id: public_id::public(a.id),
            delivery_id: public_id::public(a.delivery_id),
            attempt: a.attempt,
            attempted_at: iso(a.attempted_at),
            status_code: a.status_code,
            duration_ms: a.duration_ms,
            response_body: a.response_body,
            error: a.error,
        }
    }
}

/// What to register or change.
#[derive(InputObject)]
pub struct WebhookEndpointInput {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub facilities: Option<Vec<String>>,
}

impl From<WebhookEndpointInput> for EndpointRequest {
    fn from(i: WebhookEndpointInput) -> Self {
        Self {
            url: i.url,
            description: i.description,
            event_types: i.event_types,
            facilities: i.facilities,
        }
    }
}

/// An endpoint with its signing secret (shown on creation and rotation).
#[derive(SimpleObject)]
pub struct WebhookEndpointWithSecret {
    pub endpoint: WebhookEndpoint,
    pub secret: String,
}

/// Webhook queries.
#[derive(Default)]
pub struct WebhookQueries;

#[Object]
impl WebhookQueries {
    /// The business's webhook endpoints.
    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> Result<Vec<WebhookEndpoint>> {
        let who = principal(ctx, Scope::Webhooks)?;
        Ok(use_case::list(state(ctx)?, who)
            .await?
            .into_iter()
            .map(WebhookEndpoint)
            .collect())
    }

    /// One endpoint of the business.
    async fn webhook_endpoint(&self, ctx: &Context<'_>, id: i64) -> Result<WebhookEndpoint> {
        let who = principal(ctx, Scope::Webhooks)?;
        Ok(WebhookEndpoint(
            use_case::get(state(ctx)?, who, EndpointId::from_public(id)).await?,
        ))
    }
}

/// Webhook mutations.
#[derive(Default)]
pub struct WebhookMutations;

fn with_secret(e: webhook_endpoint::Model) -> WebhookEndpointWithSecret {
    WebhookEndpointWithSecret {
        secret: e.secret.clone(),
        endpoint: WebhookEndpoint(e),
    }
}

#[Object]
impl WebhookMutations {
    /// Registers an endpoint; the answer holds its secret.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: WebhookEndpointInput,
    ) -> Result<WebhookEndpointWithSecret> {
        let who = principal(ctx, Scope::Webhooks)?;
        Ok(with_secret(
            use_case::create(state(ctx)?, who, input.into()).await?,
        ))
    }

    /// Changes the fields given.
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        id: i64,
        input: WebhookEndpointInput,
    ) -> Result<WebhookEndpoint> {
        let who = principal(ctx, Scope::Webhooks)?;
        Ok(WebhookEndpoint(
            use_case::update(state(ctx)?, who, EndpointId::from_public(id), input.into()).await?,
        ))
    }

    /// Removes an endpoint and its pending deliveries.
    async fn delete_webhook_endpoint(&self, ctx: &Context<'_>, id: i64) -> Result<bool> {
        let who = principal(ctx, Scope::Webhooks)?;
        use_case::delete(state(ctx)?, who, EndpointId::from_public(id)).await?;
        Ok(true)
    }

    /// Pauses pushes to an endpoint.
    async fn disable_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        id: i64,
    ) -> Result<WebhookEndpoint> {
        let who = principal(ctx, Scope::Webhooks)?;
        Ok(WebhookEndpoint(
            use_case::set_disabled(state(ctx)?, who, EndpointId::from_public(id), true).await?,
        ))
    }

    /// Resumes pushes to an endpoint.
    async fn enable_webhook_endpoint(&self, ctx: &Context<'_>, id: i64) -> Result<WebhookEndpoint> {
        let who = principal(ctx, Scope::Webhooks)?;
        Ok(WebhookEndpoint(
            use_case::set_disabled(state(ctx)?, who, EndpointId::from_public(id), false).await?,
        ))
    }

    /// A new secret; the old one keeps signing for `overlapSecs` (default 24 h).
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        id: i64,
        overlap_secs: Option<i64>,
    ) -> Result<WebhookEndpointWithSecret> {
        let who = principal(ctx, Scope::Webhooks)?;
        let overlap_secs = overlap_secs
            .map(|secs| {
                u64::try_from(secs).map_err(|_| {
                    crate::error::Error::invalid_field(
                        "overlapSecs",
                        format!("{secs} is negative: give 0 or more seconds"),
                    )
                })
            })
            .transpose()?;
        let rotated =
            use_case::rotate(state(ctx)?, who, EndpointId::from_public(id), overlap_secs).await?;
        Ok(with_secret(rotated))
    }

    /// Sends one delivery again.
    async fn replay_webhook_delivery(
        &self,
        ctx: &Context<'_>,
        endpoint_id: i64,
        delivery_id: i64,
    ) -> Result<WebhookDelivery> {
        let who = principal(ctx, Scope::Webhooks)?;
        let (replayed, message) = use_case::replay(
            state(ctx)?,
            who,
            EndpointId::from_public(endpoint_id),
            DeliveryId::from_public(delivery_id),
        )
        .await?;
        Ok(WebhookDelivery::new(replayed, message))
    }

    /// Re-queues the endpoint's dead-lettered deliveries written in `[since, until)`;
    /// returns how many.
    async fn recover_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        id: i64,
        since: String,
        until: Option<String>,
    ) -> Result<u64> {
        let who = principal(ctx, Scope::Webhooks)?;
        let since = parse_time("since", &since)?;
        let until = until.map(|u| parse_time("until", &u)).transpose()?;
        Ok(use_case::recover(state(ctx)?, who, EndpointId::from_public(id), since, until).await?)
    }
}
