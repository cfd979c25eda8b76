// node-postgres (pg) against troupe: simple Query without parameters; unnamed
// Parse/Bind/Describe/Execute/Sync with text parameters; named prepared statements
// ({ name }), transactions, an error and the connection after it.
//
//     node node_pg_test.js PORT
//
// Exits non-zero, printing what differed, on any mismatch (shared/compat/clients.md).
'use strict';
const assert = require('node:assert');
const { Client } = require('pg');

const failed = [];
function check(what, got, want) {
  try {
    assert.deepStrictEqual(got, want);
  } catch (_) {
    failed.push(what);
    console.error(`MISMATCH ${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  }
}

async function main() {
  const port = Number(process.argv[2]);
  const c = new Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
  await c.connect();
  check('simple query', (await c.query("SELECT 1 AS one, 'x' AS x")).rows, [{ one: 1, x: 'x' }]);
  await c.query('DROP TABLE IF EXISTS node_items');
  await c.query('CREATE TABLE node_items (id int4 PRIMARY KEY, s int2, b int8, name text,'
    + ' f float8, n numeric, ok bool, ts timestamp, d date)');
  const ins = 'INSERT INTO node_items VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)';
  await c.query(ins, [1, 7, '1099511627776', "o'ne", 1.5, '12.345', true,
    '2024-05-06 07:08:09.123456', '2024-02-29']);
  const sel = 'SELECT id, s, b, name, f, n, ok, ts::text AS ts, d::text AS d FROM node_items WHERE id = $1';
  check('typed round trip', (await c.query(sel, [1])).rows, [{
    id: 1, s: 7, b: '1099511627776', name: "o'ne", f: 1.5, n: '12.345', ok: true,
    ts: '2024-05-06 07:08:09.123456', d: '2024-02-29',
  }]);

  // Named prepared statement, reused.
  for (let i = 2; i < 8; i++) {
    await c.query({ name: 'node_ins', text: 'INSERT INTO node_items (id, name) VALUES ($1, $2)', values: [i, `n${i}`] });
  }
  const cnt = await c.query({ name: 'node_count', text: 'SELECT count(*)::int4 AS n FROM node_items WHERE id > $1', values: [0] });
  check('named statements', cnt.rows, [{ n: 7 }]);

  await c.query('BEGIN');
  await c.query('UPDATE node_items SET name = $1 WHERE id = $2', ['two', 2]);
  await c.query('COMMIT');
  await c.query('BEGIN');
  await c.query('UPDATE node_items SET name = $1 WHERE id = $2', ['gone', 3]);
  await c.query('ROLLBACK');
  const names = await c.query('SELECT name FROM node_items WHERE id IN (2, 3) ORDER BY id');
  check('commit and rollback', names.rows.map((r) => r.name), ['two', 'n3']);

  try {
    await c.query('INSERT INTO node_items (id, name) VALUES ($1, $2)', [1, 'dup']);
    check('duplicate key raised', 'no error', '23505');
  } catch (e) {
    check('duplicate key sqlstate', e.code, '23505');
  }
  check('usable after error', (await c.query('SELECT name FROM node_items WHERE id = $1', [1])).rows, [{ name: "o'ne" }]);

  await c.query('PREPARE node_get (int4) AS SELECT name FROM node_items WHERE id = $1');
  check('EXECUTE', (await c.query('EXECUTE node_get (4)')).rows, [{ name: 'n4' }]);
  await c.query('DEALLOCATE ALL');
  await c.end();
}

main().then(() => {
  if (failed.length) {
    console.error(`node-postgres: ${failed.length} mismatches: ${failed.join(', ')}`);
    process.exit(1);
  }
  console.log('node-postgres: ok');
}, (e) => {
  console.error('node-postgres: error:', e);
  process.exit(1);
});
