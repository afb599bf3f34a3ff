/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Server configuration: one table of keys drives the parser for every source
 * (file, environment, flags) and the help/doc listing, so a key cannot be
 * settable in one place and missing from another. Values are parsed strictly
 * (no trailing junk, range checked) and each loader applies its changes to a
 * copy, so a failed load leaves the caller's configuration untouched.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mv_config.h"

/* K_OPT_PATH: a path that may be set to "" (feature off). */
enum key_kind {
  K_LISTEN,
  K_PATH,
  K_OPT_PATH,
  K_LOG_LEVEL,
  K_BOOL,
  K_UINT,
  K_SIZE
};

struct key_def {
  const char *key;
  enum key_kind kind;
  size_t off;                  /* offset of the field in struct mv_config */
  size_t size;                 /* field size, for K_PATH */
  unsigned long long min, max; /* for K_UINT and K_SIZE */
  const char *help;
};

#define FIELD(f)                                                               \
  offsetof(struct mv_config, f), sizeof(((struct mv_config *)0)->f)

static const struct key_def keys[] = {
    {"listen", K_LISTEN, FIELD(listen_host), 0, 0,
     "address to listen on, HOST:PORT or [IPv6]:PORT (port 0 picks a free "
     "one)"},
    {"data-dir", K_PATH, FIELD(data_dir), 0, 0,
     "directory of the embedded SQLite database (medverse.db)"},
    {"web-root", K_PATH, FIELD(web_root), 0, 0,
     "directory of the static web client"},
    {"log-level", K_LOG_LEVEL, FIELD(log_level), 0, 0,
     "debug, info, warn, error or off"},
    {"log-json", K_BOOL, FIELD(log_json), 0, 0,
     "log one JSON object per line (true/false)"},
    {"store-batch-max", K_UINT, FIELD(store_batch_max), 1, 100000,
     "most writes per group commit (1..100000)"},
    {"store-batch-delay-us", K_UINT, FIELD(store_batch_delay_us), 1, 1000000,
     "longest wait in microseconds before a group commit (1..1000000)"},
    {"workers", K_UINT, FIELD(workers), 1, 64,
     "worker threads for CPU work (1..64)"},
    {"http-body-max", K_SIZE, FIELD(http_body_max), 1024, 1024ull * 1024 * 1024,
     "largest HTTP request body in bytes, suffix k, M or G allowed (1k..1G)"},
    {"ws-queue-msgs", K_UINT, FIELD(ws_queue_msgs), 1, 1000000,
     "outbound WebSocket messages queued per connection (1..1000000)"},
    {"tls-cert", K_OPT_PATH, FIELD(tls_cert), 0, 0,
     "PEM certificate chain; with tls-key, serve HTTPS and WSS (empty: off)"},
    {"tls-key", K_OPT_PATH, FIELD(tls_key), 0, 0,
     "PEM private key for tls-cert (empty: off)"},
    {"public-url", K_OPT_PATH, FIELD(public_url), 0, 0,
     "URL clients reach the server at, for Location headers and links, e.g. "
     "https://care.example.org (empty: http(s)://listen address)"},
    {"site-key-file", K_OPT_PATH, FIELD(site_key_file), 0, 0,
     "file holding the site key that wraps patient keys; keep it out of "
     "database backups (empty: DATA-DIR/site.key)"},
    {"token-ttl-s", K_UINT, FIELD(token_ttl_s), 60, 604800,
     "lifetime of access tokens in seconds (60..604800)"},
    {"demo-patients", K_UINT, FIELD(demo_patients), 0, 1000,
     "simulated patients in demo mode (0..1000)"},
    {"demo-interval-ms", K_UINT, FIELD(demo_interval_ms), 10, 3600000,
     "milliseconds between simulated readings (10..3600000)"},
    {"ledger-origin", K_OPT_PATH, FIELD(ledger_origin), 0, 0,
     "origin line of the ledger's checkpoints, fixed when its key is "
     "created (empty: HOST/medverse/ledger from public-url or listen)"},
    {"ledger-witness", K_OPT_PATH, FIELD(ledger_witness), 0, 0,
     "comma-separated verifier keys of the witnesses whose cosignatures "
     "the ledger accepts (empty: none)"},
    {"ledger-witness-quorum", K_UINT, FIELD(ledger_witness_quorum), 0, 16,
     "GET /ledger/checkpoint serves the newest checkpoint with at least this "
     "many witness cosignatures (0..16; 0: the newest)"},
    {"surveillance-interval-s", K_UINT, FIELD(surveillance_interval_s), 0,
     604800,
     "seconds between scheduled surveillance runs (0..604800; 0: on demand "
     "only)"},
    {"surveillance-run-at-s", K_UINT, FIELD(surveillance_run_at_s), 0, 86399,
     "seconds after midnight UTC the scheduled runs are aligned to "
     "(0..86399; 7200: daily at 02:00 UTC)"},
    {"triage-model", K_OPT_PATH, FIELD(triage_model), 0, 0,
     "triage model file (medverse triage train) for /triage sessions "
     "(empty: red flags and urgency only)"},
    {"mllp-port", K_UINT, FIELD(mllp_port), 0, 65535,
     "TCP port of the HL7 v2 MLLP listener for device results (ORU^R01) on "
     "the listen address (0..65535; 0: off)"},
    {"mllp-idle-s", K_UINT, FIELD(mllp_idle_s), 1, 86400,
     "seconds an MLLP connection may sit idle before it is closed "
     "(1..86400)"},
    {"triage-session-idle-s", K_UINT, FIELD(triage_session_idle_s), 1, 86400,
     "seconds a triage session may sit idle before it is forgotten "
     "(1..86400)"},
};

