/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fixture shared by the store tests: a fresh directory per test, its
 * "sqlite:DIR" URL, and the store under test, closed and removed afterwards.
 * test_sqlite.c may mount a small tmpfs on dir (mounted), which teardown
 * undoes before removing the directory.
 */
#ifndef MV_TEST_STORE_FX_H
#define MV_TEST_STORE_FX_H

#include <stdbool.h>
#include <stdlib.h>
#include <sys/mount.h>

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

#endif
