/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The site key file: a small text file outside the database holding the
 * key(s) that wrap every patient key. Reading refuses a file that is not a
 * regular file or that group or others may access, because anyone who can
 * read it and the database can read every record. Writing is crash-safe: a
 * temporary file in the same directory is written and fsynced, then moved
 * into place (rename, or link when the file must not exist yet, so two
 * processes creating it at once agree on one key), then the directory is
 * fsynced. Buffers that held key material are wiped.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "store_int.h"

#define MAGIC "medverse-site-key v1"
#define FILE_MAX 4096
#define B64_VARIANT sodium_base64_VARIANT_ORIGINAL

static bool id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

static int read_all(int fd, char *buf, size_t cap, size_t *out_len) {
  size_t n = 0;
  for (;;) {
    if (n == cap)
      return MV_ETOOBIG;
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return MV_EIO;
    if (r == 0)
      break;
    n += (size_t)r;
  }
  *out_len = n;
  return MV_OK;
}

/* Parse one "<id> <base64>" line (len bytes, no newline) into k. */
static int parse_key_line(const char *line, size_t len,
                          struct mv__site_key *k) {
  size_t i = 0;
  while (i < len && id_char(line[i]))
    i++;
  if (i == 0 || i > MV__SITE_KEY_ID_MAX || i >= len || line[i] != ' ')
    return MV_ECONFIG;
  memcpy(k->id, line, i);
  k->id[i] = '\0';
  const char *b64 = line + i + 1;
  size_t b64_len = len - i - 1;
  while (b64_len > 0 && (b64[b64_len - 1] == ' ' || b64[b64_len - 1] == '\r' ||
                         b64[b64_len - 1] == '\t'))
    b64_len--;
  size_t got = 0;
  const char *end = NULL;
  if (sodium_base642bin(k->key, sizeof(k->key), b64, b64_len, NULL, &got, &end,
                        B64_VARIANT) != 0 ||
      got != sizeof(k->key) || end != b64 + b64_len)
    return MV_ECONFIG;
  return MV_OK;
}

static int parse(const char *buf, size_t len, struct mv__keyfile *out,
                 struct mv_diag *diag) {
  size_t pos = 0;
  int line_no = 0;
  memset(out, 0, sizeof(*out));
  while (pos < len) {
    const char *line = buf + pos;
    const char *nl = memchr(line, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - line) : len - pos;
    pos += n + (nl ? 1 : 0);
    line_no++;
    size_t trimmed = n;
    while (trimmed > 0 &&
           (line[trimmed - 1] == '\r' || line[trimmed - 1] == ' ' ||
            line[trimmed - 1] == '\t'))
      trimmed--;
    if (line_no == 1) {
      if (trimmed != strlen(MAGIC) || memcmp(line, MAGIC, trimmed) != 0)
        return mv_diag_set(diag, MV_ECONFIG,
                           "site key file: first line must be \"" MAGIC "\"");
      continue;
    }
    if (trimmed == 0 || line[0] == '#')
      continue;
    if (out->n == MV__KEYFILE_KEYS_MAX)
      return mv_diag_set(diag, MV_ECONFIG,
                         "site key file: more than %d keys (line %d)",
                         MV__KEYFILE_KEYS_MAX, line_no);
    struct mv__site_key *k = &out->keys[out->n];
    if (parse_key_line(line, trimmed, k) != MV_OK)
      return mv_diag_set(diag, MV_ECONFIG,
                         "site key file: line %d is not \"<key_id> <base64 "
                         "32-byte key>\"",
                         line_no);
    for (size_t j = 0; j < out->n; j++)
      if (strcmp(out->keys[j].id, k->id) == 0)
        return mv_diag_set(diag, MV_ECONFIG,
                           "site key file: key id repeated on line %d",
                           line_no);
    out->n++;
  }
  if (line_no == 0)
    return mv_diag_set(diag, MV_ECONFIG, "site key file is empty");
  if (out->n == 0)
    return mv_diag_set(diag, MV_ECONFIG, "site key file holds no key");
  return MV_OK;
}