#undef FIELD

void mv_config_init(struct mv_config *c) {
  memset(c, 0, sizeof(*c));
  snprintf(c->listen_host, sizeof(c->listen_host), "127.0.0.1");
  c->listen_port = 8080;
  snprintf(c->data_dir, sizeof(c->data_dir), "./var");
  snprintf(c->web_root, sizeof(c->web_root), "./web");
  c->log_level = MV_LOG_INFO;
  c->log_json = false;
  c->store_batch_max = MV_LIMIT_STORE_BATCH_MAX;
  c->store_batch_delay_us = MV_LIMIT_STORE_BATCH_DELAY_US;
  c->workers = 2;
  c->http_body_max = MV_LIMIT_HTTP_BODY_MAX;
  c->ws_queue_msgs = MV_LIMIT_WS_QUEUE_MSGS;
  c->token_ttl_s = 3600;
  c->demo_patients = 5;
  c->demo_interval_ms = 1000;
  c->surveillance_interval_s = 86400;
  c->surveillance_run_at_s = 7200;
  c->triage_session_idle_s = MV_LIMIT_TRIAGE_IDLE_S;
  c->mllp_idle_s = 300;
}

/* A short, printable rendering of a user-supplied value for error messages:
 * at most 32 bytes, control characters shown as '?', so a diagnostic never
 * carries an unbounded or terminal-hostile value. */
static const char *quote(const char *v, char *buf, size_t buf_len) {
  const size_t show = 32;
  size_t n = 0;
  size_t i = 0;
  for (; v[i] && i < show && n + 1 < buf_len; i++)
    buf[n++] = (unsigned char)v[i] < 0x20 || v[i] == 0x7f ? '?' : v[i];
  buf[n] = '\0';
  if (v[i] && n + 4 <= buf_len)
    memcpy(buf + n, "...", 4);
  return buf;
}

/* Strict unsigned decimal: digits only, no sign, no spaces. A leading '-'
 * followed by digits is reported as out of range rather than as junk, since
 * that is what the user meant. With allow_suffix, one of k/K, M, G (powers of
 * 1024) may follow the digits. */
