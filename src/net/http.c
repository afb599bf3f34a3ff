/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1.1 exchanges on top of libwebsockets: request intake (method, path,
 * query, headers, bounded body), routing (exact and '*' prefix routes,
 * longest match, 405 with Allow), and response writing through
 * lws_callback_on_writable in MV__CHUNK pieces. An exchange lives from the
 * request line to the last byte of its answer, or until it is answered
 * after its client left (handlers may answer later from the loop thread).
 * Each exchange owns an arena freed with it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mv_log.h"
#include "net_int.h"

/* ---- pure helpers: routing and query decoding ---------------------------- */

static bool method_matches(const char *route_method, const char *method) {
  if (!route_method)
    return true;
  if (strcmp(route_method, method) == 0)
    return true;
  return strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0;
}

static bool same_pattern(const struct mv__route *a, const struct mv__route *b) {
  return a->prefix == b->prefix && strcmp(a->pattern, b->pattern) == 0;
}

void mv__route_find(const struct mv__route *routes, size_t n,
                    const char *method, const char *path,
                    struct mv__route_match *out) {
  size_t path_len = strlen(path);
  size_t best_score = 0;

  out->route = -1;
  out->best_pattern = -1;
  out->method_mismatch = false;
  /* Score 2*len, +1 for exact: an exact route beats a prefix route of the
   * same length ("/fhir" over "/fhir*"). */
  for (size_t i = 0; i < n; i++) {
    const struct mv__route *r = &routes[i];
    size_t score;
    if (r->prefix) {
      if (path_len < r->match_len ||
          memcmp(path, r->pattern, r->match_len) != 0)
        continue;
      score = 2 * r->match_len + 2;
    } else {
      if (path_len != r->match_len || memcmp(path, r->pattern, path_len) != 0)
        continue;
      score = 2 * r->match_len + 3;
    }
    if (score > best_score) {
      best_score = score;
      out->best_pattern = (int)i;
    }
  }
  if (out->best_pattern < 0)
    return;
  for (size_t i = 0; i < n; i++) {
    if (!same_pattern(&routes[i], &routes[out->best_pattern]))
      continue;
    if (method_matches(routes[i].method, method)) {
      /* an explicit method beats a catch-all one */
      if (out->route < 0 || (routes[i].method && !routes[out->route].method))
        out->route = (int)i;
    }
  }
  out->method_mismatch = out->route < 0;
}

void mv__route_allow(const struct mv__route *routes, size_t n, size_t idx,
                     char *buf, size_t buf_len) {
  size_t used = 0;
  bool get = false, head = false;
  if (buf_len == 0)
    return;
  buf[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    if (!same_pattern(&routes[i], &routes[idx]) || !routes[i].method)
      continue;
    get |= strcmp(routes[i].method, "GET") == 0;
    head |= strcmp(routes[i].method, "HEAD") == 0;
    int w = snprintf(buf + used, buf_len - used, "%s%s", used ? ", " : "",
                     routes[i].method);
    if (w < 0 || (size_t)w >= buf_len - used)
      return;
    used += (size_t)w;
  }
  if (get && !head)
    (void)snprintf(buf + used, buf_len - used, ", HEAD");
}

/* ---- exchange lifecycle -------------------------------------------------- */

static void x_free(struct mv_http_exchange *x) {
  struct mv_server *srv = x->srv;
  if (x->prev)
    x->prev->next = x->next;
  else
    srv->exchanges = x->next;
  if (x->next)
    x->next->prev = x->prev;
  if (x->wsi && srv->n_inflight > 0)
    srv->n_inflight--;
  if (x->pss && x->pss->x == x)
    x->pss->x = NULL;
  if (x->fd >= 0)
    close(x->fd);
  mv_buf_release(&x->body);
  free(x->resp);
  mv_arena_free(x->arena);
  free(x);
}

void mv__http_free_all(struct mv_server *srv) {
  while (srv->exchanges)
    x_free(srv->exchanges);
}

