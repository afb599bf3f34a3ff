/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The server object: a libuv loop owned by the server with libwebsockets
 * joined to it as a guest ("foreign loop"), the lws protocol callback that
 * dispatches to http.c and hub.c, signals, the cross-thread post queue and
 * the graceful shutdown sequence.
 *
 * Shutdown runs in phases driven by one timer on the loop: DRAINING (new
 * connections are refused in the network filter, WebSockets get a close
 * frame, in-flight exchanges may finish until the grace deadline), then
 * DESTROYING (lws_context_destroy() is called from inside the running loop,
 * because libuv closes handles asynchronously and lws can only finish its
 * teardown from their close callbacks), then every handle left on the loop
 * is closed so uv_run() returns.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mv_log.h"
#include "net_int.h"

#define TICK_MS 20u
/* loop turns for lws to close its handles */
#define LWS_TEARDOWN_MS (3u * TICK_MS)

static void emit_lws_log(int level, const char *line) {
  /* Only errors reach us (see mv_server_new): lws notices can quote request
   * headers, which may carry patient data. */
  char buf[512];
  size_t n = strlen(line);
  if (n >= sizeof(buf))
    n = sizeof(buf) - 1;
  memcpy(buf, line, n);
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
    n--;
  buf[n] = '\0';
  mv_log(level == LLL_ERR ? MV_LOG_ERROR : MV_LOG_WARN, "lws", "%s", buf);
}

