/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `medverse serve`: open the store, start the server, print the ready line
 * and run until SIGINT/SIGTERM. cli_run_server() is shared with `demo`.
 * Shutdown order matters: the server stops first (no new work), then the
 * worker pool finishes its jobs, then the store commits everything queued,
 * then the server's memory is freed, so a late callback never posts to a
 * freed server.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "mv_api.h"
#include "mv_log.h"
#include "mv_net.h"
#include "mv_pool.h"
#include "mv_store.h"
#include "mv_version_gen.h"

#ifndef MV_DEFAULT_WEB_ROOT
#define MV_DEFAULT_WEB_ROOT "./web"
#endif

static const char serve_summary[] =
    "Run the medverse server on an embedded SQLite store in --data-dir.\n"
    "Prints 'listening on http://HOST:PORT' once ready; stops cleanly on "
    "SIGINT/SIGTERM.";

static int store_metrics(void *ctx, struct mv_buf *b) {
  return mv_store_metrics_write(ctx, b);
}

static void info_handler(void *ctx, struct mv_http_exchange *x) {
  (void)ctx;
  static const char body[] =
      "{\"name\":\"medverse\",\"version\":\"" MV_VERSION_STRING "\","
      "\"notice\":\"medverse is not a certified medical device. Do not use it "
      "for diagnosis or treatment decisions.\"}";
  mv_http_respond(x, 200, "application/json", body, sizeof(body) - 1);
}

static bool is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The web root: as configured; if the default ./web is absent (binary run
 * from elsewhere), the source tree's web/ this binary was built from. */
static const char *pick_web_root(const struct mv_config *cfg) {
  if (is_dir(cfg->web_root))
    return cfg->web_root;
  if (strcmp(cfg->web_root, "./web") == 0 && is_dir(MV_DEFAULT_WEB_ROOT))
    return MV_DEFAULT_WEB_ROOT;
  MV_LOG_WARN("app", "web root is not a directory; static files disabled");
  return NULL;
}

/* The ledger's checkpoint origin: ledger-origin when set; else the host
 * of public-url (or the listen host) + "/medverse/ledger", which only names
 * a new ledger key (an existing key keeps its name). */
static const char *ledger_origin(const struct mv_config *cfg, char *buf,
                                 size_t cap, bool *out_default) {
  *out_default = cfg->ledger_origin[0] == '\0';
  if (!*out_default)
    return cfg->ledger_origin;
  const char *h = cfg->public_url[0] ? cfg->public_url : cfg->listen_host;
  const char *sep = strstr(h, "://");
  if (sep)
    h = sep + 3;
  size_t n = strcspn(h, "/:[]@?#");
  if (n == 0 || n > 200)
    return "medverse/ledger";
  snprintf(buf, cap, "%.*s/medverse/ledger", (int)n, h);
  return buf;
}

