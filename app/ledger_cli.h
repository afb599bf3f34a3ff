/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private pieces shared by the `medverse ledger` subcommands
 * (cmd_ledger*.c): a small flag parser with positional arguments, a
 * terminal progress bar, base64, durable small files and a bounded HTTP
 * client (libcurl) for the witness. Only the app uses this header.
 */
#ifndef MV_APP_LEDGER_CLI_H
#define MV_APP_LEDGER_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mv_buf.h"

/* A flag of a ledger subcommand. out_value is set to the value (borrowed
 * from argv), or to "" for a flag without value. */
struct lcli_flag {
  const char *name; /* without "--" */
  const char *arg;  /* value name for the help ("N"), NULL = no value */
  const char *help;
  const char **out_value;
};

/* Parse argv (after the subcommand word). Positional arguments go to pos[]
 * (at most max_pos). On --help prints usage to stdout and sets *out_help.
 * Returns 0, or EXIT_USAGE after printing "medverse ledger CMD: ..." on
 * an unknown flag, a missing value or a wrong number of positionals. */
int lcli_parse(const char *cmd, int argc, char **argv,
               const struct lcli_flag *flags, size_t n_flags,
               const char *synopsis, const char *summary, const char **pos,
               size_t min_pos, size_t max_pos, size_t *out_n_pos,
               bool *out_help);

/* A decimal unsigned integer flag value <= max; EXIT_USAGE with a message
 * naming --flag otherwise. */
int lcli_u64(const char *cmd, const char *flag, const char *s, uint64_t max,
             uint64_t *out);

/* Progress on stderr, only when stderr is a terminal. */
struct lcli_progress {
  bool on;
  const char *label;
  uint64_t total;
  int last_pct;
};
void lcli_progress_init(struct lcli_progress *p, const char *label,
                        uint64_t total);
void lcli_progress_step(struct lcli_progress *p, uint64_t done);
void lcli_progress_done(struct lcli_progress *p);

/* Standard base64 (with padding) of n bytes into out (NUL-terminated);
 * out_len must be >= 4*((n+2)/3)+1. */
void lcli_b64(const uint8_t *p, size_t n, char *out, size_t out_len);

/* One HTTP exchange with a bounded response (MV_LIMIT_LEDGER_HTTP_BODY)
 * and timeouts. token (may be NULL) becomes a bearer token; body (may be
 * NULL) is POSTed with content type ctype. The response body is appended to
 * out. Returns 0 with *out_status set, or -1 with err filled (transport
 * failure, timeout, response too big). */
int lcli_http(const char *method, const char *url, const char *token,
              const char *ctype, const char *body, size_t body_len,
              struct mv_buf *out, long *out_status, char *err, size_t err_len);

/* Check that dir is a medverse data directory (a directory holding
 * medverse.db) and write "<dir>/ledger" into ldir (cap bytes). Returns 0, or
 * EXIT_USAGE after printing "medverse ledger CMD: DIR: ...". */
int lcli_data_dir(const char *cmd, const char *dir, char *ldir, size_t cap);
/* The log's verifier key file: flag_value when given, else
 * "<ldir>/ledger.vkey". -1 when it does not fit in out (cap bytes). */
int lcli_vkey_path(const char *ldir, const char *flag_value, char *out,
                   size_t cap);

/* Read a whole small file into out (initialised here with cap bytes; the
 * caller releases it, also on failure); returns 0 or -1 with err. */
int lcli_read_file(const char *path, size_t cap, struct mv_buf *out, char *err,
                   size_t err_len);
/* Write data to path durably: path.tmp, fsync, rename, fsync the directory.
 * mode is the file mode (0600 for secrets). Returns 0 or -1 with err. */
int lcli_write_file_durable(const char *path, const void *data, size_t len,
                            unsigned mode, char *err, size_t err_len);

int cmd_ledger_verify(int argc, char **argv);
int cmd_ledger_prove(int argc, char **argv);
int cmd_ledger_export(int argc, char **argv);
int cmd_ledger_witness(int argc, char **argv);
int cmd_ledger_keygen(int argc, char **argv);

#endif
