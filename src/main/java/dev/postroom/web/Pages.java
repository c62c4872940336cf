package dev.postroom.web;

import com.sun.net.httpserver.HttpExchange;
import dev.postroom.web.WebServer.Response;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What each route does: sessions and CSRF checks here, SQL in {@link StatusQueries}. */
final class Pages {
  private static final Logger log = LoggerFactory.getLogger(Pages.class);
  private static final Pattern MAIL = Pattern.compile("/mails/(\\d{1,18})");
  private static final Pattern ACTION = Pattern.compile("/mails/(\\d{1,18})/(retry|cancel)");
  static final int OVERVIEW_REFRESH_SECONDS = 30;

  private final Login login;
  private final Sessions sessions;
  private final Views views;

  Pages(Login login, Sessions sessions, Views views) {
    this.login = login;
    this.sessions = sessions;
    this.views = views;
  }

  Response route(HttpExchange ex) throws IOException {
    String method = ex.getRequestMethod();
    String path = ex.getRequestURI().getPath();
    boolean get = method.equals("GET") || method.equals("HEAD");
    boolean post = method.equals("POST");
    if (!get && !post) {
      return error(405, "Method not allowed", "This page answers GET and POST only.", null);
    }
    if (path.equals("/style.css") && get) {
      return new Response(200, "text/css; charset=utf-8", views.stylesheet(), new HashMap<>());
    }
    Optional<Session> found = sessions.find(Exchange.sessionCookie(ex));
    if (path.equals("/login")) {
      return get ? showLogin(found, null, "", 200) : logIn(ex, found);
    }
    if (post && !csrfOk(ex, found)) {
      return error(
          403, "Form expired", "This form has expired. Reload the page and try again.", null);
    }
    if (found.isEmpty() || !found.get().authenticated()) {
      return get ? Response.redirect("/login") : error(403, "Logged out", "Log in first.", null);
    }
    Session s = found.get();
    synchronized (s.lock) {
      if (!s.authenticated()) {
        return Response.redirect("/login");
      }
      try {
        return page(ex, s, path, post);
      } catch (SQLException e) {
        return databaseError(s, e);
      }
    }
  }

  private Response page(HttpExchange ex, Session s, String path, boolean post) throws SQLException {
    Connection c = s.connection();
    if (post && path.equals("/logout")) {
      log.info("status page: {} logged out", s.role());
      sessions.remove(s);
      return Response.redirect("/login").with("Set-Cookie", Exchange.clearedCookie());
    }
    Matcher action = ACTION.matcher(path);
    if (post && action.matches()) {
      return act(s, Long.parseLong(action.group(1)), action.group(2));
    }
    if (post) {
      return error(404, "Not found", "There is no such page.", s);
    }
    if (path.equals("/")) {
      return overview(s, c);
    }
    if (path.equals("/mails")) {
      return mails(ex, s, c);
    }
    Matcher mail = MAIL.matcher(path);
    if (mail.matches()) {
      return mail(s, c, Long.parseLong(mail.group(1)));
    }
    if (path.equals("/accounts")) {
      if (!s.admin()) {
        return error(403, "Not allowed", "Accounts and profiles are for mail_admin.", s);
      }
      Map<String, Object> model = model(s, "Accounts and profiles");
      model.put("navAccounts", true);
      model.put("accounts", StatusQueries.accounts(c));
      model.put("profiles", StatusQueries.profiles(c));
      return Response.html(200, views.render("accounts", model));
    }
    return error(404, "Not found", "There is no such page.", s);
  }

  private Response overview(Session s, Connection c) throws SQLException {
    Map<String, Object> queue = StatusQueries.queue(c);
    List<Map<String, Object>> counts = new ArrayList<>();
    for (String status : StatusQueries.STATUSES) {
      counts.add(Map.of("name", status, "value", queue.get(status)));
    }
    Map<String, Object> model = model(s, "Overview");
    model.put("navOverview", true);
    model.put("refresh", OVERVIEW_REFRESH_SECONDS);
    model.put("counts", counts);
    model.put("due", queue.get("due"));
    model.put("oldestDue", queue.get("oldest_due_age"));
    model.put("chart", new Chart(StatusQueries.lastHour(c)));
    return Response.html(200, views.render("overview", model));
  }

  private Response mails(HttpExchange ex, Session s, Connection c) throws SQLException {
    Map<String, String> query = Exchange.query(ex);
    String q = query.getOrDefault("q", "");
    String status = query.getOrDefault("status", "");
    if (!status.isEmpty() && !StatusQueries.STATUSES.contains(status)) {
      return error(400, "Unknown status", "There is no mail status '" + status + "'.", s);
    }
    Long before = null;
    String rawBefore = query.getOrDefault("before", "");
    if (rawBefore.matches("\\d{1,18}")) {
      before = Long.valueOf(rawBefore);
    }
    List<Map<String, Object>> rows =
        StatusQueries.mails(c, q, status.isEmpty() ? null : status, before);
    Map<String, Object> model = model(s, "Mails");
    model.put("navMails", true);
    model.put("q", q);
    List<Map<String, Object>> statuses = new ArrayList<>();
    for (String name : StatusQueries.STATUSES) {
      statuses.add(Map.of("name", name, "selected", name.equals(status)));
    }
    model.put("statuses", statuses);
    if (rows.size() > StatusQueries.PAGE_SIZE) {
      rows = rows.subList(0, StatusQueries.PAGE_SIZE);
      model.put(
          "older",
          "/mails?q="
              + encode(q)
              + "&status="
              + encode(status)
              + "&before="
              + rows.get(rows.size() - 1).get("id"));
    }
    model.put("mails", rows);
    model.put("hasMails", !rows.isEmpty());
    return Response.html(200, views.render("mails", model));
  }

