//! Carrying out one mapped document against the store, inside the caller's
//! transaction: create, update or cancel shipments and orders, attach the rest.

mod attachments;
mod master;
mod records;

use crate::store::gate::Write;
use serde::Serialize;

use crate::domain::{OrderNumber, ShipmentId, ShipmentNumber, Slug};
use crate::error::{Error, ProblemCode};
use crate::rules::{Entity, Operation, RuleSummary};
use crate::store::entities::{facility, order, shipment};
use crate::store::{orders, shipments, tenancy};

/// Facility used when a payload names none.
pub const DEFAULT_FACILITY: &str = "default";

/// A finding reported back to the sender.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Issue {
    pub code: String,
    pub path: String,
    pub detail: String,
}

impl Issue {
    pub fn new(code: impl AsRef<str>, path: &str, detail: impl Into<String>) -> Self {
        Self {
            code: code.as_ref().to_string(),
            path: path.into(),
            detail: detail.into(),
        }
    }
}

/// What one document did.
#[derive(Debug, Clone)]
pub struct Applied {
    pub id: i64,
    /// The sender's identifier of the record (shipment number, order number, …).
    pub reference: String,
    pub created: bool,
    pub warnings: Vec<Issue>,
}

impl Applied {
    /// A record applied without warnings.
    pub fn new(id: i64, reference: String, created: bool) -> Self {
        Self {
            id,
            reference,
            created,
            warnings: Vec::new(),
        }
    }
}

/// Why a document was not applied: the sender's problem, or ours.
#[derive(Debug)]
pub enum Failure {
    Rejected(Issue),
    Fatal(Error),
}

impl Failure {
    /// Store errors with a business meaning are the sender's; the rest are ours.
    pub fn from_error(error: Error, path: &str) -> Self {
        match error {
            Error::Conflict { code, detail } | Error::BadRequest { code, detail } => {
                Failure::Rejected(Issue::new(code, path, detail))
            }
            Error::Invalid { code, detail, .. } => {
                Failure::Rejected(Issue::new(code, path, detail))
            }
            e @ Error::NotFound { .. } => {
                Failure::Rejected(Issue::new(ProblemCode::NotFound, path, e.to_string()))
            }
            other => Failure::Fatal(other),
        }
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Failure::from_error(error, "$")
    }
}

/// Who is sending and how their records are found.
pub struct Context<'a, C> {
    pub db: &'a C,
    pub business_id: i64,
    pub strict: crate::config::Strict,
    pub rule: &'a RuleSummary,
    /// Where the document sits in the sender's payload, for error paths.
    pub path: String,
    /// Where each field naming master data was read, by canonical path
    /// (`customer`, `orders[1].items[0].sku`).
    pub references: &'a std::collections::BTreeMap<String, String>,
    /// The customer a customer key acts for: it may only create, change and cancel
    /// that customer's orders.
    pub customer: Option<&'a str>,
    /// The subcontractor a subcontractor key acts for: it may only report on the
    /// shipments assigned to it (their stops, pallet scans, documents, exceptions).
    pub subcontractor: Option<&'a str>,
}

/// What a subcontractor key's shipment update may carry besides the shipment's number
/// and facility: its stops.
const SUBCONTRACTOR_SHIPMENT_FIELDS: &[&str] = &["shipment_number", "facility", "stops"];

