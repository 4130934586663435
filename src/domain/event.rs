//! The event types freightgate publishes: what webhook endpoints subscribe to and
//! what `GET /v1/messages` and GraphQL's pushes carry as `type`.

macro_rules! event_types {
    ($($variant:ident => $text:literal,)+) => {
        /// One kind of event.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum EventType {
            $($variant,)+
        }

        impl EventType {
            /// Every event type, in the order the README lists them.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant,)+];

            /// The type as published, e.g. `shipment.created`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(EventType::$variant => $text,)+
                }
            }

            /// The event type named `text`, if there is one.
            pub fn parse(text: &str) -> Option<EventType> {
                match text {
                    $($text => Some(EventType::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

event_types! {
    ShipmentCreated => "shipment.created",
    ShipmentUpdated => "shipment.updated",
    ShipmentStatusChanged => "shipment.status_changed",
    ShipmentCancelled => "shipment.cancelled",
    ShipmentCompleted => "shipment.completed",
    PalletProcessed => "pallet.processed",
    OrderCreated => "order.created",
    OrderUpdated => "order.updated",
    OrderCancelled => "order.cancelled",
    DocumentAttached => "document.attached",
    ExceptionCreated => "exception.created",
    PartyCreated => "party.created",
    PartyUpdated => "party.updated",
    PartyArchived => "party.archived",
    ResourceCreated => "resource.created",
    ResourceUpdated => "resource.updated",
    ResourceArchived => "resource.archived",
    SkuCreated => "sku.created",
    SkuUpdated => "sku.updated",
    SkuArchived => "sku.archived",
    TripCreated => "trip.created",
    TripUpdated => "trip.updated",
    TripCancelled => "trip.cancelled",
    StopUpdated => "stop.updated",
}

impl EventType {
    /// When an event of this type is published.
    pub const fn description(self) -> &'static str {
        match self {
            EventType::ShipmentCreated => "a shipment is created",
            EventType::ShipmentUpdated => "a shipment's fields change",
            EventType::ShipmentStatusChanged => "a shipment's status changes",
            EventType::ShipmentCancelled => "a shipment is cancelled",
            EventType::ShipmentCompleted => {
                "a shipment reaches DEPARTED or CHECKED_OUT; with its orders and pallets"
            }
            EventType::PalletProcessed => "one pallet is seen loading or unloading",
            EventType::OrderCreated => "an order is created",
            EventType::OrderUpdated => "an order's fields or lines change",
            EventType::OrderCancelled => "an order is cancelled",
            EventType::DocumentAttached => "a document is attached to a shipment or order",
            EventType::ExceptionCreated => "an exception is raised on a shipment or pallet",
            EventType::PartyCreated => {
                "a customer or subcontractor is created (or an archived one restored)"
            }
            EventType::PartyUpdated => "a party's fields change",
            EventType::PartyArchived => "a party is archived",
            EventType::ResourceCreated => {
                "a driver, vehicle or trailer is created (or an archived one restored)"
            }
            EventType::ResourceUpdated => "a resource's fields or availability change",
            EventType::ResourceArchived => "a resource is archived",
            EventType::SkuCreated => "a facility's SKU is created (or a deleted one restored)",
            EventType::SkuUpdated => "a SKU's fields change",
            EventType::SkuArchived => "a SKU is deleted (kept archived)",
            EventType::TripCreated => "a shipment is assigned to a subcontractor; with its stops",
            EventType::TripUpdated => {
                "an assigned shipment, its stops or their status change; with its stops"
            }
            EventType::TripCancelled => {
                "an assigned shipment is unassigned, moved to another subcontractor or cancelled"
            }
            EventType::StopUpdated => "a stop's status or actual times change",
        }
    }

    /// The names of every type, for messages that list them.
    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|t| t.as_str()).collect()
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::EventType;

    #[test]
    fn every_event_type_parses_back_to_itself() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(*t));
        }
        assert_eq!(EventType::parse("shipment.deleted"), None);
    }
}