static void access_log(struct mv_http_exchange *x) {
  const char *labels[MV__LABELS_MAX];
  double secs = (double)(uv_hrtime() - (uint64_t)x->t0_ns) / 1e9;
  mv__server_labels(x->srv, labels, MV__LABELS_MAX);
  mv__metrics_observe(x->srv->metrics, x->label, x->method, x->status, secs);
  /* Method, route pattern, status, duration: never the raw path, query or
   * body, which may carry patient identifiers. */
  MV_LOG_DEBUG("net", "%s %s %d %.3fms", mv__method_name(x->method),
               labels[x->label] ? labels[x->label] : "?", x->status,
               secs * 1e3);
}

static const char *method_name_lws(int m) {
  static const char *const names[] = {"GET",   "POST",   "OPTIONS", "PUT",
                                      "PATCH", "DELETE", "CONNECT", "HEAD"};
  return (m >= 0 && (size_t)m < MV_ARRAY_LEN(names)) ? names[m] : NULL;
}

/* Header names worth keeping that lws has no token for (FHIR uses them). */
static const char *const custom_headers[] = {
    "prefer:",      "if-none-exist:", "x-request-id:",   "x-correlation-id:",
    "x-device-id:", "x-api-key:",     "x-forwarded-for:"};

static int copy_headers(struct mv_http_exchange *x, struct lws *wsi) {
  for (int t = 0; t < (int)WSI_TOKEN_COUNT && x->n_hdrs < MV__HEADERS_MAX;
       t++) {
    const unsigned char *name = lws_token_to_string((enum lws_token_indexes)t);
    int len;
    if (!name || !*name || t == WSI_TOKEN_HTTP_URI_ARGS)
      continue;
    size_t nlen = strlen((const char *)name);
    /* request-line tokens ("get ", "post ") and pseudo headers are not
     * headers */
    if (nlen < 2 || name[nlen - 1] != ':' || name[0] == ':')
      continue;
    len = lws_hdr_total_length(wsi, (enum lws_token_indexes)t);
    if (len <= 0)
      continue;
    if ((size_t)len > MV_LIMIT_HTTP_HEADER_MAX)
      return MV_ETOOBIG;
    char *v = mv_arena_alloc(x->arena, (size_t)len + 1);
    char *n = mv_arena_strndup(x->arena, (const char *)name, nlen - 1);
    if (!v || !n)
      return MV_ENOMEM;
    if (lws_hdr_copy(wsi, v, len + 1, (enum lws_token_indexes)t) < 0)
      continue;
    x->hdrs[x->n_hdrs++] = (struct mv__hdr){n, v};
  }
  for (size_t i = 0; i < MV_ARRAY_LEN(custom_headers); i++) {
    const char *name = custom_headers[i];
    int nlen = (int)strlen(name);
    int len = lws_hdr_custom_length(wsi, name, nlen);
    if (len <= 0 || x->n_hdrs >= MV__HEADERS_MAX)
      continue;
    if ((size_t)len > MV_LIMIT_HTTP_HEADER_MAX)
      return MV_ETOOBIG;
    char *v = mv_arena_alloc(x->arena, (size_t)len + 1);
    char *n = mv_arena_strndup(x->arena, name, (size_t)nlen - 1);
    if (!v || !n)
      return MV_ENOMEM;
    if (lws_hdr_custom_copy(wsi, v, len + 1, name, nlen) < 0)
      continue;
    x->hdrs[x->n_hdrs++] = (struct mv__hdr){n, v};
  }
  return MV_OK;
}

static void append_pct(struct mv_buf *b, const char *s, size_t n, int *rc) {
  static const char hex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < n && *rc == MV_OK; i++) {
    unsigned char c = (unsigned char)s[i];
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      *rc = mv_buf_append(b, &s[i], 1);
    } else {
      char e[3] = {'%', hex[c >> 4], hex[c & 15]};
      *rc = mv_buf_append(b, e, 3);
    }
  }
}

/* lws hands us the query already split at '&' and percent-decoded, so we
 * rebuild a canonical encoded query: decoding it gives back exactly what
 * the client meant, whichever way it was escaped. */
