/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The HTTP and WebSocket server: libwebsockets on a libuv loop owned by the
 * server. One loop thread runs every socket, timer and handler; other threads
 * reach it only through mv_server_post().
 *
 * Built in: GET /healthz, GET /metrics (Prometheus text), static files from
 * web_root, and /ws, a WebSocket pub/sub hub:
 *   client -> {"op":"subscribe","topic":T} | {"op":"unsubscribe","topic":T}
 *           | {"op":"publish","topic":T,"data":<any JSON>}
 *   server -> {"topic":T,"data":<JSON>} | {"op":"ok",...} | {"op":"error","error":..}
 * Each connection has a bounded send queue; a consumer too slow to drain it
 * is disconnected with a logged reason (never unbounded memory).
 * Other modules add routes with mv_server_route().
 */
#ifndef MV_NET_H
#define MV_NET_H

#include <uv.h>

#include "mv_arena.h"
#include "mv_buf.h"
#include "mv_err.h"

struct mv_server;
struct mv_http_exchange;

struct mv_server_opts {
  const char *host;     /* listen address, e.g. "127.0.0.1" */
  int port;             /* 0 picks a free port; see mv_server_port() */
  const char *web_root; /* static files; NULL disables them */
  size_t body_max;      /* 0 = MV_LIMIT_HTTP_BODY_MAX; larger bodies get 413 */
  unsigned ws_queue_msgs;     /* 0 = MV_LIMIT_WS_QUEUE_MSGS */
  size_t ws_queue_bytes;      /* 0 = MV_LIMIT_WS_QUEUE_BYTES */
  unsigned shutdown_grace_ms; /* in-flight wait on shutdown; 0 = 3000 */
  const char *tls_cert; /* PEM certificate chain file; NULL = plain HTTP */
  const char *tls_key;  /* PEM private key file; required with tls_cert */
};

/* Create the loop, bind and listen. Returned, caller frees with
 * mv_server_free(). MV_EIO (bind failed), MV_EINVAL, with detail in diag. */
MV_API MV_NODISCARD int mv_server_new(const struct mv_server_opts *opts,
                                      struct mv_server **out_srv,
                                      struct mv_diag *diag);
/* The bound port (useful when opts.port was 0). */
MV_API int mv_server_port(const struct mv_server *srv);
/* The loop, for timers of the embedding program (borrowed). */
MV_API uv_loop_t *mv_server_loop(struct mv_server *srv);
/* Run until a shutdown is requested (SIGINT, SIGTERM or mv_server_stop()):
 * stop accepting, let in-flight requests finish (up to shutdown_grace_ms),
 * run shutdown hooks, close every connection, and return MV_OK. */
MV_API MV_NODISCARD int mv_server_run(struct mv_server *srv);
/* Request a graceful shutdown. Thread-safe and async-signal-safe. */
MV_API void mv_server_stop(struct mv_server *srv);
/* Accepts NULL. Only after mv_server_run() returned (or was never called). */
MV_API void mv_server_free(struct mv_server *srv);

/* Run fn(arg) on the loop thread. Thread-safe. arg is borrowed until fn runs.
 * MV_ECLOSED once the server has finished running (fn never runs then). */
typedef void (*mv_server_task_fn)(void *arg);
MV_API MV_NODISCARD int mv_server_post(struct mv_server *srv,
                                       mv_server_task_fn fn, void *arg);
/* Called on the loop thread when shutdown starts, in registration order
 * (stop your timers, flush your queues). ctx borrowed for the server's life. */
MV_API MV_NODISCARD int mv_server_on_shutdown(struct mv_server *srv,
                                              mv_server_task_fn fn, void *ctx);
/* Extra /metrics text (Prometheus format) appended on each scrape,
 * e.g. mv_store_metrics_write. Called on the loop thread. */
typedef int (*mv_metrics_fn)(void *ctx, struct mv_buf *b);
MV_API MV_NODISCARD int mv_server_add_metrics(struct mv_server *srv,
                                              mv_metrics_fn fn, void *ctx);

/* ---- HTTP routes ------------------------------------------------------ */

/* A request. Everything is borrowed until the exchange is answered. */
struct mv_http_req {
  const char *method; /* "GET", "POST", ... */
  const char *path;   /* decoded path, no query */
  const char *query;  /* raw query string without '?', "" if none */
  const char *body;   /* NUL-terminated; "" if none */
  size_t body_len;
  const char *remote; /* peer address ("127.0.0.1", "::1"); "" if unknown */
};

/* Handler: called on the loop thread. It must answer x exactly once with
 * mv_http_respond*(), now or later (e.g. after a durable store write posted
 * back with mv_server_post). If the client went away meanwhile, answering
 * still must happen; it just frees the exchange. */
typedef void (*mv_http_handler_fn)(void *ctx, struct mv_http_exchange *x);

/* Register a route. method NULL matches any method. pattern is an exact path
 * ("/healthz") or a prefix ending in '*' ("/fhir/" plus a final '*'). The
 * longest match wins; a path matched with the wrong method gets 405. ctx
 * borrowed for the server's life. MV_ETOOBIG past MV_LIMIT_HTTP_ROUTES. */
MV_API MV_NODISCARD int mv_server_route(struct mv_server *srv,
                                        const char *method, const char *pattern,
                                        mv_http_handler_fn fn, void *ctx);

/* Errors the server answers by itself, before any handler (413, 414, 404,
 * 405, 411, 503...), are plain JSON {"error","message","path"}. Paths that
 * start with `prefix` may be given another body shape (e.g. a FHIR
 * OperationOutcome): fn appends the body for status/err/message to out and
 * returns its content type (static string). message holds no request data.
 * ctx borrowed for the server's life. Up to 4 formats; MV_ETOOBIG beyond. */