static void set_nodelay(int fd) {
  /* Without TCP_NODELAY, small responses and WebSocket frames can wait
   * 40-90 ms for Nagle + delayed ACK (DESIGN.md, "Traps found"). */
  int one = 1;
  if (fd >= 0)
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int lws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                  void *in, size_t len) {
  struct lws_context *lc = lws_get_context(wsi);
  struct mv_server *srv = lc ? lws_context_user(lc) : NULL;
  struct mv__pss *pss = user;

  if (!srv)
    return lws_callback_http_dummy(wsi, reason, user, in, len);
  switch (reason) {
  case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
    /* Once shutdown starts we stop taking connections: lws closes the
     * accepted socket at once when we return nonzero. */
    return srv->state == MV__S_RUNNING ? 0 : 1;
  case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
    set_nodelay(lws_get_socket_fd(wsi));
    return 0;
  case LWS_CALLBACK_HTTP:
    if (!pss)
      return -1;
    return mv__http_on_request(srv, wsi, pss);
  case LWS_CALLBACK_HTTP_BODY:
    return pss ? mv__http_on_body(pss, in, len) : -1;
  case LWS_CALLBACK_HTTP_BODY_COMPLETION:
    return pss ? mv__http_on_body_done(pss) : -1;
  case LWS_CALLBACK_HTTP_WRITEABLE:
    return pss ? mv__http_on_writeable(pss) : -1;
  case LWS_CALLBACK_CLOSED_HTTP:
  case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    if (pss)
      mv__http_on_closed(pss);
    return 0;
  case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
    if (!in || strcmp((const char *)in, "websocket") != 0)
      return 1;
    return mv__ws_confirm_upgrade(srv, wsi);
  case LWS_CALLBACK_ESTABLISHED:
    return pss ? mv__ws_on_established(srv, wsi, pss) : -1;
  case LWS_CALLBACK_RECEIVE:
    return pss ? mv__ws_on_receive(pss, in, len) : -1;
  case LWS_CALLBACK_SERVER_WRITEABLE:
    return pss ? mv__ws_on_writeable(pss) : -1;
  case LWS_CALLBACK_CLOSED:
    if (pss)
      mv__ws_on_closed(pss);
    return 0;
  case LWS_CALLBACK_WSI_DESTROY:
    /* an accepted upgrade that never reached ESTABLISHED */
    if (srv->ws_pending)
      mv__ws_pending_abort(srv, wsi);
    break;
  default:
    break;
  }
  return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ---- post queue and stop ------------------------------------------------- */

static size_t run_posted(struct mv_server *srv) {
  struct mv__task batch[64];
  size_t total = 0;

  /* Run in batches, taking the lock only to copy, so tasks may post. */
  for (;;) {
    size_t n = 0;
    pthread_mutex_lock(&srv->post_mu);
    while (n < MV_ARRAY_LEN(batch) && srv->post_n > 0) {
      batch[n++] = srv->post_q[srv->post_head];
      srv->post_head = (srv->post_head + 1) % MV__POST_QUEUE_MAX;
      srv->post_n--;
    }
    pthread_mutex_unlock(&srv->post_mu);
    if (n == 0)
      break;
    for (size_t i = 0; i < n; i++)
      batch[i].fn(batch[i].arg);
    total += n;
  }
  return total;
}

static void begin_shutdown(struct mv_server *srv);

static void on_async(uv_async_t *h) {
  struct mv_server *srv = h->data;
  if (atomic_load(&srv->stop_requested))
    begin_shutdown(srv);
  run_posted(srv);
}

static void on_signal(uv_signal_t *h, int signum) {
  struct mv_server *srv = h->data;
  MV_LOG_INFO("net", "signal %d: shutting down", signum);
  atomic_store(&srv->stop_requested, 1);
  begin_shutdown(srv);
}

/* Close the async handle so no thread can touch it afterwards: post callers
 * hold post_mu while sending, mv_server_stop callers announce themselves in
 * async_users (a mutex is not async-signal-safe). */
static void close_async(struct mv_server *srv) {
  pthread_mutex_lock(&srv->post_mu);
  srv->post_closed = true;
  pthread_mutex_unlock(&srv->post_mu);
  atomic_store(&srv->async_gone, true);
  while (atomic_load(&srv->async_users) > 0)
    ;
  if (!uv_is_closing((uv_handle_t *)&srv->async))
    uv_close((uv_handle_t *)&srv->async, NULL);
}

static void close_own_handles(struct mv_server *srv) {
  if (!srv->handles_inited || srv->handles_closed)
    return;
  srv->handles_closed = true;
  close_async(srv);
  uv_signal_stop(&srv->sig_int);
  uv_signal_stop(&srv->sig_term);
  uv_close((uv_handle_t *)&srv->sig_int, NULL);
  uv_close((uv_handle_t *)&srv->sig_term, NULL);
  uv_timer_stop(&srv->tick);
  if (!uv_is_closing((uv_handle_t *)&srv->tick))
    uv_close((uv_handle_t *)&srv->tick, NULL);
}

static void unref_any(uv_handle_t *h, void *arg) {
  (void)arg;
  uv_unref(h);
}

static void close_any(uv_handle_t *h, void *arg) {
  size_t *n = arg;
  if (!uv_is_closing(h)) {
    uv_close(h, NULL);
    (*n)++;
  }
}

/* ---- shutdown phases ----------------------------------------------------- */

static void on_tick(uv_timer_t *t) {
  struct mv_server *srv = t->data;
  uint64_t now = uv_now(&srv->loop);

  if (srv->state == MV__S_DRAINING) {
    bool idle = srv->n_inflight == 0 && mv__hub_conn_count(srv->hub) == 0;
    if (!idle && now < srv->deadline_ms)
      return;
    if (!idle)
      MV_LOG_WARN("net",
                  "shutdown: grace over, %zu exchanges and %zu "
                  "websockets still open",
                  srv->n_inflight, mv__hub_conn_count(srv->hub));
    srv->state = MV__S_DESTROYING;
    srv->deadline_ms = now + LWS_TEARDOWN_MS;
    /* From inside the running loop: lws closes its uv handles and runs the
     * rest of its teardown from their close callbacks. The final free needs
     * a second lws_context_destroy() once the loop is done (mv_server_run). */
    if (srv->ctx)
      lws_context_destroy(srv->ctx);
    close_async(srv);
    uv_signal_stop(&srv->sig_int);
    uv_signal_stop(&srv->sig_term);
    uv_close((uv_handle_t *)&srv->sig_int, NULL);
    uv_close((uv_handle_t *)&srv->sig_term, NULL);
    return;
  }
  if (srv->state == MV__S_DESTROYING) {
    /* lws needs a couple of loop turns to close its handles: the wsi
     * handles first, then (from their close callbacks) its timers. */
    if (now < srv->deadline_ms)
      return;
    srv->handles_closed = true;
    uv_timer_stop(&srv->tick);
    uv_close((uv_handle_t *)&srv->tick, NULL);
    /* Whatever the embedding program left running (a timer it did not stop
     * in its shutdown hook) would keep uv_run() going forever: unreference
     * it so the loop can end; mv_server_run closes it afterwards. Closing
     * handles still keep the loop alive until their callbacks ran. */
    uv_walk(&srv->loop, unref_any, NULL);
  }
}

/* Once: the hooks stop what others started on our loop (their timers). */
static void run_hooks(struct mv_server *srv) {
  if (srv->hooks_ran)
    return;
  srv->hooks_ran = true;
  for (size_t i = 0; i < srv->n_hooks; i++)
    srv->hooks[i].fn(srv->hooks[i].arg);
}

static void begin_shutdown(struct mv_server *srv) {
  if (srv->state == MV__S_DRAINING) {
    /* A second request (another Ctrl-C) skips the rest of the grace. */
    srv->deadline_ms = uv_now(&srv->loop);
    return;
  }
  if (srv->state != MV__S_RUNNING)
    return;
  srv->state = MV__S_DRAINING;
  MV_LOG_INFO("net", "shutdown: draining (%zu in flight, %zu websockets)",
              srv->n_inflight, mv__hub_conn_count(srv->hub));
  run_hooks(srv);
  mv__hub_close_all(srv->hub);
  uv_update_time(&srv->loop);
  srv->deadline_ms = uv_now(&srv->loop) + srv->grace_ms;
  uv_timer_start(&srv->tick, on_tick, 0, TICK_MS);
}

/* Destroy what mv_server_new built, whether or not the loop ever ran. */
static void teardown(struct mv_server *srv) {
  if (!srv->loop_inited)
    return;
  /* A server freed without running (a later start-up step failed) must
   * still stop the timers others put on its loop, or uv_run below would
   * wait for them forever. */
  run_hooks(srv);
  close_own_handles(srv);
  if (srv->ctx) {
    lws_context_destroy(srv->ctx);
    /* Let the close callbacks run; lws completes from them. */
    (void)uv_run(&srv->loop, UV_RUN_DEFAULT);
    /* The second call frees what is left (lws' documented pattern for
     * foreign loops); a no-op when pcontext already cleared srv->ctx. */
    if (srv->ctx)
      lws_context_destroy(srv->ctx);
    srv->ctx = NULL;
  }
  size_t n = 0;
  uv_walk(&srv->loop, close_any, &n);
  (void)uv_run(&srv->loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&srv->loop) != 0)
    MV_LOG_WARN("net", "loop still busy at close");
  srv->loop_inited = false;
}