static int build_query(struct mv_http_exchange *x, struct lws *wsi) {
  struct mv_buf q;
  char *frag = NULL;
  int rc = MV_OK;
  size_t frag_cap = MV_LIMIT_HTTP_URI_MAX + 1;

  mv_buf_init(&q, 3 * MV_LIMIT_HTTP_URI_MAX);
  frag = malloc(frag_cap);
  if (!frag) {
    rc = MV_ENOMEM;
    goto out;
  }
  for (int i = 0; i < (int)MV_LIMIT_HTTP_URI_MAX && rc == MV_OK; i++) {
    int n = lws_hdr_copy_fragment(wsi, frag, (int)frag_cap,
                                  WSI_TOKEN_HTTP_URI_ARGS, i);
    if (n < 0)
      break;
    if (i > 0)
      rc = mv_buf_append(&q, "&", 1);
    const char *eq = memchr(frag, '=', (size_t)n);
    if (eq) {
      append_pct(&q, frag, (size_t)(eq - frag), &rc);
      if (rc == MV_OK)
        rc = mv_buf_append(&q, "=", 1);
      append_pct(&q, eq + 1, (size_t)(frag + n - eq - 1), &rc);
    } else {
      append_pct(&q, frag, (size_t)n, &rc);
    }
  }
  if (rc != MV_OK)
    goto out;
  x->req.query = mv_arena_strndup(x->arena, mv_buf_cstr(&q), q.len);
  if (!x->req.query)
    rc = MV_ENOMEM;
out:
  free(frag);
  mv_buf_release(&q);
  return rc;
}

static void dispatch(struct mv_http_exchange *x) {
  struct mv_server *srv = x->srv;
  struct mv__route_match m;

  x->state = MV__X_HANDLING;
  if (!x->req.body) {
    x->req.body = mv_buf_cstr(&x->body);
    x->req.body_len = x->body.len;
  }
  mv__route_find(srv->routes, srv->n_routes, x->req.method, x->req.path, &m);
  if (m.route >= 0) {
    const struct mv__route *r = &srv->routes[m.route];
    x->label = r->label;
    r->fn(r->ctx, x);
    return;
  }
  if (m.method_mismatch) {
    char allow[128];
    x->label = srv->routes[m.best_pattern].label;
    mv__route_allow(srv->routes, srv->n_routes, (size_t)m.best_pattern, allow,
                    sizeof(allow));
    if (mv_http_add_header(x, "allow", allow) != MV_OK)
      MV_LOG_WARN("net", "allow header dropped");
    mv__http_respond_status(x, 405, MV_EMETHOD, "method not allowed");
    return;
  }
  if (srv->web_root && (x->method == MV__M_GET || x->method == MV__M_HEAD)) {
    x->label = MV__LABEL_STATIC;
    mv__static_serve(x);
    return;
  }
  x->label = MV__LABEL_UNMATCHED;
  mv__http_respond_status(x, 404, MV_ENOTFOUND, "no such route");
}

/* Reject before routing; the connection closes after the answer. */
static int reject(struct mv_http_exchange *x, int status, int err,
                  const char *msg) {
  x->state = MV__X_HANDLING;
  x->close_after = true;
  x->label = MV__LABEL_UNMATCHED;
  mv__http_respond_status(x, status, err, msg);
  return 0;
}

