"""asyncpg against troupe: binary parameters and results, named statements with
Describe Statement + Flush, max_rows=1 fetches, executemany, binary COPY sent before
CopyInResponse (copy_records_to_table), cancel of a blocked UPDATE, pool reset.

    python3 asyncpg_test.py PORT

Exits non-zero, printing what differed, on any mismatch (shared/compat/clients.md).
"""
import asyncio
import datetime
import decimal
import sys

import asyncpg

PORT = int(sys.argv[1])
FAILED = []
DSN = dict(host="127.0.0.1", port=PORT, user="postgres", database="postgres")


def check(what, got, want):
    if got != want:
        FAILED.append(what)
        print(f"MISMATCH {what}: got {got!r}, want {want!r}", file=sys.stderr)


async def main():
    conn = await asyncpg.connect(**DSN)
    check("simple fetchval", await conn.fetchval("SELECT 1"), 1)
    await conn.execute("DROP TABLE IF EXISTS apg_items")
    await conn.execute(
        "CREATE TABLE apg_items (id int4 PRIMARY KEY, s int2, b int8, name text,"
        " f float8, n numeric, ok bool, ts timestamp, d date)"
    )
    row = (1, 7, 2**40, "o'ne", 1.5, decimal.Decimal("12.345"), True,
           datetime.datetime(2024, 5, 6, 7, 8, 9, 123456), datetime.date(2024, 2, 29))
    await conn.execute("INSERT INTO apg_items VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", *row)
    got = await conn.fetchrow("SELECT id, s, b, name, f, n, ok, ts, d FROM apg_items WHERE id = $1", 1)
    check("typed round trip (binary)", tuple(got), row)
    check("fetchval count", await conn.fetchval("SELECT count(*) FROM apg_items"), 1)

    await conn.executemany("INSERT INTO apg_items (id, name) VALUES ($1, $2)",
                           [(i, f"n{i}") for i in range(2, 12)])
    check("executemany", await conn.fetchval("SELECT sum(id) FROM apg_items"), sum(range(1, 12)))

    stmt = await conn.prepare("SELECT name FROM apg_items WHERE id = $1")
    for i in (2, 3, 4):
        check(f"prepared statement reuse {i}", await stmt.fetchval(i), f"n{i}")
    rows = await conn.fetch("SELECT id FROM apg_items WHERE id <= $1 ORDER BY id", 3)
    check("fetch", [r["id"] for r in rows], [1, 2, 3])
    # fetchrow on a many-row result: Execute with max_rows=1 (PortalSuspended).
    check("fetchrow of many", (await conn.fetchrow("SELECT id FROM apg_items ORDER BY id"))["id"], 1)

    async with conn.transaction():
        await conn.execute("UPDATE apg_items SET name = $1 WHERE id = $2", "two", 2)
    try:
        async with conn.transaction():
            await conn.execute("UPDATE apg_items SET name = $1 WHERE id = $2", "gone", 3)
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    got = await conn.fetch("SELECT name FROM apg_items WHERE id IN (2, 3) ORDER BY id")
    check("commit and rollback", [r[0] for r in got], ["two", "n3"])

    try:
        await conn.execute("INSERT INTO apg_items (id, name) VALUES ($1, $2)", 1, "dup")
        check("duplicate key raised", "no error", "UniqueViolationError")
    except asyncpg.UniqueViolationError as e:
        check("duplicate key sqlstate", e.sqlstate, "23505")
    check("usable after error", await conn.fetchval("SELECT name FROM apg_items WHERE id = $1", 1), "o'ne")

    n = await conn.copy_records_to_table(
        "apg_items", columns=["id", "name", "n", "ts"],
        records=[(i, f"c{i}", decimal.Decimal(i) / 8, datetime.datetime(2021, 3, 4, 5, 6, 7))
                 for i in range(100, 200)])
    check("copy_records_to_table status", n, "COPY 100")
    got = await conn.fetchrow("SELECT count(*), sum(n), min(ts) FROM apg_items WHERE id >= 100")
    check("copied rows", tuple(got),
          (100, decimal.Decimal(sum(range(100, 200))) / 8, datetime.datetime(2021, 3, 4, 5, 6, 7)))

    await conn.execute("PREPARE apg_get (int4) AS SELECT name FROM apg_items WHERE id = $1")
    check("EXECUTE", await conn.fetchval("EXECUTE apg_get (5)"), "n5")
    await conn.execute("DEALLOCATE apg_get")

    await cancel_blocked_update(conn)
    await pool_reset()
    await conn.close()


async def cancel_blocked_update(conn):
    holder = await asyncpg.connect(**DSN)
    tx = holder.transaction()
    await tx.start()
    await holder.execute("UPDATE apg_items SET name = 'held' WHERE id = 1")
    try:
        # The timeout sends a CancelRequest; the server answers the UPDATE with 57014.
        await conn.execute("UPDATE apg_items SET name = 'waiter' WHERE id = 1", timeout=0.5)
        check("blocked update cancelled", "no error", "TimeoutError")
    except asyncio.TimeoutError:
        pass
    check("usable after cancel", await conn.fetchval("SELECT name FROM apg_items WHERE id = 1"), "o'ne")
    await tx.rollback()
    await holder.close()


async def pool_reset():
    pool = await asyncpg.create_pool(**DSN, min_size=1, max_size=1)
    async with pool.acquire() as c:
        await c.execute("SELECT pg_advisory_lock(77)")
        await c.execute("SET application_name = 'dirty'")
    # Release ran `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;`.
    other = await asyncpg.connect(**DSN)
    check("advisory lock released by pool reset", await other.fetchval("SELECT pg_try_advisory_lock(77)"), True)
    await other.close()
    async with pool.acquire() as c:
        check("RESET ALL by pool reset", await c.fetchval("SHOW application_name"), "")
    await pool.close()


if __name__ == "__main__":
    asyncio.run(main())
    if FAILED:
        print(f"asyncpg: {len(FAILED)} mismatches: {FAILED}", file=sys.stderr)
        sys.exit(1)
    print("asyncpg: ok")
