/** The "ready" rule of this engine's stage rows, written once. */

/**
 * SQL that is true when the stage row `row` (a table name or alias of item_stages) may be
 * claimed once pending: it is the item's first stage, or the previous stage is done or skipped.
 */
export function readySql(row: string): string {
  return `(${row}.position = 0 OR EXISTS (SELECT 1 FROM item_stages p
    WHERE p.item_id = ${row}.item_id AND p.position = ${row}.position - 1
      AND p.status IN ('done', 'skipped')))`;
}