int mv__http_on_request(struct mv_server *srv, struct lws *wsi,
                        struct mv__pss *pss) {
  struct mv_http_exchange *x;
  char *uri = NULL;
  int uri_len = 0, m, rc;

  if (pss->x) /* lws never overlaps requests on one h1 connection */
    return -1;
  x = calloc(1, sizeof(*x));
  if (!x)
    return -1;
  x->srv = srv;
  x->wsi = wsi;
  x->pss = pss;
  x->fd = -1;
  x->t0_ns = (int64_t)uv_hrtime();
  x->method = MV__M_OTHER;
  x->req.method = "GET";
  x->req.path = "/";
  x->req.query = "";
  x->req.remote = "";
  mv_buf_init(&x->body, srv->body_max);
  x->next = srv->exchanges;
  if (x->next)
    x->next->prev = x;
  srv->exchanges = x;
  srv->n_inflight++;
  pss->x = x;
  x->arena = mv_arena_new(MV_LIMIT_ARENA_DEFAULT);
  if (!x->arena) {
    x_free(x);
    return -1;
  }

  m = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
  if (m < 0 || !method_name_lws(m) || !uri || uri_len <= 0)
    return reject(x, 400, MV_EPARSE, "malformed request line");
  x->req.method = method_name_lws(m);
  x->method = mv__method_parse(x->req.method);
  x->head = x->method == MV__M_HEAD;
  if ((size_t)uri_len +
          (size_t)lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS) >
      MV_LIMIT_HTTP_URI_MAX)
    return reject(x, 414, MV_ETOOBIG, "request URI too long");
  char *path = mv_arena_strndup(x->arena, uri, (size_t)uri_len);
  if (!path)
    return reject(x, 503, MV_ENOMEM, "out of memory");
  if (strlen(path) != (size_t)uri_len || path[0] != '/')
    return reject(x, 400, MV_EPARSE, "malformed path");
  x->req.path = path;
  {
    char peer[64];
    peer[0] = '\0';
    lws_get_peer_simple(wsi, peer, sizeof(peer));
    x->req.remote = mv_arena_strdup(x->arena, peer);
    if (!x->req.remote)
      return reject(x, 503, MV_ENOMEM, "out of memory");
  }
  if ((rc = build_query(x, wsi)) != MV_OK)
    return reject(x, rc == MV_ETOOBIG ? 414 : 503, rc, "bad query");
  if ((rc = copy_headers(x, wsi)) != MV_OK)
    return reject(x, rc == MV_ETOOBIG ? 431 : 503, rc,
                  "request header too large");
  if (srv->state != MV__S_RUNNING)
    return reject(x, 503, MV_ECLOSED, "server shutting down");

  if (mv_http_header(x, "transfer-encoding"))
    return reject(x, 411, MV_EUNSUPPORTED,
                  "chunked request bodies are not supported; "
                  "send Content-Length");
  const char *cl = mv_http_header(x, "content-length");
  if (cl) {
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(cl, &end, 10);
    if (errno || end == cl || *end || cl[0] == '-')
      return reject(x, 400, MV_EPARSE, "bad content-length");
    x->expect_len = v;
  }
  if (x->expect_len > srv->body_max) {
    /* Answer now, then read and drop the body (bounded) before closing:
     * closing with unread data makes the kernel send a reset, and many
     * clients then report the reset instead of our 413. */
    x->state = MV__X_HANDLING;
    x->close_after = true;
    x->label = MV__LABEL_UNMATCHED;
    mv__http_respond_status(x, 413, MV_ETOOBIG, "request body too large");
    return 0;
  }
  if (x->expect_len > 0) {
    x->state = MV__X_BODY;
    return 0;
  }
  x->body_done = true;
  dispatch(x);
  return 0;
}

int mv__http_on_body(struct mv__pss *pss, const void *in, size_t len) {
  struct mv_http_exchange *x = pss->x;
  if (!x)
    return 0;
  if (x->state != MV__X_BODY) {
    /* after a 413: drop what arrives, up to a cap */
    x->drained += len;
    return x->drained > MV__DRAIN_MAX ? -1 : 0;
  }
  if (mv_buf_append(&x->body, in, len) != MV_OK) {
    x->state = MV__X_HANDLING;
    x->close_after = true;
    mv__http_respond_status(x, 413, MV_ETOOBIG, "request body too large");
  }
  return 0;
}

int mv__http_on_body_done(struct mv__pss *pss) {
  struct mv_http_exchange *x = pss->x;
  if (!x)
    return 0;
  x->body_done = true;
  if (x->state == MV__X_BODY) {
    dispatch(x);
    return 0;
  }
  if (x->state == MV__X_DRAINING) {
    /* answer written and the body fully read: now the close is clean */
    x_free(x);
    return -1;
  }
  return 0;
}

void mv__http_on_closed(struct mv__pss *pss) {
  struct mv_http_exchange *x = pss->x;
  if (!x)
    return;
  pss->x = NULL;
  x->pss = NULL;
  if (x->state == MV__X_HANDLING) {
    /* the handler still owns it; answering later just frees it */
    x->wsi = NULL;
    if (x->srv->n_inflight > 0)
      x->srv->n_inflight--;
    return;
  }
  x_free(x);
}

/* ---- responses -------------------------------------------------------------
 */

