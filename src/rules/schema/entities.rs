//! Field registries of the canonical entities and their nested objects.

use super::super::model::Entity;
use super::FieldType::*;
use super::{FieldDef, ObjectCheck, ObjectSchema, Req};

const fn opt(name: &'static str, ty: super::FieldType) -> FieldDef {
    FieldDef {
        name,
        ty,
        req: Req::Optional,
        refers: false,
    }
}
/// An optional field naming a master-data record (a customer, a SKU, an owner):
/// where the sender wrote it is kept, so that an unknown one is refused there.
const fn refers(name: &'static str, ty: super::FieldType) -> FieldDef {
    FieldDef {
        name,
        ty,
        req: Req::Optional,
        refers: true,
    }
}
const fn on_create(name: &'static str, ty: super::FieldType) -> FieldDef {
    FieldDef {
        name,
        ty,
        req: Req::Create,
        refers: false,
    }
}
const fn always(name: &'static str, ty: super::FieldType) -> FieldDef {
    FieldDef {
        name,
        ty,
        req: Req::Always,
        refers: false,
    }
}

const DIRECTIONS: &[&str] = &["INBOUND", "OUTBOUND"];
const SHIPMENT_STATUSES: &[&str] = &[
    "NEW",
    "SCHEDULED",
    "AT_FACILITY",
    "DOOR_ASSIGNED",
    "LOADING",
    "UNLOADING",
    "LOADED",
    "UNLOADED",
    "DEPARTED",
    "CHECKED_OUT",
    "CANCELLED",
];
const QUANTITY_UNITS: &[&str] = &["PALLET", "CASE", "UNIT"];
const WEIGHT_UNITS: &[&str] = &["KILOGRAM", "POUND"];
const DIMENSION_UNITS: &[&str] = &["CENTIMETER", "INCH"];
const PALLET_DIRECTIONS: &[&str] = &["LOADING", "UNLOADING"];
const DOCUMENT_TYPES: &[&str] = &["CMR", "POD", "BOL", "LABEL", "CUSTOMS", "OTHER"];
const PRIORITIES: &[&str] = &["LOW", "MEDIUM", "HIGH", "CRITICAL"];

static PARTY: ObjectSchema = ObjectSchema {
    name: "party",
    fields: &[
        opt("name", Str),
        opt("address_one", Str),
        opt("address_two", Str),
        opt("city", Str),
        opt("state", Str),
        opt("postal_code", Str),
        opt("country", Country),
        opt("phone", Str),
        opt("email", Email),
    ],
    any_of: &[],
    check: ObjectCheck::Address,
};

static WINDOW: ObjectSchema = ObjectSchema {
    name: "time window",
    fields: &[opt("start", DateTime), opt("end", DateTime)],
    any_of: &[],
    check: ObjectCheck::Window,
};

static DRIVER: ObjectSchema = ObjectSchema {
    name: "driver",
    fields: &[
        opt("name", Str),
        opt("phone", Str),
        opt("license_plate", Str),
    ],
    any_of: &[],
    check: ObjectCheck::None,
};

const STOP_KINDS: &[&str] = &["PICKUP", "DELIVERY", "OTHER"];
const STOP_STATUSES: &[&str] = &[
    "PLANNED",
    "EN_ROUTE",
    "ARRIVED",
    "COMPLETED",
    "FAILED",
    "SKIPPED",
];

static STOP: ObjectSchema = ObjectSchema {
    name: "stop",
    fields: &[
        always("seq", Count),
        opt("kind", Enum(STOP_KINDS)),
        opt("location", Str),
        opt("address", Object(&PARTY)),
        opt("planned_from", DateTime),
        opt("planned_to", DateTime),
        opt("status", Enum(STOP_STATUSES)),
        opt("arrived_at", DateTime),
        opt("departed_at", DateTime),
        opt("note", Str),
    ],
    any_of: &[],
    check: ObjectCheck::None,
};

static REFERENCE_ENTRY: ObjectSchema = ObjectSchema {
    name: "reference",
    fields: &[always("kind", Str), always("value", Str)],
    any_of: &[],
    check: ObjectCheck::None,
};