static int parse_uint(const char *key, const char *v, bool allow_suffix,
                      unsigned long long min, unsigned long long max,
                      unsigned long long *out, struct mv_diag *diag) {
  char q[40];
  const char *p = v;
  bool negative = false;
  unsigned long long x = 0;
  if (*p == '-') {
    negative = true;
    p++;
  }
  if (!isdigit((unsigned char)*p))
    goto not_a_number;
  bool overflow = false;
  for (; isdigit((unsigned char)*p); p++) {
    unsigned d = (unsigned)(*p - '0');
    if (x > (~0ull - d) / 10)
      overflow = true;
    else
      x = x * 10 + d;
  }
  if (allow_suffix && *p) {
    unsigned shift = 0;
    switch (*p) {
    case 'k':
    case 'K':
      shift = 10;
      break;
    case 'M':
      shift = 20;
      break;
    case 'G':
      shift = 30;
      break;
    default:
      goto not_a_number;
    }
    p++;
    if (x > (~0ull >> shift))
      overflow = true;
    else
      x <<= shift;
  }
  if (*p)
    goto not_a_number;
  if (negative || overflow || x < min || x > max)
    return mv_diag_set(diag, MV_ERANGE, "%s: must be between %llu and %llu",
                       key, min, max);
  *out = x;
  return MV_OK;
not_a_number:
  return mv_diag_set(diag, MV_EINVAL, "%s: expected %s, got '%s'", key,
                     allow_suffix ? "a byte count (e.g. 8M)" : "an integer",
                     quote(v, q, sizeof(q)));
}

static int parse_bool(const char *key, const char *v, bool *out,
                      struct mv_diag *diag) {
  static const char *const yes[] = {"true", "1", "yes"};
  static const char *const no[] = {"false", "0", "no"};
  char q[40];
  for (size_t i = 0; i < MV_ARRAY_LEN(yes); i++) {
    if (strcasecmp(v, yes[i]) == 0) {
      *out = true;
      return MV_OK;
    }
    if (strcasecmp(v, no[i]) == 0) {
      *out = false;
      return MV_OK;
    }
  }
  return mv_diag_set(diag, MV_EINVAL, "%s: expected true or false, got '%s'",
                     key, quote(v, q, sizeof(q)));
}

/* Host part of listen: a name or IPv4 literal (letters, digits, '.', '-'),
 * or inside brackets an IPv6 literal (hex digits, ':', '.', and a "%zone"). */
static bool host_ok(const char *h, size_t n, bool v6) {
  if (n == 0)
    return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)h[i];
    if (isalnum(ch) || ch == '.' || ch == '-')
      continue;
    if (v6 && (ch == ':' || ch == '%' || ch == '_'))
      continue;
    return false;
  }
  return true;
}

static int parse_listen(const char *key, const char *v, struct mv_config *c,
                        struct mv_diag *diag) {
  char q[40];
  const char *host;
  size_t host_len;
  const char *colon;
  bool v6 = v[0] == '[';
  if (v6) {
    const char *close = strchr(v, ']');
    if (!close)
      return mv_diag_set(diag, MV_EINVAL, "%s: missing ']' in '%s'", key,
                         quote(v, q, sizeof(q)));
    host = v + 1;
    host_len = (size_t)(close - host);
    if (close[1] != ':')
      return mv_diag_set(diag, MV_EINVAL,
                         "%s: missing port, expected [HOST]:PORT in '%s'", key,
                         quote(v, q, sizeof(q)));
    colon = close + 1;
  } else {
    colon = strrchr(v, ':');
    if (!colon)
      return mv_diag_set(diag, MV_EINVAL,
                         "%s: missing port, expected HOST:PORT in '%s'", key,
                         quote(v, q, sizeof(q)));
    if (memchr(v, ':', (size_t)(colon - v)))
      return mv_diag_set(diag, MV_EINVAL,
                         "%s: IPv6 addresses must be bracketed, "
                         "as in [::1]:8080",
                         key);
    host = v;
    host_len = (size_t)(colon - v);
  }
  if (!host_ok(host, host_len, v6))
    return mv_diag_set(diag, MV_EINVAL, "%s: invalid host in '%s'", key,
                       quote(v, q, sizeof(q)));
  /* Brackets are for IPv6 literals only; "[name]" would be listed back as
   * "name" and mean something else (found by fuzz/fuzz_config.c). */
  if (v6 && !memchr(host, ':', host_len))
    return mv_diag_set(diag, MV_EINVAL,
                       "%s: only IPv6 addresses go in brackets, in '%s'", key,
                       quote(v, q, sizeof(q)));
  if (host_len >= sizeof(c->listen_host))
    return mv_diag_set(diag, MV_ERANGE, "%s: host is longer than %zu bytes",
                       key, sizeof(c->listen_host) - 1);
  if (colon[1] == '\0')
    return mv_diag_set(diag, MV_EINVAL, "%s: missing port after ':'", key);
  unsigned long long port;
  char port_key[64];
  snprintf(port_key, sizeof(port_key), "%s: port", key);
  int rc = parse_uint(port_key, colon + 1, false, 0, 65535, &port, diag);
  if (rc != MV_OK)
    return rc;
  memcpy(c->listen_host, host, host_len);
  c->listen_host[host_len] = '\0';
  c->listen_port = (int)port;
  return MV_OK;
}

