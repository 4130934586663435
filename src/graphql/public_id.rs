//! Public ids in GraphQL: they stay the `Int` the legacy schema types them as, and
//! read and write the public form (see `domain::public_id`).

use std::borrow::Cow;

use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::{
    ContextSelectionSet, InputType, InputValueError, InputValueResult, OutputType, Positioned,
    ServerResult, Value,
};

use crate::domain::PublicId;

impl InputType for PublicId {
    type RawValueType = Self;

    fn type_name() -> Cow<'static, str> {
        <i64 as InputType>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <i64 as InputType>::create_type_info(registry)
    }

    fn parse(value: Option<Value>) -> InputValueResult<Self> {
        <i64 as InputType>::parse(value)
            .map(PublicId::from_public)
            .map_err(InputValueError::propagate)
    }

    fn to_value(&self) -> Value {
        Value::from(self.public())
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }
}

impl OutputType for PublicId {
    fn type_name() -> Cow<'static, str> {
        <i64 as OutputType>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <i64 as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        _ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        Ok(Value::from(self.public()))
    }
}
