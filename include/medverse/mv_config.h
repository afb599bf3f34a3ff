/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Server configuration. Precedence, lowest to highest:
 *   1. built-in defaults (mv_config_init)
 *   2. the config file (--config FILE, or MEDVERSE_CONFIG), lines "key = value"
 *   3. environment variables MEDVERSE_<KEY> (key upper-cased, '.' and '-' -> '_')
 *   4. command-line flags --<key> value (or --<key>=value)
 * Every key is listed in docs/OPERATIONS.md and printed by `medverse serve --help`.
 * Errors name the source: "FILE:LINE: message", "MEDVERSE_X: message" or
 * "--flag: message", and the caller exits with code 2.
 */
#ifndef MV_CONFIG_H
#define MV_CONFIG_H

#include "mv_err.h"
#include "mv_limits.h"
#include "mv_log.h"

/* One field per configuration key (named in the comment); defaults are
 * set by mv_config_init() and listed in docs/OPERATIONS.md. */
struct mv_config {
  char listen_host[256];                 /* listen (host part); 127.0.0.1 */
  int listen_port;                       /* listen (port part); 0 = any free */
  char data_dir[MV_LIMIT_PATH_MAX];      /* data-dir; "./var" */
  char web_root[MV_LIMIT_PATH_MAX];      /* web-root; "./web" */
  enum mv_log_level log_level;           /* log-level; info */
  bool log_json;                         /* log-json; false */
  unsigned store_batch_max;              /* store-batch-max */
  unsigned store_batch_delay_us;         /* store-batch-delay-us */
  unsigned workers;                      /* workers; 2 */
  size_t http_body_max;                  /* http-body-max */
  unsigned ws_queue_msgs;                /* ws-queue-msgs */
  char tls_cert[MV_LIMIT_PATH_MAX];      /* tls-cert; "" = plain HTTP */
  char tls_key[MV_LIMIT_PATH_MAX];       /* tls-key; "" = none */
  char public_url[MV_LIMIT_PATH_MAX];    /* public-url; "" = listen address */
  char site_key_file[MV_LIMIT_PATH_MAX]; /* site-key-file; "" = DATA/site.key */
  unsigned token_ttl_s;                  /* token-ttl-s; 3600 */
  unsigned demo_patients;                /* demo-patients; 5 */
  unsigned demo_interval_ms;             /* demo-interval-ms; 1000 */
  char ledger_origin[MV_LIMIT_TLOG_ORIGIN + 1]; /* ledger-origin; "" */
  char ledger_witness[MV_LIMIT_PATH_MAX];       /* ledger-witness; "" */
  unsigned ledger_witness_quorum;               /* ledger-witness-quorum; 0 */
  unsigned surveillance_interval_s; /* surveillance-interval-s; 86400 */
  unsigned surveillance_run_at_s;   /* surveillance-run-at-s; 7200 */

  char triage_model[MV_LIMIT_PATH_MAX]; /* triage-model; "" = none */
  unsigned mllp_port;                   /* mllp-port; 0 = no MLLP listener */
  unsigned mllp_idle_s;                 /* mllp-idle-s; 300 */
  unsigned triage_session_idle_s;       /* triage-session-idle-s; 1800 */
};

/* Fill with the built-in defaults. */
MV_API void mv_config_init(struct mv_config *c);

/* Set one key (as spelled in the file, e.g. "data-dir") from its text form.
 * MV_ENOTFOUND for an unknown key, MV_EINVAL/MV_ERANGE for a bad value,
 * with a message in diag (no source prefix; callers add it). */
MV_API MV_NODISCARD int mv_config_set(struct mv_config *c, const char *key,
                                      const char *value, struct mv_diag *diag);

/* Read a "key = value" file ('#' comments, blank lines allowed). On error
 * diag->path is the file name and diag->line the failing line. */
MV_API MV_NODISCARD int mv_config_load_file(struct mv_config *c,
                                            const char *path,
                                            struct mv_diag *diag);

/* The same from text already in memory (len bytes, NUL not required); name
 * is used as diag->path (e.g. the file name). All or nothing: on error c is
 * unchanged. MV_ETOOBIG past MV_LIMIT_CONFIG_FILE_MAX. */
MV_API MV_NODISCARD int mv_config_load_text(struct mv_config *c,
                                            const char *name, const char *data,
                                            size_t len, struct mv_diag *diag);

/* Apply MEDVERSE_<KEY> variables from envp (NULL-terminated, e.g. environ).
 * Unknown MEDVERSE_ variables are errors except MEDVERSE_CONFIG. */
MV_API MV_NODISCARD int mv_config_load_env(struct mv_config *c,
                                           char *const *envp,
                                           struct mv_diag *diag);

/* Visit every key with its current value as text and a one-line help. */
typedef void (*mv_config_visit_fn)(void *ctx, const char *key,
                                   const char *value, const char *help);
MV_API void mv_config_each(const struct mv_config *c, mv_config_visit_fn fn,
                           void *ctx);

#endif
