package dev.postroom.mime;

import static dev.postroom.mime.Mime4j.attachments;
import static dev.postroom.mime.Mime4j.bytes;
import static dev.postroom.mime.Mime4j.header;
import static dev.postroom.mime.Mime4j.leaves;
import static dev.postroom.mime.Mime4j.parse;
import static dev.postroom.mime.Mime4j.text;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.apache.james.mime4j.dom.Entity;
import org.apache.james.mime4j.dom.Message;
import org.apache.james.mime4j.dom.Multipart;
import org.junit.jupiter.api.Test;

class MessageComposerAttachmentTest {

  private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0};

  private final MessageComposer composer = new MessageComposer();

  @Test
  void tenAttachmentsArriveByteIdenticalWithTheirNamesAndTypes() {
    TestMail mail = new TestMail();
    Random random = new Random(42);
    String[] names = {
      "report.pdf",
      "Übersicht März.xlsx",
      "請求書_2026年11月.pdf",
      "photo 📷.jpg",
      "data.csv",
      "notes.txt",
      "archive.zip",
      "a".repeat(120) + ".bin",
      "résumé.docx",
      "no-extension"
    };
    byte[][] contents = new byte[names.length][];
    for (int i = 0; i < names.length; i++) {
      contents[i] = new byte[random.nextInt(5000)];
      random.nextBytes(contents[i]);
      mail.attach(names[i], null, contents[i]);
    }

    Message parsed = parse(composer.toBytes(mail.build()));

    assertThat(parsed.getMimeType()).isEqualTo("multipart/mixed");
    List<Entity> attachments = attachments(parsed);
    assertThat(attachments).extracting(Entity::getFilename).containsExactly(names);
    for (int i = 0; i < names.length; i++) {
      assertThat(bytes(attachments.get(i))).as(names[i]).isEqualTo(contents[i]);
      assertThat(attachments.get(i).getContentTransferEncoding()).isEqualTo("base64");
      assertThat(attachments.get(i).getDispositionType()).isEqualTo("attachment");
    }
    assertThat(attachments)
        .extracting(Entity::getMimeType)
        .containsExactly(
            "application/pdf",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/pdf",
            "image/jpeg",
            "text/csv",
            "text/plain",
            "application/zip",
            "application/octet-stream",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/octet-stream");
    assertThat(text(leaves(parsed).get(0))).isEqualTo(mail.body.replace("\n", "\r\n"));
  }

  @Test
  void aGivenContentTypeIsKeptButAnUnparsableOrOctetStreamOneIsReplacedByTheGuess() {
    TestMail mail =
        new TestMail()
            .attach("invite.ics", "text/calendar; method=REQUEST", new byte[] {'B'})
            .attach("scan.pdf", "pdf please", new byte[] {'%'})
            .attach("photo.jpg", "application/octet-stream", new byte[] {'J'})
            .attach("blob.dat", "application/octet-stream", new byte[] {0});

    List<Entity> attachments = attachments(parse(composer.toBytes(mail.build())));

    assertThat(attachments.get(0).getMimeType()).isEqualTo("text/calendar");
    assertThat(header(attachments.get(0), "Content-Type")).contains("method=REQUEST");
    assertThat(attachments.get(1).getMimeType()).isEqualTo("application/pdf");
    assertThat(attachments.get(2).getMimeType()).isEqualTo("image/jpeg");
    assertThat(attachments.get(3).getMimeType()).isEqualTo("application/octet-stream");
  }

  @Test
  void aCsvAttachmentIsTextCsvInUtf8WithItsBytesUntouched() {
    byte[] csv = "name;city\nZoë;Köln\n山田;東京\n".getBytes(StandardCharsets.UTF_8);
    TestMail mail = new TestMail().attach("query results.csv", null, csv);

    Entity attachment = attachments(parse(composer.toBytes(mail.build()))).get(0);

    assertThat(attachment.getMimeType()).isEqualTo("text/csv");
    assertThat(attachment.getCharset()).isEqualToIgnoringCase("UTF-8");
    assertThat(bytes(attachment)).isEqualTo(csv);
  }

  @Test
  void anHtmlOnlyMailWithAnInlineImageIsRelatedWithTheImageReferencedByContentId() {
    TestMail mail =
        new TestMail().html("<p>Our logo:</p><img src=\"cid:logo.png\" alt=\"Postroom logo\">");
    mail.attach("logo.png", null, PNG);
    mail.attachments.add(
        new AttachmentPart("chart.png", "image/png", "<chart@postroom>", ContentSource.of(PNG)));

    Message parsed = parse(composer.toBytes(mail.build()));

    assertThat(parsed.getMimeType()).isEqualTo("multipart/related");
    assertThat(header(parsed, "Content-Type")).contains("type=\"multipart/alternative\"");
    List<Entity> parts = ((Multipart) parsed.getBody()).getBodyParts();
    assertThat(parts)
        .extracting(Entity::getMimeType)
        .containsExactly("multipart/alternative", "image/png", "image/png");
    assertThat(header(parts.get(1), "Content-ID")).isEqualTo("<logo.png>");
    assertThat(header(parts.get(2), "Content-ID")).isEqualTo("<chart@postroom>");
    assertThat(parts.get(1).getDispositionType()).isEqualTo("inline");
    assertThat(bytes(parts.get(1))).isEqualTo(PNG);
    assertThat(text(Mime4j.leaf(parsed, "text/plain"))).contains("Our logo:", "[Postroom logo]");
  }

  @Test
  void aMailWithInlineImageAndAttachmentNestsMixedAroundRelatedAroundAlternative() {
    TestMail mail = new TestMail().html("<p>See <img src=\"cid:logo.png\"></p>");
    mail.attach("logo.png", null, PNG).attach("invoice.pdf", null, new byte[] {'%', 'P'});

    Message parsed = parse(composer.toBytes(mail.build()));

    assertThat(parsed.getMimeType()).isEqualTo("multipart/mixed");
    List<Entity> mixed = ((Multipart) parsed.getBody()).getBodyParts();
    assertThat(mixed)
        .extracting(Entity::getMimeType)
        .containsExactly("multipart/related", "application/pdf");
    List<Entity> related = ((Multipart) mixed.get(0).getBody()).getBodyParts();
    assertThat(related)
        .extracting(Entity::getMimeType)
        .containsExactly("multipart/alternative", "image/png");
  }

  @Test
  void aContentIdOnATextMailDoesNotHideTheAttachment() {
    TestMail mail = new TestMail();
    mail.attachments.add(new AttachmentPart("logo.png", null, "logo", ContentSource.of(PNG)));

    Message parsed = parse(composer.toBytes(mail.build()));

    assertThat(parsed.getMimeType()).isEqualTo("multipart/mixed");
    Entity attachment = attachments(parsed).get(0);
    assertThat(attachment.getDispositionType()).isEqualTo("attachment");
    assertThat(header(attachment, "Content-ID")).isEqualTo("<logo>");
  }

  @Test
  void theAnnouncedSizeIsExactlyTheNumberOfOctetsWritten() {
    TestMail mail = new TestMail().html("<p>Hi <img src=\"cid:logo.png\"></p>");
    mail.attach("logo.png", null, PNG);
    for (int size : new int[] {0, 1, 2, 3, 56, 57, 58, 113, 114, 115, 1000, 4095}) {
      mail.attach("file-" + size + ".bin", null, new byte[size]);
    }
    MailMessage message = mail.build();

    assertThat(composer.size(message)).isEqualTo(composer.toBytes(message).length);
  }

  @Test
  void anHtmlReferenceToAPercentEncodedFileNameMakesThatFileInline() {
    TestMail mail = new TestMail().html("<img src=\"cid:company%20logo.png\">");
    mail.attach("company logo.png", null, PNG);

    Message parsed = parse(composer.toBytes(mail.build()));

    assertThat(parsed.getMimeType()).isEqualTo("multipart/related");
    Entity image = ((Multipart) parsed.getBody()).getBodyParts().get(1);
    assertThat(header(image, "Content-ID")).isEqualTo("<company%20logo.png>");
    assertThat(image.getFilename()).isEqualTo("company logo.png");
  }
}
