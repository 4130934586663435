//! Settings of the installation kept with its data, the same for every instance on
//! the database.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, EntityTrait};

use crate::domain::IdKey;
use crate::error::{Error, Result};
use crate::store::Db;
use crate::store::entities::instance_setting;
use crate::store::gate::WriteGate;

const PUBLIC_ID_KEY: &str = "public_id_key";

/// The database's key for public ids, created on the first start. Instances that
/// start together agree: the first insert wins and everyone reads it back.
pub async fn public_id_key(db: &Db, gate: &WriteGate) -> Result<IdKey> {
    if let Some(key) = read_key(db).await? {
        return Ok(key);
    }
    let txn = gate.begin(db).await?;
    instance_setting::Entity::insert(instance_setting::ActiveModel {
        name: Set(PUBLIC_ID_KEY.to_string()),
        value: Set(IdKey::random().to_hex()),
    })
    .on_conflict(
        OnConflict::column(instance_setting::Column::Name)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await
    .map_err(Error::from_db_err)?;
    txn.commit().await?;
    read_key(db)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("the public id key vanished after insert")))
}

async fn read_key(db: &Db) -> Result<Option<IdKey>> {
    let Some(row) = instance_setting::Entity::find_by_id(PUBLIC_ID_KEY.to_string())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    IdKey::parse(&row.value).map(Some).map_err(|e| {
        Error::Internal(anyhow::anyhow!(
            "instance_settings.public_id_key cannot be read: {e}"
        ))
    })
}
