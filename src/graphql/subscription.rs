//! Subscriptions: `pushMessage` streams new pallet events and shipment completions.
//! It reads the outbox, so it sees messages written by every instance.

use std::time::Duration;

use async_graphql::{Context, Result, Subscription};
use futures_util::Stream;

use super::context::{db, own_business, principal, slug};
use super::types::push::{LEGACY_TYPES, PushMessage, PushMessageSubscriptionFilter};
use crate::domain::Scope;
use crate::store::{Db, outbox, tenancy};

/// How often a subscription looks for new messages.
const POLL: Duration = Duration::from_millis(250);

/// Every subscription.
#[derive(Default)]
pub struct SubscriptionRoot;

struct Feed {
    db: Db,
    business_id: i64,
    business_slug: String,
    facility: Option<(i64, String)>,
    after: i64,
    ready: std::collections::VecDeque<PushMessage>,
}

impl Feed {
    async fn next(mut self) -> Option<(PushMessage, Feed)> {
        loop {
            if let Some(message) = self.ready.pop_front() {
                return Some((message, self));
            }
            tokio::time::sleep(POLL).await;
            let facility_id = self.facility.as_ref().map(|(id, _)| *id);
            let found = outbox::messages_after(
                &self.db,
                self.business_id,
                self.after,
                None,
                facility_id,
                Some(LEGACY_TYPES),
                100,
            )
            .await;
            let Ok(found) = found else { continue };
            for m in found {
                self.after = m.id;
                let facility = match m.facility_id {
                    Some(id) => tenancy::facility_by_id(&self.db, id)
                        .await
                        .ok()
                        .flatten()
                        .map(|f| f.slug),
                    None => None,
                };
                self.ready
                    .push_back(PushMessage::new(m, &self.business_slug, facility));
            }
        }
    }
}

#[Subscription]
impl SubscriptionRoot {
    /// New pallet events and shipment completions of the business, as they happen.
    async fn push_message(
        &self,
        ctx: &Context<'_>,
        filter: PushMessageSubscriptionFilter,
    ) -> Result<impl Stream<Item = PushMessage>> {
        let who = principal(ctx, Scope::Read)?;
        own_business(who, &filter.business_slug)?;
        let db = db(ctx)?.clone();
        let facility = match filter.facility_slug.as_deref() {
            Some(name) => {
                let found = tenancy::find_facility(
                    &db,
                    who.business_id,
                    &slug("filter.facilitySlug", name)?,
                )
                .await?;
                Some(
                    found
                        .map(|f| (f.id, f.slug))
                        .unwrap_or((-1, name.to_string())),
                )
            }
            None => None,
        };
        let feed = Feed {
            after: outbox::latest_message_id(&db, who.business_id).await?,
            db,
            business_id: who.business_id,
            business_slug: who.business_slug.clone(),
            facility,
            ready: Default::default(),
        };
        Ok(futures_util::stream::unfold(feed, Feed::next))
    }
}
