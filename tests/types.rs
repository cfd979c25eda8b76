//! The types a user stores beyond numbers, strings and timestamps: interval, bytea,
//! uuid, jsonb and arrays of every scalar type, through a real client in both the text
//! (simple query) and binary (extended query, typed parameters and results) formats.
//! Every expectation was checked against PostgreSQL 15 (`TROUPE_REFERENCE_PG`).
#![allow(clippy::unwrap_used)]

mod common;

use std::error::Error as StdError;

use bytes::BytesMut;
use common::{lines, scalar, sqlstate, TestServer};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type};
use tokio_postgres::Client;

/// A value's binary wire form, whatever its type.
#[derive(Debug, PartialEq)]
struct Raw(Vec<u8>);

impl<'a> FromSql<'a> for Raw {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(Raw(raw.to_vec()))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

/// A parameter sent as the given binary bytes, for any declared type.
#[derive(Debug)]
struct RawParam(Vec<u8>);

impl ToSql for RawParam {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        out.extend_from_slice(&self.0);
        Ok(IsNull::No)
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    tokio_postgres::types::to_sql_checked!();
}

fn interval_bytes(micros: i64, days: i32, months: i32) -> Vec<u8> {
    [micros.to_be_bytes().as_slice(), &days.to_be_bytes(), &months.to_be_bytes()].concat()
}

async fn error_of(c: &Client, sql: &str) -> (SqlState, String) {
    let e = c.batch_execute(sql).await.expect_err(sql);
    (common::code(&e), common::message(&e))
}

// Interval input in the common forms, printed in the default `postgres` style.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interval_text_forms() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    let got = lines(
        &c,
        "SELECT interval '1 day', interval '2 hours 30 minutes', \
         interval '1 year 2 mons 3 days 04:05:06', interval '-1 day +02:00', \
         interval 'P1Y2M3DT4H5M6S', interval '1.5 hours', interval '00:30:00', \
         interval '1.5 months', interval '@ 1 day ago', interval '0'",
    )
    .await;
    assert_eq!(
        got,
        ["1 day|02:30:00|1 year 2 mons 3 days 04:05:06|-1 days +02:00:00|\
          1 year 2 mons 3 days 04:05:06|01:30:00|00:30:00|1 mon 15 days|-1 days|00:00:00"]
    );
    let (code, msg) = error_of(&c, "SELECT interval '1 fortnight'").await;
    assert_eq!(code, SqlState::INVALID_DATETIME_FORMAT);
    assert_eq!(msg, "invalid input syntax for type interval: \"1 fortnight\"");
    let (code, msg) = error_of(&c, "SELECT '99999999999 years'::interval").await;
    assert_eq!(code, SqlState::INTERVAL_FIELD_OVERFLOW);
    assert_eq!(msg, "interval field value out of range: \"99999999999 years\"");
    let (code, msg) = error_of(&c, "SELECT interval '2147483647 days' + interval '1 day'").await;
    assert_eq!((code, msg.as_str()), (SqlState::DATETIME_FIELD_OVERFLOW, "interval out of range"));
}

// Interval arithmetic and comparison, and datetimes shifted by intervals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interval_arithmetic() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    let got = lines(
        &c,
        "SELECT interval '1 day' * 1.5, interval '1 mon' / 7, 2 * interval '1 hour', \
         interval '1 day' - interval '1 hour', -interval '1 day 02:00', \
         interval '1 mon' = interval '30 days', interval '25 hours' > interval '1 day'",
    )
    .await;
    assert_eq!(
        got,
        ["1 day 12:00:00|4 days 06:51:25.6896|02:00:00|1 day -01:00:00|-1 days -02:00:00|t|t"]
    );
    let got = lines(
        &c,
        "SELECT timestamp '2000-01-31' + interval '1 mon', \
         timestamp '2000-03-01' - timestamp '2000-01-01 01:00', \
         date '2000-01-01' + interval '1 hour', date '2000-03-01' - interval '1 day', \
         timestamptz '2024-01-01 00:00:00+00' - interval '1 hour', \
         now() - interval '1 hour' < now()",
    )
    .await;
    assert_eq!(
        got,
        ["2000-02-29 00:00:00|59 days 23:00:00|2000-01-01 01:00:00|2000-02-29 00:00:00|\
          2023-12-31 23:00:00+00|t"]
    );
}