int cli_run_server(const struct mv_config *cfg, cli_ready_fn ready, void *ctx) {
  struct mv_store *store = NULL;
  struct mv_server *srv = NULL;
  struct mv_pool *pool = NULL;
  struct mv_api *api = NULL;
  struct mv_diag d;
  char msg[512];
  int code = 1, rc;

  char origin_buf[256];
  bool origin_default = false;
  const char *origin =
      ledger_origin(cfg, origin_buf, sizeof(origin_buf), &origin_default);
  struct mv_store_opts so = {
      .url = cfg->data_dir,
      .key_file = cfg->site_key_file[0] ? cfg->site_key_file : NULL,
      .batch_max = cfg->store_batch_max,
      .batch_delay_us = cfg->store_batch_delay_us,
      .ledger = MV_STORE_LEDGER_ON,
      .ledger_origin = origin,
      .ledger_origin_default = origin_default,
  };
  MV_LOG_DEBUG("app", "store batch max %u, batch delay %u us, body max %zu",
               cfg->store_batch_max, cfg->store_batch_delay_us,
               cfg->http_body_max);
  mv_diag_clear(&d);
  rc = mv_store_open(&so, &store, &d);
  if (rc != MV_OK) {
    fprintf(stderr, "medverse: cannot open the store in %s: %s\n",
            cfg->data_dir, mv_diag_format(&d, msg, sizeof(msg)));
    goto out;
  }

  if ((rc = mv_pool_new(cfg->workers, 0, &pool)) != MV_OK) {
    fprintf(stderr, "medverse: cannot start %u worker threads: %s\n",
            cfg->workers, mv_strerror(rc));
    goto out;
  }

  struct mv_server_opts no = {
      .host = cfg->listen_host,
      .port = cfg->listen_port,
      .web_root = pick_web_root(cfg),
      .body_max = cfg->http_body_max,
      .ws_queue_msgs = cfg->ws_queue_msgs,
      .tls_cert = cfg->tls_cert[0] ? cfg->tls_cert : NULL,
      .tls_key = cfg->tls_key[0] ? cfg->tls_key : NULL,
  };
  mv_diag_clear(&d);
  rc = mv_server_new(&no, &srv, &d);
  if (rc != MV_OK) {
    fprintf(stderr, "medverse: %s\n", mv_diag_format(&d, msg, sizeof(msg)));
    goto out;
  }
  if ((rc = mv_server_add_metrics(srv, store_metrics, store)) != MV_OK ||
      (rc = mv_server_route(srv, "GET", "/api/info", info_handler, NULL)) !=
          MV_OK) {
    fprintf(stderr, "medverse: %s\n", mv_strerror(rc));
    goto out;
  }
  {
    char base[512];
    bool v6h = strchr(cfg->listen_host, ':') != NULL;
    snprintf(base, sizeof(base), "%s://%s%s%s:%d", cli_scheme(cfg),
             v6h ? "[" : "", cfg->listen_host, v6h ? "]" : "",
             mv_server_port(srv));
    struct mv_api_opts ao = {
        .srv = srv, .store = store, .pool = pool, .base_url = base};
    mv_diag_clear(&d);
    if ((rc = mv_api_new(&ao, &api, &d)) != MV_OK) {
      fprintf(stderr, "medverse: cannot start the FHIR API: %s\n",
              mv_diag_format(&d, msg, sizeof(msg)));
      goto out;
    }
    mv_diag_clear(&d);
    if ((rc = mv_api_ledger_configure(api, cfg->ledger_witness,
                                      cfg->ledger_witness_quorum, &d)) !=
        MV_OK) {
      fprintf(stderr, "medverse: %s\n", mv_diag_format(&d, msg, sizeof(msg)));
      code = 2;
      goto out;
    }
    struct mv_api_triage_opts to = {.model_path = cfg->triage_model,
                                    .idle_s = cfg->triage_session_idle_s};
    mv_diag_clear(&d);
    if ((rc = mv_api_triage_configure(api, &to, &d)) != MV_OK) {
      fprintf(stderr, "medverse: cannot load the triage model: %s\n",
              mv_diag_format(&d, msg, sizeof(msg)));
      code = 2;
      goto out;
    }
    struct mv_api_surveillance_opts eo = {
        .store_url = cfg->data_dir,
        .interval_s = cfg->surveillance_interval_s,
        .run_at_s = cfg->surveillance_run_at_s};
    mv_diag_clear(&d);
    if ((rc = mv_api_surveillance(api, &eo, &d)) != MV_OK) {
      fprintf(stderr, "medverse: cannot start surveillance: %s\n",
              mv_diag_format(&d, msg, sizeof(msg)));
      goto out;
    }
    if (cfg->mllp_port) {
      mv_diag_clear(&d);
      if ((rc = mv_api_mllp_listen(api, cfg->listen_host, (int)cfg->mllp_port,
                                   cfg->mllp_idle_s, &d)) != MV_OK) {
        fprintf(stderr, "medverse: cannot start the MLLP listener: %s\n",
                mv_diag_format(&d, msg, sizeof(msg)));
        code = 2;
        goto out;
      }
    }
  }
  struct cli_env env = {
      .srv = srv, .store = store, .pool = pool, .api = api, .cfg = cfg};
  if (ready && (rc = ready(ctx, &env)) != MV_OK)
    goto out;

  bool v6 = strchr(cfg->listen_host, ':') != NULL;
  printf("listening on %s://%s%s%s:%d\n", cli_scheme(cfg), v6 ? "[" : "",
         cfg->listen_host, v6 ? "]" : "", mv_server_port(srv));
  if (api && mv_api_mllp_port(api))
    printf("mllp listening on %s%s%s:%d\n", v6 ? "[" : "", cfg->listen_host,
           v6 ? "]" : "", mv_api_mllp_port(api));
  fflush(stdout);
  MV_LOG_INFO("app", "ready on port %d", mv_server_port(srv));

  rc = mv_server_run(srv);
  if (rc != MV_OK) {
    fprintf(stderr, "medverse: server stopped: %s\n", mv_strerror(rc));
    goto out;
  }
  code = 0;
out:
  mv_pool_free(pool);    /* finishes queued CPU jobs */
  mv_store_close(store); /* commits everything queued */
  mv_server_free(srv);
  mv_api_free(api);
  if (code == 0)
    MV_LOG_INFO("app", "stopped cleanly");
  return code;
}

int cmd_serve(int argc, char **argv) {
  struct mv_config cfg;
  bool help;
  int rc =
      cli_load_config("serve", argc, argv, &cfg, NULL, 0, serve_summary, &help);
  if (rc || help)
    return rc;
  cli_apply_logging(&cfg);
  return cli_run_server(&cfg, NULL, NULL);
}
