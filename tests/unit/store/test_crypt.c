/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Encryption at rest in the store: the site key file (created private,
 * refused when others may read it or it does not belong to the database),
 * bodies and names never in clear in the database files, tamper detection,
 * crypto-shredding of one patient, site key rotation (also interrupted at
 * each step, as by a crash), derived keys, the bounded key cache, and the
 * migration that encrypts bodies stored in clear by older versions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "mv_limits.h"
#include "mv_store.h"
#include "store_fx.h"
#include "store_int.h"

static int setup(void **state) {
  return fx_setup(state, "mv-crypt-test");
}

static int teardown(void **state) {
  return fx_teardown(state);
}

static int try_open(struct fx *f, const char *key_file, struct mv_diag *d) {
  struct mv_store_opts o = {
      .url = f->url, .batch_delay_us = 200, .key_file = key_file};
  mv_diag_clear(d);
  return mv_store_open(&o, &f->s, d);
}

static void open_store(struct fx *f) {
  struct mv_diag d;
  int rc = try_open(f, NULL, &d);
  if (rc != MV_OK)
    fprintf(stderr, "open failed: %s: %s\n", mv_err_name(rc), d.msg);
  assert_int_equal(rc, MV_OK);
}

static void close_store(struct fx *f) {
  mv_store_close(f->s);
  f->s = NULL;
}

static void path_in(const struct fx *f, const char *name, char *buf,
                    size_t len) {
  snprintf(buf, len, "%s/%s", f->dir, name);
}

static void put(struct mv_store *s, const char *type, const char *id,
                const char *pid, const char *body) {
  struct mv_store_write w = {.op = MV_STORE_UPDATE,
                             .type = type,
                             .id = id,
                             .body = body,
                             .body_len = strlen(body),
                             .patient_id = pid,
                             .date_us = MV_STORE_NO_DATE};
  assert_int_equal(mv_store_write_sync(s, &w, NULL), MV_OK);
}

static void expect_body(struct mv_store *s, const char *type, const char *id,
                        const char *want) {
  struct mv_store_record rec;
  int rc = mv_store_read(s, type, id, 0, &rec);
  if (rc != MV_OK)
    fprintf(stderr, "read %s/%s: %s\n", type, id, mv_err_name(rc));
  assert_int_equal(rc, MV_OK);
  assert_string_equal(rec.body, want);
  mv_store_record_release(&rec);
}

/* Does the file contain the bytes needle? (A missing file does not.) */
static bool file_contains(const char *path, const void *needle, size_t n) {
  FILE *fp = fopen(path, "rb");
  if (!fp)
    return false;
  fseek(fp, 0, SEEK_END);
  long len = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  char *buf = malloc(len > 0 ? (size_t)len : 1);
  assert_non_null(buf);
  size_t got = fread(buf, 1, (size_t)len, fp);
  fclose(fp);
  bool found = false;
  for (size_t i = 0; !found && got >= n && i <= got - n; i++)
    found = memcmp(buf + i, needle, n) == 0;
  free(buf);
  return found;
}

static bool db_files_contain(const struct fx *f, const void *needle, size_t n) {
  char p[160];
  path_in(f, "medverse.db", p, sizeof(p));
  bool found = file_contains(p, needle, n);
  path_in(f, "medverse.db-wal", p, sizeof(p));
  return found || file_contains(p, needle, n);
}

static sqlite3 *raw_db(const struct fx *f) {
  char p[160];
  sqlite3 *db = NULL;
  path_in(f, "medverse.db", p, sizeof(p));
  assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  return db;
}

