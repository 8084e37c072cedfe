// The `cinder` CLI's prettytable output, read back into rows and properties.
import assert from 'node:assert/strict';

export interface Table {
  headers: string[];
  rows: string[][];
}

/** Reads prettytable output; a row whose first cell is blank continues the row above (multi-line cell). */
export function parseTables(text: string): Table[] {
  const tables: Table[] = [];
  let current: Table | null = null;
  let borders = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('+')) {
      if (!current) {
        current = { headers: [], rows: [] };
        borders = 0;
      }
      borders++;
      if (borders === 3) {
        tables.push(current);
        current = null;
      }
      continue;
    }
    if (!current || !line.startsWith('|')) continue;
    const cells = line.slice(1, line.lastIndexOf('|')).split('|').map((c) => c.trim());
    if (borders === 1) {
      current.headers = cells;
    } else if (cells[0] === '' && current.rows.length > 0) {
      const last = current.rows[current.rows.length - 1]!;
      cells.forEach((c, i) => (last[i] = c ? `${last[i]}${last[i] ? '\n' : ''}${c}` : last[i]!));
    } else {
      current.rows.push(cells);
    }
  }
  return tables;
}

export function properties(table: Table | undefined): Record<string, string> {
  assert.ok(table, 'expected a property table');
  return Object.fromEntries(table.rows.map((r) => [r[0]!, r[1] ?? '']));
}

export function records(table: Table | undefined): Array<Record<string, string>> {
  assert.ok(table, 'expected a list table');
  return table.rows.map((r) => Object.fromEntries(table.headers.map((h, i) => [h, r[i] ?? ''])));
}