/* ---- public API ------------------------------------------------------------
 */

static int add_builtin_routes(struct mv_server *srv) {
  int rc;
  if ((rc = mv_server_route(srv, "GET", "/healthz", mv__health_handler, srv)) !=
      MV_OK)
    return rc;
  if ((rc = mv_server_route(srv, "GET", "/metrics", mv__metrics_handler,
                            srv)) != MV_OK)
    return rc;
  if ((rc = mv_server_route(srv, "GET", "/ws", mv__ws_plain_handler, srv)) !=
      MV_OK)
    return rc;
  srv->n_user_routes = 0; /* built-ins do not count against the cap */
  return MV_OK;
}

/* A WebSocket (or kept-alive connection) silent for 30 s is pinged; one
 * silent for 75 s is closed, so peers that vanished without a close frame
 * do not hold connections and send queues forever. */
static const lws_retry_bo_t idle_policy = {
    .secs_since_valid_ping = 30,
    .secs_since_valid_hangup = 75,
};

static int create_lws(struct mv_server *srv, const struct mv_server_opts *o,
                      struct mv_diag *diag) {
  struct lws_context_creation_info info;
  void *loops[1] = {&srv->loop};

  lws_set_log_level(LLL_ERR, emit_lws_log);

  srv->protocols[0] = (struct lws_protocols){
      .name = "medverse",
      .callback = lws_cb,
      .per_session_data_size = sizeof(struct mv__pss),
      .rx_buffer_size = MV__WS_RX_BUFFER,
  };

  bool tls = o->tls_cert && *o->tls_cert;
  if (tls != (o->tls_key && *o->tls_key))
    return mv_diag_set(diag, MV_EINVAL,
                       "a TLS certificate and key must be given together");

  memset(&info, 0, sizeof(info));
  info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  if (tls)
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.retry_and_idle_policy = &idle_policy;
  info.foreign_loops = loops;
  info.pcontext = &srv->ctx;
  info.user = srv;
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.max_http_header_data = MV_LIMIT_HTTP_HEADERS_TOTAL;
  info.max_http_header_pool = 256;
  info.fd_limit_per_thread = MV_LIMIT_HTTP_CONNS + 64u;
  info.timeout_secs = 10;
  info.keepalive_timeout = 5;
  srv->ctx = lws_create_context(&info);
  if (!srv->ctx)
    return mv_diag_set(diag, MV_EIO, "libwebsockets context failed");

  memset(&info, 0, sizeof(info));
  /* Without FAIL_UPON_UNABLE_TO_BIND an address this host lacks gives a
   * vhost that listens nowhere and still reports success. */
  info.options =
      LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
  info.port = o->port;
  /* lws takes NULL for "all interfaces" */
  info.iface =
      (o->host && strcmp(o->host, "0.0.0.0") != 0 && strcmp(o->host, "") != 0)
          ? o->host
          : NULL;
  /* lws 4.1 with IPv6 writes an IPv4 literal into the wrong bytes of its
   * sockaddr_in6 (lws_interface_to_sa) and so binds to [::], every
   * interface: "127.0.0.1" would be reachable from the network. An IPv4
   * listen address therefore gets an IPv4 socket. */
  struct in_addr v4;
  if (info.iface && inet_pton(AF_INET, info.iface, &v4) == 1)
    info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  if (tls) {
    /* lws 4.1 enables TLS on a vhost only if the vhost's own options carry
     * DO_SSL_GLOBAL_INIT too; otherwise it silently serves plain HTTP. */
    info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.ssl_cert_filepath = o->tls_cert;
    info.ssl_private_key_filepath = o->tls_key;
  }
  info.retry_and_idle_policy = &idle_policy;
  info.protocols = srv->protocols;
  info.vhost_name = "medverse";
  info.timeout_secs = 10;
  info.keepalive_timeout = 5;
  srv->vh = lws_create_vhost(srv->ctx, &info);
  if (!srv->vh) {
    mv_diag_set(diag, MV_EIO, "cannot listen on %s:%d%s",
                o->host ? o->host : "*", o->port,
                tls ? " or use the TLS certificate and key" : "");
    mv_diag_set_path(diag, "listen");
    return MV_EIO;
  }
  srv->port = lws_get_vhost_listen_port(srv->vh);
  return MV_OK;
}

