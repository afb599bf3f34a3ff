/* SPDX-License-Identifier: Apache-2.0 */
/*
 * WebSocket routes (mv_server_ws_route): the upgrade decision. lws asks
 * LWS_CALLBACK_HTTP_CONFIRM_UPGRADE while the request headers are still
 * bound to the connection; the route's on_open sees them (token, query) and
 * may refuse with an HTTP status, which we write ourselves so the client
 * reads a real 401/403 instead of a reset. An accepted upgrade waits in a
 * small pending list keyed by the wsi until lws reports ESTABLISHED: the
 * per-session memory is reallocated when lws binds the WebSocket protocol,
 * so nothing can be carried in it across the upgrade. A wsi destroyed
 * before it got there is removed from the list and its handler told.
 */
#include <stdlib.h>
#include <string.h>

#include "mv_log.h"
#include "net_int.h"

#define UPGRADE_ARENA (64u * 1024u)

struct mv_ws_upgrade {
  struct lws *wsi;
  struct mv_arena *a;
  char remote[64];
};

int mv_server_ws_route(struct mv_server *srv, const char *path,
                       const struct mv_ws_handler *h, void *ctx) {
  size_t n;
  if (!srv || !path || path[0] != '/' || !h || !h->on_open || !h->on_message ||
      !h->on_close || srv->state != MV__S_NEW)
    return MV_EINVAL;
  n = strlen(path);
  if (n >= MV__WS_PATH_MAX || strcmp(path, "/ws") == 0)
    return strcmp(path, "/ws") == 0 ? MV_EEXISTS : MV_EINVAL;
  for (size_t i = 0; i < srv->n_ws_routes; i++)
    if (strcmp(srv->ws_routes[i].path, path) == 0)
      return MV_EEXISTS;
  if (srv->n_ws_routes >= MV__WS_ROUTES_MAX)
    return MV_ETOOBIG;
  memcpy(srv->ws_routes[srv->n_ws_routes].path, path, n + 1);
  srv->ws_routes[srv->n_ws_routes].h = h;
  srv->ws_routes[srv->n_ws_routes].ctx = ctx;
  srv->n_ws_routes++;
  return MV_OK;
}

const char *mv_ws_upgrade_header(struct mv_ws_upgrade *u, const char *name) {
  size_t nlen;
  if (!u || !name || (nlen = strlen(name)) == 0 || nlen > 64)
    return NULL;
  for (int t = 0; t < (int)WSI_TOKEN_COUNT; t++) {
    const unsigned char *tn = lws_token_to_string((enum lws_token_indexes)t);
    if (!tn || strlen((const char *)tn) != nlen + 1 || tn[nlen] != ':' ||
        strncmp((const char *)tn, name, nlen) != 0)
      continue;
    int len = lws_hdr_total_length(u->wsi, (enum lws_token_indexes)t);
    if (len <= 0 || (size_t)len > MV_LIMIT_HTTP_HEADER_MAX)
      return NULL;
    char *v = mv_arena_alloc(u->a, (size_t)len + 1);
    if (!v || lws_hdr_copy(u->wsi, v, len + 1, (enum lws_token_indexes)t) < 0)
      return NULL;
    return v;
  }
  return NULL;
}

const char *mv_ws_upgrade_query(struct mv_ws_upgrade *u, const char *name) {
  char key[72];
  size_t nlen;
  if (!u || !name || (nlen = strlen(name)) == 0 || nlen + 2 > sizeof(key))
    return NULL;
  memcpy(key, name, nlen);
  key[nlen] = '=';
  key[nlen + 1] = '\0';
  /* lws splits the query at '&' and percent-decodes each fragment. */
  for (int i = 0; i < (int)MV_LIMIT_HTTP_URI_MAX; i++) {
    int flen = lws_hdr_fragment_length(u->wsi, WSI_TOKEN_HTTP_URI_ARGS, i);
    if (flen <= 0)
      break;
    if ((size_t)flen < nlen + 1 || (size_t)flen > MV_LIMIT_HTTP_URI_MAX)
      continue;
    char *frag = mv_arena_alloc(u->a, (size_t)flen + 1);
    if (!frag || lws_hdr_copy_fragment(u->wsi, frag, flen + 1,
                                       WSI_TOKEN_HTTP_URI_ARGS, i) < 0)
      return NULL;
    if (strncmp(frag, key, nlen + 1) == 0)
      return frag + nlen + 1;
  }
  return NULL;
}

const char *mv_ws_upgrade_remote(struct mv_ws_upgrade *u) {
  return u ? u->remote : "";
}

