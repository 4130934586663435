//! Master data as REST resources: `/v1/parties`, `/v1/resources` and
//! `/v1/facilities/{facility}/skus`. Each record is addressed by its code; `PUT`
//! creates or replaces it, `PATCH` changes the fields given, `DELETE` archives it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::body::{Body, PatchBody, invalid};
use super::{PageParams, Reader, Writer, text_param};
use crate::app::master::{self as use_case, Fields, Filter, Record};
use crate::app::{App, Listing};
use crate::domain::{PartyFields, PartyRole, ResourceFields, ResourceKind, SkuFields, Slug};
use crate::error::Result;
use crate::http::extract::{Path, Query};
use crate::http::openapi::{ReadProblems, WriteProblems};
use crate::store::keys::Principal;
use crate::store::master::Merge;

/// Filters of the party listing.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PartyListParams {
    /// Only customers or only subcontractors.
    pub role: Option<PartyRole>,
    /// `true`: archived parties too.
    pub archived: Option<bool>,
    /// The `next_cursor` of the previous page.
    pub after: Option<String>,
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
}

/// Filters of the resource listing.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResourceListParams {
    /// Only drivers, vehicles or trailers.
    pub kind: Option<ResourceKind>,
    /// Only those of this owner (a subcontractor's code).
    pub owner: Option<String>,
    /// `true`: archived resources too.
    pub archived: Option<bool>,
    /// The `next_cursor` of the previous page.
    pub after: Option<String>,
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
}

/// Filters of a facility's SKU listing.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SkuListParams {
    /// `true`: deleted (archived) SKUs too.
    pub archived: Option<bool>,
    /// The `next_cursor` of the previous page.
    pub after: Option<String>,
    /// Rows per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u64>,
}

fn page(after: Option<String>, limit: Option<u64>) -> Result<crate::store::listing::Page> {
    PageParams { after, limit }.page()
}

/// The `{facility}` path segment; a malformed one is `400 invalid_path_parameter`.
fn facility(slug: &str) -> Result<Slug> {
    Slug::parse(slug).map_err(|e| super::bad_path(format!("facility: {e}")))
}

/// The top-level members a `PATCH` clears (a JSON Merge Patch's `null`s); the
/// record's `required` member cannot be cleared.
fn clearable(nulls: &[String], required: &str) -> Result<Vec<String>> {
    match nulls.iter().find(|n| n.as_str() == required) {
        Some(n) => Err(invalid(
            format!("$.{n}"),
            "cannot be cleared: leave it out to keep it, or send a value".into(),
        )),
        None => Ok(nulls.iter().filter(|n| !n.contains('.')).cloned().collect()),
    }
}

async fn put<F: Fields>(
    app: &App,
    who: &Principal,
    facility: Option<&Slug>,
    code: &str,
    fields: F,
    merge: Merge,
    clear: &[String],
) -> Result<Response> {
    let saved = use_case::save(app, who, facility, code, fields, merge, clear).await?;
    let status = if saved.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(saved.record)).into_response())
}

/// Lists the business's parties, oldest first, a page at a time (scope `read`).
#[utoipa::path(get, path = "/v1/parties", operation_id = "listParties", tag = "master data",
    params(PartyListParams),
    responses((status = 200, description = "A page of parties", body = Listing<Record<PartyFields>>), ReadProblems))]
pub async fn list_parties(
    State(app): State<App>,
    Reader(who): Reader,
    Query(params): Query<PartyListParams>,
) -> Result<Response> {
    let filter = Filter {
        facility: None,
        kind: params.role.map(|r| r.as_str().to_string()),
        archived: params.archived.unwrap_or(false),
    };
    let page = page(params.after, params.limit)?;
    let listing = use_case::list::<PartyFields>(&app, &who, filter, page).await?;
    Ok(axum::Json(listing).into_response())
}

/// A party by its code, archived or not (scope `read`).
#[utoipa::path(get, path = "/v1/parties/{code}", operation_id = "getParty", tag = "master data",
    params(("code" = String, Path, description = "The party's code")),
    responses((status = 200, description = "The party", body = Record<PartyFields>), ReadProblems))]
pub async fn get_party(
    State(app): State<App>,
    Reader(who): Reader,
    Path(code): Path<String>,
) -> Result<Response> {
    let found = use_case::get::<PartyFields>(&app, &who, None, &code).await?;
    Ok(axum::Json(found).into_response())
}

/// Creates the party, or replaces its fields: what the body leaves out is cleared.
/// An archived party is restored (scope `write`).
#[utoipa::path(put, path = "/v1/parties/{code}", operation_id = "putParty", tag = "master data",
    params(("code" = String, Path, description = "The party's code")),
    request_body = PartyFields,
    responses(
        (status = 200, description = "Replaced", body = Record<PartyFields>),
        (status = 201, description = "Created, or restored from the archive", body = Record<PartyFields>),
        WriteProblems))]
