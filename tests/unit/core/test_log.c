/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for process logging (src/core/log.c): level filtering, the text and
 * JSON line formats (JSON checked by parsing it with json-c), escaping that
 * keeps one call on one line, truncation at MV_LIMIT_LOG_LINE, output
 * redirection, and whole lines under concurrent writers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mv_err.h"
#include "mv_limits.h"
#include "mv_log.h"

#define ELLIPSIS "\xe2\x80\xa6"

struct capture {
  FILE *f;
  char *data;
  size_t len;
};

static int setup(void **state) {
  struct capture *c = calloc(1, sizeof(*c));
  if (!c)
    return -1;
  c->f = open_memstream(&c->data, &c->len);
  if (!c->f) {
    free(c);
    return -1;
  }
  mv_log_set_output(c->f);
  mv_log_set_level(MV_LOG_DEBUG);
  mv_log_set_json(false);
  *state = c;
  return 0;
}

static int teardown(void **state) {
  struct capture *c = *state;
  mv_log_set_output(NULL);
  mv_log_set_level(MV_LOG_INFO);
  mv_log_set_json(false);
  fclose(c->f);
  free(c->data);
  free(c);
  return 0;
}

/* Everything logged so far (NUL-terminated by open_memstream). */
static const char *captured(struct capture *c) {
  fflush(c->f);
  return c->data ? c->data : "";
}

static size_t count_lines(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    if (*s == '\n')
      n++;
  return n;
}

/* Parses one JSON line strictly, rejecting invalid UTF-8. */
static json_object *parse_line(const char *line) {
  json_tokener *tok = json_tokener_new();
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
  const char *nl = strchr(line, '\n');
  size_t n = nl ? (size_t)(nl - line) : strlen(line);
  json_object *o = json_tokener_parse_ex(tok, line, (int)n);
  if (json_tokener_get_error(tok) != json_tokener_success) {
    json_object_put(o);
    o = NULL;
  }
  json_tokener_free(tok);
  return o;
}

static const char *jstr(json_object *o, const char *key) {
  json_object *v = NULL;
  if (!json_object_object_get_ex(o, key, &v))
    return NULL;
  return json_object_get_string(v);
}

/* "2026-11-24T23:02:21.123Z" shape. */
static void assert_rfc3339_ms(const char *ts) {
  const char *shape = "dddd-dd-ddTdd:dd:dd.dddZ";
  assert_true(strlen(ts) >= strlen(shape));
  for (size_t i = 0; shape[i]; i++) {
    if (shape[i] == 'd')
      assert_in_range(ts[i], '0', '9');
    else
      assert_int_equal(ts[i], shape[i]);
  }
}

static void log_level_parse_accepts_names(void **state) {
  (void)state;
  enum mv_log_level l = MV_LOG_OFF;
  assert_int_equal(mv_log_level_parse("debug", &l), MV_OK);
  assert_int_equal(l, MV_LOG_DEBUG);
  assert_int_equal(mv_log_level_parse("info", &l), MV_OK);
  assert_int_equal(l, MV_LOG_INFO);
  assert_int_equal(mv_log_level_parse("warn", &l), MV_OK);
  assert_int_equal(l, MV_LOG_WARN);
  assert_int_equal(mv_log_level_parse("error", &l), MV_OK);
  assert_int_equal(l, MV_LOG_ERROR);
  assert_int_equal(mv_log_level_parse("off", &l), MV_OK);
  assert_int_equal(l, MV_LOG_OFF);
}

static void log_level_parse_rejects_others_untouched(void **state) {
  (void)state;
  enum mv_log_level l = MV_LOG_WARN;
  assert_int_equal(mv_log_level_parse("verbose", &l), MV_EINVAL);
  assert_int_equal(mv_log_level_parse("", &l), MV_EINVAL);
  assert_int_equal(mv_log_level_parse("info ", &l), MV_EINVAL);
  assert_int_equal(mv_log_level_parse(NULL, &l), MV_EINVAL);
  assert_int_equal(l, MV_LOG_WARN);
}