static int build_headers(struct mv_http_exchange *x, const char *ctype,
                         uint64_t len) {
  size_t cap = LWS_PRE + 1024;
  unsigned char *p, *end, *start;
  bool no_len = x->close_after || x->head;
  char num[24];

  for (unsigned i = 0; i < x->n_resp_hdrs; i++)
    cap += strlen(x->resp_hdrs[i].name) + strlen(x->resp_hdrs[i].value) + 8;
  x->hdr_buf = mv_arena_alloc(x->arena, cap);
  if (!x->hdr_buf)
    return MV_ENOMEM;
  start = p = x->hdr_buf + LWS_PRE;
  end = x->hdr_buf + cap - 1;
  /* Without a length lws adds "connection: close" and closes after the
   * answer; we then send the length ourselves (HEAD keeps lws from
   * expecting a body it will never see). */
  if (lws_add_http_common_headers(x->wsi, (unsigned)x->status, ctype,
                                  no_len ? LWS_ILLEGAL_HTTP_CONTENT_LEN : len,
                                  &p, end))
    return MV_ETOOBIG;
  if (no_len) {
    int n = snprintf(num, sizeof(num), "%llu", (unsigned long long)len);
    if (lws_add_http_header_by_token(x->wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH,
                                     (unsigned char *)num, n, &p, end))
      return MV_ETOOBIG;
  }
  for (unsigned i = 0; i < x->n_resp_hdrs; i++) {
    char name[128];
    int n = snprintf(name, sizeof(name), "%s:", x->resp_hdrs[i].name);
    if (n < 0 || (size_t)n >= sizeof(name))
      continue;
    if (lws_add_http_header_by_name(
            x->wsi, (unsigned char *)name,
            (const unsigned char *)x->resp_hdrs[i].value,
            (int)strlen(x->resp_hdrs[i].value), &p, end))
      return MV_ETOOBIG;
  }
  if (lws_finalize_http_header(x->wsi, &p, end))
    return MV_ETOOBIG;
  x->hdr_len = (size_t)(p - start);
  return MV_OK;
}

/* Common tail of every answer: returns false when x was freed. */
static bool start_response(struct mv_http_exchange *x, int status,
                           const char *ctype, uint64_t len) {
  if (x->state != MV__X_HANDLING) {
    MV_LOG_ERROR("net", "exchange answered twice (status %d)", status);
    return false;
  }
  x->status = status;
  if (!x->wsi) {
    /* client gone: nothing to write */
    x_free(x);
    return false;
  }
  x->state = MV__X_RESPONDING;
  if (build_headers(x, ctype, len) != MV_OK) {
    MV_LOG_ERROR("net", "response headers too large (status %d)", status);
    lws_set_timeout(x->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT,
                    LWS_TO_KILL_ASYNC);
    return false;
  }
  lws_callback_on_writable(x->wsi);
  return true;
}

void mv_http_respond(struct mv_http_exchange *x, int status,
                     const char *content_type, const char *body,
                     size_t body_len) {
  if (!x)
    return;
  if (x->state == MV__X_HANDLING && x->wsi) {
    if (body_len > MV_LIMIT_HTTP_RESP_MAX) {
      mv__http_respond_status(x, 500, MV_ETOOBIG, "response too large");
      return;
    }
    x->resp = malloc(LWS_PRE + body_len + 1);
    if (!x->resp) {
      if (body_len > 0) {
        mv__http_respond_status(x, 503, MV_ENOMEM, "out of memory");
        return;
      }
    } else if (body_len) {
      memcpy(x->resp + LWS_PRE, body, body_len);
    }
    x->resp_len = x->resp ? body_len : 0;
  }
  (void)start_response(x, status,
                       content_type ? content_type : "application/octet-stream",
                       x->resp_len);
}

void mv__http_respond_fd(struct mv_http_exchange *x, int status,
                         const char *content_type, int fd, uint64_t size) {
  x->fd = fd;
  x->file_left = size;
  (void)start_response(x, status, content_type, size);
}