typedef const char *(*mv_http_error_fn)(void *ctx, int status, int err,
                                        const char *message,
                                        struct mv_buf *out);
MV_API MV_NODISCARD int mv_server_error_format(struct mv_server *srv,
                                               const char *prefix,
                                               mv_http_error_fn fn, void *ctx);

MV_API const struct mv_http_req *mv_http_request(struct mv_http_exchange *x);
/* A request header by lower-case name ("content-type"); NULL if absent. */
MV_API const char *mv_http_header(struct mv_http_exchange *x, const char *name);
/* A decoded query parameter (first occurrence); NULL if absent. */
MV_API const char *mv_http_query(struct mv_http_exchange *x, const char *name);
/* The exchange's arena, freed when the exchange ends. */
MV_API struct mv_arena *mv_http_arena(struct mv_http_exchange *x);
/* Add a response header (copied). Before mv_http_respond only. */
MV_API MV_NODISCARD int mv_http_add_header(struct mv_http_exchange *x,
                                           const char *name, const char *value);
/* Answer: status, content type, body (copied). Ends the exchange. */
MV_API void mv_http_respond(struct mv_http_exchange *x, int status,
                            const char *content_type, const char *body,
                            size_t body_len);
/* Answer with a JSON error body {"error":NAME,"message":...,"path":...}
 * and the status mv_err_http_status(err). diag may be NULL. */
MV_API void mv_http_respond_error(struct mv_http_exchange *x, int err,
                                  const struct mv_diag *diag);

/* ---- pub/sub hub ------------------------------------------------------- */

/* Deliver {"topic":topic,"data":<json>} to every /ws subscriber of topic.
 * json must be one JSON value (not checked). Loop thread only. Returns the
 * number of connections it was queued for, or a negative mv_err. */
MV_API int mv_hub_publish(struct mv_server *srv, const char *topic,
                          const char *json, size_t json_len);

/* ---- WebSocket routes ---------------------------------------------------
 *
 * A path (exact, e.g. "/ws/device") served by a handler instead of the
 * pub/sub hub. The handler decides at the upgrade whether to accept (it can
 * refuse with an HTTP status before any WebSocket exists), then gets whole
 * messages (fragments joined, bounded by MV_LIMIT_WS_MSG_MAX; a bigger one
 * closes the connection with 1009) and sends with mv_ws_send through the
 * same bounded queue as the hub: a peer that does not read its answers is
 * dropped (close 1013), never buffered without end. Every callback runs on
 * the loop thread.
 */
struct mv_ws_conn;    /* a connection of a WebSocket route; loop thread only */
struct mv_ws_upgrade; /* the HTTP request being upgraded; only during on_open */

struct mv_ws_handler {
  /* Before the upgrade. Return 0 to accept, with *out_user the
   * connection's user pointer (handed to every later callback); or an HTTP
   * status (400..599) to refuse: the client gets that status, a JSON body
   * {"error":..,"message":*out_msg} (static text, no request data; may be
   * left NULL) and, for 401, a "WWW-Authenticate: Bearer" header. */
  int (*on_open)(void *ctx, struct mv_ws_upgrade *u, void **out_user,
                 const char **out_msg);
  /* The WebSocket is up; c is valid until on_close returns. May be NULL. */
  void (*on_ready)(void *ctx, struct mv_ws_conn *c, void *user);
  /* One whole message (borrowed for the call). */
  void (*on_message)(void *ctx, struct mv_ws_conn *c, void *user,
                     const void *data, size_t len, bool binary);
  /* Exactly once for every accepted on_open: the connection is gone (c is
   * NULL when the upgrade never completed). Release user here. */
  void (*on_close)(void *ctx, struct mv_ws_conn *c, void *user);
};

/* Register path (exact; copied) before mv_server_run. h and ctx borrowed
 * for the server's life. MV_EINVAL, MV_EEXISTS (path taken), MV_ETOOBIG
 * past MV_LIMIT_HTTP_ROUTES WebSocket routes. */
MV_API MV_NODISCARD int mv_server_ws_route(struct mv_server *srv,
                                           const char *path,
                                           const struct mv_ws_handler *h,
                                           void *ctx);
/* A request header by lower-case name ("authorization") or a decoded query
 * parameter, during on_open only; NULL if absent (or longer than
 * MV_LIMIT_HTTP_HEADER_MAX). The strings live until on_open returns. */
MV_API const char *mv_ws_upgrade_header(struct mv_ws_upgrade *u,
                                        const char *name);
MV_API const char *mv_ws_upgrade_query(struct mv_ws_upgrade *u,
                                       const char *name);
/* Peer address ("127.0.0.1"), "" if unknown. */
MV_API const char *mv_ws_upgrade_remote(struct mv_ws_upgrade *u);

/* Queue one text message (copied). Loop thread only; other threads post
 * with mv_server_post and must find the connection again (it may be gone).
 * MV_ECLOSED when the connection is closing (the message is dropped),
 * MV_ETOOBIG when the queue cap was hit (the connection is being dropped). */
MV_API int mv_ws_send(struct mv_ws_conn *c, const char *text, size_t len);
/* Close with an RFC 6455 code and a static reason. */
MV_API void mv_ws_close(struct mv_ws_conn *c, int code, const char *reason);
/* Stop (true) or resume (false) reading from the peer: backpressure that
 * leaves data in the socket instead of in memory. */
MV_API void mv_ws_pause(struct mv_ws_conn *c, bool paused);
/* A number unique to the connection for the server's life (for logs). */
MV_API uint64_t mv_ws_id(const struct mv_ws_conn *c);

#endif
