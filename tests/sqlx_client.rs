//! sqlx (postgres, tokio runtime) against troupe: its start-up, named statements
//! (`sqlx_s_N`, Parse + Describe Statement, binary parameters and results), reused from
//! its statement cache, transactions, an error and the connection after it.
#![allow(clippy::unwrap_used)]

mod common;

use common::TestServer;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Row};

async fn connect(db: &TestServer) -> PgConnection {
    let opts = PgConnectOptions::new()
        .host("127.0.0.1")
        .port(db.port)
        .username("postgres")
        .database(&db.dbname);
    PgConnection::connect_with(&opts).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlx_typed_round_trip_transactions_and_errors() {
    let db = TestServer::start().await;
    let mut c = connect(&db).await;
    let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(&mut c).await.unwrap();
    assert_eq!(one, 1);
    sqlx::raw_sql("DROP TABLE IF EXISTS sx; CREATE TABLE sx (id int4 PRIMARY KEY, s int2, b int8, name text, f float8, n numeric, ok bool, ts timestamp, d date)")
        .execute(&mut c)
        .await
        .unwrap();
    let ts = chrono::NaiveDate::from_ymd_opt(2024, 5, 6)
        .unwrap()
        .and_hms_micro_opt(7, 8, 9, 123_456)
        .unwrap();
    let d = chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    let n: rust_decimal::Decimal = "12.345".parse().unwrap();
    for i in 1..=5i32 {
        sqlx::query("INSERT INTO sx VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(i)
            .bind(i as i16)
            .bind(i64::from(i) << 40)
            .bind(format!("n{i}"))
            .bind(f64::from(i) + 0.5)
            .bind(n)
            .bind(i % 2 == 0)
            .bind(ts)
            .bind(d)
            .execute(&mut c)
            .await
            .unwrap();
    }
    let row = sqlx::query("SELECT id, s, b, name, f, n, ok, ts, d FROM sx WHERE id = $1")
        .bind(2i32)
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(row.get::<i32, _>(0), 2);
    assert_eq!(row.get::<i16, _>(1), 2);
    assert_eq!(row.get::<i64, _>(2), 2 << 40);
    assert_eq!(row.get::<String, _>(3), "n2");
    assert_eq!(row.get::<f64, _>(4), 2.5);
    assert_eq!(row.get::<rust_decimal::Decimal, _>(5), n);
    assert!(row.get::<bool, _>(6));
    assert_eq!(row.get::<chrono::NaiveDateTime, _>(7), ts);
    assert_eq!(row.get::<chrono::NaiveDate, _>(8), d);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM sx").fetch_one(&mut c).await.unwrap();
    assert_eq!(count, 5);

    let mut tx = c.begin().await.unwrap();
    sqlx::query("UPDATE sx SET name = 'two' WHERE id = $1")
        .bind(2i32)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = c.begin().await.unwrap();
    sqlx::query("UPDATE sx SET name = 'gone' WHERE id = $1")
        .bind(3i32)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let names: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sx WHERE id IN (2, 3) ORDER BY id")
            .fetch_all(&mut c)
            .await
            .unwrap();
    assert_eq!(names, ["two", "n3"]);

    let err = sqlx::query("INSERT INTO sx (id) VALUES ($1)")
        .bind(1i32)
        .execute(&mut c)
        .await
        .unwrap_err();
    let code = err.as_database_error().and_then(|e| e.code()).map(|c| c.into_owned());
    assert_eq!(code.as_deref(), Some("23505"));
    let one: i32 = sqlx::query_scalar("SELECT id FROM sx WHERE id = $1")
        .bind(1i32)
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(one, 1);
    c.close().await.unwrap();
}