static void log_level_filter_drops_lower_levels(void **state) {
  struct capture *c = *state;
  mv_log_set_level(MV_LOG_WARN);
  assert_int_equal(mv_log_get_level(), MV_LOG_WARN);
  MV_LOG_DEBUG("t", "dropped-debug");
  MV_LOG_INFO("t", "dropped-info");
  MV_LOG_WARN("t", "kept-warn");
  MV_LOG_ERROR("t", "kept-error");
  const char *out = captured(c);
  assert_int_equal(count_lines(out), 2);
  assert_null(strstr(out, "dropped"));
  assert_non_null(strstr(out, "WARN  t: kept-warn\n"));
  assert_non_null(strstr(out, "ERROR t: kept-error\n"));
}

static void log_level_debug_keeps_everything(void **state) {
  struct capture *c = *state;
  mv_log_set_level(MV_LOG_DEBUG);
  MV_LOG_DEBUG("t", "a");
  MV_LOG_INFO("t", "b");
  MV_LOG_WARN("t", "c");
  MV_LOG_ERROR("t", "d");
  const char *out = captured(c);
  assert_int_equal(count_lines(out), 4);
  assert_non_null(strstr(out, "DEBUG t: a\n"));
  assert_non_null(strstr(out, "INFO  t: b\n"));
}

static void log_level_off_drops_everything(void **state) {
  struct capture *c = *state;
  mv_log_set_level(MV_LOG_OFF);
  MV_LOG_ERROR("t", "nothing");
  mv_log(MV_LOG_OFF, "t", "not a level to log at");
  assert_string_equal(captured(c), "");
}

static void log_text_line_has_timestamp_level_component(void **state) {
  struct capture *c = *state;
  MV_LOG_INFO("net", "listening on port %d", 8080);
  const char *out = captured(c);
  assert_rfc3339_ms(out);
  assert_string_equal(out + 24, " INFO  net: listening on port 8080\n");
}

static void log_json_line_parses_with_all_fields(void **state) {
  struct capture *c = *state;
  mv_log_set_json(true);
  MV_LOG_WARN("store", "batch of %u took %d ms", 12u, 40);
  const char *out = captured(c);
  assert_int_equal(count_lines(out), 1);
  json_object *o = parse_line(out);
  assert_non_null(o);
  assert_int_equal(json_object_object_length(o), 4);
  assert_rfc3339_ms(jstr(o, "ts"));
  assert_string_equal(jstr(o, "level"), "warn");
  assert_string_equal(jstr(o, "component"), "store");
  assert_string_equal(jstr(o, "msg"), "batch of 12 took 40 ms");
  json_object_put(o);
}

static void log_json_escapes_round_trip(void **state) {
  struct capture *c = *state;
  const char *msg = "say \"hi\"\\ now\nsecond\r\tthird\x01\x1f\x7f caf\xc3\xa9";
  mv_log_set_json(true);
  MV_LOG_ERROR("net", "%s", msg);
  const char *out = captured(c);
  assert_int_equal(count_lines(out), 1);
  json_object *o = parse_line(out);
  assert_non_null(o);
  assert_string_equal(jstr(o, "level"), "error");
  assert_string_equal(jstr(o, "msg"), msg);
  json_object_put(o);
}

static void log_json_replaces_invalid_utf8(void **state) {
  struct capture *c = *state;
  mv_log_set_json(true);
  MV_LOG_INFO("net", "bad \xff\xc3 byte");
  json_object *o = parse_line(captured(c));
  assert_non_null(o);
  assert_string_equal(jstr(o, "msg"), "bad \xef\xbf\xbd\xef\xbf\xbd byte");
  json_object_put(o);
}

static void log_text_escapes_newlines_and_controls(void **state) {
  struct capture *c = *state;
  MV_LOG_INFO("net", "one\ntwo\r\n\tthree\x1b[31m");
  const char *out = captured(c);
  assert_int_equal(count_lines(out), 1);
  assert_non_null(strstr(out, "net: one\\ntwo\\r\\n\\tthree\\x1b[31m\n"));
  for (const char *p = out; *p && *p != '\n'; p++)
    assert_true((unsigned char)*p >= 0x20);
}

