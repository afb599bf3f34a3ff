/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fault tests of the SQLite backend (src/store/sqlite.c) through the store
 * interface: the database's filesystem filling up mid-run. The store must
 * fail the writes it cannot make durable with MV_EIO, keep every write it
 * acknowledged, never crash or hang, and recover once space is back. The
 * filesystem is a tiny tmpfs, so these tests need the right to mount (root
 * in the build sandbox); without it they are skipped with a message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mv_limits.h"
#include "mv_store.h"
#include "store_fx.h"
#include "store_int.h"

static int setup(void **state) {
  return fx_setup(state, "mv-sqlite-test");
}

static int teardown(void **state) {
  return fx_teardown(state);
}

/* Mount a tmpfs of `size` (mount(8) syntax) on the test directory, or skip. */
static void mount_small_fs(struct fx *f, const char *size) {
  char opts[64];
  snprintf(opts, sizeof(opts), "size=%s,mode=0700", size);
  if (mount("tmpfs", f->dir, "tmpfs", 0, opts) != 0) {
    fprintf(stderr,
            "[  SKIPPED ] cannot mount a tmpfs (%s); the disk-full tests "
            "need CAP_SYS_ADMIN\n",
            strerror(errno));
    skip();
  }
  f->mounted = true;
}

static void resize_fs(struct fx *f, const char *size) {
  char opts[64];
  snprintf(opts, sizeof(opts), "size=%s", size);
  assert_int_equal(mount("tmpfs", f->dir, "tmpfs", MS_REMOUNT, opts), 0);
}

static void open_store(struct fx *f) {
  f->s = fx_open_url(f->url, 0, 200, 0, NULL);
}

#define BODY_LEN 4000

static struct mv_store_write obs(const char *id, const char *body) {
  struct mv_store_write w = {
      .op = MV_STORE_CREATE,
      .type = "Observation",
      .id = id,
      .body = body,
      .body_len = strlen(body),
      .patient_id = "p1",
      .code = "http://loinc.org|8867-4",
      .date_us = MV_STORE_NO_DATE,
      .status = "final",
  };
  return w;
}

/* A body of BODY_LEN bytes that differs per i (so nothing compresses). */
static void make_body(char *b, int i) {
  int n = snprintf(b, BODY_LEN + 1, "{\"i\":%d,\"pad\":\"", i);
  unsigned x = (unsigned)i * 2654435761u + 1;
  for (; n < BODY_LEN - 2; n++) {
    x = x * 1103515245u + 12345u;
    b[n] = (char)('a' + (x >> 16) % 26);
  }
  memcpy(b + n, "\"}", 3);
}

static void expect_present(struct mv_store *s, int i) {
  char id[16], body[BODY_LEN + 1];
  struct mv_store_record rec;
  snprintf(id, sizeof(id), "o%d", i);
  make_body(body, i);
  assert_int_equal(mv_store_read(s, "Observation", id, 0, &rec), MV_OK);
  assert_int_equal(rec.body_len, strlen(body));
  assert_memory_equal(rec.body, body, rec.body_len);
  mv_store_record_release(&rec);
}

static void
sqlite_disk_full_fails_writes_keeps_acked_and_recovers(void **state) {
  struct fx *f = *state;
  enum { MAX_WRITES = 2000 };
  char id[16], body[BODY_LEN + 1];
  mount_small_fs(f, "320k");
  open_store(f);

  int acked = 0, rc = MV_OK;
  for (int i = 0; i < MAX_WRITES; i++) {
    snprintf(id, sizeof(id), "o%d", i);
    make_body(body, i);
    struct mv_store_write w = obs(id, body);
    rc = mv_store_write_sync(f->s, &w, NULL);
    if (rc != MV_OK)
      break;
    acked = i + 1;
  }
  assert_true(acked > 0);
  assert_true(acked < MAX_WRITES); /* the filesystem did fill */
  assert_int_equal(rc, MV_EIO);

  /* Still full: further writes fail the same way, promptly. */
  for (int i = acked; i < acked + 3; i++) {
    snprintf(id, sizeof(id), "o%d", i);
    make_body(body, i);
    struct mv_store_write w = obs(id, body);
    assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_EIO);
  }
  /* Everything acknowledged is readable. */
  for (int i = 0; i < acked; i++)
    expect_present(f->s, i);

  /* Space comes back: writing works again without a restart. */
  resize_fs(f, "8m");
  for (int i = acked; i < acked + 3; i++) {
    snprintf(id, sizeof(id), "o%d", i);
    make_body(body, i);
    struct mv_store_write w = obs(id, body);
    assert_int_equal(mv_store_write_sync(f->s, &w, NULL), MV_OK);
  }
  assert_int_equal(mv_store_flush(f->s), MV_OK);

  /* And all of it survives a close and reopen. */
  mv_store_close(f->s);
  f->s = NULL;
  open_store(f);
  for (int i = 0; i < acked + 3; i++)
    expect_present(f->s, i);
}

/* Fill the filesystem with a file, leaving about `leave` bytes free. */
static void fill_fs(struct fx *f, size_t leave) {
  char path[96], block[4096];
  snprintf(path, sizeof(path), "%s/filler", f->dir);
  FILE *fp = fopen(path, "wb");
  assert_non_null(fp);
  memset(block, 'x', sizeof(block));
  setvbuf(fp, NULL, _IONBF, 0);
  while (fwrite(block, 1, sizeof(block), fp) == sizeof(block))
    ;
  fclose(fp);
  if (leave) {
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(truncate(path, sb.st_size > (off_t)leave
                                        ? sb.st_size - (off_t)leave
                                        : 0),
                     0);
  }
}

/* Opening on a full disk reports an error (no crash, no hang, no store). */
static void sqlite_open_on_full_disk_fails_cleanly(void **state) {
  struct fx *f = *state;
  size_t leaves[] = {0, 4096, 12288, 40960};
  mount_small_fs(f, "256k");
  for (size_t k = 0; k < sizeof(leaves) / sizeof(leaves[0]); k++) {
    char path[96];
    snprintf(path, sizeof(path), "%s/medverse.db", f->dir);
    unlink(path);
    fill_fs(f, leaves[k]);
    struct mv_store_opts o = {.url = f->url};
    struct mv_diag d;
    mv_diag_clear(&d);
    struct mv_store *s = NULL;
    int rc = mv_store_open(&o, &s, &d);
    if (rc == MV_OK) {
      /* It fitted: a write either succeeds or fails with MV_EIO. */
      struct mv_store_write w = obs("x", "{\"a\":1}");
      int wrc = mv_store_write_sync(s, &w, NULL);
      assert_true(wrc == MV_OK || wrc == MV_EIO);
      mv_store_close(s);
    } else {
      assert_int_equal(rc, MV_EIO);
      assert_null(s);
    }
    snprintf(path, sizeof(path), "%s/filler", f->dir);
    unlink(path);
  }
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(sqlite_disk_full_fails_writes_keeps_acked_and_recovers),
      T(sqlite_open_on_full_disk_fails_cleanly),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