static const char *status_err_name(int status) {
  switch (status) {
  case 401:
    return mv_err_name(MV_EAUTH);
  case 403:
    return mv_err_name(MV_EPERM);
  case 404:
    return mv_err_name(MV_ENOTFOUND);
  case 429:
    return mv_err_name(MV_ERATE);
  case 503:
    return mv_err_name(MV_EBUSY);
  default:
    return status >= 500 ? mv_err_name(MV_EINTERNAL) : mv_err_name(MV_EINVAL);
  }
}

/* Write a whole HTTP answer on a connection lws is still parsing: headers,
 * then the body as the final write. Returns 1 (answered) or -1 (hang up). */
static int refuse(struct mv_server *srv, struct lws *wsi, int status,
                  const char *msg) {
  unsigned char hdr[LWS_PRE + 1024];
  unsigned char *p = hdr + LWS_PRE, *end = hdr + sizeof(hdr) - 1;
  struct mv_buf body;
  int rc;
  static const char www[] = "Bearer realm=\"medverse\"";

  mv_buf_init(&body, 1024);
  rc = mv_buf_appendf(&body, "{\"error\":\"%s\",\"message\":\"",
                      status_err_name(status));
  if (rc == MV_OK)
    rc = mv_buf_append_json_str(&body, msg ? msg : "refused",
                                strlen(msg ? msg : "refused"));
  if (rc == MV_OK)
    rc = mv_buf_appends(&body, "\"}");
  if (rc != MV_OK || body.len > MV__CHUNK) {
    mv_buf_release(&body);
    return -1;
  }
  if (lws_add_http_common_headers(wsi, (unsigned int)status, "application/json",
                                  body.len, &p, end) ||
      (status == 401 &&
       lws_add_http_header_by_name(
           wsi, (const unsigned char *)"www-authenticate:",
           (const unsigned char *)www, (int)sizeof(www) - 1, &p, end)) ||
      lws_finalize_write_http_header(wsi, hdr + LWS_PRE, &p, end)) {
    mv_buf_release(&body);
    return -1;
  }
  unsigned char *b = srv->scratch + LWS_PRE;
  memcpy(b, mv_buf_cstr(&body), body.len);
  rc = lws_write(wsi, b, body.len, LWS_WRITE_HTTP_FINAL);
  size_t blen = body.len;
  mv_buf_release(&body);
  mv__metrics_observe(srv->metrics, MV__LABEL_UNMATCHED, MV__M_GET, status,
                      0.0);
  return rc < (int)blen ? -1 : 1;
}

int mv__ws_confirm_upgrade(struct mv_server *srv, struct lws *wsi) {
  char uri[MV__WS_PATH_MAX];
  const struct mv__ws_route *r = NULL;
  struct mv_ws_upgrade u;
  struct mv__ws_pending *pend = NULL;
  void *user = NULL;
  const char *msg = NULL;
  int status;

  if (srv->state != MV__S_RUNNING)
    return 1;
  if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) >= (int)sizeof(uri) ||
      lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0)
    return 1;
  if (strcmp(uri, "/ws") == 0)
    return 0;
  for (size_t i = 0; i < srv->n_ws_routes; i++)
    if (strcmp(srv->ws_routes[i].path, uri) == 0)
      r = &srv->ws_routes[i];
  if (!r)
    return 1;
  memset(&u, 0, sizeof(u));
  u.wsi = wsi;
  u.a = mv_arena_new(UPGRADE_ARENA);
  pend = calloc(1, sizeof(*pend));
  if (!u.a || !pend) {
    mv_arena_free(u.a);
    free(pend);
    return refuse(srv, wsi, 503, "out of memory");
  }
  (void)lws_get_peer_simple(wsi, u.remote, sizeof(u.remote));
  status = r->h->on_open(r->ctx, &u, &user, &msg);
  mv_arena_free(u.a);
  if (status != 0) {
    free(pend);
    if (status < 400 || status > 599)
      status = 500;
    return refuse(srv, wsi, status, msg);
  }
  pend->wsi = wsi;
  pend->route = r;
  pend->user = user;
  pend->next = srv->ws_pending;
  srv->ws_pending = pend;
  return 0;
}

struct mv__ws_pending *mv__ws_pending_take(struct mv_server *srv,
                                           struct lws *wsi) {
  for (struct mv__ws_pending **pp = &srv->ws_pending; *pp; pp = &(*pp)->next) {
    struct mv__ws_pending *p = *pp;
    if (p->wsi == wsi) {
      *pp = p->next;
      return p;
    }
  }
  return NULL;
}

void mv__ws_pending_abort(struct mv_server *srv, struct lws *wsi) {
  struct mv__ws_pending *p;
  while ((p = wsi ? mv__ws_pending_take(srv, wsi) : srv->ws_pending)) {
    if (!wsi)
      srv->ws_pending = p->next;
    p->route->h->on_close(p->route->ctx, NULL, p->user);
    free(p);
  }
}