static void log_escapes_c1_controls(void **state) {
  struct capture *c = *state;
  /* U+0085 NEXT LINE and U+009B CSI, as UTF-8. */
  MV_LOG_INFO("net", "a\xc2\x85"
                     "b\xc2\x9b"
                     "c\xc2\xa0"
                     "d");
  const char *out = captured(c);
  assert_non_null(strstr(out, "net: a\\u0085b\\u009bc\xc2\xa0"
                              "d\n"));
  mv_log_set_json(true);
  MV_LOG_INFO("net", "x\xc2\x85y");
  const char *second = strchr(captured(c), '\n') + 1;
  json_object *o = parse_line(second);
  assert_non_null(o);
  assert_string_equal(jstr(o, "msg"), "x\xc2\x85y");
  json_object_put(o);
}

static void log_text_forged_line_stays_one_line(void **state) {
  struct capture *c = *state;
  /* A message that tries to look like a second, fake log entry. */
  MV_LOG_INFO("auth", "user x\n2026-01-01T00:00:00.000Z INFO  auth: admin ok");
  assert_int_equal(count_lines(captured(c)), 1);
}

static void log_truncates_long_message_with_marker(void **state) {
  struct capture *c = *state;
  char big[3 * MV_LIMIT_LOG_LINE];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  MV_LOG_INFO("net", "%s", big);
  const char *out = captured(c);
  size_t len = strlen(out);
  assert_int_equal(count_lines(out), 1);
  assert_true(len <= MV_LIMIT_LOG_LINE);
  assert_true(len > MV_LIMIT_LOG_LINE - 16); /* cut, not dropped */
  assert_string_equal(out + len - 4, ELLIPSIS "\n");
}

static void log_message_that_fits_has_no_marker(void **state) {
  struct capture *c = *state;
  MV_LOG_INFO("net", "short");
  assert_null(strstr(captured(c), ELLIPSIS));
}

static void log_escaping_expansion_is_truncated_too(void **state) {
  struct capture *c = *state;
  /* Each newline becomes two bytes: the escaped form overflows the line
   * even though the raw message would fit. */
  char nl[MV_LIMIT_LOG_LINE - 200];
  memset(nl, '\n', sizeof(nl) - 1);
  nl[sizeof(nl) - 1] = '\0';
  MV_LOG_INFO("net", "%s", nl);
  const char *out = captured(c);
  size_t len = strlen(out);
  assert_int_equal(count_lines(out), 1);
  assert_true(len <= MV_LIMIT_LOG_LINE);
  assert_string_equal(out + len - 4, ELLIPSIS "\n");
  /* The cut falls between escapes, never inside one. */
  assert_string_equal(out + len - 6, "\\n" ELLIPSIS "\n");
}

static void log_json_truncation_keeps_valid_json_and_utf8(void **state) {
  struct capture *c = *state;
  /* 2-byte characters, so a byte-wise cut could split one. */
  char big[2 * MV_LIMIT_LOG_LINE + 1];
  for (size_t i = 0; i + 1 < sizeof(big); i += 2)
    memcpy(big + i, "\xc3\xa9", 2);
  big[sizeof(big) - 1] = '\0';
  mv_log_set_json(true);
  MV_LOG_INFO("net", "a%s", big); /* odd offset for the raw-message cut */
  const char *out = captured(c);
  assert_true(strlen(out) <= MV_LIMIT_LOG_LINE);
  assert_int_equal(count_lines(out), 1);
  json_object *o = parse_line(out);
  assert_non_null(o);
  const char *msg = jstr(o, "msg");
  size_t n = strlen(msg);
  assert_true(n > 1000);
  assert_string_equal(msg + n - 5, "\xc3\xa9" ELLIPSIS);
  json_object_put(o);
}