int mv_server_new(const struct mv_server_opts *opts, struct mv_server **out_srv,
                  struct mv_diag *diag) {
  struct mv_server *srv = NULL;
  int rc = MV_OK;

  if (!opts || !out_srv || opts->port < 0 || opts->port > 65535)
    return mv_diag_set(diag, MV_EINVAL, "invalid server options");
  srv = calloc(1, sizeof(*srv));
  if (!srv)
    return mv_diag_set(diag, MV_ENOMEM, "out of memory");
  pthread_mutex_init(&srv->post_mu, NULL);
  srv->body_max = opts->body_max ? opts->body_max : MV_LIMIT_HTTP_BODY_MAX;
  srv->ws_queue_msgs =
      opts->ws_queue_msgs ? opts->ws_queue_msgs : MV_LIMIT_WS_QUEUE_MSGS;
  srv->ws_queue_bytes =
      opts->ws_queue_bytes ? opts->ws_queue_bytes : MV_LIMIT_WS_QUEUE_BYTES;
  srv->grace_ms = opts->shutdown_grace_ms ? opts->shutdown_grace_ms : 3000u;
  if (srv->grace_ms > MV__SHUTDOWN_GRACE_CAP_MS)
    srv->grace_ms = MV__SHUTDOWN_GRACE_CAP_MS;

  if (opts->web_root) {
    srv->web_root = realpath(opts->web_root, NULL);
    if (!srv->web_root) {
      rc = mv_diag_set(diag, MV_EINVAL, "web root not found");
      mv_diag_set_path(diag, "web_root");
      goto out;
    }
  }
  srv->metrics = mv__metrics_new();
  srv->hub = mv__hub_new(srv);
  srv->scratch = malloc(LWS_PRE + MV__CHUNK);
  if (!srv->metrics || !srv->hub || !srv->scratch) {
    rc = mv_diag_set(diag, MV_ENOMEM, "out of memory");
    goto out;
  }
  if ((rc = add_builtin_routes(srv)) != MV_OK)
    goto out;

  if (uv_loop_init(&srv->loop) != 0) {
    rc = mv_diag_set(diag, MV_EIO, "uv_loop_init failed");
    goto out;
  }
  srv->loop_inited = true;
  uv_async_init(&srv->loop, &srv->async, on_async);
  srv->async.data = srv;
  uv_signal_init(&srv->loop, &srv->sig_int);
  uv_signal_init(&srv->loop, &srv->sig_term);
  srv->sig_int.data = srv;
  srv->sig_term.data = srv;
  uv_timer_init(&srv->loop, &srv->tick);
  srv->tick.data = srv;
  srv->handles_inited = true;

  if ((rc = create_lws(srv, opts, diag)) != MV_OK)
    goto out;
  *out_srv = srv;
  srv = NULL;
out:
  mv_server_free(srv);
  return rc;
}

