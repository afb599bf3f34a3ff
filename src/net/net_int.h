/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private header of the net module: the server object, HTTP exchanges, the
 * WebSocket pub/sub hub and the metrics registry, shared by server.c,
 * http.c, static.c, hub.c and metrics.c. Everything here runs on the loop
 * thread except the post queue, which is guarded by post_mu. Pure helpers
 * (route matching, query decoding, topic checks, queue accounting, metrics
 * text) are declared here so the unit tests can reach them.
 */
#ifndef MV_NET_INT_H
#define MV_NET_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include <libwebsockets.h>

#include "mv_limits.h"
#include "mv_net.h"
#include "mv_url.h"

/* Caps on what outside parties can make us hold are in mv_limits.h; these
 * aliases keep the module's names short. Internal sizes follow. */
#define MV__POST_QUEUE_MAX MV_LIMIT_LOOP_POST_QUEUE
#define MV__HEADERS_MAX MV_LIMIT_HTTP_HEADERS_KEPT
#define MV__DRAIN_MAX MV_LIMIT_HTTP_DRAIN_MAX
#define MV__METRICS_SERIES_PER_ROUTE MV_LIMIT_METRICS_SERIES_PER_ROUTE
#define MV__HOOKS_MAX 64u           /* shutdown hooks */
#define MV__METRICS_SOURCES_MAX 64u /* mv_server_add_metrics sources */
#define MV__METRICS_TEXT_MAX (4u * 1024u * 1024u) /* one /metrics body */
#define MV__CHUNK 32768u         /* bytes per lws_write of a body or frame */
#define MV__RESP_HEADERS_MAX 32u /* extra response headers */
#define MV__SHUTDOWN_GRACE_CAP_MS 4000u /* keeps a whole shutdown under 5 s */
#define MV__WS_RX_BUFFER 65536u         /* lws rx_buffer_size for /ws */
#define MV__WS_ROUTES_MAX 16u           /* mv_server_ws_route paths */
#define MV__WS_PATH_MAX 128u            /* bytes of a WebSocket route path */

/* Route labels that are not registered routes. */
#define MV__LABEL_UNMATCHED 0u
#define MV__LABEL_STATIC 1u
#define MV__LABEL_FIRST_ROUTE 2u
#define MV__LABELS_MAX (MV__LABEL_FIRST_ROUTE + MV_LIMIT_HTTP_ROUTES + 8u)

/* Methods for metrics labels; the set is closed to bound cardinality. */
enum mv__method {
  MV__M_GET,
  MV__M_HEAD,
  MV__M_POST,
  MV__M_PUT,
  MV__M_PATCH,
  MV__M_DELETE,
  MV__M_OPTIONS,
  MV__M_OTHER,
  MV__M_COUNT
};

/* ---- metrics.c ---------------------------------------------------------- */

struct mv__metrics;

/* Returned, caller frees with mv__metrics_free(). NULL on out of memory. */
struct mv__metrics *mv__metrics_new(void);
void mv__metrics_free(struct mv__metrics *m);
/* Count one answered request under route label `label`. */
void mv__metrics_observe(struct mv__metrics *m, unsigned label,
                         enum mv__method method, int status, double seconds);
void mv__metrics_ws_conn(struct mv__metrics *m, int delta);
void mv__metrics_ws_in(struct mv__metrics *m);
void mv__metrics_ws_out(struct mv__metrics *m);
void mv__metrics_ws_dropped(struct mv__metrics *m);
/* Prometheus text format 0.0.4 into b. labels[i] names label i (borrowed);
 * NULL entries are skipped. */
int mv__metrics_write(const struct mv__metrics *m, const char *const *labels,
                      unsigned n_labels, struct mv_buf *b);
const char *mv__method_name(enum mv__method m);
enum mv__method mv__method_parse(const char *s);

/* ---- routes and queries (http.c) --------------------------------------- */

struct mv__route {
  char *method;     /* NULL: any method */
  char *pattern;    /* "/x" exact, or a prefix ending in '*' */
  size_t match_len; /* bytes compared (pattern without the '*') */
  bool prefix;
  mv_http_handler_fn fn;
  void *ctx;
  unsigned label;
};

/* Outcome of mv__route_find. */
struct mv__route_match {
  int route;            /* index into routes, or -1 */
  int best_pattern;     /* index of a route with the best pattern, or -1 */
  bool method_mismatch; /* the path matched, the method did not: 405 */
};

/* Longest-match routing: exact beats prefix of the same length. HEAD also
 * matches GET routes. Pure: no allocation. */
void mv__route_find(const struct mv__route *routes, size_t n,
                    const char *method, const char *path,
                    struct mv__route_match *out);
/* Writes "GET, POST" (the methods of routes sharing routes[idx]'s pattern)
 * into buf (bounded, truncated). */
