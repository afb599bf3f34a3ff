/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Error names, messages and HTTP statuses, all generated from MV_ERR_MAP in
 * mv_err.h so the three can never disagree; and struct mv_diag helpers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mv_err.h"

struct err_info {
  int code;
  const char *name;
  const char *msg;
  int http;
};

static const struct err_info err_table[] = {
#define X(name, code, msg, http) {code, "MV_E" #name, msg, http},
    MV_ERR_MAP(X)
#undef X
};

static const struct err_info *find(int err) {
  for (size_t i = 0; i < MV_ARRAY_LEN(err_table); i++)
    if (err_table[i].code == err)
      return &err_table[i];
  return NULL;
}

const char *mv_strerror(int err) {
  const struct err_info *e = find(err);
  return e ? e->msg : "unknown error";
}

const char *mv_err_name(int err) {
  const struct err_info *e = find(err);
  if (err == 0)
    return "MV_OK";
  return e ? e->name : "MV_E?";
}

int mv_err_http_status(int err) {
  const struct err_info *e = find(err);
  return e ? e->http : 500;
}

void mv_diag_clear(struct mv_diag *d) {
  if (!d)
    return;
  memset(d, 0, sizeof(*d));
  d->offset = -1;
}

int mv_diag_set(struct mv_diag *d, int err, const char *fmt, ...) {
  if (!d)
    return err;
  d->err = err;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
  va_end(ap);
  return err;
}

void mv_diag_set_path(struct mv_diag *d, const char *path) {
  if (!d)
    return;
  snprintf(d->path, sizeof(d->path), "%s", path ? path : "");
}

const char *mv_diag_format(const struct mv_diag *d, char *buf, size_t buf_len) {
  if (!buf || buf_len == 0)
    return "";
  buf[0] = '\0';
  if (!d)
    return buf;
  size_t n = 0;
  int w;
#define APPEND(...)                                                            \
  do {                                                                         \
    if (n < buf_len) {                                                         \
      w = snprintf(buf + n, buf_len - n, __VA_ARGS__);                         \
      if (w > 0)                                                               \
        n += (size_t)w;                                                        \
    }                                                                          \
  } while (0)
  if (d->path[0])
    APPEND("%s:", d->path);
  if (d->line > 0)
    APPEND("%d:", d->line);
  if (d->line > 0 && d->col > 0)
    APPEND("%d:", d->col);
  if (n > 0)
    APPEND(" ");
  APPEND("%s", d->msg[0] ? d->msg : mv_strerror(d->err));
#undef APPEND
  return buf;
}
