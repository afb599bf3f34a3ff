/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Process logging: levels, plain text or JSON lines, to stderr by default.
 *
 * Rule (see docs/ARCHITECTURE.md): log messages never contain patient data —
 * no names, identifiers, values or free text from requests. Log ids, counts,
 * routes, error names and durations. Control characters in messages are
 * escaped so a log line is always one line. Thread-safe.
 */
#ifndef MV_LOG_H
#define MV_LOG_H

#include <stdio.h>

#include "mv_common.h"

enum mv_log_level {
  MV_LOG_DEBUG = 0,
  MV_LOG_INFO = 1,
  MV_LOG_WARN = 2,
  MV_LOG_ERROR = 3,
  MV_LOG_OFF = 4,
};

MV_API void mv_log_set_level(enum mv_log_level level);
MV_API enum mv_log_level mv_log_get_level(void);
/* true: one JSON object per line {"ts":..,"level":..,"component":..,"msg":..} */
MV_API void mv_log_set_json(bool json);
/* Borrowed until replaced; NULL restores stderr. */
MV_API void mv_log_set_output(FILE *out);
/* Parse "debug", "info", "warn", "error", "off". MV_EINVAL otherwise. */
MV_API MV_NODISCARD int mv_log_level_parse(const char *s,
                                           enum mv_log_level *out_level);

/* component: a short static name such as "net" or "store". */
MV_API void mv_log(enum mv_log_level level, const char *component,
                   const char *fmt, ...) MV_PRINTF(3, 4);

#define MV_LOG_DEBUG(comp, ...) mv_log(MV_LOG_DEBUG, comp, __VA_ARGS__)
#define MV_LOG_INFO(comp, ...) mv_log(MV_LOG_INFO, comp, __VA_ARGS__)
#define MV_LOG_WARN(comp, ...) mv_log(MV_LOG_WARN, comp, __VA_ARGS__)
#define MV_LOG_ERROR(comp, ...) mv_log(MV_LOG_ERROR, comp, __VA_ARGS__)

#endif