void mv__route_allow(const struct mv__route *routes, size_t n, size_t idx,
                     char *buf, size_t buf_len);

/* ---- HTTP exchanges (http.c) -------------------------------------------- */

enum mv__x_state {
  MV__X_BODY,       /* reading the request body */
  MV__X_HANDLING,   /* handler called, waiting for mv_http_respond */
  MV__X_RESPONDING, /* writing the response */
  MV__X_DRAINING,   /* 413 sent; reading and dropping the rest of the body */
};

struct mv__hdr {
  const char *name; /* lower case, no ':' */
  const char *value;
};

struct mv_http_exchange {
  struct mv_server *srv;
  struct lws *wsi;     /* NULL once the client went away */
  struct mv__pss *pss; /* NULL once the client went away */
  struct mv_arena *arena;
  struct mv_http_req req;
  enum mv__x_state state;
  enum mv__method method;
  unsigned label;
  bool head;        /* HEAD: headers only */
  bool close_after; /* close the connection once answered */
  bool body_done;   /* the whole request body was read */
  int64_t t0_ns;    /* uv_hrtime at the start of the request */
  int status;
  struct mv__hdr hdrs[MV__HEADERS_MAX];
  unsigned n_hdrs;
  struct mv__hdr resp_hdrs[MV__RESP_HEADERS_MAX];
  unsigned n_resp_hdrs;
  struct mv_buf body;  /* request body, capped at body_max */
  uint64_t expect_len; /* Content-Length */
  size_t drained;      /* bytes dropped while draining */
  /* response */
  unsigned char *hdr_buf; /* arena, LWS_PRE bytes of room in front */
  size_t hdr_len;
  bool hdr_sent;
  char *resp; /* malloc: LWS_PRE room + body */
  size_t resp_len;
  size_t resp_off;
  int fd; /* static file body, or -1 */
  uint64_t file_left;
  struct mv_http_exchange *prev, *next; /* srv->exchanges */
};

/* Per-wsi state lws allocates for our protocol (zeroed). */
struct mv__pss {
  struct mv_http_exchange *x;
  struct mv_ws_conn *ws;
};

int mv__http_on_request(struct mv_server *srv, struct lws *wsi,
                        struct mv__pss *pss);
int mv__http_on_body(struct mv__pss *pss, const void *in, size_t len);
int mv__http_on_body_done(struct mv__pss *pss);
int mv__http_on_writeable(struct mv__pss *pss);
void mv__http_on_closed(struct mv__pss *pss);
/* Answer with a body streamed from fd (taken, closed at the end). */
void mv__http_respond_fd(struct mv_http_exchange *x, int status,
                         const char *content_type, int fd, uint64_t size);
void mv__http_respond_status(struct mv_http_exchange *x, int status, int err,
                             const char *message);
/* Frees every exchange still owned by the server (mv_server_free). */
void mv__http_free_all(struct mv_server *srv);

/* ---- static.c ------------------------------------------------------------ */

/* Serve GET/HEAD of x's path from srv->web_root. Always answers x. */
void mv__static_serve(struct mv_http_exchange *x);
/* Content type for a file name by extension; "application/octet-stream". */
const char *mv__static_content_type(const char *path);
/* Resolve a request path under root (a realpath). On success out (size
 * MV_LIMIT_PATH_MAX) holds a real path inside root. MV_ENOTFOUND when
 * missing, MV_PERM-like MV_ENOTFOUND for escapes (we do not say which). */
int mv__static_resolve(const char *root, const char *path, char *out);

/* ---- hub.c ----------------------------------------------------------------
 */

/* A message shared by every connection it was queued for. */
struct mv__wsmsg {
  unsigned refs;
  size_t len;
  char data[];
};

struct mv__wsmsg *mv__wsmsg_new(const void *p, size_t len);
void mv__wsmsg_unref(struct mv__wsmsg *m);

struct mv__wsq_item {
  struct mv__wsq_item *next;
  struct mv__wsmsg *m;
};

/* A bounded outbound queue: at most cap_msgs messages and cap_bytes bytes
 * (message lengths, each counted for every queue that holds it). */
struct mv__wsq {
  struct mv__wsq_item *head, *tail;
  size_t msgs, bytes;
  size_t cap_msgs, cap_bytes;
};

void mv__wsq_init(struct mv__wsq *q, size_t cap_msgs, size_t cap_bytes);
/* Queue m (a reference is taken on success). MV_ETOOBIG past a cap,
 * MV_ENOMEM; the queue is unchanged on error. */
int mv__wsq_push(struct mv__wsq *q, struct mv__wsmsg *m);
/* Drop the head (its reference is released). */
void mv__wsq_pop(struct mv__wsq *q);
void mv__wsq_release(struct mv__wsq *q);