static int64_t raw_int(const struct fx *f, const char *sql) {
  sqlite3 *db = raw_db(f);
  sqlite3_stmt *st = NULL;
  int64_t v = -1;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

static void raw_exec(const struct fx *f, const char *sql) {
  sqlite3 *db = raw_db(f);
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
}

/* ---- The key file ----------------------------------------------------------
 */

static void crypt_key_file_created_private(void **state) {
  struct fx *f = *state;
  open_store(f);
  char p[160];
  struct stat sb;
  path_in(f, "site.key", p, sizeof(p));
  assert_int_equal(stat(p, &sb), 0);
  assert_true(S_ISREG(sb.st_mode));
  assert_int_equal(sb.st_mode & 0777, 0600);
  FILE *fp = fopen(p, "r");
  char line[128];
  assert_non_null(fgets(line, sizeof(line), fp));
  assert_string_equal(line, "medverse-site-key v1\n");
  assert_non_null(fgets(line, sizeof(line), fp));
  assert_non_null(strchr(line, ' ')); /* "<key_id> <base64>" */
  assert_null(fgets(line, sizeof(line), fp));
  fclose(fp);
  /* Reopening uses the same key: the data stays readable. */
  put(f->s, "Patient", "p1", "p1", "{\"k\":1}");
  close_store(f);
  open_store(f);
  expect_body(f->s, "Patient", "p1", "{\"k\":1}");
}

static void crypt_key_file_refused_when_readable_by_others(void **state) {
  struct fx *f = *state;
  char p[160];
  struct mv_diag d;
  open_store(f);
  close_store(f);
  path_in(f, "site.key", p, sizeof(p));
  assert_int_equal(chmod(p, 0644), 0);
  assert_int_equal(try_open(f, NULL, &d), MV_ECONFIG);
  assert_null(f->s);
  assert_non_null(strstr(d.msg, "group or others"));
  assert_non_null(strstr(d.path, "site.key"));
  assert_int_equal(chmod(p, 0640), 0);
  assert_int_equal(try_open(f, NULL, &d), MV_ECONFIG);
  assert_int_equal(chmod(p, 0400), 0); /* read-only for the owner: fine */
  assert_int_equal(try_open(f, NULL, &d), MV_OK);
}

static void crypt_key_file_must_be_regular_and_well_formed(void **state) {
  struct fx *f = *state;
  char p[160];
  struct mv_diag d;
  path_in(f, "keydir", p, sizeof(p));
  assert_int_equal(mkdir(p, 0700), 0);
  assert_int_equal(try_open(f, p, &d), MV_ECONFIG);
  assert_non_null(strstr(d.msg, "regular"));

  static const char *const bad[] = {
      "",
      "medverse-site-key v2\nk1 AAAA\n",
      "medverse-site-key v1\n",
      "medverse-site-key v1\nk1 notbase64!!\n",
      "medverse-site-key v1\nk1 AAAA\n", /* 3 bytes, not 32 */
      "medverse-site-key v1\nk/1 "
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
      "medverse-site-key v1\nk1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
      "k1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
  };
  path_in(f, "bad.key", p, sizeof(p));
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bad[i], strlen(bad[i])),
                     (ssize_t)strlen(bad[i]));
    close(fd);
    assert_int_equal(try_open(f, p, &d), MV_ECONFIG);
    assert_null(f->s);
  }
  /* A hand-written valid file with a comment and CRLF is accepted. */
  static const char good[] =
      "medverse-site-key v1\r\n# rotated by ops\r\n"
      "site-1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n";
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  assert_int_equal(write(fd, good, strlen(good)), (ssize_t)strlen(good));
  close(fd);
  assert_int_equal(try_open(f, p, &d), MV_OK);
}

static void crypt_missing_key_file_refused_when_data_exists(void **state) {
  struct fx *f = *state;
  char p[160];
  struct mv_diag d;
  open_store(f);
  put(f->s, "Patient", "p1", "p1", "{}");
  close_store(f);
  path_in(f, "site.key", p, sizeof(p));
  assert_int_equal(unlink(p), 0);
  /* A new key would make every record unreadable: refuse instead. */
  assert_int_equal(try_open(f, NULL, &d), MV_ECONFIG);
  assert_non_null(strstr(d.msg, "missing"));
  assert_int_equal(access(p, F_OK), -1); /* and no new key was made */
}

static void crypt_wrong_key_file_refused(void **state) {
  struct fx *f = *state;
  char p[160];
  struct mv_diag d;
  open_store(f);
  close_store(f);
  /* Another site's key, with the same or another id. */
  path_in(f, "other.key", p, sizeof(p));
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  const char *txt = "medverse-site-key v1\nk0 "
                    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
  assert_int_equal(write(fd, txt, strlen(txt)), (ssize_t)strlen(txt));
  close(fd);
  assert_int_equal(try_open(f, p, &d), MV_ECONFIG);
  assert_non_null(strstr(d.msg, "does not hold"));
}

/* ---- Bodies ------------------------------------------------------------------
 */

