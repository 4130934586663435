//! Removing lines from an order by what identifies them.

use super::gate::Write;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::entities::order_item;
use crate::error::{Error, Result};

/// What was removed by [`delete_by_keys`].
#[derive(Debug, Clone)]
pub struct Deleted {
    /// The sent keys that matched at least one line, in the order sent.
    pub keys: Vec<String>,
    /// Lines left on the order afterwards.
    pub remaining: u64,
}

/// Deletes the order's lines whose identifier (else LPN, else SKU) is one of `keys`.
pub async fn delete_by_keys(db: &impl Write, order_id: i64, keys: &[String]) -> Result<Deleted> {
    let lines = super::orders::items(db, order_id).await?;
    let key_of = |line: &order_item::Model| {
        line.identifier
            .clone()
            .or_else(|| line.lpn.clone())
            .or_else(|| line.sku.clone())
    };
    let doomed: Vec<i64> = lines
        .iter()
        .filter(|line| key_of(line).is_some_and(|k| keys.contains(&k)))
        .map(|line| line.id)
        .collect();
    let matched: Vec<String> = keys
        .iter()
        .filter(|key| lines.iter().any(|l| key_of(l).as_ref() == Some(*key)))
        .cloned()
        .collect();
    if !doomed.is_empty() {
        order_item::Entity::delete_many()
            .filter(order_item::Column::Id.is_in(doomed))
            .exec(db)
            .await
            .map_err(Error::from_db_err)?;
    }
    let remaining = order_item::Entity::find()
        .filter(order_item::Column::OrderId.eq(order_id))
        .count(db)
        .await
        .map_err(Error::from_db_err)?;
    Ok(Deleted {
        keys: matched,
        remaining,
    })
}
