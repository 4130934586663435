//! What a key sees of itself and of its business's recent traffic: the console's
//! sign-in and its live chart.

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::Serialize;

use super::App;
use crate::domain::Scope;
use crate::error::{Error, Result};
use crate::store::keys::Principal;

/// The calling key: whose it is and what it may do.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyInfo {
    /// The slug of the key's business.
    pub business: String,
    /// The key's name.
    pub name: String,
    /// What the key may do: `ingest`, `read`, `write`, `webhooks`, `admin`.
    pub scopes: Vec<String>,
    /// Whom it acts for: `tenant` (the business itself), `customer` or
    /// `subcontractor`.
    pub role: String,
    /// The code of the party a `customer` or `subcontractor` key acts for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party: Option<String>,
}

/// The calling key's business, name and scopes (any valid key may ask).
pub async fn key(app: &App, principal: &Principal) -> Result<KeyInfo> {
    let names =
        crate::store::keys::names(&app.db, principal.business_id, [principal.key_id]).await?;
    Ok(KeyInfo {
        business: principal.business_slug.clone(),
        name: names.get(&principal.key_id).cloned().unwrap_or_default(),
        scopes: principal
            .scopes
            .iter()
            .map(|s| s.name().to_string())
            .collect(),
        role: principal.role.name().to_string(),
        party: principal.role.party().map(str::to_owned),
    })
}

/// Payloads received in one minute, by outcome.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MinuteCounts {
    /// The minute's start (UTC).
    pub minute: DateTime<Utc>,
    pub accepted: u64,
    pub accepted_with_warnings: u64,
    pub partially_accepted: u64,
    pub rejected: u64,
}

/// The business's webhook queue now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeliveryCounts {
    /// Deliveries waiting for an attempt.
    pub pending: u64,
    /// Deliveries given up (dead letters), until replayed.
    pub failed: u64,
}

/// Recent traffic of the business: payloads by outcome, minute by minute, and the
/// webhook queue.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Activity {
    /// One entry per minute, oldest first, the current minute last; minutes without
    /// payloads count zero.
    pub minutes: Vec<MinuteCounts>,
    /// Absent when the key may not see webhooks (scope `webhooks` or `read`).
    pub deliveries: Option<DeliveryCounts>,
}

/// The longest window `activity` covers: one day.
pub const MAX_MINUTES: u32 = 24 * 60;

/// The last `minutes` minutes of the business's traffic (scope `ingest` or `read`).
pub async fn activity(app: &App, principal: &Principal, minutes: u32) -> Result<Activity> {
    principal.require_either(Scope::Ingest, Scope::Read)?;
    if !(1..=MAX_MINUTES).contains(&minutes) {
        return Err(Error::BadRequest {
            code: crate::error::ProblemCode::InvalidQueryParameter,
            detail: format!("minutes must be between 1 and {MAX_MINUTES}, not {minutes}"),
        });
    }
    let now = Utc::now()
        .duration_trunc(Duration::minutes(1))
        .map_err(|e| Error::Internal(e.into()))?;
    let first = now - Duration::minutes(i64::from(minutes) - 1);
    let rows =
        crate::store::inbound::outcomes_by_minute(&app.db, principal.business_id, first).await?;
    let deliveries = if principal
        .require_either(Scope::Webhooks, Scope::Read)
        .is_ok()
    {
        let (pending, failed) =
            crate::store::dispatch::business_backlog(&app.db, principal.business_id).await?;
        Some(DeliveryCounts { pending, failed })
    } else {
        None
    };
    Ok(Activity {
        minutes: fill(first, minutes, rows),
        deliveries,
    })
}

/// One entry per minute from `first`, with the counts of `rows` (minute as
/// `YYYY-MM-DD HH:MM`, outcome, count) added in; rows outside the window are left
/// out (a payload stamped a moment into the next minute).
fn fill(first: DateTime<Utc>, minutes: u32, rows: Vec<(String, String, i64)>) -> Vec<MinuteCounts> {
    let mut out: Vec<MinuteCounts> = (0..i64::from(minutes))
        .map(|i| MinuteCounts {
            minute: first + Duration::minutes(i),
            ..Default::default()
        })
        .collect();
    for (minute, outcome, count) in rows {
        let Ok(at) = chrono::NaiveDateTime::parse_from_str(&minute, "%Y-%m-%d %H:%M") else {
            continue;
        };
        let index = (at.and_utc() - first).num_minutes();
        let Some(slot) = usize::try_from(index).ok().and_then(|i| out.get_mut(i)) else {
            continue;
        };
        let count = u64::try_from(count).unwrap_or(0);
        match outcome.as_str() {
            "accepted" => slot.accepted += count,
            "accepted_with_warnings" => slot.accepted_with_warnings += count,
            "partially_accepted" => slot.partially_accepted += count,
            "rejected" => slot.rejected += count,
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_land_in_their_minute_and_empty_minutes_count_zero() {
        let first = "2026-12-05T10:00:00Z".parse().unwrap();
        let rows = vec![
            ("2026-12-05 10:00".into(), "accepted".into(), 3),
            ("2026-12-05 10:02".into(), "rejected".into(), 2),
            ("2026-12-05 10:02".into(), "accepted".into(), 1),
            // Outside the window, and unreadable: left out.
            ("2026-12-05 10:03".into(), "accepted".into(), 9),
            ("not a minute".into(), "accepted".into(), 9),
        ];
        let filled = fill(first, 3, rows);
        assert_eq!(filled.len(), 3);
        assert_eq!((filled[0].accepted, filled[0].rejected), (3, 0));
        assert_eq!((filled[1].accepted, filled[1].rejected), (0, 0));
        assert_eq!((filled[2].accepted, filled[2].rejected), (1, 2));
        assert_eq!(
            filled[2].minute,
            "2026-12-05T10:02:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
}
