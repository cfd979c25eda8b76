"""psycopg 3 against troupe: extended protocol with binary int parameters, binary
results, named statements (prepare=True), pipeline mode, COPY FROM STDIN (text).

    python3 psycopg3_test.py PORT

Exits non-zero, printing what differed, on any mismatch (shared/compat/clients.md).
"""
import datetime
import decimal
import sys

import psycopg
import psycopg.errors

PORT = int(sys.argv[1])
FAILED = []


def check(what, got, want):
    if got != want:
        FAILED.append(what)
        print(f"MISMATCH {what}: got {got!r}, want {want!r}", file=sys.stderr)


def connect(**kw):
    return psycopg.connect(host="127.0.0.1", port=PORT, user="postgres", dbname="postgres", **kw)


def main():
    with connect(autocommit=True) as conn:
        check("simple query", conn.execute("SELECT 1, 'x'").fetchone(), (1, "x"))
        conn.execute("DROP TABLE IF EXISTS p3_items")
        conn.execute(
            "CREATE TABLE p3_items (id int4 PRIMARY KEY, s int2, b int8, name text,"
            " f float8, n numeric, ok bool, ts timestamp, d date)"
        )
    with connect() as conn:
        typed(conn)
        named_and_pipeline(conn)
        transactions(conn)
        copy_text(conn)
        server_prepare(conn)


def typed(conn):
    row = (1, 7, 2**40, "o'ne", 1.5, decimal.Decimal("12.345"), True,
           datetime.datetime(2024, 5, 6, 7, 8, 9, 123456), datetime.date(2024, 2, 29))
    # Python ints go as binary int2/int4/int8 parameters; the rest as text or binary
    # by psycopg's dumpers.
    conn.execute("INSERT INTO p3_items VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", row)
    conn.execute("INSERT INTO p3_items VALUES (%b, %b, %b, %b, %b, %b, %b, %b, %b)",
                 (100, 1, 2, "bin", 2.5, decimal.Decimal("-0.5"), False,
                  datetime.datetime(2000, 1, 1), datetime.date(1999, 12, 31)))
    conn.commit()
    sql = "SELECT id, s, b, name, f, n, ok, ts, d FROM p3_items WHERE id = %s"
    check("text results", conn.execute(sql, (1,)).fetchone(), row)
    with conn.cursor(binary=True) as cur:
        check("binary results", cur.execute(sql, (1,)).fetchone(), row)
        cur.execute("SELECT count(*), sum(b), max(name) FROM p3_items WHERE id > %s", (0,))
        check("binary aggregates", cur.fetchone(), (2, 2**40 + 2, "o'ne"))
        check("binary row 100", cur.execute(sql, (100,)).fetchone(),
              (100, 1, 2, "bin", 2.5, decimal.Decimal("-0.5"), False,
               datetime.datetime(2000, 1, 1), datetime.date(1999, 12, 31)))
    # A binary int2 parameter compared with an int4 column.
    check("int2 param vs int4 column",
          conn.execute("SELECT name FROM p3_items WHERE id = %s", (100,)).fetchone(), ("bin",))
    conn.commit()


def named_and_pipeline(conn):
    for i in range(3):  # prepare=True: named statement _pg3_N, reused
        got = conn.execute("SELECT name FROM p3_items WHERE id = %s", (1,), prepare=True)
        check(f"prepared reuse {i}", got.fetchone(), ("o'ne",))
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO p3_items (id, name) VALUES (%s, %s)",
                        [(i, f"n{i}") for i in range(2, 12)])
    conn.commit()
    with conn.pipeline():
        c1 = conn.execute("INSERT INTO p3_items (id, name) VALUES (%s, %s)", (12, "p12"))
        c2 = conn.execute("SELECT count(*) FROM p3_items")
        c3 = conn.execute("SELECT name FROM p3_items WHERE id = %s", (12,))
    check("pipeline insert rowcount", c1.rowcount, 1)
    check("pipeline count", c2.fetchone(), (13,))
    check("pipeline select", c3.fetchone(), ("p12",))
    conn.commit()


def transactions(conn):
    with conn.transaction():
        conn.execute("UPDATE p3_items SET name = %s WHERE id = %s", ("two", 2))
    try:
        with conn.transaction():
            conn.execute("UPDATE p3_items SET name = %s WHERE id = %s", ("gone", 3))
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    got = conn.execute("SELECT name FROM p3_items WHERE id IN (2, 3) ORDER BY id").fetchall()
    check("commit and rollback", got, [("two",), ("n3",)])
    conn.commit()
    try:
        conn.execute("INSERT INTO p3_items (id, name) VALUES (%s, %s)", (1, "dup"))
        check("duplicate key raised", "no error", "UniqueViolation")
    except psycopg.errors.UniqueViolation as e:
        check("duplicate key sqlstate", e.sqlstate, "23505")
    conn.rollback()
    check("usable after error",
          conn.execute("SELECT name FROM p3_items WHERE id = %s", (1,)).fetchone(), ("o'ne",))
    conn.commit()


def copy_text(conn):
    with conn.cursor() as cur:
        with cur.copy("COPY p3_items (id, name, n, d) FROM STDIN") as copy:
            for i in range(200, 300):
                copy.write_row((i, f"c\t{i}", decimal.Decimal(i) / 4, datetime.date(2020, 1, 1)))
        check("copy rowcount", cur.rowcount, 100)
    conn.commit()
    got = conn.execute("SELECT count(*), sum(n) FROM p3_items WHERE id >= 200").fetchone()
    check("copied rows", got, (100, decimal.Decimal(sum(range(200, 300))) / 4))
    got = conn.execute("SELECT name FROM p3_items WHERE id = 250").fetchone()
    check("copied tab escape", got, ("c\t250",))
    conn.commit()


def server_prepare(conn):
    conn.autocommit = True
    conn.execute("PREPARE p3_get AS SELECT name, id + $2 FROM p3_items WHERE id = $1")
    check("EXECUTE", conn.execute("EXECUTE p3_get (5, 10)").fetchone(), ("n5", 15))
    check("EXECUTE again", conn.execute("EXECUTE p3_get (6, 1)").fetchone(), ("n6", 7))
    conn.execute("DEALLOCATE ALL")
    try:
        conn.execute("EXECUTE p3_get (5, 10)")
        check("EXECUTE after DEALLOCATE ALL", "no error", "26000")
    except psycopg.errors.InvalidSqlStatementName as e:
        check("EXECUTE after DEALLOCATE ALL sqlstate", e.sqlstate, "26000")


if __name__ == "__main__":
    main()
    if FAILED:
        print(f"psycopg3: {len(FAILED)} mismatches: {FAILED}", file=sys.stderr)
        sys.exit(1)
    print("psycopg3: ok")