#define MARKER "ZEBEDIAH-PLAINTEXT-MARKER-4711"

static void crypt_bodies_and_names_not_in_clear_on_disk(void **state) {
  struct fx *f = *state;
  open_store(f);
  const char *body = "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\""
                     "" MARKER "\"}]}";
  struct mv_store_term terms[] = {
      {MV_STORE_TERM_STRING, "family", NULL, "zebediahmarker"},
  };
  struct mv_store_write w = {.op = MV_STORE_CREATE,
                             .type = "Patient",
                             .id = "pz",
                             .body = body,
                             .body_len = strlen(body),
                             .patient_id = "pz",
                             .date_us = MV_STORE_NO_DATE,
                             .terms = terms,
                             .n_terms = 1};
  assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_OK);
  put(f->s, "Practitioner", "dr1", NULL, "{\"note\":\"" MARKER "\"}");
  assert_false(db_files_contain(f, MARKER, strlen(MARKER)));
  assert_false(db_files_contain(f, "zebediah", 8));
  assert_false(db_files_contain(f, "zebe", 4));
  close_store(f); /* checkpoints the WAL into the database file */
  assert_false(db_files_contain(f, MARKER, strlen(MARKER)));
  assert_false(db_files_contain(f, "zebediah", 8));
  open_store(f);
  expect_body(f->s, "Patient", "pz", body);
  expect_body(f->s, "Practitioner", "dr1", "{\"note\":\"" MARKER "\"}");
}

