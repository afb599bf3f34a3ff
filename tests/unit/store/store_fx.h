/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fixture shared by the store tests: a fresh directory per test, its
 * "sqlite:DIR" URL, and the store under test, closed and removed afterwards.
 * test_sqlite.c may mount a small tmpfs on dir (mounted), which teardown
 * undoes before removing the directory. Include after cmocka.h: the helpers
 * below assert.
 */
#ifndef MV_TEST_STORE_FX_H
#define MV_TEST_STORE_FX_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mv_store.h"
#include "mv_test.h"

struct fx {
  char dir[64];
  char url[96];
  bool mounted;
  struct mv_store *s;
};

static inline int fx_setup(void **state, const char *prefix) {
  struct fx *f = calloc(1, sizeof(*f));
  if (!f)
    return -1;
  if (mvt_store_dir(f->dir, sizeof(f->dir), f->url, sizeof(f->url), prefix) !=
      0) {
    free(f);
    return -1;
  }
  *state = f;
  return 0;
}

static inline int fx_teardown(void **state) {
  struct fx *f = *state;
  mv_store_close(f->s);
  if (f->mounted)
    umount2(f->dir, MNT_DETACH);
  mvt_rm_rf(f->dir);
  free(f);
  return 0;
}

/* Open the store at url with these options (0/NULL: defaults); asserts
 * success, printing the store's own reason first when it fails. */
static inline struct mv_store *fx_open_url(const char *url, unsigned batch_max,
                                           unsigned delay_us, unsigned cap,
                                           const struct mv_clock *clock) {
  struct mv_store_opts o = {.url = url,
                            .batch_max = batch_max,
                            .batch_delay_us = delay_us,
                            .queue_cap = cap,
                            .clock = clock};
  struct mv_store *s = NULL;
  struct mv_diag d;
  mv_diag_clear(&d);
  int rc = mv_store_open(&o, &s, &d);
  if (rc != MV_OK)
    fprintf(stderr, "open failed: %s: %s\n", mv_err_name(rc), d.msg);
  assert_int_equal(rc, MV_OK);
  return s;
}

/*
 * A second process on the same store, as the admin CLI beside a running
 * server. fx_fork_second() forks BEFORE the caller starts any thread
 * (forking a threaded process leaves other threads' locks, e.g. the
 * sanitizer allocator's, held forever in the child) and returns 0 in the
 * child once the parent calls fx_second_go(), the child's pid in the parent.
 * The child must end with _exit(); fx_second_ok() reaps it (unless the
 * caller already did: reaped, status) and asserts it exited 0.
 */
static inline pid_t fx_fork_second(int go[2]) {
  assert_int_equal(pipe(go), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char c;
    close(go[1]);
    if (read(go[0], &c, 1) != 1)
      _exit(5);
    return 0;
  }
  close(go[0]);
  return pid;
}

static inline void fx_second_go(int go[2]) {
  assert_int_equal(write(go[1], "g", 1), 1);
  close(go[1]);
}

static inline void fx_second_ok(pid_t pid, bool reaped, int status) {
  if (!reaped)
    assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

#endif