static const struct key_def *find_key(const char *key) {
  for (size_t i = 0; i < MV_ARRAY_LEN(keys); i++)
    if (strcmp(keys[i].key, key) == 0)
      return &keys[i];
  return NULL;
}

int mv_config_set(struct mv_config *c, const char *key, const char *value,
                  struct mv_diag *diag) {
  char q[40];
  if (!c || !key || !value)
    return mv_diag_set(diag, MV_EINVAL, "missing key or value");
  const struct key_def *k = find_key(key);
  if (!k)
    return mv_diag_set(diag, MV_ENOTFOUND, "unknown key '%s'",
                       quote(key, q, sizeof(q)));
  char *field = (char *)c + k->off;
  switch (k->kind) {
  case K_LISTEN:
    return parse_listen(k->key, value, c, diag);
  case K_PATH:
  case K_OPT_PATH: {
    size_t n = strlen(value);
    if (n == 0 && k->kind == K_PATH)
      return mv_diag_set(diag, MV_EINVAL, "%s: must not be empty", k->key);
    if (n >= k->size)
      return mv_diag_set(diag, MV_ERANGE, "%s: longer than %zu bytes", k->key,
                         k->size - 1);
    memcpy(field, value, n + 1);
    return MV_OK;
  }
  case K_LOG_LEVEL: {
    enum mv_log_level lvl;
    if (mv_log_level_parse(value, &lvl) != MV_OK)
      return mv_diag_set(diag, MV_EINVAL,
                         "%s: expected debug, info, warn, error or off, "
                         "got '%s'",
                         k->key, quote(value, q, sizeof(q)));
    c->log_level = lvl;
    return MV_OK;
  }
  case K_BOOL:
    return parse_bool(k->key, value, (bool *)field, diag);
  case K_UINT:
  case K_SIZE: {
    unsigned long long x;
    int rc =
        parse_uint(k->key, value, k->kind == K_SIZE, k->min, k->max, &x, diag);
    if (rc != MV_OK)
      return rc;
    if (k->kind == K_SIZE)
      *(size_t *)field = (size_t)x;
    else
      *(unsigned *)field = (unsigned)x;
    return MV_OK;
  }
  }
  return mv_diag_set(diag, MV_EINTERNAL, "%s: unhandled key kind", k->key);
}

static void format_value(const struct mv_config *c, const struct key_def *k,
                         char *buf, size_t buf_len) {
  const char *field = (const char *)c + k->off;
  switch (k->kind) {
  case K_LISTEN:
    if (strchr(c->listen_host, ':'))
      snprintf(buf, buf_len, "[%s]:%d", c->listen_host, c->listen_port);
    else
      snprintf(buf, buf_len, "%s:%d", c->listen_host, c->listen_port);
    return;
  case K_PATH:
  case K_OPT_PATH:
    snprintf(buf, buf_len, "%s", field);
    return;
  case K_LOG_LEVEL: {
    static const char *const names[] = {"debug", "info", "warn", "error",
                                        "off"};
    unsigned l = (unsigned)c->log_level;
    snprintf(buf, buf_len, "%s", l < MV_ARRAY_LEN(names) ? names[l] : "?");
    return;
  }
  case K_BOOL:
    snprintf(buf, buf_len, "%s", *(const bool *)field ? "true" : "false");
    return;
  case K_UINT:
    snprintf(buf, buf_len, "%u", *(const unsigned *)field);
    return;
  case K_SIZE:
    snprintf(buf, buf_len, "%zu", *(const size_t *)field);
    return;
  }
  snprintf(buf, buf_len, "?");
}

void mv_config_each(const struct mv_config *c, mv_config_visit_fn fn,
                    void *ctx) {
  /* Large enough for the longest field, a path. */
  char value[MV_LIMIT_PATH_MAX + 16];
  for (size_t i = 0; i < MV_ARRAY_LEN(keys); i++) {
    format_value(c, &keys[i], value, sizeof(value));
    fn(ctx, keys[i].key, value, keys[i].help);
  }
}

