/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for configuration (src/core/config.c): defaults, strict value
 * parsing for every key, the file and environment loaders with their error
 * positions, the precedence file < environment < flags, and the key listing
 * used for --help and the docs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mv_config.h"

/* Writes text to a fresh temporary file; the caller unlinks path. */
static void write_tmp(char path[64], const char *text, size_t n) {
  snprintf(path, 64, "/tmp/mv_test_config_XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  size_t off = 0;
  while (off < n) {
    ssize_t w = write(fd, text + off, n - off);
    assert_true(w > 0);
    off += (size_t)w;
  }
  close(fd);
}

static void config_defaults(void **state) {
  (void)state;
  struct mv_config c;
  memset(&c, 0x7f, sizeof(c));
  mv_config_init(&c);
  assert_string_equal(c.listen_host, "127.0.0.1");
  assert_int_equal(c.listen_port, 8080);
  assert_string_equal(c.data_dir, "./var");
  assert_string_equal(c.web_root, "./web");
  assert_int_equal(c.log_level, MV_LOG_INFO);
  assert_false(c.log_json);
  assert_int_equal(c.store_batch_max, MV_LIMIT_STORE_BATCH_MAX);
  assert_int_equal(c.store_batch_delay_us, MV_LIMIT_STORE_BATCH_DELAY_US);
  assert_int_equal(c.workers, 2);
  assert_int_equal(c.http_body_max, MV_LIMIT_HTTP_BODY_MAX);
  assert_int_equal(c.ws_queue_msgs, MV_LIMIT_WS_QUEUE_MSGS);
  assert_int_equal(c.demo_patients, 5);
  assert_int_equal(c.demo_interval_ms, 1000);
  assert_int_equal(c.surveillance_interval_s, 86400);
  assert_int_equal(c.surveillance_run_at_s, 7200);
  assert_string_equal(c.triage_model, "");
  assert_int_equal(c.triage_session_idle_s, 1800);
}

static void config_set_every_key(void **state) {
  (void)state;
  struct mv_config c;
  struct mv_diag d;
  mv_config_init(&c);
  mv_diag_clear(&d);
  assert_int_equal(mv_config_set(&c, "listen", "0.0.0.0:9000", &d), MV_OK);
  assert_int_equal(mv_config_set(&c, "data-dir", "/srv/mv", &d), MV_OK);
  assert_int_equal(mv_config_set(&c, "web-root", "/srv/web", &d), MV_OK);
  assert_int_equal(mv_config_set(&c, "log-level", "debug", &d), MV_OK);
  assert_int_equal(mv_config_set(&c, "log-json", "true", &d), MV_OK);
  assert_int_equal(mv_config_set(&c, "store-batch-max", "500", &d), MV_OK);
  assert_int_equal(mv_config_set(&c, "store-batch-delay-us", "1", &d), MV_OK);
  /* 0 would read as "default" in mv_store_opts, so it is not a valid value */
  assert_int_not_equal(mv_config_set(&c, "store-batch-delay-us", "0", NULL),
                       MV_OK);
  assert_int_equal(mv_config_set(&c, "workers", "8", &d), MV_OK);
  assert_int_equal(mv_config_set(&c, "http-body-max", "65536", &d), MV_OK);
  assert_int_equal(mv_config_set(&c, "ws-queue-msgs", "77", &d), MV_OK);
  assert_int_equal(mv_config_set(&c, "demo-patients", "0", &d), MV_OK);
  assert_int_equal(mv_config_set(&c, "demo-interval-ms", "250", &d), MV_OK);
  assert_string_equal(c.listen_host, "0.0.0.0");
  assert_int_equal(c.listen_port, 9000);
  assert_string_equal(c.data_dir, "/srv/mv");
  assert_string_equal(c.web_root, "/srv/web");
  assert_int_equal(c.log_level, MV_LOG_DEBUG);
  assert_true(c.log_json);
  assert_int_equal(c.store_batch_max, 500);
  assert_int_equal(c.store_batch_delay_us, 1);
  assert_int_equal(c.workers, 8);
  assert_int_equal(c.http_body_max, 65536);
  assert_int_equal(c.ws_queue_msgs, 77);
  assert_int_equal(c.demo_patients, 0);
  assert_int_equal(c.demo_interval_ms, 250);
}

static void config_ledger_keys(void **state) {
  (void)state;
  struct mv_config c;
  struct mv_diag d;
  mv_config_init(&c);
  mv_diag_clear(&d);
  assert_string_equal(c.ledger_origin, "");
  assert_string_equal(c.ledger_witness, "");
  assert_int_equal(c.ledger_witness_quorum, 0);
  assert_int_equal(
      mv_config_set(&c, "ledger-origin", "care.example.org/log", &d), MV_OK);
  assert_int_equal(mv_config_set(&c, "ledger-witness",
                                 "w1+01020304+AAAA,"
                                 "w2+05060708+BBBB",
                                 &d),
                   MV_OK);
  assert_int_equal(mv_config_set(&c, "ledger-witness-quorum", "2", &d), MV_OK);
  assert_int_equal(mv_config_set(&c, "triage-model", "/srv/triage.mvm", &d),
                   MV_OK);
  assert_string_equal(c.triage_model, "/srv/triage.mvm");
  assert_int_equal(mv_config_set(&c, "triage-model", "", &d), MV_OK);
  assert_string_equal(c.triage_model, "");
  assert_int_equal(c.triage_session_idle_s, 1800);
  assert_string_equal(c.ledger_origin, "care.example.org/log");
  assert_non_null(strstr(c.ledger_witness, "w2+05060708+BBBB"));
  assert_int_equal(c.ledger_witness_quorum, 2);
  assert_int_equal(mv_config_set(&c, "ledger-witness-quorum", "x", &d),
                   MV_EINVAL);
  assert_non_null(strstr(d.msg, "ledger-witness-quorum"));
  char big[400];
  memset(big, 'a', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  assert_int_equal(mv_config_set(&c, "ledger-origin", big, &d), MV_ERANGE);
  assert_string_equal(c.ledger_origin, "care.example.org/log");
}

static void config_set_unknown_key_is_notfound(void **state) {
  (void)state;
  struct mv_config c;
  struct mv_diag d;
  mv_config_init(&c);
  mv_diag_clear(&d);
  assert_int_equal(mv_config_set(&c, "foo", "1", &d), MV_ENOTFOUND);
  assert_int_equal(d.err, MV_ENOTFOUND);
  assert_string_equal(d.msg, "unknown key 'foo'");
  /* Keys are spelled with '-', not '_' (that is the environment form). */
  assert_int_equal(mv_config_set(&c, "data_dir", "x", &d), MV_ENOTFOUND);
  assert_string_equal(c.data_dir, "./var");
}

static void config_bool_spellings(void **state) {
  (void)state;
  struct mv_config c;
  mv_config_init(&c);
  const char *yes[] = {"true", "1", "yes", "TRUE", "Yes"};
  const char *no[] = {"false", "0", "no", "FALSE", "No"};
  for (size_t i = 0; i < MV_ARRAY_LEN(yes); i++) {
    c.log_json = false;
    assert_int_equal(mv_config_set(&c, "log-json", yes[i], NULL), MV_OK);
    assert_true(c.log_json);
    assert_int_equal(mv_config_set(&c, "log-json", no[i], NULL), MV_OK);
    assert_false(c.log_json);
  }
  struct mv_diag d;
  mv_diag_clear(&d);
  c.log_json = true;
  assert_int_equal(mv_config_set(&c, "log-json", "maybe", &d), MV_EINVAL);
  assert_true(c.log_json);
  assert_non_null(strstr(d.msg, "log-json"));
  assert_int_equal(mv_config_set(&c, "log-json", "", &d), MV_EINVAL);
  assert_int_equal(mv_config_set(&c, "log-json", "2", &d), MV_EINVAL);
}

static void config_number_rejects_trailing_junk(void **state) {
  (void)state;
  struct mv_config c;
  struct mv_diag d;
  mv_config_init(&c);
  const char *bad[] = {"12x", "x12",  "",    " 12", "12 ",
                       "+4",  "0x10", "1e3", "4.0", "--1"};
  for (size_t i = 0; i < MV_ARRAY_LEN(bad); i++) {
    mv_diag_clear(&d);
    assert_int_equal(mv_config_set(&c, "workers", bad[i], &d), MV_EINVAL);
    assert_int_equal(d.err, MV_EINVAL);
    assert_non_null(strstr(d.msg, "workers"));
    assert_int_equal(c.workers, 2);
  }
  mv_diag_clear(&d);
  assert_int_equal(mv_config_set(&c, "workers", "12x", &d), MV_EINVAL);
  assert_string_equal(d.msg, "workers: expected an integer, got '12x'");
}

static void config_number_negative_is_out_of_range(void **state) {
  (void)state;
  struct mv_config c;
  struct mv_diag d;
  mv_config_init(&c);
  mv_diag_clear(&d);
  assert_int_equal(mv_config_set(&c, "demo-patients", "-1", &d), MV_ERANGE);
  assert_int_equal(c.demo_patients, 5);
  assert_string_equal(d.msg, "demo-patients: must be between 0 and 1000");
}

static void config_number_range_is_checked_per_key(void **state) {
  (void)state;
  struct mv_config c;
  mv_config_init(&c);
  static const struct {
    const char *key, *low_bad, *low_ok, *high_ok, *high_bad;
  } cases[] = {
      {"store-batch-max", "0", "1", "100000", "100001"},
      {"workers", "0", "1", "64", "65"},
      {"ws-queue-msgs", "0", "1", "1000000", "1000001"},
      {"demo-interval-ms", "9", "10", "3600000", "3600001"},
      {"surveillance-interval-s", "-1", "0", "604800", "604801"},
      {"surveillance-run-at-s", "-1", "0", "86399", "86400"},
      {"ledger-witness-quorum", "-1", "0", "16", "17"},
      {"triage-session-idle-s", "-1", "1", "86400", "86401"},
      {"mllp-port", "-1", "0", "65535", "65536"},
      {"mllp-idle-s", "0", "1", "86400", "86401"},
      {"http-body-max", "1023", "1024", "1073741824", "1073741825"},
  };
  for (size_t i = 0; i < MV_ARRAY_LEN(cases); i++) {
    struct mv_diag d;
    mv_diag_clear(&d);
    assert_int_equal(mv_config_set(&c, cases[i].key, cases[i].low_bad, &d),
                     MV_ERANGE);
    assert_non_null(strstr(d.msg, cases[i].key));
    assert_int_equal(mv_config_set(&c, cases[i].key, cases[i].low_ok, NULL),
                     MV_OK);
    assert_int_equal(mv_config_set(&c, cases[i].key, cases[i].high_ok, NULL),
                     MV_OK);
    assert_int_equal(mv_config_set(&c, cases[i].key, cases[i].high_bad, &d),
                     MV_ERANGE);
  }
  assert_int_equal(mv_config_set(&c, "store-batch-delay-us", "1000000", NULL),
                   MV_OK);
  assert_int_equal(mv_config_set(&c, "store-batch-delay-us", "1000001", NULL),
                   MV_ERANGE);
  assert_int_equal(mv_config_set(&c, "demo-patients", "1001", NULL), MV_ERANGE);
  /* The last accepted values stuck; the rejected ones did not. */
  assert_int_equal(c.workers, 64);
  assert_int_equal(c.http_body_max, 1073741824);
  assert_int_equal(c.store_batch_delay_us, 1000000);
}

static void config_number_overflow_is_out_of_range(void **state) {
  (void)state;
  struct mv_config c;
  mv_config_init(&c);
  assert_int_equal(mv_config_set(&c, "workers", "4294967297", NULL), MV_ERANGE);
  assert_int_equal(
      mv_config_set(&c, "workers", "99999999999999999999999999999", NULL),
      MV_ERANGE);
  assert_int_equal(
      mv_config_set(&c, "http-body-max", "18446744073709551615G", NULL),
      MV_ERANGE);
  assert_int_equal(c.workers, 2);
}

static void config_size_accepts_binary_suffixes(void **state) {
  (void)state;
  struct mv_config c;
  mv_config_init(&c);
  assert_int_equal(mv_config_set(&c, "http-body-max", "64k", NULL), MV_OK);
  assert_int_equal(c.http_body_max, 65536);
  assert_int_equal(mv_config_set(&c, "http-body-max", "2K", NULL), MV_OK);
  assert_int_equal(c.http_body_max, 2048);
  assert_int_equal(mv_config_set(&c, "http-body-max", "16M", NULL), MV_OK);
  assert_int_equal(c.http_body_max, 16u << 20);
  assert_int_equal(mv_config_set(&c, "http-body-max", "1G", NULL), MV_OK);
  assert_int_equal(c.http_body_max, 1u << 30);
  assert_int_equal(mv_config_set(&c, "http-body-max", "2G", NULL), MV_ERANGE);
  assert_int_equal(mv_config_set(&c, "http-body-max", "1k", NULL), MV_OK);
  assert_int_equal(mv_config_set(&c, "http-body-max", "1T", NULL), MV_EINVAL);
  assert_int_equal(mv_config_set(&c, "http-body-max", "1MB", NULL), MV_EINVAL);
  assert_int_equal(mv_config_set(&c, "http-body-max", "M", NULL), MV_EINVAL);
  assert_int_equal(c.http_body_max, 1024);
  /* Plain counts take no suffix. */
  assert_int_equal(mv_config_set(&c, "ws-queue-msgs", "1k", NULL), MV_EINVAL);
}

static void config_error_does_not_echo_long_values(void **state) {
  (void)state;
  struct mv_config c;
  struct mv_diag d;
  char big[1000];
  memset(big, '7', sizeof(big) - 1);
  big[sizeof(big) - 2] = 'x';
  big[sizeof(big) - 1] = '\0';
  mv_config_init(&c);
  mv_diag_clear(&d);
  assert_int_equal(mv_config_set(&c, "workers", big, &d), MV_EINVAL);
  assert_true(strlen(d.msg) < 100);
  assert_non_null(strstr(d.msg, "workers"));
  assert_non_null(strstr(d.msg, "..."));
}

static void config_error_hides_control_chars(void **state) {
  (void)state;
  struct mv_config c;
  struct mv_diag d;
  mv_config_init(&c);
  mv_diag_clear(&d);
  assert_int_equal(mv_config_set(&c, "log-level", "x\n\x1b[2J", &d), MV_EINVAL);
  for (const char *p = d.msg; *p; p++)
    assert_true((unsigned char)*p >= 0x20);
}

static void config_log_level_values(void **state) {
  (void)state;
  struct mv_config c;
  mv_config_init(&c);
  assert_int_equal(mv_config_set(&c, "log-level", "warn", NULL), MV_OK);
  assert_int_equal(c.log_level, MV_LOG_WARN);
  assert_int_equal(mv_config_set(&c, "log-level", "off", NULL), MV_OK);
  assert_int_equal(c.log_level, MV_LOG_OFF);
  assert_int_equal(mv_config_set(&c, "log-level", "loud", NULL), MV_EINVAL);
  assert_int_equal(c.log_level, MV_LOG_OFF);
}

static void config_paths_bounded_and_nonempty(void **state) {
  (void)state;
  struct mv_config c;
  char *big = malloc(MV_LIMIT_PATH_MAX + 1);
  assert_non_null(big);
  mv_config_init(&c);
  assert_int_equal(mv_config_set(&c, "data-dir", "", NULL), MV_EINVAL);
  memset(big, 'd', MV_LIMIT_PATH_MAX);
  big[MV_LIMIT_PATH_MAX] = '\0'; /* one byte too long for the field */
  assert_int_equal(mv_config_set(&c, "data-dir", big, NULL), MV_ERANGE);
  assert_string_equal(c.data_dir, "./var");
  big[MV_LIMIT_PATH_MAX - 1] = '\0'; /* exactly fits */
  assert_int_equal(mv_config_set(&c, "web-root", big, NULL), MV_OK);
  assert_int_equal(strlen(c.web_root), MV_LIMIT_PATH_MAX - 1);
  free(big);
}

static void config_listen_host_and_port(void **state) {
  (void)state;
  struct mv_config c;
  mv_config_init(&c);
  assert_int_equal(mv_config_set(&c, "listen", "localhost:0", NULL), MV_OK);
  assert_string_equal(c.listen_host, "localhost");
  assert_int_equal(c.listen_port, 0);
  assert_int_equal(mv_config_set(&c, "listen", "10.1.2.3:65535", NULL), MV_OK);
  assert_string_equal(c.listen_host, "10.1.2.3");
  assert_int_equal(c.listen_port, 65535);
}

static void config_listen_ipv6_bracketed(void **state) {
  (void)state;
  struct mv_config c;
  mv_config_init(&c);
  assert_int_equal(mv_config_set(&c, "listen", "[::1]:8443", NULL), MV_OK);
  assert_string_equal(c.listen_host, "::1");
  assert_int_equal(c.listen_port, 8443);
  assert_int_equal(mv_config_set(&c, "listen", "[fe80::1%eth0]:80", NULL),
                   MV_OK);
  assert_string_equal(c.listen_host, "fe80::1%eth0");
  /* Unbracketed IPv6 is ambiguous about where the port starts. */
  assert_int_equal(mv_config_set(&c, "listen", "::1:8443", NULL), MV_EINVAL);
  assert_int_equal(mv_config_set(&c, "listen", "[::1]8443", NULL), MV_EINVAL);
  assert_int_equal(mv_config_set(&c, "listen", "[::1:8443", NULL), MV_EINVAL);
  assert_int_equal(mv_config_set(&c, "listen", "[]:8443", NULL), MV_EINVAL);
  assert_string_equal(c.listen_host, "fe80::1%eth0");
  assert_int_equal(c.listen_port, 80);
}

static void config_listen_rejects_bad_forms(void **state) {
  (void)state;
  struct mv_config c;
  struct mv_diag d;
  mv_config_init(&c);
  mv_diag_clear(&d);
  assert_int_equal(mv_config_set(&c, "listen", "127.0.0.1", &d), MV_EINVAL);
  assert_non_null(strstr(d.msg, "missing port"));
  assert_int_equal(mv_config_set(&c, "listen", "127.0.0.1:", &d), MV_EINVAL);
  assert_non_null(strstr(d.msg, "missing port"));
  assert_int_equal(mv_config_set(&c, "listen", "127.0.0.1:70000", &d),
                   MV_ERANGE);
  assert_non_null(strstr(d.msg, "listen"));
  assert_non_null(strstr(d.msg, "65535"));
  assert_int_equal(mv_config_set(&c, "listen", "127.0.0.1:-1", NULL),
                   MV_ERANGE);
  assert_int_equal(mv_config_set(&c, "listen", "127.0.0.1:80x", NULL),
                   MV_EINVAL);
  assert_int_equal(mv_config_set(&c, "listen", ":8080", NULL), MV_EINVAL);
  assert_int_equal(mv_config_set(&c, "listen", "bad host:80", NULL), MV_EINVAL);
  assert_int_equal(mv_config_set(&c, "listen", "", NULL), MV_EINVAL);
  /* Nothing was half-applied. */
  assert_string_equal(c.listen_host, "127.0.0.1");
  assert_int_equal(c.listen_port, 8080);
}

static void config_file_sets_values(void **state) {
  (void)state;
  char path[64];
  const char *text = "# medverse test config\n"
                     "\n"
                     "workers = 3\n"
                     "   data-dir=/var/lib/mv   \n"
                     "\t# indented comment\n"
                     "web-root = \"  spaced dir # not a comment \"\n"
                     "listen = [::1]:9090\r\n"
                     "log-json = yes";
  write_tmp(path, text, strlen(text));
  struct mv_config c;
  struct mv_diag d;
  mv_config_init(&c);
  mv_diag_clear(&d);
  int rc = mv_config_load_file(&c, path, &d);
  unlink(path);
  assert_int_equal(rc, MV_OK);
  assert_int_equal(c.workers, 3);
  assert_string_equal(c.data_dir, "/var/lib/mv");
  assert_string_equal(c.web_root, "  spaced dir # not a comment ");
  assert_string_equal(c.listen_host, "::1");
  assert_int_equal(c.listen_port, 9090);
  assert_true(c.log_json);
  assert_int_equal(c.demo_patients, 5); /* untouched keys keep defaults */
}

/* Loads text and checks the error code, the reported line and that the
 * message contains want_msg; the configuration must be left unchanged. */
static void expect_file_error(const char *text, size_t len, int want_rc,
                              int want_line, const char *want_msg) {
  char path[64];
  write_tmp(path, text, len);
  struct mv_config c, before;
  struct mv_diag d;
  mv_config_init(&c);
  memcpy(&before, &c, sizeof(c)); /* padding too, for the memcmp below */
  mv_diag_clear(&d);
  int rc = mv_config_load_file(&c, path, &d);
  unlink(path);
  assert_int_equal(rc, want_rc);
  assert_int_equal(d.err, want_rc);
  assert_string_equal(d.path, path);
  assert_int_equal(d.line, want_line);
  assert_non_null(strstr(d.msg, want_msg));
  assert_memory_equal(&c, &before, sizeof(c));
}

static void config_file_unknown_key_names_line(void **state) {
  (void)state;
  const char *t = "workers = 4\n# comment\n\nfoo = bar\nworkers = 5\n";
  expect_file_error(t, strlen(t), MV_ENOTFOUND, 4, "unknown key 'foo'");
}

static void config_file_bad_number_names_line(void **state) {
  (void)state;
  const char *t = "data-dir = /x\nworkers = 12x\n";
  expect_file_error(t, strlen(t), MV_EINVAL, 2, "workers");
  const char *r = "\n\n\nworkers = 65\n";
  expect_file_error(r, strlen(r), MV_ERANGE, 4, "between 1 and 64");
}

static void config_file_line_numbers_count_crlf_lines(void **state) {
  (void)state;
  const char *t = "workers = 4\r\n\r\nlisten = 127.0.0.1:70000\r\n";
  expect_file_error(t, strlen(t), MV_ERANGE, 3, "listen");
}

static void config_file_syntax_errors(void **state) {
  (void)state;
  const char *no_eq = "workers 4\n";
  expect_file_error(no_eq, strlen(no_eq), MV_EPARSE, 1, "key = value");
  const char *no_key = "workers = 4\n = 4\n";
  expect_file_error(no_key, strlen(no_key), MV_EPARSE, 2, "missing key");
  const char *open_q = "data-dir = \"/x\n";
  expect_file_error(open_q, strlen(open_q), MV_EPARSE, 1, "unterminated");
  const char *inner_q = "data-dir = \"a\"b\"\n";
  expect_file_error(inner_q, strlen(inner_q), MV_EPARSE, 1, "quoted");
  const char nul[] = "workers = 4\nworkers\0 = 5\n";
  expect_file_error(nul, sizeof(nul) - 1, MV_EPARSE, 2, "NUL");
}

static void config_file_error_leaves_config_unchanged(void **state) {
  (void)state;
  /* Line 1 is valid, line 2 is not: the whole load must be rejected. */
  const char *t = "workers = 9\nbogus = 1\n";
  expect_file_error(t, strlen(t), MV_ENOTFOUND, 2, "bogus");
}

static void config_file_line_too_long(void **state) {
  (void)state;
  size_t n = MV_LIMIT_CONFIG_LINE_MAX + 20;
  char *t = malloc(n + 40);
  assert_non_null(t);
  int k = snprintf(t, n + 40, "workers = 2\ndata-dir = ");
  memset(t + k, 'a', n - (size_t)k);
  t[n] = '\n';
  expect_file_error(t, n + 1, MV_ETOOBIG, 2, "longer than");
  free(t);
}

static void config_file_too_big(void **state) {
  (void)state;
  size_t n = MV_LIMIT_CONFIG_FILE_MAX + 1;
  char *t = malloc(n);
  assert_non_null(t);
  /* Valid content throughout: only the size is wrong. */
  for (size_t i = 0; i < n; i++)
    t[i] = (i % 64 == 63) ? '\n' : '#';
  expect_file_error(t, n, MV_ETOOBIG, 0, "larger than");
  free(t);
}

static void config_file_at_size_limit_loads(void **state) {
  (void)state;
  size_t n = MV_LIMIT_CONFIG_FILE_MAX;
  char *t = malloc(n);
  char path[64];
  assert_non_null(t);
  for (size_t i = 0; i < n; i++)
    t[i] = (i % 64 == 63) ? '\n' : '#';
  write_tmp(path, t, n);
  struct mv_config c;
  mv_config_init(&c);
  int rc = mv_config_load_file(&c, path, NULL);
  unlink(path);
  free(t);
  assert_int_equal(rc, MV_OK);
}

static void config_file_missing_is_io_error(void **state) {
  (void)state;
  struct mv_config c;
  struct mv_diag d;
  mv_config_init(&c);
  mv_diag_clear(&d);
  assert_int_equal(
      mv_config_load_file(&c, "/nonexistent/dir/medverse.conf", &d), MV_EIO);
  assert_int_equal(d.err, MV_EIO);
  assert_string_equal(d.path, "/nonexistent/dir/medverse.conf");
  assert_int_equal(d.line, 0);
  /* A directory opens but cannot be read as a file. */
  assert_int_equal(mv_config_load_file(&c, "/tmp", NULL), MV_EIO);
}

static void config_env_sets_values(void **state) {
  (void)state;
  char *env[] = {"PATH=/usr/bin",
                 "MEDVERSE_DATA_DIR=/env/data",
                 "MEDVERSE_WORKERS=7",
                 "MEDVERSE_LOG_JSON=1",
                 "MEDVERSE_STORE_BATCH_DELAY_US=50",
                 "MEDVERSE_LISTEN=[::]:0",
                 "MEDVERSE_CONFIG=/etc/medverse.conf",
                 "NOT_MEDVERSE_FOO=1",
                 NULL};
  struct mv_config c;
  struct mv_diag d;
  mv_config_init(&c);
  mv_diag_clear(&d);
  assert_int_equal(mv_config_load_env(&c, env, &d), MV_OK);
  assert_string_equal(c.data_dir, "/env/data");
  assert_int_equal(c.workers, 7);
  assert_true(c.log_json);
  assert_int_equal(c.store_batch_delay_us, 50);
  assert_string_equal(c.listen_host, "::");
  assert_int_equal(c.listen_port, 0);
}

static void config_env_unknown_variable_is_named(void **state) {
  (void)state;
  char *env[] = {"MEDVERSE_WORKERS=3", "MEDVERSE_WORKER=4", NULL};
  struct mv_config c;
  struct mv_diag d;
  mv_config_init(&c);
  mv_diag_clear(&d);
  assert_int_equal(mv_config_load_env(&c, env, &d), MV_ENOTFOUND);
  assert_string_equal(d.path, "MEDVERSE_WORKER");
  assert_int_equal(c.workers, 2); /* nothing applied */
}

static void config_env_bad_value_names_variable(void **state) {
  (void)state;
  char *env[] = {"MEDVERSE_DEMO_INTERVAL_MS=5", NULL};
  struct mv_config c;
  struct mv_diag d;
  mv_config_init(&c);
  mv_diag_clear(&d);
  assert_int_equal(mv_config_load_env(&c, env, &d), MV_ERANGE);
  assert_string_equal(d.path, "MEDVERSE_DEMO_INTERVAL_MS");
  assert_non_null(strstr(d.msg, "demo-interval-ms"));
  assert_int_equal(c.demo_interval_ms, 1000);
}

static void config_env_is_case_sensitive(void **state) {
  (void)state;
  char *env[] = {"MEDVERSE_workers=3", NULL};
  struct mv_config c;
  mv_config_init(&c);
  assert_int_equal(mv_config_load_env(&c, env, NULL), MV_ENOTFOUND);
}

static void config_env_overrides_file(void **state) {
  (void)state;
  char path[64];
  const char *text = "workers = 3\ndemo-patients = 9\n";
  write_tmp(path, text, strlen(text));
  char *env[] = {"MEDVERSE_WORKERS=5", NULL};
  struct mv_config c;
  mv_config_init(&c);
  int rc = mv_config_load_file(&c, path, NULL);
  unlink(path);
  assert_int_equal(rc, MV_OK);
  assert_int_equal(c.workers, 3);
  assert_int_equal(mv_config_load_env(&c, env, NULL), MV_OK);
  assert_int_equal(c.workers, 5);       /* env beat the file */
  assert_int_equal(c.demo_patients, 9); /* file beat the default */
}

static void config_flag_overrides_env_and_file(void **state) {
  (void)state;
  char path[64];
  const char *text = "workers = 3\nlog-level = warn\ndemo-patients = 9\n";
  write_tmp(path, text, strlen(text));
  char *env[] = {"MEDVERSE_WORKERS=5", "MEDVERSE_LOG_LEVEL=error", NULL};
  struct mv_config c;
  mv_config_init(&c);
  int rc = mv_config_load_file(&c, path, NULL);
  unlink(path);
  assert_int_equal(rc, MV_OK);
  assert_int_equal(mv_config_load_env(&c, env, NULL), MV_OK);
  /* What main() does for --workers 7. */
  assert_int_equal(mv_config_set(&c, "workers", "7", NULL), MV_OK);
  assert_int_equal(c.workers, 7);
  assert_int_equal(c.log_level, MV_LOG_ERROR);
  assert_int_equal(c.demo_patients, 9);
  assert_int_equal(c.demo_interval_ms, 1000);
}

struct seen_keys {
  int n;
  char keys[32][32];
  char values[32][64];
  bool all_help;
};

static void collect(void *ctx, const char *key, const char *value,
                    const char *help) {
  struct seen_keys *s = ctx;
  assert_true(s->n < 32);
  snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", key);
  snprintf(s->values[s->n], sizeof(s->values[0]), "%s", value);
  if (!help || !help[0] || strchr(help, '\n'))
    s->all_help = false;
  s->n++;
}

static const char *value_of(const struct seen_keys *s, const char *key) {
  for (int i = 0; i < s->n; i++)
    if (strcmp(s->keys[i], key) == 0)
      return s->values[i];
  return NULL;
}

static void config_each_lists_every_key(void **state) {
  (void)state;
  static const char *const expected[] = {"listen",
                                         "data-dir",
                                         "web-root",
                                         "log-level",
                                         "log-json",
                                         "store-batch-max",
                                         "store-batch-delay-us",
                                         "workers",
                                         "http-body-max",
                                         "ws-queue-msgs",
                                         "tls-cert",
                                         "tls-key",
                                         "public-url",
                                         "site-key-file",
                                         "token-ttl-s",
                                         "demo-patients",
                                         "demo-interval-ms",
                                         "ledger-origin",
                                         "ledger-witness",
                                         "ledger-witness-quorum",
                                         "surveillance-interval-s",
                                         "surveillance-run-at-s",
                                         "triage-model",
                                         "mllp-port",
                                         "mllp-idle-s",
                                         "triage-session-idle-s"};
  struct mv_config c;
  struct seen_keys s = {.all_help = true};
  mv_config_init(&c);
  mv_config_each(&c, collect, &s);
  assert_int_equal(s.n, (int)MV_ARRAY_LEN(expected));
  assert_true(s.all_help);
  for (size_t i = 0; i < MV_ARRAY_LEN(expected); i++)
    assert_non_null(value_of(&s, expected[i]));
  assert_string_equal(value_of(&s, "listen"), "127.0.0.1:8080");
  assert_string_equal(value_of(&s, "log-level"), "info");
  assert_string_equal(value_of(&s, "log-json"), "false");
  assert_string_equal(value_of(&s, "mllp-port"), "0");
  assert_string_equal(value_of(&s, "mllp-idle-s"), "300");
  assert_string_equal(value_of(&s, "http-body-max"), "8388608");
  assert_string_equal(value_of(&s, "data-dir"), "./var");
  assert_string_equal(value_of(&s, "tls-cert"), ""); /* off by default */
}

static void config_listen_brackets_only_for_ipv6(void **state) {
  (void)state;
  struct mv_config c;
  struct mv_diag d;
  mv_config_init(&c);
  mv_diag_clear(&d);
  assert_int_equal(mv_config_set(&c, "listen", "[localhost]:80", &d),
                   MV_EINVAL);
  assert_non_null(strstr(d.msg, "brackets"));
  assert_int_equal(mv_config_set(&c, "listen", "[fe80::1%eth0]:80", NULL),
                   MV_OK);
  assert_string_equal(c.listen_host, "fe80::1%eth0");
}

static void config_tls_paths_may_be_cleared_but_data_dir_may_not(void **state) {
  (void)state;
  struct mv_config c;
  mv_config_init(&c);
  assert_int_equal(mv_config_set(&c, "tls-cert", "/etc/mv/cert.pem", NULL),
                   MV_OK);
  assert_string_equal(c.tls_cert, "/etc/mv/cert.pem");
  assert_int_equal(mv_config_set(&c, "tls-cert", "", NULL), MV_OK);
  assert_string_equal(c.tls_cert, "");
  assert_int_equal(mv_config_set(&c, "data-dir", "", NULL), MV_EINVAL);
}

/* Every listed value, fed back through mv_config_set, reproduces the
 * configuration: the listing is a faithful dump, not a description. */
static void config_each_values_round_trip(void **state) {
  (void)state;
  struct mv_config c, back;
  struct seen_keys s = {.all_help = true};
  mv_config_init(&c);
  assert_int_equal(mv_config_set(&c, "listen", "[::1]:1234", NULL), MV_OK);
  assert_int_equal(mv_config_set(&c, "log-level", "error", NULL), MV_OK);
  assert_int_equal(mv_config_set(&c, "log-json", "yes", NULL), MV_OK);
  assert_int_equal(mv_config_set(&c, "workers", "17", NULL), MV_OK);
  assert_int_equal(mv_config_set(&c, "http-body-max", "3M", NULL), MV_OK);
  assert_int_equal(mv_config_set(&c, "data-dir", "/d", NULL), MV_OK);
  mv_config_each(&c, collect, &s);
  assert_string_equal(value_of(&s, "listen"), "[::1]:1234");
  mv_config_init(&back);
  for (int i = 0; i < s.n; i++)
    assert_int_equal(mv_config_set(&back, s.keys[i], s.values[i], NULL), MV_OK);
  assert_memory_equal(&back, &c, sizeof(c));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(config_defaults),
      cmocka_unit_test(config_set_every_key),
      cmocka_unit_test(config_ledger_keys),
      cmocka_unit_test(config_set_unknown_key_is_notfound),
      cmocka_unit_test(config_bool_spellings),
      cmocka_unit_test(config_number_rejects_trailing_junk),
      cmocka_unit_test(config_number_negative_is_out_of_range),
      cmocka_unit_test(config_number_range_is_checked_per_key),
      cmocka_unit_test(config_number_overflow_is_out_of_range),
      cmocka_unit_test(config_size_accepts_binary_suffixes),
      cmocka_unit_test(config_error_does_not_echo_long_values),
      cmocka_unit_test(config_error_hides_control_chars),
      cmocka_unit_test(config_log_level_values),
      cmocka_unit_test(config_paths_bounded_and_nonempty),
      cmocka_unit_test(config_listen_host_and_port),
      cmocka_unit_test(config_listen_ipv6_bracketed),
      cmocka_unit_test(config_listen_rejects_bad_forms),
      cmocka_unit_test(config_file_sets_values),
      cmocka_unit_test(config_file_unknown_key_names_line),
      cmocka_unit_test(config_file_bad_number_names_line),
      cmocka_unit_test(config_file_line_numbers_count_crlf_lines),
      cmocka_unit_test(config_file_syntax_errors),
      cmocka_unit_test(config_file_error_leaves_config_unchanged),
      cmocka_unit_test(config_file_line_too_long),
      cmocka_unit_test(config_file_too_big),
      cmocka_unit_test(config_file_at_size_limit_loads),
      cmocka_unit_test(config_file_missing_is_io_error),
      cmocka_unit_test(config_env_sets_values),
      cmocka_unit_test(config_env_unknown_variable_is_named),
      cmocka_unit_test(config_env_bad_value_names_variable),
      cmocka_unit_test(config_env_is_case_sensitive),
      cmocka_unit_test(config_env_overrides_file),
      cmocka_unit_test(config_flag_overrides_env_and_file),
      cmocka_unit_test(config_each_lists_every_key),
      cmocka_unit_test(config_tls_paths_may_be_cleared_but_data_dir_may_not),
      cmocka_unit_test(config_listen_brackets_only_for_ipv6),
      cmocka_unit_test(config_each_values_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