/* Topic names: 1..MV_LIMIT_WS_TOPIC_LEN bytes of [A-Za-z0-9_./:-]. */
bool mv__topic_valid(const char *t, size_t len);

struct mv__hub;
struct mv__hub *mv__hub_new(struct mv_server *srv);
void mv__hub_free(struct mv__hub *h);
int mv__ws_on_established(struct mv_server *srv, struct lws *wsi,
                          struct mv__pss *pss);
int mv__ws_on_receive(struct mv__pss *pss, const void *in, size_t len);
int mv__ws_on_writeable(struct mv__pss *pss);
void mv__ws_on_closed(struct mv__pss *pss);
/* Shutdown: ask every connection to close with 1001. */
void mv__hub_close_all(struct mv__hub *h);
size_t mv__hub_conn_count(const struct mv__hub *h);

/* ---- ws_route.c: WebSocket routes ---------------------------------------- */

struct mv__ws_route {
  char path[MV__WS_PATH_MAX];
  const struct mv_ws_handler *h;
  void *ctx;
};

/* An upgrade on_open accepted, waiting for ESTABLISHED. */
struct mv__ws_pending {
  struct lws *wsi;
  const struct mv__ws_route *route;
  void *user;
  struct mv__ws_pending *next;
};

/* LWS_CALLBACK_HTTP_CONFIRM_UPGRADE: 0 to upgrade (the /ws hub or an
 * accepted route), 1 when refused (answered, or not ours), -1 hang up. */
int mv__ws_confirm_upgrade(struct mv_server *srv, struct lws *wsi);
/* Remove and return wsi's pending upgrade (caller frees), or NULL. */
struct mv__ws_pending *mv__ws_pending_take(struct mv_server *srv,
                                           struct lws *wsi);
/* wsi was destroyed before ESTABLISHED (NULL: every pending one, at free):
 * tell the handlers (on_close with a NULL connection) and forget them. */
void mv__ws_pending_abort(struct mv_server *srv, struct lws *wsi);

/* ---- server.c ------------------------------------------------------------ */

enum mv__srv_state {
  MV__S_NEW,
  MV__S_RUNNING,
  MV__S_DRAINING,   /* refusing new work, waiting for in-flight */
  MV__S_DESTROYING, /* lws context destroy under way */
  MV__S_DONE,
};

struct mv__task {
  mv_server_task_fn fn;
  void *arg;
};

struct mv_server {
  uv_loop_t loop;
  bool loop_inited;
  struct lws_context *ctx;
  struct lws_vhost *vh;
  struct lws_protocols protocols[2];
  int port;
  enum mv__srv_state state;

  char *web_root; /* realpath, or NULL */
  size_t body_max;
  unsigned ws_queue_msgs;
  size_t ws_queue_bytes;
  unsigned grace_ms;

  struct mv__route routes[MV_LIMIT_HTTP_ROUTES + 8u];
  size_t n_routes;
  size_t n_user_routes;

  /* uv handles owned by the server */
  uv_async_t async;
  uv_signal_t sig_int, sig_term;
  uv_timer_t tick; /* drives the shutdown phases */
  bool handles_inited;
  bool handles_closed;

  pthread_mutex_t post_mu;
  struct mv__task post_q[MV__POST_QUEUE_MAX];
  size_t post_head, post_n;
  bool post_closed;
  atomic_int stop_requested;
  atomic_int async_users; /* mv_server_stop calls inside uv_async_send */
  atomic_bool async_gone;

  struct mv__task hooks[MV__HOOKS_MAX];
  size_t n_hooks;
  bool hooks_ran; /* the shutdown hooks ran (begin_shutdown or teardown) */
  struct {
    mv_metrics_fn fn;
    void *ctx;
  } msrc[MV__METRICS_SOURCES_MAX];
  size_t n_msrc;
  struct {
    char prefix[64];
    mv_http_error_fn fn;
    void *ctx;
  } errfmt[4];
  size_t n_errfmt;

  struct mv__metrics *metrics;
  struct mv__hub *hub;
  struct mv__ws_route ws_routes[MV__WS_ROUTES_MAX];
  size_t n_ws_routes;
  struct mv__ws_pending *ws_pending;
  struct mv_http_exchange *exchanges; /* every live exchange */
  size_t n_inflight;                  /* exchanges with a client attached */
  uint64_t deadline_ms;               /* uv_now limit of the current phase */
  unsigned char *scratch;             /* LWS_PRE + MV__CHUNK for writes */
};

/* The label names for metrics (route patterns), indexed by label. */
void mv__server_labels(const struct mv_server *srv, const char **labels,
                       unsigned n);
/* Handlers of the built-in routes. */
void mv__health_handler(void *ctx, struct mv_http_exchange *x);
void mv__metrics_handler(void *ctx, struct mv_http_exchange *x);
void mv__ws_plain_handler(void *ctx, struct mv_http_exchange *x);

#endif