void mv__http_respond_status(struct mv_http_exchange *x, int status, int err,
                             const char *message) {
  struct mv_buf b;
  struct mv_server *srv = x->srv;
  mv_buf_init(&b, 4096);
  for (size_t i = 0; i < srv->n_errfmt; i++) {
    size_t pl = strlen(srv->errfmt[i].prefix);
    if (strncmp(x->req.path, srv->errfmt[i].prefix, pl) != 0)
      continue;
    const char *ctype =
        srv->errfmt[i].fn(srv->errfmt[i].ctx, status, err, message, &b);
    if (ctype) {
      mv_http_respond(x, status, ctype, mv_buf_cstr(&b), b.len);
      mv_buf_release(&b);
      return;
    }
    mv_buf_reset(&b);
  }
  int rc =
      mv_buf_appendf(&b, "{\"error\":\"%s\",\"message\":\"", mv_err_name(err));
  if (rc == MV_OK)
    rc = mv_buf_append_json_str(&b, message, strlen(message));
  if (rc == MV_OK)
    rc = mv_buf_appends(&b, "\",\"path\":\"");
  if (rc == MV_OK)
    rc = mv_buf_append_json_str(&b, x->req.path, strlen(x->req.path));
  if (rc == MV_OK)
    rc = mv_buf_appends(&b, "\"}");
  if (rc != MV_OK) {
    mv_buf_release(&b);
    mv_http_respond(x, status, "application/json", "{}", 2);
    return;
  }
  mv_http_respond(x, status, "application/json", mv_buf_cstr(&b), b.len);
  mv_buf_release(&b);
}

void mv_http_respond_error(struct mv_http_exchange *x, int err,
                           const struct mv_diag *diag) {
  struct mv_buf b;
  int status = mv_err_http_status(err);
  const char *msg = diag && diag->msg[0] ? diag->msg : mv_strerror(err);
  const char *path = diag && diag->path[0] ? diag->path : x->req.path;

  mv_buf_init(&b, 4096);
  int rc =
      mv_buf_appendf(&b, "{\"error\":\"%s\",\"message\":\"", mv_err_name(err));
  if (rc == MV_OK)
    rc = mv_buf_append_json_str(&b, msg, strlen(msg));
  if (rc == MV_OK)
    rc = mv_buf_appends(&b, "\",\"path\":\"");
  if (rc == MV_OK)
    rc = mv_buf_append_json_str(&b, path, strlen(path));
  if (rc == MV_OK)
    rc = mv_buf_appends(&b, "\"}");
  mv_http_respond(x, status, "application/json",
                  rc == MV_OK ? mv_buf_cstr(&b) : "{}",
                  rc == MV_OK ? b.len : 2);
  mv_buf_release(&b);
}

/* The last byte went out: account, then keep or close the connection. */
static int finish(struct mv_http_exchange *x) {
  struct lws *wsi = x->wsi;
  access_log(x);
  if (x->close_after && !x->body_done && x->expect_len > 0) {
    /* 413 path: half-close so the client sees the end of our answer, and
     * keep reading (and dropping) its body for a little while. */
    x->state = MV__X_DRAINING;
    (void)shutdown(lws_get_socket_fd(wsi), SHUT_WR);
    lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, 3);
    return 0;
  }
  bool close_after = x->close_after || x->srv->state != MV__S_RUNNING;
  x_free(x);
  if (close_after)
    return -1;
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

int mv__http_on_writeable(struct mv__pss *pss) {
  struct mv_http_exchange *x = pss->x;
  struct mv_server *srv;
  size_t n;
  int flags;

  if (!x || x->state != MV__X_RESPONDING)
    return 0;
  srv = x->srv;
  if (!x->hdr_sent) {
    if (lws_write(x->wsi, x->hdr_buf + LWS_PRE, x->hdr_len,
                  LWS_WRITE_HTTP_HEADERS) != (int)x->hdr_len)
      return -1;
    x->hdr_sent = true;
    bool empty = x->head || (x->fd < 0 ? x->resp_len == 0 : x->file_left == 0);
    if (empty)
      return finish(x);
    lws_callback_on_writable(x->wsi);
    return 0;
  }
  if (x->fd >= 0) {
    n = x->file_left < MV__CHUNK ? (size_t)x->file_left : MV__CHUNK;
    ssize_t r = read(x->fd, srv->scratch + LWS_PRE, n);
    if (r <= 0)
      return -1; /* file shrank under us: the length we sent is a lie */
    n = (size_t)r;
    x->file_left -= n;
    flags = x->file_left ? LWS_WRITE_HTTP : LWS_WRITE_HTTP_FINAL;
    if (lws_write(x->wsi, srv->scratch + LWS_PRE, n, flags) != (int)n)
      return -1;
    if (!x->file_left)
      return finish(x);
  } else {
    size_t left = x->resp_len - x->resp_off;
    n = left < MV__CHUNK ? left : MV__CHUNK;
    flags = n == left ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP;
    /* The LWS_PRE bytes before this chunk are already sent, so lws may
     * use them. */
    if (lws_write(x->wsi, (unsigned char *)x->resp + LWS_PRE + x->resp_off, n,
                  flags) != (int)n)
      return -1;
    x->resp_off += n;
    if (x->resp_off == x->resp_len)
      return finish(x);
  }
  lws_callback_on_writable(x->wsi);
  return 0;
}