static void log_set_output_null_restores_stderr(void **state) {
  struct capture *c = *state;
  char path[] = "/tmp/mv_test_log_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  fflush(stderr);
  int saved = dup(STDERR_FILENO);
  assert_true(saved >= 0);
  assert_true(dup2(fd, STDERR_FILENO) >= 0);
  mv_log_set_output(NULL);
  MV_LOG_INFO("net", "to-stderr");
  fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  mv_log_set_output(c->f);
  MV_LOG_INFO("net", "to-capture");

  char got[256] = {0};
  ssize_t n = pread(fd, got, sizeof(got) - 1, 0);
  close(fd);
  unlink(path);
  assert_true(n > 0);
  assert_non_null(strstr(got, "net: to-stderr\n"));
  assert_null(strstr(got, "to-capture"));
  assert_null(strstr(captured(c), "to-stderr"));
  assert_non_null(strstr(captured(c), "net: to-capture\n"));
}

static void log_preserves_errno(void **state) {
  (void)state;
  errno = ENOENT;
  MV_LOG_ERROR("io", "open failed: %s", "x");
  assert_int_equal(errno, ENOENT);
}

static void log_null_component_still_logs(void **state) {
  struct capture *c = *state;
  mv_log(MV_LOG_INFO, NULL, "anon");
  assert_non_null(strstr(captured(c), "anon\n"));
}

#define N_THREADS 4
#define N_LINES 300

static void *writer(void *arg) {
  int id = (int)(intptr_t)arg;
  char filler[301];
  memset(filler, 'a' + id, sizeof(filler) - 1);
  filler[sizeof(filler) - 1] = '\0';
  for (int i = 0; i < N_LINES; i++)
    MV_LOG_INFO("thr", "t%d n%d %s", id, i, filler);
  return NULL;
}

static void log_concurrent_lines_never_interleave(void **state) {
  struct capture *c = *state;
  pthread_t th[N_THREADS];
  for (int i = 0; i < N_THREADS; i++)
    assert_int_equal(pthread_create(&th[i], NULL, writer, (void *)(intptr_t)i),
                     0);
  for (int i = 0; i < N_THREADS; i++)
    pthread_join(th[i], NULL);

  const char *out = captured(c);
  assert_int_equal(count_lines(out), N_THREADS * N_LINES);
  int seen[N_THREADS] = {0};
  for (const char *line = out; *line;) {
    const char *nl = strchr(line, '\n');
    assert_non_null(nl);
    int id = -1, n = -1, used = 0;
    const char *m = strstr(line, "thr: ");
    assert_non_null(m);
    assert_true(m < nl);
    assert_int_equal(sscanf(m, "thr: t%d n%d %n", &id, &n, &used), 2);
    assert_in_range(id, 0, N_THREADS - 1);
    /* Exactly this thread's 300 filler letters, then the newline. */
    const char *f = m + used;
    assert_int_equal(nl - f, 300);
    for (const char *p = f; p < nl; p++)
      assert_int_equal(*p, 'a' + id);
    assert_int_equal(n, seen[id]); /* each thread's lines in order */
    seen[id]++;
    line = nl + 1;
  }
  for (int i = 0; i < N_THREADS; i++)
    assert_int_equal(seen[i], N_LINES);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(log_level_parse_accepts_names),
      T(log_level_parse_rejects_others_untouched),
      T(log_level_filter_drops_lower_levels),
      T(log_level_debug_keeps_everything),
      T(log_level_off_drops_everything),
      T(log_text_line_has_timestamp_level_component),
      T(log_json_line_parses_with_all_fields),
      T(log_json_escapes_round_trip),
      T(log_json_replaces_invalid_utf8),
      T(log_text_escapes_newlines_and_controls),
      T(log_escapes_c1_controls),
      T(log_text_forged_line_stays_one_line),
      T(log_truncates_long_message_with_marker),
      T(log_message_that_fits_has_no_marker),
      T(log_escaping_expansion_is_truncated_too),
      T(log_json_truncation_keeps_valid_json_and_utf8),
      T(log_set_output_null_restores_stderr),
      T(log_preserves_errno),
      T(log_null_component_still_logs),
      T(log_concurrent_lines_never_interleave),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
