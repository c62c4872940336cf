package dev.postroom.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.postroom.testing.TestDatabase;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** An attachment read in chunks is the stored content, octet for octet. */
class AttachmentStreamTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @Test
  void anAttachmentOfSeveralChunksReadsBackExactly() throws Exception {
    Sql.createDefaultProfile(db.dataSource());
    long mailId =
        db.jdbi()
            .inTransaction(h -> {
              long id =
                  h.createQuery("SELECT mail.send(recipients => 'a@example.com', subject => 's')")
                      .mapTo(Long.class)
                      .one();
              h.createQuery(
                      "SELECT mail.attach(:id, 'data.bin', 'application/octet-stream',"
                          + " (SELECT decode(string_agg(md5(g::text), ''), 'hex')"
                          + "    FROM generate_series(1, 200000) g))")
                  .bind("id", id)
                  .mapTo(Long.class)
                  .one();
              return id;
            });
    DeliveryStore store = new DeliveryStore(db.jdbi(), "test");
    DeliveryAttachment a = store.attachments(List.of(mailId)).get(mailId).get(0);
    assertThat(a.size()).isEqualTo(3_200_000L).isGreaterThan(3L * AttachmentStream.CHUNK);

    MessageDigest md5 = MessageDigest.getInstance("MD5");
    long read = 0;
    try (InputStream in = store.openAttachment(a)) {
      byte[] buf = new byte[8192];
      for (int n; (n = in.read(buf)) > 0; ) {
        md5.update(buf, 0, n);
        read += n;
      }
    }
    String stored =
        db.jdbi()
            .withHandle(h ->
                h.createQuery("SELECT md5(content) FROM mail.attachment WHERE mail_id = :id")
                    .bind("id", mailId)
                    .mapTo(String.class)
                    .one());
    assertThat(read).isEqualTo(a.size());
    assertThat(HexFormat.of().formatHex(md5.digest())).isEqualTo(stored);
  }
}