pub async fn put_party(
    State(app): State<App>,
    Writer(who): Writer,
    Path(code): Path<String>,
    Body(body): Body<PartyFields>,
) -> Result<Response> {
    put(&app, &who, None, &code, body, Merge::Replace, &[]).await
}

/// Changes the fields the body gives and clears those sent as `null` (a JSON Merge
/// Patch); the others stay (scope `write`).
#[utoipa::path(patch, path = "/v1/parties/{code}", operation_id = "patchParty", tag = "master data",
    params(("code" = String, Path, description = "The party's code")),
    request_body = PartyFields,
    responses((status = 200, description = "Changed", body = Record<PartyFields>), WriteProblems))]
pub async fn patch_party(
    State(app): State<App>,
    Writer(who): Writer,
    Path(code): Path<String>,
    PatchBody { change, nulls }: PatchBody<PartyFields>,
) -> Result<Response> {
    put(
        &app,
        &who,
        None,
        &code,
        change,
        Merge::Patch,
        &clearable(&nulls, "role")?,
    )
    .await
}

/// Archives the party: it is kept, so orders and keys naming it still resolve, but
/// strict references refuse it (scope `write`).
#[utoipa::path(delete, path = "/v1/parties/{code}", operation_id = "archiveParty", tag = "master data",
    params(("code" = String, Path, description = "The party's code")),
    responses((status = 200, description = "Archived", body = Record<PartyFields>), WriteProblems))]
pub async fn archive_party(
    State(app): State<App>,
    Writer(who): Writer,
    Path(code): Path<String>,
) -> Result<Response> {
    let archived = use_case::archive::<PartyFields>(&app, &who, None, &code).await?;
    Ok(axum::Json(archived).into_response())
}

/// Lists the business's drivers, vehicles and trailers, oldest first (scope `read`).
#[utoipa::path(get, path = "/v1/resources", operation_id = "listResources", tag = "master data",
    params(ResourceListParams),
    responses((status = 200, description = "A page of resources", body = Listing<Record<ResourceFields>>), ReadProblems))]
pub async fn list_resources(
    State(app): State<App>,
    Reader(who): Reader,
    Query(params): Query<ResourceListParams>,
) -> Result<Response> {
    let filter = Filter {
        facility: None,
        kind: params.kind.map(|k| k.as_str().to_string()),
        archived: params.archived.unwrap_or(false),
    };
    let owner = text_param("owner", params.owner)?;
    let page = page(params.after, params.limit)?;
    let mut listing = use_case::list::<ResourceFields>(&app, &who, filter, page).await?;
    if let Some(owner) = owner {
        listing
            .items
            .retain(|r| r.fields.owner.as_deref() == Some(owner.as_str()));
    }
    Ok(axum::Json(listing).into_response())
}

/// A resource by its code, archived or not (scope `read`).
#[utoipa::path(get, path = "/v1/resources/{code}", operation_id = "getResource", tag = "master data",
    params(("code" = String, Path, description = "The resource's code")),
    responses((status = 200, description = "The resource", body = Record<ResourceFields>), ReadProblems))]
pub async fn get_resource(
    State(app): State<App>,
    Reader(who): Reader,
    Path(code): Path<String>,
) -> Result<Response> {
    let found = use_case::get::<ResourceFields>(&app, &who, None, &code).await?;
    Ok(axum::Json(found).into_response())
}

/// Creates the resource, or replaces its fields and availability. An archived
/// resource is restored (scope `write`).
#[utoipa::path(put, path = "/v1/resources/{code}", operation_id = "putResource", tag = "master data",
    params(("code" = String, Path, description = "The resource's code")),
    request_body = ResourceFields,
    responses(
        (status = 200, description = "Replaced", body = Record<ResourceFields>),
        (status = 201, description = "Created, or restored from the archive", body = Record<ResourceFields>),
        WriteProblems))]
pub async fn put_resource(
    State(app): State<App>,
    Writer(who): Writer,
    Path(code): Path<String>,
    Body(body): Body<ResourceFields>,
) -> Result<Response> {
    put(&app, &who, None, &code, body, Merge::Replace, &[]).await
}

/// Changes the fields the body gives and clears those sent as `null` (a JSON Merge
/// Patch); the others stay (scope `write`).
#[utoipa::path(patch, path = "/v1/resources/{code}", operation_id = "patchResource", tag = "master data",
    params(("code" = String, Path, description = "The resource's code")),
    request_body = ResourceFields,
    responses((status = 200, description = "Changed", body = Record<ResourceFields>), WriteProblems))]
pub async fn patch_resource(
    State(app): State<App>,
    Writer(who): Writer,
    Path(code): Path<String>,
    PatchBody { change, nulls }: PatchBody<ResourceFields>,
) -> Result<Response> {
    put(
        &app,
        &who,
        None,
        &code,
        change,
        Merge::Patch,
        &clearable(&nulls, "kind")?,
    )
    .await
}

