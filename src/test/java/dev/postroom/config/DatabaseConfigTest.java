package dev.postroom.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DatabaseConfigTest {

  private static Environment env(Map<String, String> variables) {
    return Environment.of(variables, "root");
  }

  @Test
  void withoutAnySettingItUsesLibpqDefaultsOverLoopbackTcp() {
    DatabaseConfig config = DatabaseConfig.resolve(null, env(Map.of()));

    assertThat(config.describe()).isEqualTo("root@127.0.0.1:5432/root");
    assertThat(config.password()).isNull();
    assertThat(config.jdbcUrl())
        .isEqualTo("jdbc:postgresql://127.0.0.1:5432/root?ApplicationName=postroom");
  }

  @Test
  void aServerCountsAsChosenByDbByPostroomDbUrlOrAnyLibpqVariableButNotByOtherVariables() {
    assertThat(DatabaseConfig.chosen(null, env(Map.of("HOME", "/root", "PATH", "/bin")))).isFalse();
    assertThat(DatabaseConfig.chosen(" ", env(Map.of("PGHOST", "")))).isFalse();
    assertThat(DatabaseConfig.chosen("jdbc:postgresql://db/app", env(Map.of()))).isTrue();
    assertThat(DatabaseConfig.chosen(null, env(Map.of("POSTROOM_DB_URL", "postgresql://db/app"))))
        .isTrue();
    assertThat(DatabaseConfig.chosen(null, env(Map.of("PGPORT", "5433")))).isTrue();
    assertThat(DatabaseConfig.chosen(null, env(Map.of("PGUSER", "ann")))).isTrue();
  }

  @Test
  void libpqVariablesChooseHostPortDatabaseUserAndPassword() {
    DatabaseConfig config =
        DatabaseConfig.resolve(
            null,
            env(
                Map.of(
                    "PGHOST", "db.example.org",
                    "PGPORT", "6543",
                    "PGDATABASE", "app",
                    "PGUSER", "ann",
                    "PGPASSWORD", "s3cret",
                    "PGSSLMODE", "require")));

    assertThat(config.describe()).isEqualTo("ann@db.example.org:6543/app");
    assertThat(config.password()).isEqualTo("s3cret");
    assertThat(config.jdbcUrl()).contains("sslmode=require").doesNotContain("s3cret");
    assertThat(config.toString()).doesNotContain("s3cret");
  }

  @Test
  void aSocketDirectoryInPghostBecomesTheLoopbackAddress() {
    DatabaseConfig config =
        DatabaseConfig.resolve(null, env(Map.of("PGHOST", "/var/run/postgresql")));

    assertThat(config.hosts()).containsExactly(new DatabaseConfig.HostPort("127.0.0.1", 5432));
  }

  @Test
  void theDbOptionWinsOverPostroomDbUrlWhichWinsOverPgVariables() {
    Map<String, String> vars =
        Map.of(
            "POSTROOM_DB_URL", "jdbc:postgresql://from-env:5433/envdb?user=envuser",
            "PGHOST", "from-pg");

    assertThat(DatabaseConfig.resolve("jdbc:postgresql://from-option/optdb?user=u", env(vars)))
        .extracting(DatabaseConfig::describe, DatabaseConfig::source)
        .containsExactly("u@from-option:5432/optdb", "--db");
    assertThat(DatabaseConfig.resolve(null, env(vars)).describe())
        .isEqualTo("envuser@from-env:5433/envdb");
  }

  @Test
  void aLibpqUriIsAcceptedWithItsUserPasswordAndParameters() {
    DatabaseConfig config =
        DatabaseConfig.resolve(
            "postgresql://ann:p%40ss@db.example.org:5433/app?sslmode=require", env(Map.of()));

    assertThat(config.describe()).isEqualTo("ann@db.example.org:5433/app");
    assertThat(config.password()).isEqualTo("p@ss");
    assertThat(config.parameters()).containsEntry("sslmode", "require");
  }

  @Test
  void aUrlWithoutUserFallsBackToPguserThenTheOsUser() {
    assertThat(DatabaseConfig.resolve("jdbc:postgresql://h/db", env(Map.of())).user())
        .isEqualTo("root");
    assertThat(
            DatabaseConfig.resolve("jdbc:postgresql://h/db", env(Map.of("PGUSER", "bob"))).user())
        .isEqualTo("bob");
  }

  @Test
  void aNonNumericPortIsRefusedNamingTheVariable() {
    assertThatThrownBy(() -> DatabaseConfig.resolve(null, env(Map.of("PGPORT", "abc"))))
        .isInstanceOf(ConfigException.class)
        .hasMessage("PGPORT has a port that is not a number: 'abc'");
  }

  @Test
  void aMalformedUrlIsRefusedWithoutEchoingThePassword() {
    assertThatThrownBy(() -> DatabaseConfig.resolve("mysql://ann:hunter2@h/db", env(Map.of())))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--db must be a jdbc:postgresql://")
        .hasMessageNotContaining("hunter2");
  }

  @Test
  void withDatabaseKeepsTheServerAndLogin() {
    DatabaseConfig config =
        DatabaseConfig.resolve("jdbc:postgresql://h:5433/app?user=ann&password=x", env(Map.of()));

    assertThat(config.withDatabase("postgres").describe()).isEqualTo("ann@h:5433/postgres");
    assertThat(config.withDatabase("postgres").password()).isEqualTo("x");
  }

  @Test
  void itConnectsToTheTestServer() throws Exception {
    String server = System.getenv("POSTROOM_TEST_DB");
    org.junit.jupiter.api.Assumptions.assumeTrue(server != null, "POSTROOM_TEST_DB not set");
    DatabaseConfig config = DatabaseConfig.resolve(server, env(Map.of()));

    try (Connection c = config.connect();
        ResultSet rs =
            c.createStatement().executeQuery("SELECT current_setting('application_name')")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("postroom");
    }
  }
}