// bytea: hex and escape input, hex output, ||, length, comparison; uuid: the input
// forms PostgreSQL accepts, lower-case output, as a primary key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytea_and_uuid_text() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    let got = lines(
        &c,
        "SELECT '\\x0102'::bytea, 'a\\\\b\\001'::bytea, '\\x01'::bytea || '\\x02'::bytea, \
         length('\\x0102'::bytea), octet_length('abc'::bytea), '\\x01'::bytea < '\\x0100'::bytea, \
         'abc'::text::bytea",
    )
    .await;
    assert_eq!(got, ["\\x0102|\\x615c6201|\\x0102|2|3|t|\\x616263"]);
    let (code, msg) = error_of(&c, "SELECT '\\x123'::bytea").await;
    assert_eq!(code, SqlState::INVALID_PARAMETER_VALUE);
    assert_eq!(msg, "invalid hexadecimal data: odd number of digits");

    let got = lines(
        &c,
        "SELECT 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid, \
         '{a0eebc999c0b4ef8bb6d6bb9bd380a11}'::uuid, \
         'a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11'::uuid = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'",
    )
    .await;
    assert_eq!(
        got,
        ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|t"]
    );
    let (code, msg) = error_of(&c, "SELECT 'abc'::uuid").await;
    assert_eq!(code, SqlState::INVALID_TEXT_REPRESENTATION);
    assert_eq!(msg, "invalid input syntax for type uuid: \"abc\"");

    c.batch_execute(
        "CREATE TABLE docs (id uuid PRIMARY KEY, body bytea);
         INSERT INTO docs VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\xdead'),
                                 ('00000000-0000-0000-0000-000000000001', 'x')",
    )
    .await
    .unwrap();
    let dup = "INSERT INTO docs VALUES ('A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', NULL)";
    assert_eq!(sqlstate(&c, dup).await, SqlState::UNIQUE_VIOLATION);
    assert_eq!(
        lines(&c, "SELECT * FROM docs ORDER BY id").await,
        [
            "00000000-0000-0000-0000-000000000001|\\x78",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|\\xdead"
        ]
    );
    assert_eq!(
        scalar(&c, "SELECT body FROM docs WHERE id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'").await,
        Some("\\xdead".into())
    );
    assert_eq!(scalar(&c, "SELECT length(gen_random_uuid()::text)").await, Some("36".into()));
}