static void crypt_tampered_body_is_ecorrupt(void **state) {
  struct fx *f = *state;
  open_store(f);
  put(f->s, "Observation", "o1", "p1", "{\"v\":1}");
  put(f->s, "Observation", "o2", "p1", "{\"v\":2}");
  close_store(f);
  /* Flip one ciphertext byte of o1. */
  sqlite3 *db = raw_db(f);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(db,
                                      "SELECT body FROM resources"
                                      " WHERE id = 'o1'",
                                      -1, &st, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  int n = sqlite3_column_bytes(st, 0);
  unsigned char *blob = malloc((size_t)n);
  memcpy(blob, sqlite3_column_blob(st, 0), (size_t)n);
  sqlite3_finalize(st);
  assert_true(n > 41);
  blob[n - 20] ^= 0x01;
  assert_int_equal(sqlite3_prepare_v2(db,
                                      "UPDATE resources SET body = ?1"
                                      " WHERE id = 'o1'",
                                      -1, &st, NULL),
                   SQLITE_OK);
  sqlite3_bind_blob(st, 1, blob, n, SQLITE_STATIC);
  assert_int_equal(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  /* Moving o2's (authentic) ciphertext onto o1 is caught too (AD binds
   * type, id and version). */
  sqlite3_close(db);
  free(blob);
  open_store(f);
  struct mv_store_record rec = {.version = 99};
  assert_int_equal(mv_store_read(f->s, "Observation", "o1", 0, &rec),
                   MV_ECORRUPT);
  assert_int_equal(rec.version, 99);
  expect_body(f->s, "Observation", "o2", "{\"v\":2}");
  close_store(f);
  raw_exec(f, "UPDATE resources SET body = (SELECT body FROM resources"
              " WHERE id = 'o2') WHERE id = 'o1'");
  open_store(f);
  assert_int_equal(mv_store_read(f->s, "Observation", "o1", 0, &rec),
                   MV_ECORRUPT);
}

/* ---- Erasure -------------------------------------------------------------------
 */

static int count_visit(void *ctx, const struct mv_store_record *rec) {
  (void)rec;
  (*(int *)ctx)++;
  return 0;
}

static void crypt_erase_makes_one_patient_gone(void **state) {
  struct fx *f = *state;
  open_store(f);
  put(f->s, "Patient", "pa", "pa", "{\"who\":\"a\"}");
  put(f->s, "Patient", "pb", "pb", "{\"who\":\"b\"}");
  put(f->s, "Observation", "oa1", "pa", "{\"a\":1}");
  put(f->s, "Observation", "oa1", "pa", "{\"a\":2}"); /* version 2 */
  put(f->s, "Observation", "oa2", "pa", "{\"a\":3}");
  put(f->s, "Observation", "ob1", "pb", "{\"b\":1}");
  put(f->s, "Practitioner", "dr", NULL, "{\"dr\":1}");
  struct mv_store_write del = {.op = MV_STORE_DELETE,
                               .type = "Observation",
                               .id = "oa2",
                               .date_us = MV_STORE_NO_DATE};
  assert_int_equal(mv_store_write_sync(f->s, &del, NULL), MV_OK);
  /* Clear metadata (date, status, code) on versions of both patients. */
  struct mv_store_write dated = {.op = MV_STORE_UPDATE,
                                 .type = "Patient",
                                 .id = "pa",
                                 .body = "{\"who\":\"a\"}",
                                 .body_len = 11,
                                 .patient_id = "pa",
                                 .code = "http://loinc.org|8867-4",
                                 .status = "final",
                                 .date_us = 315532800000000};
  assert_int_equal(mv_store_write_sync(f->s, &dated, NULL), MV_OK);
  dated.id = "pb";
  dated.patient_id = "pb";
  dated.body = "{\"who\":\"b\"}";
  assert_int_equal(mv_store_write_sync(f->s, &dated, NULL), MV_OK);
#define META_SQL(pid)                                                          \
  "SELECT COUNT(*) FROM resources WHERE patient_id = '" pid "' AND (date_us "  \
  "IS NOT NULL OR status IS NOT NULL OR code IS NOT NULL)"
  const char *q = META_SQL("pa");
  assert_true(raw_int(f, q) >= 1);

  int64_t n = -1;
  assert_int_equal(mv_store_erase_patient(f->s, "pa", &n), MV_OK);
  assert_int_equal(n, 3); /* Patient/pa, Observation/oa1, Observation/oa2 */
  /* No version of the erased patient keeps clear metadata; others do. */
  assert_int_equal(raw_int(f, q), 0);
  assert_true(raw_int(f, META_SQL("pb")) >= 1);
#undef META_SQL

  struct mv_store_record rec = {.version = 42};
  assert_int_equal(mv_store_read(f->s, "Patient", "pa", 0, &rec), MV_EGONE);
  assert_int_equal(mv_store_read(f->s, "Observation", "oa1", 0, &rec),
                   MV_EGONE);
  assert_int_equal(mv_store_read(f->s, "Observation", "oa1", 1, &rec),
                   MV_EGONE);
  assert_int_equal(mv_store_read(f->s, "Observation", "oa2", 0, &rec),
                   MV_EGONE);
  assert_int_equal(rec.version, 42); /* untouched */
  int visits = 0;
  assert_int_equal(
      mv_store_history(f->s, "Observation", "oa1", 0, count_visit, &visits),
      MV_EGONE);
  assert_int_equal(visits, 0);
  /* Writes for the erased patient, or to its resources, are gone too. */
  struct mv_store_write w = {.op = MV_STORE_CREATE,
                             .type = "Observation",
                             .id = "oa3",
                             .body = "{}",
                             .body_len = 2,
                             .patient_id = "pa",
                             .date_us = MV_STORE_NO_DATE};
  assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_EGONE);
  w.id = "oa1";
  w.op = MV_STORE_UPDATE;
  w.patient_id = "pb";
  assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_EGONE);
  /* Others are untouched and keep working. */
  expect_body(f->s, "Patient", "pb", "{\"who\":\"b\"}");
  expect_body(f->s, "Observation", "ob1", "{\"b\":1}");
  expect_body(f->s, "Practitioner", "dr", "{\"dr\":1}");
  put(f->s, "Observation", "ob2", "pb", "{\"b\":2}");
  expect_body(f->s, "Observation", "ob2", "{\"b\":2}");
  assert_int_equal(mv_store_count(f->s, "Observation", &n), MV_OK);
  assert_int_equal(n, 2);
  /* Erasing again is fine; an unknown patient is not found. */
  assert_int_equal(mv_store_erase_patient(f->s, "pa", &n), MV_OK);
  assert_int_equal(n, 0);
  assert_int_equal(mv_store_erase_patient(f->s, "nobody", &n), MV_ENOTFOUND);
  assert_int_equal(mv_store_erase_patient(f->s, "bad/id", &n), MV_EINVAL);
  /* All of it holds after a restart. */
  close_store(f);
  open_store(f);
  assert_int_equal(mv_store_read(f->s, "Observation", "oa1", 0, &rec),
                   MV_EGONE);
  expect_body(f->s, "Observation", "ob1", "{\"b\":1}");
  assert_int_equal(raw_int(f, "SELECT COUNT(*) FROM patient_keys"
                              " WHERE patient_id = 'pa' AND wrapped IS NULL"
                              " AND destroyed_us > 0"),
                   1);
}

