/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared pieces of the medverse command line: exit codes, loading the
 * configuration from file, environment and flags (in that precedence), and
 * printing usage. Each subcommand lives in cmd_<name>.c.
 */
#ifndef MV_APP_CLI_H
#define MV_APP_CLI_H

#include "mv_config.h"

/* Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error. */
enum { EXIT_USAGE = 2 };

/* Extra flags a subcommand accepts beyond the configuration keys. */
struct cli_flag {
  const char *name; /* without "--" */
  bool takes_value;
  const char *help;
  const char **out_value; /* set to the value (or "" for booleans) */
};

/* Build the configuration for `medverse NAME ARGS...`: defaults, then the
 * config file (--config FILE or MEDVERSE_CONFIG), MEDVERSE_* variables, then
 * flags. Prints usage and returns 0 with *out_help_shown set on --help.
 * On error prints "medverse NAME: ..." to stderr and returns EXIT_USAGE. */
int cli_load_config(const char *cmd, int argc, char **argv,
                    struct mv_config *cfg, const struct cli_flag *extra,
                    size_t n_extra, const char *summary, bool *out_help_shown);

/* "https" when TLS is configured, else "http". */
static inline const char *cli_scheme(const struct mv_config *cfg) {
  return cfg->tls_cert[0] ? "https" : "http";
}

/* Apply the configuration's logging settings. */
void cli_apply_logging(const struct mv_config *cfg);

int cmd_serve(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_admin(int argc, char **argv);
int cmd_epi(int argc, char **argv);
/* `medverse epi detect` (cmd_epi_detect.c), dispatched by cmd_epi. */
int cmd_epi_detect(int argc, char **argv);
int cmd_ledger(int argc, char **argv);
int cmd_triage(int argc, char **argv);
/* `medverse triage predict` (cmd_triage_predict.c), dispatched by cmd_triage. */
int cmd_triage_predict(int argc, char **argv);

/* `medverse simulate` (cmd_simulate*.c). */
int cmd_simulate(int argc, char **argv);
/* `medverse ecg` (cmd_ecg.c: info, filter, score); `ecg detect` lives in
 * cmd_ecg_detect.c and is dispatched by cmd_ecg. */
int cmd_ecg(int argc, char **argv);
int cmd_ecg_detect(int argc, char **argv);

/* Shared by serve and demo: run the server until shutdown. hook (may be NULL)
 * is called once the server is listening, before the ready line is printed.
 * The worker pool (cfg->workers threads) runs CPU jobs off the loop. */
struct mv_server;
struct mv_store;
struct mv_pool;
struct mv_api;
struct cli_env {
  struct mv_server *srv;
  struct mv_store *store;
  struct mv_pool *pool;
  struct mv_api *api; /* the FHIR API; mv_api_ingest for server-side writes */
  const struct mv_config *cfg;
};
typedef int (*cli_ready_fn)(void *ctx, const struct cli_env *env);
int cli_run_server(const struct mv_config *cfg, cli_ready_fn ready, void *ctx);

#endif
