//! Statement shapes that repeat. A multi-row statement's SQL text depends on how many
//! rows or ids it carries; cut into a few fixed sizes, the texts repeat and each
//! connection's prepared-statement cache hits, instead of SQLite parsing and planning a
//! new text for nearly every batch.

/// Most rows or ids in one statement: well inside both databases' limits on bound
/// parameters.
pub const MAX_ROWS: usize = 256;
/// Shortest padded id list: lists of one to eight ids share one text.
const MIN_IDS: usize = 8;

/// Cuts `rows` into chunks of power-of-two lengths (at most [`MAX_ROWS`]), longest
/// first: at most nine statement texts per row shape.
pub fn chunks<T>(rows: &[T]) -> impl Iterator<Item = &[T]> {
    let mut rest = rows;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let len = if rest.len() >= MAX_ROWS {
            MAX_ROWS
        } else {
            1 << rest.len().ilog2()
        };
        let (head, tail) = rest.split_at(len);
        rest = tail;
        Some(head)
    })
}

/// Ids (or other keys) for `IN` lists of at most [`MAX_ROWS`], each padded to a power
/// of two by repeating its last id: a repeated id changes nothing in `IN` or `NOT IN`.
pub fn id_lists<T: Clone>(ids: &[T]) -> impl Iterator<Item = Vec<T>> + '_ {
    ids.chunks(MAX_ROWS).map(|chunk| {
        let mut padded = chunk.to_vec();
        let last = chunk[chunk.len() - 1].clone();
        padded.resize(chunk.len().next_power_of_two().max(MIN_IDS), last);
        padded
    })
}

/// `parts` as one statement joined by `UNION ALL`; `None` for no parts. A list of
/// equality lookups written this way is a seek of the index for each part under any
/// plan, where an `IN` list may be planned as a filter over every row (see
/// [`super::orders::by_numbers_statement`]).
pub fn union_all(
    backend: sea_orm::DbBackend,
    parts: impl IntoIterator<Item = sea_orm::sea_query::SelectStatement>,
) -> Option<sea_orm::Statement> {
    let mut parts = parts.into_iter();
    let mut query = parts.next()?;
    query.unions(parts.map(|part| (sea_orm::sea_query::UnionType::All, part)));
    Some(backend.build(&query))
}

/// `stmt` with a `LIMIT ?` at its end written as its number, on SQLite.
///
/// SQLite plans a LIMIT with the value bound to it, and marks the statement to be
/// prepared again whenever that parameter is bound anew: every execution of a
/// cached statement with `LIMIT ?` (each `.one()`) parsed and planned it again. In
/// the SQLite soak that was a tenth of the server's CPU. A number in the text
/// keeps the plan, and the statement texts repeat since the limits do.
pub fn literal_limit(mut stmt: sea_orm::Statement) -> sea_orm::Statement {
    use sea_orm::sea_query::Value;
    let sea_orm::Statement {
        sql,
        values: Some(values),
        db_backend: sea_orm::DbBackend::Sqlite,
    } = &mut stmt
    else {
        return stmt;
    };
    // The limit's placeholder is the last or, before an offset, the one before it.
    let at = if sql.ends_with(" LIMIT ?") {
        values.0.len().checked_sub(1).map(|i| (i, sql.len() - 1))
    } else if sql.ends_with(" LIMIT ? OFFSET ?") {
        let offset = " OFFSET ?".len();
        values
            .0
            .len()
            .checked_sub(2)
            .map(|i| (i, sql.len() - offset - 1))
    } else {
        None
    };
    let limit = at.and_then(|(i, _)| match values.0[i] {
        Value::BigUnsigned(Some(n)) => Some(n),
        Value::Unsigned(Some(n)) => Some(u64::from(n)),
        Value::BigInt(Some(n)) => u64::try_from(n).ok(),
        Value::Int(Some(n)) => u64::try_from(n).ok(),
        _ => None,
    });
    if let (Some((i, placeholder)), Some(limit)) = (at, limit) {
        values.0.remove(i);
        sql.replace_range(placeholder..=placeholder, &limit.to_string());
    }
    stmt
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
    use sea_orm::{DbBackend, Statement};

    fn built(backend: DbBackend, limit: u64, offset: Option<u64>) -> Statement {
        let mut query = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("orders"))
            .and_where(Expr::col(Alias::new("number")).eq("SO-1?"))
            .limit(limit)
            .to_owned();
        if let Some(offset) = offset {
            query.offset(offset);
        }
        backend.build(&query)
    }

    #[test]
    fn a_trailing_limit_is_written_as_its_number_on_sqlite() {
        let stmt = literal_limit(built(DbBackend::Sqlite, 1, None));
        assert_eq!(
            stmt.sql,
            r#"SELECT "id" FROM "orders" WHERE "number" = ? LIMIT 1"#
        );
        assert_eq!(stmt.values.unwrap().0, vec!["SO-1?".into()]);
        let stmt = literal_limit(built(DbBackend::Sqlite, 50, Some(100)));
        assert_eq!(
            stmt.sql,
            r#"SELECT "id" FROM "orders" WHERE "number" = ? LIMIT 50 OFFSET ?"#
        );
        let values = stmt.values.unwrap().0;
        assert_eq!(values, vec!["SO-1?".into(), 100u64.into()]);
    }

    #[test]
    fn other_statements_are_left_as_they_are() {
        let postgres = built(DbBackend::Postgres, 1, None);
        assert_eq!(literal_limit(postgres.clone()), postgres);
        let no_limit = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            r#"SELECT "id" FROM "orders" WHERE "number" = ?"#,
            ["SO-1".into()],
        );
        assert_eq!(literal_limit(no_limit.clone()), no_limit);
        let text_limit = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            r#"SELECT "id" FROM "orders" LIMIT ?"#,
            ["1".into()],
        );
        assert_eq!(literal_limit(text_limit.clone()), text_limit);
    }

    #[test]
    fn rows_are_cut_into_power_of_two_chunks_that_cover_them_in_order() {
        let rows: Vec<usize> = (0..300).collect();
        let lens: Vec<usize> = chunks(&rows).map(<[usize]>::len).collect();
        assert_eq!(lens, [256, 32, 8, 4]);
        let back: Vec<usize> = chunks(&rows).flatten().copied().collect();
        assert_eq!(back, rows);
        assert_eq!(chunks::<u8>(&[]).count(), 0);
    }

    #[test]
    fn id_lists_repeat_the_last_id_up_to_a_power_of_two() {
        let lists: Vec<Vec<i64>> = id_lists(&[5, 6, 7]).collect();
        assert_eq!(lists, [vec![5, 6, 7, 7, 7, 7, 7, 7]]);
        let ids: Vec<i64> = (1..=300).collect();
        let lens: Vec<usize> = id_lists(&ids).map(|l| l.len()).collect();
        assert_eq!(lens, [256, 64]);
        assert_eq!(id_lists::<i64>(&[]).count(), 0);
    }
}
