/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small helpers shared by the unit tests: a fresh temporary directory per
 * test and its recursive removal. Header-only; include after cmocka.h.
 */
#ifndef MV_TEST_H
#define MV_TEST_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

/* mkdtemp under /tmp with the given name prefix into buf; 0 or -1. */
static inline int mvt_tempdir(char *buf, size_t len, const char *prefix) {
  snprintf(buf, len, "/tmp/%s-XXXXXX", prefix);
  return mkdtemp(buf) ? 0 : -1;
}

static inline int mvt__rm_entry(const char *path, const struct stat *sb,
                                int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* rm -rf dir (does not cross into other file systems' contents it meets:
 * FTW_PHYS, so symlinks are removed, not followed). */
static inline void mvt_rm_rf(const char *dir) {
  nftw(dir, mvt__rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The fixture both store test files use: a temp dir and its sqlite: URL. */
static inline int mvt_store_dir(char *dir, size_t dir_len, char *url,
                                size_t url_len, const char *prefix) {
  if (mvt_tempdir(dir, dir_len, prefix) != 0)
    return -1;
  snprintf(url, url_len, "sqlite:%s", dir);
  return 0;
}

#endif