static ITEM: ObjectSchema = ObjectSchema {
    name: "item",
    fields: &[
        opt("identifier", Str),
        opt("lpn", Str),
        refers("sku", Str),
        opt("description", Str),
        opt("upc", Str),
        on_create("quantity", NonNegative),
        opt("quantity_unit", Enum(QUANTITY_UNITS)),
        opt("weight_per_unit", NonNegative),
        opt("gross_weight", NonNegative),
        opt("weight_unit", Enum(WEIGHT_UNITS)),
        opt("length", NonNegative),
        opt("width", NonNegative),
        opt("height", NonNegative),
        opt("dimension_unit", Enum(DIMENSION_UNITS)),
        opt("is_dangerous_good", Bool),
        opt("lot", Str),
        opt("expiration_date", Date),
        opt("manufacturing_date", Date),
        opt("pallet_type", Str),
    ],
    any_of: &[],
    check: ObjectCheck::None,
};

static ORDER: ObjectSchema = ObjectSchema {
    name: "order",
    fields: &[
        always("order_number", Str),
        opt("facility", Str),
        FieldDef {
            name: "customer",
            ty: Str,
            req: Req::Create,
            refers: true,
        },
        opt("direction", Enum(DIRECTIONS)),
        opt("order_type", Str),
        opt("purchase_order", Str),
        opt("requested_ship_date", DateTime),
        opt("requested_delivery_date", DateTime),
        opt("service_level", Str),
        opt("carrier", Str),
        opt("carrier_service", Str),
        opt("bol_number", Str),
        opt("seal_number", Str),
        opt("shipment_number", Str),
        opt("tracking_number", Str),
        opt("shipper", Object(&PARTY)),
        opt("consignee", Object(&PARTY)),
        opt("payer", Object(&PARTY)),
        opt("pickup_window", Object(&WINDOW)),
        opt("delivery_window", Object(&WINDOW)),
        opt("addons", StrList),
        opt("notes", Str),
        opt("references", ObjectList(&REFERENCE_ENTRY)),
        opt("items", ObjectList(&ITEM)),
    ],
    any_of: &[],
    check: ObjectCheck::None,
};

static SHIPMENT: ObjectSchema = ObjectSchema {
    name: "shipment",
    fields: &[
        always("shipment_number", Str),
        on_create("facility", Str),
        opt("direction", Enum(DIRECTIONS)),
        opt("status", Enum(SHIPMENT_STATUSES)),
        opt("status_occurred_at", DateTime),
        opt("expected_arrival_at", DateTime),
        opt("carrier", Str),
        opt("carrier_service", Str),
        opt("trailer_number", Str),
        opt("seal_number", Str),
        opt("gross_weight", NonNegative),
        opt("weight_unit", Enum(WEIGHT_UNITS)),
        opt("volume", NonNegative),
        opt("pallet_count", Count),
        opt("package_count", Count),
        opt("dock", Str),
        opt("driver", Object(&DRIVER)),
        opt("equipment_type", Str),
        opt("purchase_order", Str),
        opt("customer_shipment_identifier", Str),
        opt("notes", Str),
        opt("references", ObjectList(&REFERENCE_ENTRY)),
        opt("orders", ObjectList(&ORDER)),
        refers("subcontractor", Str),
        opt("stops", ObjectList(&STOP)),
    ],
    any_of: &[],
    check: ObjectCheck::None,
};

static PALLET: ObjectSchema = ObjectSchema {
    name: "pallet",
    fields: &[
        always("pallet_id", Str),
        always("shipment_number", Str),
        opt("facility", Str),
        opt("dock", Str),
        always("direction", Enum(PALLET_DIRECTIONS)),
        always("occurred_at", DateTime),
        opt("labels", LabelMap),
        opt("orders", StrList),
    ],
    any_of: &[],
    check: ObjectCheck::None,
};

static DOCUMENT: ObjectSchema = ObjectSchema {
    name: "document",
    fields: &[
        always("type", Enum(DOCUMENT_TYPES)),
        opt("order_number", Str),
        opt("shipment_number", Str),
        always("file_name", Str),
        always("mime_type", Mime),
        always("content_base64", Base64),
        opt("external_id", Str),
        opt("occurred_at", DateTime),
        opt("signed_by", Str),
        opt("notes", Str),
    ],
    any_of: &[&["order_number", "shipment_number"]],
    check: ObjectCheck::None,
};