static bool is_blank(char ch) {
  return ch == ' ' || ch == '\t';
}

/* Trim [*s, *e) of blanks in place. */
static void trim(const char **s, const char **e) {
  while (*s < *e && is_blank(**s))
    (*s)++;
  while (*e > *s && is_blank((*e)[-1]))
    (*e)--;
}

/* Parse and apply one line (without its newline). */
static int apply_line(struct mv_config *c, const char *line, size_t n,
                      struct mv_diag *diag) {
  char key[64];
  char value[MV_LIMIT_CONFIG_LINE_MAX + 1];
  const char *s = line, *e = line + n;
  trim(&s, &e);
  if (s == e || *s == '#')
    return MV_OK;
  const char *eq = memchr(s, '=', (size_t)(e - s));
  if (!eq)
    return mv_diag_set(diag, MV_EPARSE, "expected 'key = value'");
  const char *ks = s, *ke = eq;
  trim(&ks, &ke);
  if (ks == ke)
    return mv_diag_set(diag, MV_EPARSE, "missing key before '='");
  if ((size_t)(ke - ks) >= sizeof(key))
    return mv_diag_set(diag, MV_ENOTFOUND, "unknown key (%zu bytes long)",
                       (size_t)(ke - ks));
  memcpy(key, ks, (size_t)(ke - ks));
  key[ke - ks] = '\0';
  const char *vs = eq + 1, *ve = e;
  trim(&vs, &ve);
  /* Quotes keep leading or trailing blanks and a leading '#'; there are no
   * escapes, so a quoted value cannot itself contain '"'. */
  if (vs < ve && *vs == '"') {
    if (ve - vs < 2 || ve[-1] != '"')
      return mv_diag_set(diag, MV_EPARSE, "%s: unterminated quoted value", key);
    vs++;
    ve--;
    if (memchr(vs, '"', (size_t)(ve - vs)))
      return mv_diag_set(diag, MV_EPARSE, "%s: '\"' inside a quoted value",
                         key);
  }
  memcpy(value, vs, (size_t)(ve - vs));
  value[ve - vs] = '\0';
  return mv_config_set(c, key, value, diag);
}

/* Read at most max bytes of path into a fresh NUL-terminated buffer. */
static int read_bounded(const char *path, size_t max, char **out_data,
                        size_t *out_len, struct mv_diag *diag) {
  int rc = MV_OK;
  FILE *f = NULL;
  char *data = NULL;
  size_t len = 0;

  f = fopen(path, "rb");
  if (!f) {
    rc = mv_diag_set(diag, MV_EIO, "cannot open: %s", strerror(errno));
    goto out;
  }
  /* One byte more than allowed, to tell "exactly max" from "too big". */
  data = malloc(max + 2);
  if (!data) {
    rc = mv_diag_set(diag, MV_ENOMEM, "out of memory reading the file");
    goto out;
  }
  len = fread(data, 1, max + 1, f);
  if (ferror(f)) {
    rc = mv_diag_set(diag, MV_EIO, "cannot read: %s", strerror(errno));
    goto out;
  }
  if (len > max) {
    rc = mv_diag_set(diag, MV_ETOOBIG, "file is larger than %zu bytes", max);
    goto out;
  }
  data[len] = '\0';
  *out_data = data;
  *out_len = len;
  data = NULL;
out:
  free(data);
  if (f)
    fclose(f);
  return rc;
}

