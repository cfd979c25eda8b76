"""psycopg2 against troupe: simple Query only, parameters interpolated client-side.

    python3 psycopg2_test.py PORT

Connects to 127.0.0.1:PORT as postgres, exercises what psycopg2 does in real use
(shared/compat/clients.md) and exits non-zero, printing what differed, on any mismatch.
"""
import datetime
import decimal
import sys
import threading
import time

import psycopg2
import psycopg2.errors

PORT = int(sys.argv[1])
FAILED = []


def check(what, got, want):
    if got != want:
        FAILED.append(what)
        print(f"MISMATCH {what}: got {got!r}, want {want!r}", file=sys.stderr)


def connect():
    return psycopg2.connect(host="127.0.0.1", port=PORT, user="postgres", dbname="postgres")


def main():
    conn = connect()
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SELECT 1, 'one''s'")
    check("simple query", cur.fetchone(), (1, "one's"))
    cur.execute("DROP TABLE IF EXISTS p2_items")
    cur.execute(
        "CREATE TABLE p2_items (id int4 PRIMARY KEY, s int2, b int8, name text, f float8,"
        " n numeric, ok bool, ts timestamp, d date)"
    )
    conn.autocommit = False

    row = (1, 7, 2**40, "o'ne", 1.5, decimal.Decimal("12.345"), True,
           datetime.datetime(2024, 5, 6, 7, 8, 9, 123456), datetime.date(2024, 2, 29))
    cur.execute("INSERT INTO p2_items VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", row)
    conn.commit()
    cur.execute("SELECT id, s, b, name, f, n, ok, ts, d FROM p2_items WHERE id = %s", (1,))
    check("typed round trip", cur.fetchone(), row)
    conn.commit()

    # executemany: one INSERT per row.
    cur.executemany("INSERT INTO p2_items (id, name) VALUES (%s, %s)",
                    [(i, f"n{i}") for i in range(2, 12)])
    conn.commit()
    cur.execute("SELECT count(*), sum(id) FROM p2_items")
    check("executemany", cur.fetchone(), (11, sum(range(1, 12))))
    conn.commit()

    # A rolled-back transaction leaves no trace.
    cur.execute("UPDATE p2_items SET name = 'gone' WHERE id = 2")
    cur.execute("DELETE FROM p2_items WHERE id = 3")
    conn.rollback()
    cur.execute("SELECT name FROM p2_items WHERE id IN (2, 3) ORDER BY id")
    check("rollback", cur.fetchall(), [("n2",), ("n3",)])
    conn.commit()

    # 23505, then the connection is usable after ROLLBACK.
    try:
        cur.execute("INSERT INTO p2_items (id, name) VALUES (1, 'dup')")
        check("duplicate key raised", "no error", "UniqueViolation")
    except psycopg2.errors.UniqueViolation as e:
        check("duplicate key sqlstate", e.pgcode, "23505")
    conn.rollback()
    cur.execute("SELECT name FROM p2_items WHERE id = 1")
    check("usable after error", cur.fetchone(), ("o'ne",))
    conn.commit()

    # Server-side PREPARE / EXECUTE / DEALLOCATE.
    conn.autocommit = True
    cur.execute("PREPARE p2_get (int4) AS SELECT name FROM p2_items WHERE id = $1")
    for i in (4, 5, 6):
        cur.execute("EXECUTE p2_get (%s)", (i,))
        check(f"EXECUTE p2_get({i})", cur.fetchone(), (f"n{i}",))
    cur.execute("DEALLOCATE p2_get")
    try:
        cur.execute("EXECUTE p2_get (4)")
        check("EXECUTE after DEALLOCATE", "no error", "26000")
    except psycopg2.Error as e:
        check("EXECUTE after DEALLOCATE sqlstate", e.pgcode, "26000")

    advisory_locks()
    cancel_blocked_update()
    conn.close()


def advisory_locks():
    a, b = connect(), connect()
    a.autocommit = b.autocommit = True
    ca, cb = a.cursor(), b.cursor()
    ca.execute("SELECT pg_advisory_lock(4242)")
    cb.execute("SELECT pg_try_advisory_lock(4242)")
    check("try_lock while held elsewhere", cb.fetchone(), (False,))
    ca.execute("SELECT pg_advisory_unlock(4242)")
    check("unlock", ca.fetchone(), (True,))
    cb.execute("SELECT pg_try_advisory_lock(4242)")
    check("try_lock after unlock", cb.fetchone(), (True,))
    cb.execute("SELECT pg_advisory_unlock_all()")
    ca.execute("SELECT pg_try_advisory_lock(4242)")
    check("try_lock after unlock_all", ca.fetchone(), (True,))
    a.close()
    b.close()


def cancel_blocked_update():
    holder, waiter = connect(), connect()
    hc, wc = holder.cursor(), waiter.cursor()
    hc.execute("UPDATE p2_items SET name = 'held' WHERE id = 1")  # holds the row lock
    timer = threading.Timer(0.5, waiter.cancel)
    timer.start()
    t0 = time.monotonic()
    try:
        wc.execute("UPDATE p2_items SET name = 'waiter' WHERE id = 1")
        check("blocked update cancelled", "no error", "QueryCanceled")
    except psycopg2.errors.QueryCanceled as e:
        check("cancel sqlstate", e.pgcode, "57014")
    timer.join()
    check("cancel took under 5 s", time.monotonic() - t0 < 5, True)
    waiter.rollback()
    wc.execute("SELECT 1")
    check("usable after cancel", wc.fetchone(), (1,))
    waiter.rollback()
    holder.rollback()
    waiter.close()
    holder.close()


if __name__ == "__main__":
    main()
    if FAILED:
        print(f"psycopg2: {len(FAILED)} mismatches: {FAILED}", file=sys.stderr)
        sys.exit(1)
    print("psycopg2: ok")
