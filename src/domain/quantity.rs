//! Quantities: a number of units that is finite and not negative, whichever door it
//! came through.

use serde::{Deserialize, Serialize};

/// How many units of an order line: finite, zero or more.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Quantity(f64);

impl Quantity {
    /// A quantity, refused when negative or not a finite number.
    pub fn new(value: f64) -> Result<Self, String> {
        if value.is_finite() && value >= 0.0 {
            // -0.0 is stored as 0.
            Ok(Self(value.abs()))
        } else {
            Err(format!(
                "quantity must be a number of zero or more, not {value}"
            ))
        }
    }

    /// The number of units.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Quantity {
    type Error = String;

    fn try_from(value: f64) -> Result<Self, String> {
        Self::new(value)
    }
}

impl From<Quantity> for f64 {
    fn from(value: Quantity) -> f64 {
        value.0
    }
}

/// A measure of a whole shipment (a weight, a volume): finite, zero or more.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Measure(f64);

impl Measure {
    /// A measure, refused when negative or not a finite number.
    pub fn new(value: f64) -> Result<Self, String> {
        if value.is_finite() && value >= 0.0 {
            Ok(Self(value.abs()))
        } else {
            Err(format!("must be a number of zero or more, not {value}"))
        }
    }

    /// The number.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Measure {
    type Error = String;

    fn try_from(value: f64) -> Result<Self, String> {
        Self::new(value)
    }
}

impl From<Measure> for f64 {
    fn from(value: Measure) -> f64 {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::Quantity;

    #[test]
    fn quantities_are_finite_and_not_negative() {
        assert_eq!(Quantity::new(2.5).map(Quantity::get), Ok(2.5));
        assert_eq!(Quantity::new(-0.0).map(Quantity::get), Ok(0.0));
        assert!(Quantity::new(-1.0).is_err());
        assert!(Quantity::new(f64::NAN).is_err());
        assert!(Quantity::new(f64::INFINITY).is_err());
        assert!(serde_json::from_str::<Quantity>("-3").is_err());
    }
}