/// Applies one canonical document according to its rule.
pub async fn apply<C: Write>(
    cx: &Context<'_, C>,
    document: &serde_json::Value,
) -> Result<Applied, Failure> {
    if let Some(customer) = cx.customer
        && cx.rule.entity != Entity::Order
    {
        return Err(cx.reject(
            ProblemCode::Forbidden,
            format!(
                "the rule `{}` makes a {}; a key acting for customer `{customer}` may only send orders",
                cx.rule.name, cx.rule.entity
            ),
        ));
    }
    if let Some(party) = cx.subcontractor {
        let reports = matches!(
            (cx.rule.operation, cx.rule.entity),
            (Operation::Update, Entity::Shipment)
                | (_, Entity::Pallet | Entity::Document | Entity::Exception)
        );
        if !reports {
            return Err(cx.reject(
                ProblemCode::Forbidden,
                format!(
                    "the rule `{}` makes a {} {}; a key acting for subcontractor `{party}` may only update its shipments' stops and attach pallets, documents and exceptions to them",
                    cx.rule.name, cx.rule.operation, cx.rule.entity
                ),
            ));
        }
        if cx.rule.entity == Entity::Shipment
            && let Some(beyond) = document.as_object().and_then(|fields| {
                fields.iter().find(|(k, v)| {
                    !v.is_null() && !SUBCONTRACTOR_SHIPMENT_FIELDS.contains(&k.as_str())
                })
            })
        {
            return Err(cx.reject(
                ProblemCode::Forbidden,
                format!(
                    "the rule `{}` maps the shipment's `{}`; a key acting for subcontractor `{party}` may only change a shipment's stops",
                    cx.rule.name, beyond.0
                ),
            ));
        }
    }
    match (cx.rule.operation, cx.rule.entity) {
        (Operation::Create, Entity::Shipment) => records::create_shipment(cx, document).await,
        (Operation::Update, Entity::Shipment) => records::update_shipment(cx, document).await,
        (Operation::Cancel, Entity::Shipment) => records::cancel_shipment(cx, document).await,
        (Operation::Create, Entity::Order) => records::create_order(cx, document).await,
        (Operation::Update, Entity::Order) => records::update_order(cx, document).await,
        (Operation::Cancel, Entity::Order) => records::cancel_order(cx, document).await,
        (_, Entity::Pallet) => attachments::pallet(cx, document).await,
        (_, Entity::Document) => attachments::document(cx, document).await,
        (_, Entity::Reference) => attachments::reference(cx, document).await,
        (_, Entity::Exception) => attachments::exception(cx, document).await,
        (operation, Entity::Party) => master::party(cx, operation, document).await,
        (operation, Entity::Resource) => master::resource(cx, operation, document).await,
        (operation, Entity::Sku) => master::sku(cx, operation, document).await,
        (operation, entity) => Err(Failure::Rejected(Issue::new(
            ProblemCode::UnsupportedOperation,
            &cx.path,
            format!(
                "the rule `{}` asks to {operation} a {entity}, which freightgate does not do",
                cx.rule.name
            ),
        ))),
    }
}