static void crypt_erase_overwrites_the_key_in_the_files(void **state) {
  struct fx *f = *state;
  open_store(f);
  put(f->s, "Patient", "px", "px", "{\"x\":1}");
  close_store(f);
  unsigned char wrapped[MV__WRAPPED_LEN];
  sqlite3 *db = raw_db(f);
  sqlite3_stmt *st = NULL;
  assert_int_equal(sqlite3_prepare_v2(db,
                                      "SELECT wrapped FROM patient_keys"
                                      " WHERE patient_id = 'px'",
                                      -1, &st, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(st), SQLITE_ROW);
  assert_int_equal(sqlite3_column_bytes(st, 0), MV__WRAPPED_LEN);
  memcpy(wrapped, sqlite3_column_blob(st, 0), sizeof(wrapped));
  sqlite3_finalize(st);
  sqlite3_close(db);
  assert_true(db_files_contain(f, wrapped, sizeof(wrapped)));

  open_store(f);
  int64_t n = 0;
  assert_int_equal(mv_store_erase_patient(f->s, "px", &n), MV_OK);
  assert_false(db_files_contain(f, wrapped, sizeof(wrapped)));
  close_store(f);
  assert_false(db_files_contain(f, wrapped, sizeof(wrapped)));
}

/* ---- Rotation ------------------------------------------------------------------
 */

static int key_lines(const struct fx *f) {
  char p[160], line[256];
  int n = 0;
  path_in(f, "site.key", p, sizeof(p));
  FILE *fp = fopen(p, "r");
  assert_non_null(fp);
  while (fgets(line, sizeof(line), fp))
    n++;
  fclose(fp);
  return n - 1;
}

static void fill_patients(struct mv_store *s, int n) {
  char id[32], body[64];
  for (int i = 0; i < n; i++) {
    snprintf(id, sizeof(id), "rp%d", i);
    snprintf(body, sizeof(body), "{\"i\":%d}", i);
    put(s, "Patient", id, id, body);
  }
  put(s, "Practitioner", "rdr", NULL, "{\"general\":true}");
}

static void expect_patients(struct mv_store *s, int n) {
  char id[32], body[64];
  for (int i = 0; i < n; i++) {
    snprintf(id, sizeof(id), "rp%d", i);
    snprintf(body, sizeof(body), "{\"i\":%d}", i);
    expect_body(s, "Patient", id, body);
  }
  expect_body(s, "Practitioner", "rdr", "{\"general\":true}");
}

static void crypt_rotation_keeps_everything_readable(void **state) {
  struct fx *f = *state;
  struct mv_diag d;
  uint8_t k1[32], k2[32];
  open_store(f);
  fill_patients(f->s, 300); /* several re-wrap rounds */
  assert_int_equal(mv_store_derive_key(f->s, 7, "mvtoken1", k1), MV_OK);
  int64_t old_keys = raw_int(f, "SELECT COUNT(DISTINCT key_id)"
                                " FROM patient_keys");
  assert_int_equal(old_keys, 1);
  mv_diag_clear(&d);
  assert_int_equal(mv_store_rotate_site_key(f->s, &d), MV_OK);
  assert_int_equal(key_lines(f), 1);
  expect_patients(f->s, 300);
  /* Derived keys do not change with the site key. */
  assert_int_equal(mv_store_derive_key(f->s, 7, "mvtoken1", k2), MV_OK);
  assert_memory_equal(k1, k2, 32);
  /* New patients after the rotation, then a restart. */
  put(f->s, "Patient", "late", "late", "{\"late\":1}");
  close_store(f);
  open_store(f);
  expect_patients(f->s, 300);
  expect_body(f->s, "Patient", "late", "{\"late\":1}");
  assert_int_equal(mv_store_derive_key(f->s, 7, "mvtoken1", k2), MV_OK);
  assert_memory_equal(k1, k2, 32);
  /* Every key is under the one site key of the file. */
  assert_int_equal(raw_int(f, "SELECT COUNT(DISTINCT key_id) FROM"
                              " patient_keys WHERE wrapped IS NOT NULL"),
                   1);
  /* Twice more. */
  assert_int_equal(mv_store_rotate_site_key(f->s, &d), MV_OK);
  assert_int_equal(mv_store_rotate_site_key(f->s, &d), MV_OK);
  expect_patients(f->s, 300);
}

/* A crash after step `steps`: the store still opens, reads, and the next
 * open finishes the rotation. */
static void rotation_crash_after(struct fx *f, int steps) {
  struct mv_diag d;
  open_store(f);
  fill_patients(f->s, 20);
  mv_diag_clear(&d);
  assert_int_equal(mv__store_rotate_partial(f->s, steps, &d), MV_OK);
  assert_int_equal(key_lines(f), 2); /* new key, old key */
  /* Still working in the half-rotated state. */
  expect_patients(f->s, 20);
  put(f->s, "Patient", "mid", "mid", "{\"mid\":1}");
  close_store(f);
  open_store(f);
  assert_int_equal(key_lines(f), 1);
  expect_patients(f->s, 20);
  expect_body(f->s, "Patient", "mid", "{\"mid\":1}");
  assert_int_equal(raw_int(f, "SELECT COUNT(DISTINCT key_id) FROM"
                              " patient_keys WHERE wrapped IS NOT NULL"),
                   1);
  /* And a full rotation works from there. */
  assert_int_equal(mv_store_rotate_site_key(f->s, &d), MV_OK);
  expect_patients(f->s, 20);
}

static void crypt_rotation_survives_crash_after_new_key_file(void **state) {
  rotation_crash_after(*state, 1);
}

static void crypt_rotation_survives_crash_after_rewrap(void **state) {
  rotation_crash_after(*state, 2);
}

/* An interrupted rotation is finished by the next rotation too. */
static void crypt_rotation_finishes_an_interrupted_one(void **state) {
  struct fx *f = *state;
  struct mv_diag d;
  open_store(f);
  fill_patients(f->s, 5);
  assert_int_equal(mv__store_rotate_partial(f->s, 1, &d), MV_OK);
  assert_int_equal(mv_store_rotate_site_key(f->s, &d), MV_OK);
  assert_int_equal(key_lines(f), 1);
  expect_patients(f->s, 5);
  close_store(f);
  open_store(f);
  expect_patients(f->s, 5);
}

/* `medverse admin key rotate` runs while the server writes: the server's
 * store notices the new site key (its next batch, or a key it cannot
 * unwrap) and everything stays readable. The child is forked before the
 * parent starts threads, and starts once the parent's store is up. */
static void crypt_rotation_by_another_process_while_writing(void **state) {
  struct fx *f = *state;
  int go[2];
  pid_t pid = fx_fork_second(go);
  if (pid == 0) {
    struct mv_store_opts o = {.url = f->url};
    struct mv_store *s2 = NULL;
    struct mv_diag d;
    if (mv_store_open(&o, &s2, &d) != MV_OK)
      _exit(2);
    for (int i = 0; i < 3; i++)
      if (mv_store_rotate_site_key(s2, &d) != MV_OK)
        _exit(3);
    mv_store_close(s2);
    _exit(0);
  }
  open_store(f);
  fill_patients(f->s, 50);
  fx_second_go(go);
  int wst = 0, i = 0;
  char id[32], body[64];
  /* New patients (new keys) keep coming while the other process rotates. */
  for (; i < 2000; i++) {
    snprintf(id, sizeof(id), "np%d", i);
    snprintf(body, sizeof(body), "{\"np\":%d}", i);
    put(f->s, "Patient", id, id, body);
    if (waitpid(pid, &wst, WNOHANG) == pid)
      break;
  }
  fx_second_ok(pid, i < 2000, wst);
  put(f->s, "Patient", "final", "final", "{\"final\":1}");
  expect_patients(f->s, 50);
  int last = i < 2000 ? i : 1999;
  close_store(f);
  /* With an empty cache, everything unwraps under the file's one key. */
  open_store(f);
  assert_int_equal(key_lines(f), 1);
  expect_patients(f->s, 50);
  for (int k = 0; k <= last; k++) {
    snprintf(id, sizeof(id), "np%d", k);
    snprintf(body, sizeof(body), "{\"np\":%d}", k);
    expect_body(f->s, "Patient", id, body);
  }
  expect_body(f->s, "Patient", "final", "{\"final\":1}");
  assert_int_equal(raw_int(f, "SELECT COUNT(DISTINCT key_id) FROM"
                              " patient_keys WHERE wrapped IS NOT NULL"),
                   1);
}

/* ---- Derived keys and the cache ---------------------------------------------------
 */

static void crypt_derived_keys_differ_by_id_and_context(void **state) {
  struct fx *f = *state;
  uint8_t a[32], b[32], c[32];
  open_store(f);
  assert_int_equal(mv_store_derive_key(f->s, 1, "mvtoken1", a), MV_OK);
  assert_int_equal(mv_store_derive_key(f->s, 2, "mvtoken1", b), MV_OK);
  assert_int_equal(mv_store_derive_key(f->s, 1, "mvother1", c), MV_OK);
  assert_memory_not_equal(a, b, 32);
  assert_memory_not_equal(a, c, 32);
  /* The blind-index key is not handed out. */
  assert_int_equal(mv_store_derive_key(f->s, 1, "mvblind1", c), MV_EINVAL);
  /* Another store has other keys. */
  close_store(f);
  char p[160];
  path_in(f, "site.key", p, sizeof(p));
  unlink(p);
  path_in(f, "medverse.db", p, sizeof(p));
  unlink(p);
  open_store(f);
  assert_int_equal(mv_store_derive_key(f->s, 1, "mvtoken1", b), MV_OK);
  assert_memory_not_equal(a, b, 32);
}

static void crypt_key_cache_is_bounded(void **state) {
  struct fx *f = *state;
  enum { N = MV__KEY_CACHE_MAX + 300 };
  open_store(f);
  struct mv_store_write *ws = calloc(N, sizeof(*ws));
  char(*ids)[16] = calloc(N, 16);
  assert_non_null(ws);
  for (int i = 0; i < N; i++) {
    snprintf(ids[i], 16, "cp%d", i);
    ws[i] = (struct mv_store_write){.op = MV_STORE_CREATE,
                                    .type = "Patient",
                                    .id = ids[i],
                                    .body = "{\"c\":1}",
                                    .body_len = 7,
                                    .patient_id = ids[i],
                                    .date_us = MV_STORE_NO_DATE};
  }
  assert_int_equal(mv__store_write_bulk(f->s, ws, N, NULL), MV_OK);
  assert_true(mv__store_key_cache_size(f->s) <= MV__KEY_CACHE_MAX);
  /* Evicted keys are fetched again from the database. */
  expect_body(f->s, "Patient", "cp0", "{\"c\":1}");
  expect_body(f->s, "Patient", "cp4395", "{\"c\":1}");
  free(ws);
  free(ids);
}

/* ---- Migration of bodies stored in clear ---------------------------------------------
 */

/* Schema version 3 exactly as migrations 1..3 made it (they never change),
 * with two bodies in clear. */
static void make_v3_database(const struct fx *f) {
  sqlite3 *db = raw_db(f);
  const char *sql =
      "PRAGMA journal_mode=WAL;"
      "CREATE TABLE schema_migrations(version INTEGER PRIMARY KEY,"
      "  applied_at INTEGER NOT NULL);"
      "CREATE TABLE resources(type TEXT NOT NULL, id TEXT NOT NULL,"
      "  version INTEGER NOT NULL CHECK (version >= 1),"
      "  deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),"
      "  updated_us INTEGER NOT NULL, seq INTEGER NOT NULL,"
      "  patient_id TEXT, code TEXT, date_us INTEGER, status TEXT, body BLOB,"
      "  PRIMARY KEY (type, id, version));"
      "CREATE INDEX resources_patient ON resources(type, patient_id);"
      "CREATE INDEX resources_code ON resources(type, code);"
      "CREATE INDEX resources_date ON resources(type, date_us);"
      "CREATE INDEX resources_status ON resources(type, status);"
      "CREATE TABLE resource_current(type TEXT NOT NULL, id TEXT NOT NULL,"
      "  version INTEGER NOT NULL, deleted INTEGER NOT NULL,"
      "  seq INTEGER NOT NULL, updated_us INTEGER NOT NULL,"
      "  PRIMARY KEY (type, id), FOREIGN KEY (type, id, version)"
      "    REFERENCES resources(type, id, version)) WITHOUT ROWID;"
      "CREATE TABLE users(username TEXT PRIMARY KEY, role TEXT NOT NULL,"
      "  pw_hash TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0,"
      "  created_us INTEGER NOT NULL);"
      "CREATE UNIQUE INDEX resources_seq ON resources(seq);"
      "ALTER TABLE users ADD COLUMN fhir_id TEXT NOT NULL DEFAULT '';"
      "ALTER TABLE users ADD COLUMN org_id TEXT NOT NULL DEFAULT '';"
      "INSERT INTO schema_migrations VALUES (1, 1), (2, 1), (3, 1);"
      "INSERT INTO resources VALUES ('Patient', 'old1', 1, 0, 10, 1, 'old1',"
      "  NULL, NULL, NULL, '{\"legacy\":\"" MARKER "\"}');"
      "INSERT INTO resources VALUES ('Observation', 'oo1', 1, 0, 11, 2,"
      "  'old1', 'http://loinc.org|8867-4', 1700000000000000, 'final',"
      "  '{\"hr\":1}');"
      "INSERT INTO resources VALUES ('Observation', 'oo1', 2, 0, 12, 3,"
      "  'old1', 'http://loinc.org|8867-4', 1700000001000000, 'final',"
      "  '{\"hr\":2}');"
      "INSERT INTO resource_current VALUES ('Patient', 'old1', 1, 0, 1, 10);"
      "INSERT INTO resource_current VALUES ('Observation', 'oo1', 2, 0, 3,"
      "  12);"
      "PRAGMA user_version=3;";
  assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
  sqlite3_close(db);
}

static int collect_id(void *ctx, const char *id,
                      const struct mv_store_record *rec) {
  (void)rec;
  snprintf(ctx, 16, "%s", id);
  return 0;
}

static void crypt_migration_encrypts_bodies_stored_in_clear(void **state) {
  struct fx *f = *state;
  make_v3_database(f);
  assert_true(db_files_contain(f, MARKER, strlen(MARKER)));
  open_store(f);
  assert_true(mv_store_schema_version(f->s) >= 4);
  expect_body(f->s, "Patient", "old1", "{\"legacy\":\"" MARKER "\"}");
  expect_body(f->s, "Observation", "oo1", "{\"hr\":2}");
  struct mv_store_record rec;
  assert_int_equal(mv_store_read(f->s, "Observation", "oo1", 1, &rec), MV_OK);
  assert_string_equal(rec.body, "{\"hr\":1}");
  mv_store_record_release(&rec);
  /* The old code column became a searchable token; the patient column and
   * date were carried over. */
  struct mv_store_token_value tv = {"http://loinc.org", "8867-4"};
  struct mv_store_token_cond tc = {"code", &tv, 1};
  const char *pids[] = {"old1"};
  struct mv_store_query q = {.type = "Observation",
                             .patient_ids = pids,
                             .n_patient_ids = 1,
                             .tokens = &tc,
                             .n_tokens = 1,
                             .limit = 10};
  char got[16] = "";
  int64_t total = 0;
  assert_int_equal(mv_store_search(f->s, &q, collect_id, got, &total), MV_OK);
  assert_string_equal(got, "oo1");
  close_store(f);
  assert_false(db_files_contain(f, MARKER, strlen(MARKER)));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(crypt_key_file_created_private),
      T(crypt_key_file_refused_when_readable_by_others),
      T(crypt_key_file_must_be_regular_and_well_formed),
      T(crypt_missing_key_file_refused_when_data_exists),
      T(crypt_wrong_key_file_refused),
      T(crypt_bodies_and_names_not_in_clear_on_disk),
      T(crypt_tampered_body_is_ecorrupt),
      T(crypt_erase_makes_one_patient_gone),
      T(crypt_erase_overwrites_the_key_in_the_files),
      T(crypt_rotation_keeps_everything_readable),
      T(crypt_rotation_survives_crash_after_new_key_file),
      T(crypt_rotation_survives_crash_after_rewrap),
      T(crypt_rotation_finishes_an_interrupted_one),
      T(crypt_rotation_by_another_process_while_writing),
      T(crypt_derived_keys_differ_by_id_and_context),
      T(crypt_key_cache_is_bounded),
      T(crypt_migration_encrypts_bodies_stored_in_clear),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