int mv_server_port(const struct mv_server *srv) {
  return srv->port;
}

uv_loop_t *mv_server_loop(struct mv_server *srv) {
  return &srv->loop;
}

int mv_server_run(struct mv_server *srv) {
  if (!srv || srv->state != MV__S_NEW || !srv->ctx)
    return MV_EINVAL;
  srv->state = MV__S_RUNNING;
  uv_signal_start(&srv->sig_int, on_signal, SIGINT);
  uv_signal_start(&srv->sig_term, on_signal, SIGTERM);
  /* A stop or tasks posted before run are picked up on the first turn. */
  uv_async_send(&srv->async);

  (void)uv_run(&srv->loop, UV_RUN_DEFAULT);

  /* The loop ended after lws closed its handles: this second call frees
   * the context (and clears srv->ctx through info.pcontext). */
  if (srv->ctx)
    lws_context_destroy(srv->ctx);
  srv->ctx = NULL;
  close_own_handles(srv);
  size_t n = 0;
  uv_walk(&srv->loop, close_any, &n);
  if (n > 0)
    MV_LOG_WARN("net", "shutdown: closed %zu handles left on the loop", n);
  (void)uv_run(&srv->loop, UV_RUN_DEFAULT);
  /* Tasks accepted before the queue closed still run (they may free their
   * argument or answer an exchange whose client is gone). */
  run_posted(srv);
  srv->state = MV__S_DONE;
  MV_LOG_INFO("net", "shutdown: done");
  return MV_OK;
}