/* ---- public accessors -------------------------------------------------------
 */

const struct mv_http_req *mv_http_request(struct mv_http_exchange *x) {
  return &x->req;
}

const char *mv_http_header(struct mv_http_exchange *x, const char *name) {
  for (unsigned i = 0; i < x->n_hdrs; i++)
    if (strcmp(x->hdrs[i].name, name) == 0)
      return x->hdrs[i].value;
  /* Other custom headers can still be read while lws holds the request. */
  if (x->wsi && x->state <= MV__X_HANDLING && strlen(name) < 120) {
    char key[128];
    int n = snprintf(key, sizeof(key), "%s:", name);
    int len = lws_hdr_custom_length(x->wsi, key, n);
    if (len > 0 && (size_t)len <= MV_LIMIT_HTTP_HEADER_MAX &&
        x->n_hdrs < MV__HEADERS_MAX) {
      char *v = mv_arena_alloc(x->arena, (size_t)len + 1);
      char *k = mv_arena_strdup(x->arena, name);
      if (v && k && lws_hdr_custom_copy(x->wsi, v, len + 1, key, n) >= 0) {
        x->hdrs[x->n_hdrs++] = (struct mv__hdr){k, v};
        return v;
      }
    }
  }
  return NULL;
}

const char *mv_http_query(struct mv_http_exchange *x, const char *name) {
  return mv_url_query_get(x->arena, x->req.query, name);
}

struct mv_arena *mv_http_arena(struct mv_http_exchange *x) {
  return x->arena;
}

int mv_http_add_header(struct mv_http_exchange *x, const char *name,
                       const char *value) {
  if (!x || !name || !value || x->state != MV__X_HANDLING)
    return MV_EINVAL;
  if (x->n_resp_hdrs >= MV__RESP_HEADERS_MAX)
    return MV_ETOOBIG;
  /* CR/LF in a header would let a value smuggle headers of its own */
  if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n") || strlen(name) > 100 ||
      strlen(value) > MV_LIMIT_HTTP_HEADER_MAX)
    return MV_EINVAL;
  char *n = mv_arena_strdup(x->arena, name);
  char *v = mv_arena_strdup(x->arena, value);
  if (!n || !v)
    return MV_ENOMEM;
  x->resp_hdrs[x->n_resp_hdrs++] = (struct mv__hdr){n, v};
  return MV_OK;
}

int mv_server_route(struct mv_server *srv, const char *method,
                    const char *pattern, mv_http_handler_fn fn, void *ctx) {
  struct mv__route *r;
  size_t plen;
  if (!srv || !pattern || !fn || pattern[0] != '/')
    return MV_EINVAL;
  if (srv->n_user_routes >= MV_LIMIT_HTTP_ROUTES ||
      srv->n_routes >= MV_ARRAY_LEN(srv->routes))
    return MV_ETOOBIG;
  plen = strlen(pattern);
  r = &srv->routes[srv->n_routes];
  memset(r, 0, sizeof(*r));
  r->prefix = pattern[plen - 1] == '*';
  r->match_len = r->prefix ? plen - 1 : plen;
  r->pattern = strdup(pattern);
  r->method = method ? strdup(method) : NULL;
  if (!r->pattern || (method && !r->method)) {
    free(r->pattern);
    free(r->method);
    return MV_ENOMEM;
  }
  r->fn = fn;
  r->ctx = ctx;
  /* routes sharing a pattern share a metrics label */
  r->label = MV__LABEL_FIRST_ROUTE + (unsigned)srv->n_routes;
  for (size_t i = 0; i < srv->n_routes; i++)
    if (same_pattern(&srv->routes[i], r)) {
      r->label = srv->routes[i].label;
      break;
    }
  srv->n_routes++;
  srv->n_user_routes++;
  return MV_OK;
}