int mv__keyfile_read(const char *path, struct mv__keyfile *out,
                     struct mv_diag *diag) {
  char buf[FILE_MAX];
  size_t len = 0;
  int rc;
  struct stat sb;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT)
      return MV_ENOTFOUND;
    rc = mv_diag_set(diag, errno == EACCES ? MV_ECONFIG : MV_EIO,
                     "cannot open the site key file: %s", strerror(errno));
    mv_diag_set_path(diag, path);
    return rc;
  }
  if (fstat(fd, &sb) != 0) {
    rc = mv_diag_set(diag, MV_EIO, "cannot stat the site key file: %s",
                     strerror(errno));
  } else if (!S_ISREG(sb.st_mode)) {
    rc = mv_diag_set(diag, MV_ECONFIG,
                     "the site key file is not a regular "
                     "file");
  } else if ((sb.st_mode & 077) != 0) {
    rc = mv_diag_set(diag, MV_ECONFIG,
                     "the site key file is accessible by group or others "
                     "(mode %04o); it must be private to the server's user: "
                     "chmod 600 it",
                     (unsigned)(sb.st_mode & 07777));
  } else if ((rc = read_all(fd, buf, sizeof(buf), &len)) != MV_OK) {
    mv_diag_set(diag, rc == MV_ETOOBIG ? MV_ECONFIG : MV_EIO,
                rc == MV_ETOOBIG ? "the site key file is too large"
                                 : "cannot read the site key file");
    rc = rc == MV_ETOOBIG ? MV_ECONFIG : MV_EIO;
  } else {
    rc = parse(buf, len, out, diag);
  }
  close(fd);
  sodium_memzero(buf, sizeof(buf));
  if (rc != MV_OK) {
    sodium_memzero(out, sizeof(*out));
    mv_diag_set_path(diag, path);
  }
  return rc;
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* fsync the directory holding path, so a rename or link in it is durable. */
static int sync_dir_of(const char *path) {
  char dir[MV_LIMIT_PATH_MAX];
  const char *slash = strrchr(path, '/');
  if (!slash) {
    memcpy(dir, ".", 2);
  } else {
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    if (n >= sizeof(dir))
      return -1;
    memcpy(dir, path, n);
    dir[n] = '\0';
  }
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

static int format(const struct mv__keyfile *kf, char *buf, size_t cap,
                  size_t *out_len) {
  size_t n = 0;
  int w = snprintf(buf, cap, "%s\n", MAGIC);
  if (w < 0 || (size_t)w >= cap)
    return MV_ETOOBIG;
  n = (size_t)w;
  for (size_t i = 0; i < kf->n; i++) {
    char b64[sodium_base64_ENCODED_LEN(32, B64_VARIANT)];
    sodium_bin2base64(b64, sizeof(b64), kf->keys[i].key,
                      sizeof(kf->keys[i].key), B64_VARIANT);
    w = snprintf(buf + n, cap - n, "%s %s\n", kf->keys[i].id, b64);
    sodium_memzero(b64, sizeof(b64));
    if (w < 0 || (size_t)w >= cap - n)
      return MV_ETOOBIG;
    n += (size_t)w;
  }
  *out_len = n;
  return MV_OK;
}

int mv__keyfile_write(const char *path, const struct mv__keyfile *kf,
                      bool exclusive, struct mv_diag *diag) {
  char buf[FILE_MAX], tmp[MV_LIMIT_PATH_MAX];
  size_t len = 0;
  int rc = MV_OK, fd = -1;
  bool tmp_made = false;
  if (kf->n == 0 || kf->n > MV__KEYFILE_KEYS_MAX)
    return mv_diag_set(diag, MV_EINVAL, "site key file: bad key count");
  /* A unique temporary name: two processes creating the file at once must
   * not write into the same temporary file. */
  uint32_t r = randombytes_random();
  int w = snprintf(tmp, sizeof(tmp), "%s.tmp-%ld-%08x", path, (long)getpid(),
                   (unsigned)r);
  if (w < 0 || (size_t)w >= sizeof(tmp))
    return mv_diag_set(diag, MV_EINVAL, "site key file path is too long");
  if ((rc = format(kf, buf, sizeof(buf), &len)) != MV_OK) {
    mv_diag_set(diag, MV_EINVAL, "site key file: too much to write");
    goto out;
  }
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    rc = mv_diag_set(diag, MV_EIO, "cannot create the site key file: %s",
                     strerror(errno));
    goto out;
  }
  tmp_made = true;
  /* 0600 whatever the umask left. */
  if (fchmod(fd, 0600) != 0 || write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
    rc = mv_diag_set(diag, MV_EIO, "cannot write the site key file: %s",
                     strerror(errno));
    goto out;
  }
  if (close(fd) != 0) {
    fd = -1;
    rc = mv_diag_set(diag, MV_EIO, "cannot write the site key file: %s",
                     strerror(errno));
    goto out;
  }
  fd = -1;
  if (exclusive) {
    /* link fails with EEXIST when the file appeared meanwhile. */
    if (link(tmp, path) != 0) {
      rc = errno == EEXIST ? MV_EEXISTS
                           : mv_diag_set(diag, MV_EIO,
                                         "cannot create the site key file: %s",
                                         strerror(errno));
      goto out;
    }
  } else if (rename(tmp, path) != 0) {
    rc = mv_diag_set(diag, MV_EIO, "cannot replace the site key file: %s",
                     strerror(errno));
    goto out;
  } else {
    tmp_made = false;
  }
  if (sync_dir_of(path) != 0)
    rc = mv_diag_set(diag, MV_EIO, "cannot sync the site key directory: %s",
                     strerror(errno));
out:
  if (fd >= 0)
    close(fd);
  if (tmp_made)
    unlink(tmp);
  sodium_memzero(buf, sizeof(buf));
  if (rc != MV_OK && rc != MV_EEXISTS)
    mv_diag_set_path(diag, path);
  return rc;
}

void mv__site_key_generate(struct mv__site_key *out) {
  uint8_t idb[8];
  randombytes_buf(idb, sizeof(idb));
  out->id[0] = 'k';
  sodium_bin2hex(out->id + 1, sizeof(out->id) - 1, idb, sizeof(idb));
  randombytes_buf(out->key, sizeof(out->key));
}