// jsonb: keys deduplicated and reordered, numbers kept as written, PG's output
// spacing, the access operators, containment, ordering and errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jsonb_text() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    assert_eq!(
        scalar(&c, r#"SELECT '{"b":[1,2.50,1e2],"aa":{},"a":1,"a":"x\ny"}'::jsonb"#).await,
        Some(r#"{"a": "x\ny", "b": [1, 2.50, 100], "aa": {}}"#.into())
    );
    let got = lines(
        &c,
        r#"SELECT '{"a":{"b":[10,20]}}'::jsonb -> 'a' -> 'b' -> -1, '{"a":"x"}'::jsonb ->> 'a',
                  '{"a":{"b":[10,20]}}'::jsonb #> '{a,b}', '{"a":{"b":[10,20]}}'::jsonb #>> '{a,b,0}',
                  '{"a":1,"b":2}'::jsonb @> '{"a":1}', '{"a":1}'::jsonb <@ '{"a":1,"b":2}',
                  '[1,2]'::jsonb -> 5, '{"a":null}'::jsonb ->> 'a', jsonb_typeof('[1]'),
                  '1.0'::jsonb = '1', '[]'::jsonb < 'null'::jsonb, '"s"'::jsonb::text"#,
    )
    .await;
    assert_eq!(got, [r#"20|x|[10, 20]|10|t|t|NULL|NULL|array|t|t|"s""#]);
    let e = c.batch_execute(r#"SELECT '{"a":}'::jsonb"#).await.unwrap_err();
    assert_eq!(common::code(&e), SqlState::INVALID_TEXT_REPRESENTATION);
    assert_eq!(common::message(&e), "invalid input syntax for type json");
    assert_eq!(common::detail(&e).as_deref(), Some("Expected JSON value, but found \"}\"."));

    c.batch_execute(
        r#"CREATE TABLE events (id int PRIMARY KEY, data jsonb);
           INSERT INTO events VALUES (1, '{"kind": "click", "n": 3}'), (2, '{"kind": "view"}'),
                                     (3, '[1, 2]'), (4, NULL)"#,
    )
    .await
    .unwrap();
    assert_eq!(
        lines(&c, "SELECT id, data ->> 'kind' FROM events WHERE data @> '{\"kind\": \"click\"}'")
            .await,
        ["1|click"]
    );
    assert_eq!(lines(&c, "SELECT id FROM events ORDER BY data, id").await, ["3", "2", "1", "4"]);
}

// Arrays as values and columns: constructors, literals, PG's quoting, subscripts,
// length functions, comparison, ANY/ALL, and arrays of the new types.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arrays_as_values() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    let got = lines(
        &c,
        "SELECT ARRAY[1,2], '{1,2}'::int4[], ARRAY['a','b c',NULL,'', 'x\"y'], \
         array_length(ARRAY[1,2,3], 1), array_length(ARRAY[1], 2), cardinality(ARRAY[1,2]), \
         (ARRAY[1,2,3])[2], (ARRAY[1,2,3])[5], 2 = ANY(ARRAY[1,2]), 3 = ANY('{1,2}'), \
         1 < ALL(ARRAY[2,3]), ARRAY[1,2] < ARRAY[1,3], ARRAY[1,NULL] = ARRAY[1,NULL]",
    )
    .await;
    assert_eq!(got, [r#"{1,2}|{1,2}|{a,"b c",NULL,"","x\"y"}|3|NULL|2|2|NULL|t|f|t|t|t"#]);
    let got = lines(
        &c,
        "SELECT ARRAY[interval '1 day', interval '-1 day +02:00'], ARRAY['\\x01'::bytea], \
         ARRAY['{\"a\": 1}'::jsonb, '[]'], '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'::uuid[], \
         ARRAY[true, false], ARRAY[1.50, 2], ARRAY[date '2024-01-02']",
    )
    .await;
    assert_eq!(
        got,
        [
            r#"{"1 day","-1 days +02:00:00"}|{"\\x01"}|{"{\"a\": 1}",[]}|{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}|{t,f}|{1.50,2}|{2024-01-02}"#
        ]
    );
    c.batch_execute(
        "CREATE TABLE bags (id int PRIMARY KEY, nums int4[], tags text[], spans interval[]);
         INSERT INTO bags VALUES (1, '{3,1,2}', ARRAY['x', 'y z'], '{1 day}'),
                                 (2, ARRAY[]::int4[], '{}', NULL)",
    )
    .await
    .unwrap();
    assert_eq!(
        lines(&c, "SELECT id, nums[1], tags[2], cardinality(nums), spans FROM bags ORDER BY id")
            .await,
        ["1|3|y z|3|{\"1 day\"}", "2|NULL|NULL|0|NULL"]
    );
    assert_eq!(lines(&c, "SELECT id FROM bags WHERE 'x' = ANY(tags)").await, ["1"]);
    assert_eq!(sqlstate(&c, "SELECT (1)[1]").await, SqlState::DATATYPE_MISMATCH);
}

// The binary format of each new type, both ways: typed parameters in, typed results out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_formats() {
    let db = TestServer::start().await;
    let c = db.connect().await;
    // interval: i64 µs, i32 days, i32 months.
    let iv = interval_bytes(14_706_000_000, 3, 14);
    let row = c
        .query_one("SELECT $1::interval, $1::interval::text", &[&RawParam(iv.clone())])
        .await
        .unwrap();
    assert_eq!(row.get::<_, Raw>(0), Raw(iv));
    assert_eq!(row.get::<_, String>(1), "1 year 2 mons 3 days 04:05:06");
    let row = c.query_one("SELECT interval '-1 day +02:00'", &[]).await.unwrap();
    assert_eq!(row.get::<_, Raw>(0), Raw(interval_bytes(7_200_000_000, -1, 0)));

    // bytea: the bytes themselves.
    let row = c
        .query_one("SELECT $1::bytea || '\\xff'::bytea, length($1::bytea)", &[&vec![0u8, 1, 2]])
        .await
        .unwrap();
    assert_eq!(row.get::<_, Vec<u8>>(0), vec![0, 1, 2, 255]);
    assert_eq!(row.get::<_, i32>(1), 3);

    // uuid: 16 bytes.
    let id: Vec<u8> = (1..=16).collect();
    let row =
        c.query_one("SELECT $1::uuid::text, $1::uuid", &[&RawParam(id.clone())]).await.unwrap();
    assert_eq!(row.get::<_, String>(0), "01020304-0506-0708-090a-0b0c0d0e0f10");
    assert_eq!(row.get::<_, Raw>(1), Raw(id));

    // jsonb: version byte 1, then the text (PostgreSQL's canonical output going out).
    let mut doc = vec![1u8];
    doc.extend_from_slice(br#"{"b":1, "a":[true]}"#);
    let row = c.query_one("SELECT $1::jsonb, $1::jsonb -> 'a'", &[&RawParam(doc)]).await.unwrap();
    let mut want = vec![1u8];
    want.extend_from_slice(br#"{"a": [true], "b": 1}"#);
    assert_eq!(row.get::<_, Raw>(0), Raw(want));
    assert_eq!(row.get::<_, Raw>(1), Raw([&[1u8][..], b"[true]"].concat()));

    // Arrays: ndim, has-null, element oid, (size, lower bound), then each element.
    let row = c
        .query_one(
            "SELECT $1::int4[], $2::text[], ARRAY[interval '1 day', NULL]",
            &[&vec![Some(1i32), None, Some(3)], &vec!["a".to_owned(), "b c".to_owned()]],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, Vec<Option<i32>>>(0), vec![Some(1), None, Some(3)]);
    assert_eq!(row.get::<_, Vec<String>>(1), vec!["a".to_owned(), "b c".to_owned()]);
    let mut want: Vec<u8> = Vec::new();
    for word in [1i32, 1, 1186, 2, 1, 16] {
        want.extend_from_slice(&word.to_be_bytes());
    }
    want.extend_from_slice(&interval_bytes(0, 1, 0));
    want.extend_from_slice(&(-1i32).to_be_bytes());
    assert_eq!(row.get::<_, Raw>(2), Raw(want));
    let stmt =
        c.prepare("SELECT ARRAY[gen_random_uuid()], '{}'::jsonb, '\\x01'::bytea").await.unwrap();
    let types: Vec<Type> = stmt.columns().iter().map(|c| c.type_().clone()).collect();
    assert_eq!(types, [Type::UUID_ARRAY, Type::JSONB, Type::BYTEA]);

    // Typed columns round-trip binary values through storage.
    c.batch_execute("CREATE TABLE bin (id uuid PRIMARY KEY, span interval, data bytea)")
        .await
        .unwrap();
    let id: Vec<u8> = vec![0xAB; 16];
    c.execute(
        "INSERT INTO bin VALUES ($1, $2, $3)",
        &[&RawParam(id.clone()), &RawParam(interval_bytes(-5, 0, 1)), &vec![9u8, 8]],
    )
    .await
    .unwrap();
    let row = c.query_one("SELECT id, span, data, span::text FROM bin", &[]).await.unwrap();
    assert_eq!(row.get::<_, Raw>(0), Raw(id));
    assert_eq!(row.get::<_, Raw>(1), Raw(interval_bytes(-5, 0, 1)));
    assert_eq!(row.get::<_, Vec<u8>>(2), vec![9, 8]);
    assert_eq!(row.get::<_, String>(3), "1 mon -00:00:00.000005");
}

// `json` is refused rather than stored as jsonb or text; interval typmods likewise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_with_0a000() {
    if common::reference_pg().is_some() {
        return; // PostgreSQL has these; troupe refuses them.
    }
    let db = TestServer::start().await;
    let c = db.connect().await;
    for sql in [
        "CREATE TABLE j (x json)",
        "SELECT '{}'::json",
        "SELECT interval '1' day",
        "SELECT '{{1,2},{3,4}}'::int4[]",
    ] {
        assert_eq!(sqlstate(&c, sql).await, SqlState::FEATURE_NOT_SUPPORTED, "{sql}");
    }
}