impl<C: Write> Context<'_, C> {
    fn reject(&self, code: ProblemCode, detail: impl Into<String>) -> Failure {
        Failure::Rejected(Issue::new(code, &self.path, detail))
    }

    /// Refuses a reference to master data that names no record, at the path the
    /// sender wrote it (`prefix` places a carried order: `orders[1].`).
    fn refuse_unknown(&self, prefix: &str, unknown: crate::store::master::Unknown) -> Failure {
        let field = format!("{prefix}{}", unknown.field);
        let path = self.references.get(&field).unwrap_or(&self.path);
        Failure::Rejected(Issue::new(unknown.code, path, unknown.detail))
    }

    /// Refuses an order whose customer or SKUs the strict settings do not know.
    async fn check_order_references(
        &self,
        prefix: &str,
        facility_id: i64,
        fields: &crate::store::orders::OrderFields,
    ) -> Result<(), Failure> {
        let skus = self.strict.skus && self.rule.items_mode != crate::rules::ItemsMode::Delete;
        if !self.strict.parties && !skus {
            return Ok(());
        }
        match crate::store::master::unknown_in_order(
            self.db,
            self.business_id,
            facility_id,
            fields,
            self.strict.parties,
            skus,
        )
        .await?
        {
            Some(unknown) => Err(self.refuse_unknown(prefix, unknown)),
            None => Ok(()),
        }
    }

    /// Reads the canonical document into `T`.
    fn read<T: serde::de::DeserializeOwned>(
        &self,
        document: &serde_json::Value,
    ) -> Result<T, Failure> {
        crate::ingest::canonical::read(document)
            .map_err(|e| self.reject(ProblemCode::ValidationFailed, e))
    }

    fn slug(&self, field: &str, value: &str) -> Result<Slug, Failure> {
        Slug::parse(value)
            .map_err(|e| self.reject(ProblemCode::ValidationFailed, format!("{field}: {e}")))
    }

    /// The facility to create in: the named one (created on first reference unless
    /// strict) or the business's default facility.
    async fn facility_for_create(&self, name: Option<&str>) -> Result<facility::Model, Failure> {
        let slug = self.slug("facility", name.unwrap_or(DEFAULT_FACILITY))?;
        tenancy::facility(self.db, self.business_id, &slug, self.strict.facilities)
            .await
            .map_err(|e| Failure::from_error(e, &self.path))
    }

    /// The facility a lookup is limited to, when the payload names one.
    async fn facility_for_lookup(&self, name: Option<&str>) -> Result<Option<i64>, Failure> {
        let Some(name) = name else { return Ok(None) };
        let slug = self.slug("facility", name)?;
        match tenancy::find_facility(self.db, self.business_id, &slug).await? {
            Some(f) => Ok(Some(f.id)),
            None => Err(self.reject(
                ProblemCode::NotFound,
                format!("facility `{name}` does not exist"),
            )),
        }
    }

    fn single<T>(&self, found: Vec<T>, what: &str, number: &str) -> Result<Option<T>, Failure> {
        if found.len() > 1 {
            return Err(self.reject(
                ProblemCode::AmbiguousReference,
                format!(
                    "{what} `{number}` exists in several facilities; map `facility` to say which"
                ),
            ));
        }
        Ok(found.into_iter().next())
    }

    async fn find_shipment(
        &self,
        number: &str,
        facility: Option<&str>,
    ) -> Result<Option<shipment::Model>, Failure> {
        let parsed = ShipmentNumber::parse(number).map_err(|e| self.reject(e.code, e.detail))?;
        let facility_id = self.facility_for_lookup(facility).await?;
        let mut found =
            shipments::find_in_business(self.db, self.business_id, facility_id, &parsed).await?;
        if let Some(party) = self.subcontractor {
            // A subcontractor's key finds only the shipments assigned to it.
            found.retain(|s| s.subcontractor.as_deref() == Some(party));
        }
        self.single(found, "shipment", number)
    }

    async fn find_order(
        &self,
        number: &str,
        facility: Option<&str>,
    ) -> Result<Option<order::Model>, Failure> {
        let parsed = OrderNumber::parse(number).map_err(|e| self.reject(e.code, e.detail))?;
        let facility_id = self.facility_for_lookup(facility).await?;
        let found =
            orders::find_in_business(self.db, self.business_id, facility_id, &parsed).await?;
        self.single(found, "order", number)
    }

    async fn require_shipment(
        &self,
        number: Option<&str>,
        facility: Option<&str>,
    ) -> Result<shipment::Model, Failure> {
        let number = number.ok_or_else(|| {
            self.reject(
                ProblemCode::MissingField,
                "Missing required field: shipment_number",
            )
        })?;
        self.find_shipment(number, facility).await?.ok_or_else(|| {
            self.reject(
                ProblemCode::NotFound,
                format!("shipment `{number}` does not exist"),
            )
        })
    }

    async fn require_order(
        &self,
        number: Option<&str>,
        facility: Option<&str>,
    ) -> Result<order::Model, Failure> {
        let number = number.ok_or_else(|| {
            self.reject(
                ProblemCode::MissingField,
                "Missing required field: order_number",
            )
        })?;
        let found = self
            .find_order(number, facility)
            .await?
            .filter(|o| self.owns(o));
        let found = match (found, self.subcontractor) {
            // A subcontractor finds the orders its assigned shipments carry.
            (Some(order), Some(party)) => {
                let carrier = match order.shipment_id {
                    Some(id) => {
                        shipments::find(self.db, self.business_id, ShipmentId::new(id)).await?
                    }
                    None => None,
                };
                carrier
                    .is_some_and(|s| s.subcontractor.as_deref() == Some(party))
                    .then_some(order)
            }
            (found, _) => found,
        };
        found.ok_or_else(|| {
            self.reject(
                ProblemCode::NotFound,
                format!("order `{number}` does not exist"),
            )
        })
    }

    /// Whether the sender may see `order`: a customer key only its own.
    fn owns(&self, order: &order::Model) -> bool {
        self.customer
            .is_none_or(|c| order.customer.as_deref() == Some(c))
    }

    /// Refuses a subcontractor that names no subcontractor party, at the path the
    /// sender wrote it.
    async fn check_subcontractor(&self, code: Option<&str>) -> Result<(), Failure> {
        let Some(code) = code else { return Ok(()) };
        match crate::store::trips::check_subcontractor(self.db, self.business_id, code).await {
            Ok(()) => Ok(()),
            Err(crate::Error::Invalid { code, detail, .. }) => {
                let path = self.references.get("subcontractor").unwrap_or(&self.path);
                Err(Failure::Rejected(Issue::new(code, path, detail)))
            }
            Err(other) => Err(Failure::Fatal(other)),
        }
    }

    /// A customer key's order is its customer's: another customer named is refused
    /// (at the path it was read from), none becomes its own, and it cannot name a
    /// shipment.
    fn for_own_customer(
        &self,
        prefix: &str,
        fields: &mut crate::store::orders::OrderFields,
    ) -> Result<(), Failure> {
        let Some(own) = self.customer else {
            return Ok(());
        };
        if let Some(named) = fields.customer.as_deref()
            && named != own
        {
            let field = format!("{prefix}customer");
            let path = self.references.get(&field).unwrap_or(&self.path);
            return Err(Failure::Rejected(Issue::new(
                ProblemCode::Forbidden,
                path,
                format!("this key acts for customer `{own}` and cannot send orders of `{named}`"),
            )));
        }
        if fields.shipment_id.is_some() {
            return Err(self.reject(
                ProblemCode::Forbidden,
                "a key acting for a customer cannot put an order on a shipment",
            ));
        }
        fields.customer = Some(own.to_string());
        Ok(())
    }
}
