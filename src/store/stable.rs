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

#[cfg(test)]
mod tests {
    use super::*;

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