int mv_config_load_text(struct mv_config *c, const char *name, const char *data,
                        size_t len, struct mv_diag *diag) {
  int rc = MV_OK;
  struct mv_config *tmp = NULL;
  int line_no = 0;

  if (!c || (!data && len > 0)) {
    rc = mv_diag_set(diag, MV_EINVAL, "missing configuration or text");
    goto out;
  }
  if (len > MV_LIMIT_CONFIG_FILE_MAX) {
    rc = mv_diag_set(diag, MV_ETOOBIG, "larger than %u bytes",
                     MV_LIMIT_CONFIG_FILE_MAX);
    goto out;
  }
  /* Apply to a copy so a bad line leaves c exactly as it was. */
  tmp = malloc(sizeof(*tmp));
  if (!tmp) {
    rc = mv_diag_set(diag, MV_ENOMEM, "out of memory");
    goto out;
  }
  *tmp = *c;
  for (size_t pos = 0; pos < len;) {
    const char *line = data + pos;
    const char *nl = memchr(line, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - line) : len - pos;
    pos += n + (nl ? 1 : 0);
    line_no++;
    if (n > 0 && line[n - 1] == '\r')
      n--;
    if (n > MV_LIMIT_CONFIG_LINE_MAX) {
      rc = mv_diag_set(diag, MV_ETOOBIG, "line is longer than %u bytes",
                       MV_LIMIT_CONFIG_LINE_MAX);
      goto out;
    }
    if (memchr(line, '\0', n)) {
      rc = mv_diag_set(diag, MV_EPARSE, "NUL byte in line");
      goto out;
    }
    rc = apply_line(tmp, line, n, diag);
    if (rc != MV_OK)
      goto out;
  }
  *c = *tmp;
out:
  if (rc != MV_OK && diag) {
    mv_diag_set_path(diag, name ? name : "");
    diag->line = line_no;
  }
  free(tmp);
  return rc;
}

int mv_config_load_file(struct mv_config *c, const char *path,
                        struct mv_diag *diag) {
  char *data = NULL;
  size_t len = 0;
  int rc;

  if (!c || !path)
    return mv_diag_set(diag, MV_EINVAL, "missing configuration or path");
  rc = read_bounded(path, MV_LIMIT_CONFIG_FILE_MAX, &data, &len, diag);
  if (rc != MV_OK) {
    mv_diag_set_path(diag, path);
    if (diag)
      diag->line = 0;
    return rc;
  }
  rc = mv_config_load_text(c, path, data, len, diag);
  free(data);
  return rc;
}

/* "data-dir" -> "MEDVERSE_DATA_DIR". */
static void env_name(const char *key, char *buf, size_t buf_len) {
  size_t n = (size_t)snprintf(buf, buf_len, "MEDVERSE_");
  for (; *key && n + 1 < buf_len; key++)
    buf[n++] =
        *key == '-' || *key == '.' ? '_' : (char)toupper((unsigned char)*key);
  buf[n] = '\0';
}

int mv_config_load_env(struct mv_config *c, char *const *envp,
                       struct mv_diag *diag) {
  static const char prefix[] = "MEDVERSE_";
  int rc = MV_OK;
  struct mv_config *tmp = NULL;
  char name[128];

  if (!c)
    return mv_diag_set(diag, MV_EINVAL, "missing configuration");
  if (!envp)
    return MV_OK;
  tmp = malloc(sizeof(*tmp));
  if (!tmp)
    return mv_diag_set(diag, MV_ENOMEM, "out of memory");
  *tmp = *c;
  for (char *const *ep = envp; *ep; ep++) {
    const char *var = *ep;
    if (strncmp(var, prefix, sizeof(prefix) - 1) != 0)
      continue;
    const char *eq = strchr(var, '=');
    if (!eq)
      continue;
    size_t name_len = (size_t)(eq - var);
    /* MEDVERSE_CONFIG names the file; main() reads it before we run. */
    if (name_len == strlen("MEDVERSE_CONFIG") &&
        strncmp(var, "MEDVERSE_CONFIG", name_len) == 0)
      continue;
    const struct key_def *k = NULL;
    for (size_t i = 0; i < MV_ARRAY_LEN(keys) && !k; i++) {
      env_name(keys[i].key, name, sizeof(name));
      if (strlen(name) == name_len && strncmp(var, name, name_len) == 0)
        k = &keys[i];
    }
    if (!k) {
      rc = mv_diag_set(diag, MV_ENOTFOUND, "unknown environment variable");
      if (diag) {
        /* path is bounded by its own size; the name is not a secret. */
        size_t n = name_len < sizeof(diag->path) - 1 ? name_len
                                                     : sizeof(diag->path) - 1;
        memcpy(diag->path, var, n);
        diag->path[n] = '\0';
      }
      goto out;
    }
    rc = mv_config_set(tmp, k->key, eq + 1, diag);
    if (rc != MV_OK) {
      env_name(k->key, name, sizeof(name));
      mv_diag_set_path(diag, name);
      goto out;
    }
  }
  *c = *tmp;
out:
  free(tmp);
  return rc;
}