  private Response mail(Session s, Connection c, long id) throws SQLException {
    Map<String, Object> mail = StatusQueries.mail(c, id);
    if (mail == null) {
      return error(404, "No such mail", "Mail " + id + " does not exist or is not yours.", s);
    }
    String status = (String) mail.get("status");
    Map<String, Object> model = model(s, "Mail " + id);
    model.put("navMails", true);
    model.put("mail", mail);
    model.put(
        "canRetry",
        StatusQueries.RETRYABLE.contains(status)
            && StatusQueries.mayExecute(c, "mail.retry(bigint)"));
    model.put(
        "canCancel",
        StatusQueries.CANCELLABLE.contains(status)
            && StatusQueries.mayExecute(c, "mail.cancel(bigint)"));
    model.put("recipients", StatusQueries.recipients(c, id));
    List<Map<String, Object>> attachments = StatusQueries.attachments(c, id);
    model.put("attachments", attachments);
    model.put("hasAttachments", !attachments.isEmpty());
    model.put("events", StatusQueries.events(c, id));
    return Response.html(200, views.render("mail", model));
  }

  private Response act(Session s, long id, String action) {
    String function = "mail." + action;
    try {
      boolean changed = StatusQueries.call(s.connection(), function, id);
      log.info("status page: {} called {}({}): {}", s.role(), function, id, changed);
      s.flash(
          changed
              ? (action.equals("retry")
                  ? "Mail " + id + " is queued again."
                  : "Mail " + id + " is cancelled.")
              : "Mail "
                  + id
                  + " was not changed: "
                  + function
                  + " applies only to "
                  + (action.equals("retry")
                      ? "failed, partially sent or cancelled mail with recipients left to try."
                      : "queued or retrying mail."),
          !changed);
    } catch (SQLException e) {
      s.flash(
          function + " refused: " + e.getMessage() + " (SQLSTATE " + e.getSQLState() + ")", true);
    }
    return Response.redirect("/mails/" + id);
  }

  private Response showLogin(Optional<Session> found, String error, String user, int status) {
    if (found.isPresent() && found.get().authenticated()) {
      return Response.redirect("/");
    }
    boolean fresh = found.isEmpty();
    Optional<Session> session = found.or(sessions::anonymous);
    if (session.isEmpty()) {
      return error(503, "Busy", "Too many sessions; try again in a few minutes.", null);
    }
    Map<String, Object> model = new HashMap<>();
    model.put("title", "Log in");
    model.put("csrf", session.get().csrf);
    model.put("error", error);
    model.put("user", user);
    Response r = Response.html(status, views.render("login", model));
    return fresh ? r.with("Set-Cookie", Exchange.cookie(session.get().id)) : r;
  }

  private Response logIn(HttpExchange ex, Optional<Session> found) throws IOException {
    Map<String, String> form = Exchange.form(ex);
    if (found.isEmpty()
        || !Exchange.sameOrigin(ex)
        || !Sessions.sameToken(found.get().csrf, form.get("csrf"))) {
      return showLogin(
          Optional.empty(),
          "The login form had expired; log in again.",
          form.getOrDefault("user", ""),
          403);
    }
    if (found.get().authenticated()) {
      return Response.redirect("/");
    }
    String user = form.getOrDefault("user", "").strip();
    Login.Result result = login.attempt(user, form.get("password"));
    if (result instanceof Login.Refused refused) {
      log.info("status page: login refused for role {}: {}", user, refused.message());
      return showLogin(found, refused.message(), user, 401);
    }
    Login.Accepted ok = (Login.Accepted) result;
    Session s = sessions.logIn(found.get(), ok.connection(), ok.role(), ok.admin());
    log.info("status page: {} logged in{}", ok.role(), ok.admin() ? " (admin)" : "");
    return Response.redirect("/").with("Set-Cookie", Exchange.cookie(s.id));
  }

  private boolean csrfOk(HttpExchange ex, Optional<Session> found) throws IOException {
    Map<String, String> form = Exchange.form(ex);
    return found.isPresent()
        && Exchange.sameOrigin(ex)
        && Sessions.sameToken(found.get().csrf, form.get("csrf"));
  }

  private Response databaseError(Session s, SQLException e) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    boolean gone = state.startsWith("08") || isClosed(s.connection());
    if (gone) {
      log.warn("status page: the connection of {} broke ({}); session ended", s.role(), state);
      sessions.remove(s);
      return Response.redirect("/login").with("Set-Cookie", Exchange.clearedCookie());
    }
    return error(
        500,
        "Database error",
        "The database refused: " + e.getMessage() + " (SQLSTATE " + state + ")",
        s);
  }

  private Response error(int status, String title, String message, Session s) {
    Map<String, Object> model = s == null ? new HashMap<>() : model(s, title);
    model.put("title", title);
    model.put("message", message);
    return Response.html(status, views.render("error", model));
  }

  private static Map<String, Object> model(Session s, String title) {
    Map<String, Object> model = new HashMap<>();
    model.put("title", title);
    model.put("role", s.role());
    model.put("admin", s.admin());
    model.put("csrf", s.csrf);
    String flash = s.takeFlash();
    if (flash != null) {
      model.put("flash", flash);
      model.put("flashError", s.flashError());
    }
    return model;
  }

  private static boolean isClosed(Connection c) {
    try {
      return c == null || !c.isValid(2);
    } catch (SQLException e) {
      return true;
    }
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