/// Archives the resource (scope `write`).
#[utoipa::path(delete, path = "/v1/resources/{code}", operation_id = "archiveResource", tag = "master data",
    params(("code" = String, Path, description = "The resource's code")),
    responses((status = 200, description = "Archived", body = Record<ResourceFields>), WriteProblems))]
pub async fn archive_resource(
    State(app): State<App>,
    Writer(who): Writer,
    Path(code): Path<String>,
) -> Result<Response> {
    let archived = use_case::archive::<ResourceFields>(&app, &who, None, &code).await?;
    Ok(axum::Json(archived).into_response())
}

/// Lists a facility's SKUs, oldest first; a facility the business does not have
/// lists nothing (scope `read`).
#[utoipa::path(get, path = "/v1/facilities/{facility}/skus", operation_id = "listSkus", tag = "master data",
    params(("facility" = String, Path, description = "The facility's slug"), SkuListParams),
    responses((status = 200, description = "A page of SKUs", body = Listing<Record<SkuFields>>), ReadProblems))]
pub async fn list_skus(
    State(app): State<App>,
    Reader(who): Reader,
    Path(slug): Path<String>,
    Query(params): Query<SkuListParams>,
) -> Result<Response> {
    let filter = Filter {
        facility: Some(facility(&slug)?),
        kind: None,
        archived: params.archived.unwrap_or(false),
    };
    let page = page(params.after, params.limit)?;
    let listing = use_case::list::<SkuFields>(&app, &who, filter, page).await?;
    Ok(axum::Json(listing).into_response())
}

/// A facility's SKU by its id, deleted or not (scope `read`).
#[utoipa::path(get, path = "/v1/facilities/{facility}/skus/{sku_id}", operation_id = "getSku", tag = "master data",
    params(("facility" = String, Path, description = "The facility's slug"),
        ("sku_id" = String, Path, description = "The SKU's id")),
    responses((status = 200, description = "The SKU", body = Record<SkuFields>), ReadProblems))]
pub async fn get_sku(
    State(app): State<App>,
    Reader(who): Reader,
    Path((slug, sku)): Path<(String, String)>,
) -> Result<Response> {
    let facility = facility(&slug)?;
    let found = use_case::get::<SkuFields>(&app, &who, Some(&facility), &sku).await?;
    Ok(axum::Json(found).into_response())
}

/// Creates the SKU in the facility (the facility too, unless `strict_facilities`),
/// or replaces its fields (scope `write`).
#[utoipa::path(put, path = "/v1/facilities/{facility}/skus/{sku_id}", operation_id = "putSku", tag = "master data",
    params(("facility" = String, Path, description = "The facility's slug"),
        ("sku_id" = String, Path, description = "The SKU's id")),
    request_body = SkuFields,
    responses(
        (status = 200, description = "Replaced", body = Record<SkuFields>),
        (status = 201, description = "Created, or restored after a delete", body = Record<SkuFields>),
        WriteProblems))]
pub async fn put_sku(
    State(app): State<App>,
    Writer(who): Writer,
    Path((slug, sku)): Path<(String, String)>,
    Body(body): Body<SkuFields>,
) -> Result<Response> {
    let facility = facility(&slug)?;
    put(&app, &who, Some(&facility), &sku, body, Merge::Replace, &[]).await
}

/// Changes the fields the body gives and clears those sent as `null` (a JSON Merge
/// Patch); the others stay (scope `write`).
#[utoipa::path(patch, path = "/v1/facilities/{facility}/skus/{sku_id}", operation_id = "patchSku", tag = "master data",
    params(("facility" = String, Path, description = "The facility's slug"),
        ("sku_id" = String, Path, description = "The SKU's id")),
    request_body = SkuFields,
    responses((status = 200, description = "Changed", body = Record<SkuFields>), WriteProblems))]
pub async fn patch_sku(
    State(app): State<App>,
    Writer(who): Writer,
    Path((slug, sku)): Path<(String, String)>,
    PatchBody { change, nulls }: PatchBody<SkuFields>,
) -> Result<Response> {
    let facility = facility(&slug)?;
    let clear = clearable(&nulls, "")?;
    put(
        &app,
        &who,
        Some(&facility),
        &sku,
        change,
        Merge::Patch,
        &clear,
    )
    .await
}

/// Deletes the SKU: it is archived, no longer listed nor accepted by `strict_skus`
/// (scope `write`).
#[utoipa::path(delete, path = "/v1/facilities/{facility}/skus/{sku_id}", operation_id = "archiveSku", tag = "master data",
    params(("facility" = String, Path, description = "The facility's slug"),
        ("sku_id" = String, Path, description = "The SKU's id")),
    responses((status = 200, description = "Archived", body = Record<SkuFields>), WriteProblems))]
pub async fn archive_sku(
    State(app): State<App>,
    Writer(who): Writer,
    Path((slug, sku)): Path<(String, String)>,
) -> Result<Response> {
    let facility = facility(&slug)?;
    let archived = use_case::archive::<SkuFields>(&app, &who, Some(&facility), &sku).await?;
    Ok(axum::Json(archived).into_response())
}