static REFERENCE: ObjectSchema = ObjectSchema {
    name: "reference",
    fields: &[
        always("kind", Str),
        always("value", Str),
        opt("order_number", Str),
        opt("shipment_number", Str),
    ],
    any_of: &[&["order_number", "shipment_number"]],
    check: ObjectCheck::None,
};

static EXCEPTION: ObjectSchema = ObjectSchema {
    name: "exception",
    fields: &[
        opt("shipment_number", Str),
        opt("pallet_id", Str),
        always("priority", Enum(PRIORITIES)),
        always("description", Str),
        opt("occurred_at", DateTime),
    ],
    any_of: &[&["shipment_number", "pallet_id"]],
    check: ObjectCheck::None,
};

const PARTY_ROLES: &[&str] = &["CUSTOMER", "SUBCONTRACTOR"];
const RESOURCE_KINDS: &[&str] = &["DRIVER", "VEHICLE", "TRAILER"];

static CONTACT: ObjectSchema = ObjectSchema {
    name: "contact",
    fields: &[
        opt("name", Str),
        opt("role", Str),
        opt("phone", Str),
        opt("email", Email),
    ],
    any_of: &[],
    check: ObjectCheck::None,
};

static MASTER_PARTY: ObjectSchema = ObjectSchema {
    name: "party",
    fields: &[
        always("code", Str),
        on_create("role", Enum(PARTY_ROLES)),
        opt("name", Str),
        opt("address_one", Str),
        opt("address_two", Str),
        opt("city", Str),
        opt("state", Str),
        opt("postal_code", Str),
        opt("country", Country),
        opt("phone", Str),
        opt("email", Email),
        opt("vat_number", Str),
        opt("contacts", ObjectList(&CONTACT)),
        opt("notes", Str),
    ],
    any_of: &[],
    check: ObjectCheck::None,
};

static AVAILABILITY: ObjectSchema = ObjectSchema {
    name: "availability window",
    fields: &[always("start", DateTime), always("end", DateTime)],
    any_of: &[],
    check: ObjectCheck::Window,
};

static RESOURCE: ObjectSchema = ObjectSchema {
    name: "resource",
    fields: &[
        always("code", Str),
        on_create("kind", Enum(RESOURCE_KINDS)),
        opt("name", Str),
        refers("owner", Str),
        opt("license_plate", Str),
        opt("phone", Str),
        opt("email", Email),
        opt("availability", ObjectList(&AVAILABILITY)),
        opt("notes", Str),
    ],
    any_of: &[],
    check: ObjectCheck::None,
};

static SKU: ObjectSchema = ObjectSchema {
    name: "sku",
    fields: &[
        always("sku_id", Str),
        opt("facility", Str),
        opt("description", Str),
        opt("unit_of_measure", Str),
        opt("unit_of_weight", Str),
        opt("alternate_sku_ids", StrList),
        opt("sku_metadata", Str),
        opt("cases_per_pallet", Count),
        opt("cases_per_layer", Count),
        opt("layers_per_pallet", Count),
    ],
    any_of: &[],
    check: ObjectCheck::None,
};

/// The field registry of an entity.
pub(crate) fn entity_schema(entity: Entity) -> &'static ObjectSchema {
    match entity {
        Entity::Shipment => &SHIPMENT,
        Entity::Order => &ORDER,
        Entity::Pallet => &PALLET,
        Entity::Document => &DOCUMENT,
        Entity::Reference => &REFERENCE,
        Entity::Exception => &EXCEPTION,
        Entity::Party => &MASTER_PARTY,
        Entity::Resource => &RESOURCE,
        Entity::Sku => &SKU,
    }
}

/// Identity used when a rule declares none.
pub(crate) fn default_identity(entity: Entity) -> &'static [&'static str] {
    match entity {
        Entity::Shipment => &["shipment_number"],
        Entity::Order => &["order_number"],
        Entity::Pallet => &["pallet_id"],
        Entity::Document | Entity::Exception => &[],
        Entity::Reference => &["kind", "value"],
        Entity::Party | Entity::Resource => &["code"],
        Entity::Sku => &["sku_id"],
    }
}