void mv_server_stop(struct mv_server *srv) {
  if (!srv)
    return;
  atomic_store(&srv->stop_requested, 1);
  atomic_fetch_add(&srv->async_users, 1);
  if (!atomic_load(&srv->async_gone))
    uv_async_send(&srv->async);
  atomic_fetch_sub(&srv->async_users, 1);
}

void mv_server_free(struct mv_server *srv) {
  if (!srv)
    return;
  teardown(srv);
  /* Tasks posted but never run (the loop never ran) still own their arg. */
  run_posted(srv);
  mv__http_free_all(srv);
  mv__ws_pending_abort(srv, NULL);
  for (size_t i = 0; i < srv->n_routes; i++) {
    free(srv->routes[i].method);
    free(srv->routes[i].pattern);
  }
  mv__hub_free(srv->hub);
  mv__metrics_free(srv->metrics);
  free(srv->scratch);
  free(srv->web_root);
  pthread_mutex_destroy(&srv->post_mu);
  free(srv);
}

int mv_server_post(struct mv_server *srv, mv_server_task_fn fn, void *arg) {
  int rc = MV_OK;
  if (!srv || !fn)
    return MV_EINVAL;
  pthread_mutex_lock(&srv->post_mu);
  if (srv->post_closed || srv->state == MV__S_DONE) {
    rc = MV_ECLOSED;
  } else if (srv->post_n >= MV__POST_QUEUE_MAX) {
    rc = MV_EBUSY;
  } else {
    size_t tail = (srv->post_head + srv->post_n) % MV__POST_QUEUE_MAX;
    srv->post_q[tail] = (struct mv__task){fn, arg};
    srv->post_n++;
    /* Sent under the lock: close_async() cannot close the handle between
     * our check of post_closed and this call. */
    uv_async_send(&srv->async);
  }
  pthread_mutex_unlock(&srv->post_mu);
  return rc;
}

int mv_server_on_shutdown(struct mv_server *srv, mv_server_task_fn fn,
                          void *ctx) {
  if (!srv || !fn)
    return MV_EINVAL;
  if (srv->n_hooks >= MV__HOOKS_MAX)
    return MV_ETOOBIG;
  srv->hooks[srv->n_hooks++] = (struct mv__task){fn, ctx};
  return MV_OK;
}

int mv_server_error_format(struct mv_server *srv, const char *prefix,
                           mv_http_error_fn fn, void *ctx) {
  if (!srv || !prefix || !fn || strlen(prefix) >= sizeof(srv->errfmt[0].prefix))
    return MV_EINVAL;
  if (srv->n_errfmt >= MV_ARRAY_LEN(srv->errfmt))
    return MV_ETOOBIG;
  snprintf(srv->errfmt[srv->n_errfmt].prefix,
           sizeof(srv->errfmt[srv->n_errfmt].prefix), "%s", prefix);
  srv->errfmt[srv->n_errfmt].fn = fn;
  srv->errfmt[srv->n_errfmt].ctx = ctx;
  srv->n_errfmt++;
  return MV_OK;
}

int mv_server_add_metrics(struct mv_server *srv, mv_metrics_fn fn, void *ctx) {
  if (!srv || !fn)
    return MV_EINVAL;
  if (srv->n_msrc >= MV__METRICS_SOURCES_MAX)
    return MV_ETOOBIG;
  srv->msrc[srv->n_msrc].fn = fn;
  srv->msrc[srv->n_msrc].ctx = ctx;
  srv->n_msrc++;
  return MV_OK;
}

void mv__server_labels(const struct mv_server *srv, const char **labels,
                       unsigned n) {
  for (unsigned i = 0; i < n; i++)
    labels[i] = NULL;
  if (n > MV__LABEL_UNMATCHED)
    labels[MV__LABEL_UNMATCHED] = "unmatched";
  if (n > MV__LABEL_STATIC)
    labels[MV__LABEL_STATIC] = "static";
  for (size_t i = 0; i < srv->n_routes; i++)
    if (srv->routes[i].label < n)
      labels[srv->routes[i].label] = srv->routes[i].pattern;
}
