// pgjdbc (Debian's libpostgresql-jdbc-java) against troupe: its start-up (own
// parameters and SETs), Statement (simple protocol), PreparedStatement run more than
// prepareThreshold (5) times so it switches to a named server statement with binary
// results, batches, transactions, an error and the connection after it.
//
//     javac -cp /usr/share/java/postgresql.jar JdbcTest.java
//     java -cp /usr/share/java/postgresql.jar:. JdbcTest PORT
//
// Exits non-zero, printing what differed, on any mismatch.
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.Date;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

public class JdbcTest {
    static final List<String> failed = new ArrayList<>();

    static void check(String what, Object got, Object want) {
        if (!Objects.equals(got, want)) {
            failed.add(what);
            System.err.println("MISMATCH " + what + ": got " + got + ", want " + want);
        }
    }

    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://127.0.0.1:" + args[0] + "/postgres?user=postgres";
        try (Connection c = DriverManager.getConnection(url)) {
            run(c);
        }
        if (!failed.isEmpty()) {
            System.err.println("jdbc: " + failed.size() + " mismatches: " + failed);
            System.exit(1);
        }
        System.out.println("jdbc: ok");
    }

    static void run(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT 1, 'x'")) {
                rs.next();
                check("simple query", rs.getInt(1) + rs.getString(2), "1x");
            }
            s.execute("DROP TABLE IF EXISTS jdbc_items");
            s.execute("CREATE TABLE jdbc_items (id int4 PRIMARY KEY, s int2, b int8, name text,"
                    + " f float8, n numeric, ok bool, ts timestamp, d date)");
        }
        Timestamp ts = Timestamp.valueOf("2024-05-06 07:08:09.123456");
        Date d = Date.valueOf("2024-02-29");
        String ins = "INSERT INTO jdbc_items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
        String sel = "SELECT id, s, b, name, f, n, ok, ts, d FROM jdbc_items WHERE id = ?";
        try (PreparedStatement pi = c.prepareStatement(ins);
             PreparedStatement ps = c.prepareStatement(sel)) {
            // Ten executions: past prepareThreshold=5 pgjdbc uses a named statement
            // (S_1, …) and asks for binary results.
            for (int i = 1; i <= 10; i++) {
                pi.setInt(1, i);
                pi.setShort(2, (short) (i * 2));
                pi.setLong(3, (1L << 40) + i);
                pi.setString(4, "n" + i);
                pi.setDouble(5, i + 0.25);
                pi.setBigDecimal(6, new BigDecimal("12.345").add(BigDecimal.valueOf(i)));
                pi.setBoolean(7, i % 2 == 0);
                pi.setTimestamp(8, ts);
                pi.setDate(9, d);
                check("insert count " + i, pi.executeUpdate(), 1);
            }
            for (int i = 1; i <= 10; i++) {
                ps.setInt(1, i);
                try (ResultSet rs = ps.executeQuery()) {
                    check("row " + i + " found", rs.next(), true);
                    String got = rs.getInt(1) + "|" + rs.getShort(2) + "|" + rs.getLong(3) + "|"
                            + rs.getString(4) + "|" + rs.getDouble(5) + "|" + rs.getBigDecimal(6) + "|"
                            + rs.getBoolean(7) + "|" + rs.getTimestamp(8) + "|" + rs.getDate(9);
                    String want = i + "|" + (i * 2) + "|" + ((1L << 40) + i) + "|n" + i + "|" + (i + 0.25)
                            + "|" + new BigDecimal("12.345").add(BigDecimal.valueOf(i)) + "|" + (i % 2 == 0)
                            + "|" + ts + "|" + d;
                    check("typed row " + i, got, want);
                }
            }
        }
        // Batch.
        try (PreparedStatement pb = c.prepareStatement("INSERT INTO jdbc_items (id, name) VALUES (?, ?)")) {
            for (int i = 11; i <= 20; i++) {
                pb.setInt(1, i);
                pb.setString(2, "b" + i);
                pb.addBatch();
            }
            check("batch size", pb.executeBatch().length, 10);
        }
        // Transactions.
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            s.executeUpdate("UPDATE jdbc_items SET name = 'two' WHERE id = 2");
            c.commit();
            s.executeUpdate("UPDATE jdbc_items SET name = 'gone' WHERE id = 3");
            c.rollback();
            try (ResultSet rs = s.executeQuery("SELECT name FROM jdbc_items WHERE id IN (2, 3) ORDER BY id")) {
                rs.next();
                String a = rs.getString(1);
                rs.next();
                check("commit and rollback", a + "," + rs.getString(1), "two,n3");
            }
            c.commit();
            try {
                s.executeUpdate("INSERT INTO jdbc_items (id, name) VALUES (1, 'dup')");
                check("duplicate key raised", "no error", "23505");
            } catch (SQLException e) {
                check("duplicate key sqlstate", e.getSQLState(), "23505");
            }
            c.rollback();
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM jdbc_items")) {
                rs.next();
                check("usable after error", rs.getLong(1), 20L);
            }
            c.commit();
        }
        c.setAutoCommit(true);
        try (Statement s = c.createStatement()) {
            s.execute("PREPARE jdbc_get (int4) AS SELECT name FROM jdbc_items WHERE id = $1");
            try (ResultSet rs = s.executeQuery("EXECUTE jdbc_get (12)")) {
                rs.next();
                check("EXECUTE", rs.getString(1), "b12");
            }
            s.execute("DEALLOCATE jdbc_get");
        }
    }
}
