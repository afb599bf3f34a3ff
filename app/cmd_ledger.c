/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `medverse ledger`: the command line of the tamper-evident log (verify,
 * prove, export, witness, keygen; see docs/LEDGER.md). This file dispatches
 * to the subcommands and holds what they share: flag parsing with
 * positional arguments, the terminal progress bar, base64, durable small
 * files and the bounded HTTP client used by the witness (libcurl, with
 * connect and total timeouts and a response size cap).
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "ledger_cli.h"
#include "mv_limits.h"

struct sub {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *summary;
};

static const struct sub subs[] = {
    {"verify", cmd_ledger_verify,
     "recompute the tree, check checkpoints and record commitments"},
    {"prove", cmd_ledger_prove,
     "print an entry with its inclusion proof and signed checkpoint (JSON)"},
    {"export", cmd_ledger_export,
     "write leaves and checkpoints in a portable JSON-lines format"},
    {"witness", cmd_ledger_witness,
     "run a witness: verify a remote log's growth and cosign it"},
    {"keygen", cmd_ledger_keygen,
     "make an Ed25519 witness key (private file + verifier key)"},
};

static void usage(FILE *out) {
  fprintf(out, "usage: medverse ledger <command> [flags]\n\n"
               "The tamper-evident log (docs/LEDGER.md).\n\ncommands:\n");
  for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
    fprintf(out, "  %-8s %s\n", subs[i].name, subs[i].summary);
  fprintf(out, "\nRun 'medverse ledger <command> --help' for its flags.\n");
}

int cmd_ledger(int argc, char **argv) {
  if (argc < 1) {
    usage(stderr);
    return EXIT_USAGE;
  }
  if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0 ||
      strcmp(argv[0], "help") == 0) {
    usage(stdout);
    return 0;
  }
  for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
    if (strcmp(subs[i].name, argv[0]) == 0)
      return subs[i].fn(argc - 1, argv + 1);
  fprintf(stderr,
          "medverse ledger: unknown command '%s' (see 'medverse ledger "
          "--help')\n",
          argv[0]);
  return EXIT_USAGE;
}

/* ---- flags ---- */

static void print_usage(const char *cmd, const struct lcli_flag *flags,
                        size_t n_flags, const char *synopsis,
                        const char *summary) {
  printf("usage: medverse ledger %s %s\n\n%s\n\nflags:\n", cmd, synopsis,
         summary);
  for (size_t i = 0; i < n_flags; i++) {
    char left[64];
    snprintf(left, sizeof left, "%s%s%s", flags[i].name,
             flags[i].arg ? " " : "", flags[i].arg ? flags[i].arg : "");
    printf("  --%-20s %s\n", left, flags[i].help);
  }
  printf("  --%-20s %s\n", "help", "show this help");
}

int lcli_parse(const char *cmd, int argc, char **argv,
               const struct lcli_flag *flags, size_t n_flags,
               const char *synopsis, const char *summary, const char **pos,
               size_t min_pos, size_t max_pos, size_t *out_n_pos,
               bool *out_help) {
  size_t n_pos = 0;
  *out_help = false;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      print_usage(cmd, flags, n_flags, synopsis, summary);
      *out_help = true;
      return 0;
    }
  }
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
      if (n_pos >= max_pos) {
        fprintf(stderr, "medverse ledger %s: unexpected argument '%.64s'\n",
                cmd, a);
        return EXIT_USAGE;
      }
      pos[n_pos++] = a;
      continue;
    }
    const char *name = a + 2;
    const char *eq = strchr(name, '=');
    size_t name_len = eq ? (size_t)(eq - name) : strlen(name);
    const struct lcli_flag *f = NULL;
    for (size_t k = 0; k < n_flags; k++)
      if (strlen(flags[k].name) == name_len &&
          strncmp(flags[k].name, name, name_len) == 0)
        f = &flags[k];
    if (!f) {
      fprintf(stderr, "medverse ledger %s: --%.*s: unknown flag\n", cmd,
              (int)(name_len > 64 ? 64 : name_len), name);
      return EXIT_USAGE;
    }
    if (!f->arg) {
      if (eq) {
        fprintf(stderr, "medverse ledger %s: --%s: takes no value\n", cmd,
                f->name);
        return EXIT_USAGE;
      }
      *f->out_value = "";
      continue;
    }
    if (eq) {
      *f->out_value = eq + 1;
    } else {
      if (i + 1 >= argc) {
        fprintf(stderr, "medverse ledger %s: --%s: missing value\n", cmd,
                f->name);
        return EXIT_USAGE;
      }
      *f->out_value = argv[++i];
    }
    if (!**f->out_value) {
      fprintf(stderr, "medverse ledger %s: --%s: empty value\n", cmd, f->name);
      return EXIT_USAGE;
    }
  }
  if (n_pos < min_pos) {
    fprintf(stderr, "medverse ledger %s: missing argument (usage: %s)\n", cmd,
            synopsis);
    return EXIT_USAGE;
  }
  *out_n_pos = n_pos;
  return 0;
}

int lcli_u64(const char *cmd, const char *flag, const char *s, uint64_t max,
             uint64_t *out) {
  uint64_t v = 0;
  if (!*s || strlen(s) > 20)
    goto bad;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9')
      goto bad;
    unsigned d = (unsigned)(*p - '0');
    if (v > (UINT64_MAX - d) / 10)
      goto bad;
    v = v * 10 + d;
  }
  if (v > max)
    goto bad;
  *out = v;
  return 0;
bad:
  fprintf(stderr,
          "medverse ledger %s: --%s: expected a decimal integer <= %llu\n", cmd,
          flag, (unsigned long long)max);
  return EXIT_USAGE;
}

/* ---- progress ---- */

void lcli_progress_init(struct lcli_progress *p, const char *label,
                        uint64_t total) {
  p->on = isatty(STDERR_FILENO) && total > 0;
  p->label = label;
  p->total = total;
  p->last_pct = -1;
}

void lcli_progress_step(struct lcli_progress *p, uint64_t done) {
  if (!p->on)
    return;
  if (done > p->total)
    done = p->total;
  int pct = (int)(done * 100 / p->total);
  if (pct == p->last_pct)
    return;
  p->last_pct = pct;
  int bar = pct * 30 / 100;
  fprintf(stderr, "\r%s [%.*s%*s] %3d%%", p->label, bar,
          "==============================", 30 - bar, "", pct);
  fflush(stderr);
}

void lcli_progress_done(struct lcli_progress *p) {
  if (p->on && p->last_pct >= 0)
    fprintf(stderr, "\r\033[K");
}

/* ---- base64 (libsodium, standard alphabet with padding) ---- */

void lcli_b64(const uint8_t *p, size_t n, char *out, size_t out_len) {
  sodium_bin2base64(out, out_len, p, n, sodium_base64_VARIANT_ORIGINAL);
}

/* ---- files ---- */

int lcli_data_dir(const char *cmd, const char *dir, char *ldir, size_t cap) {
  struct stat st;
  char db[MV_LIMIT_PATH_MAX];
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "medverse ledger %s: %s: not a directory\n", cmd, dir);
    return EXIT_USAGE;
  }
  if (strlen(dir) + 32 > cap || strlen(dir) + 32 > sizeof db) {
    fprintf(stderr, "medverse ledger %s: %s: path too long\n", cmd, dir);
    return EXIT_USAGE;
  }
  snprintf(db, sizeof db, "%s/medverse.db", dir);
  if (access(db, F_OK) != 0) {
    fprintf(stderr,
            "medverse ledger %s: %s: not a medverse data directory (no "
            "medverse.db)\n",
            cmd, dir);
    return EXIT_USAGE;
  }
  snprintf(ldir, cap, "%s/ledger", dir);
  return 0;
}

int lcli_vkey_path(const char *ldir, const char *flag_value, char *out,
                   size_t cap) {
  int n = flag_value ? snprintf(out, cap, "%s", flag_value)
                     : snprintf(out, cap, "%s/ledger.vkey", ldir);
  return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int lcli_read_file(const char *path, size_t cap, struct mv_buf *out, char *err,
                   size_t err_len) {
  mv_buf_init(out, cap); /* released by the caller even on failure */
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, err_len, "%s: %s", path, strerror(errno));
    return -1;
  }
  char chunk[4096];
  size_t n;
  int rc = 0;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    if (mv_buf_append(out, chunk, n) != 0) {
      snprintf(err, err_len, "%s: larger than %zu bytes", path, cap);
      rc = -1;
      break;
    }
  if (rc == 0 && ferror(f)) {
    snprintf(err, err_len, "%s: read error", path);
    rc = -1;
  }
  fclose(f);
  return rc;
}

static int fsync_dir_of(const char *path) {
  char copy[MV_LIMIT_PATH_MAX];
  snprintf(copy, sizeof copy, "%s", path);
  int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
  if (fd < 0)
    return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

int lcli_write_file_durable(const char *path, const void *data, size_t len,
                            unsigned mode, char *err, size_t err_len) {
  char tmp[MV_LIMIT_PATH_MAX];
  if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
    snprintf(err, err_len, "path too long");
    return -1;
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
  if (fd < 0) {
    snprintf(err, err_len, "%s: %s", tmp, strerror(errno));
    return -1;
  }
  const char *p = data;
  size_t left = len;
  while (left > 0) {
    ssize_t w = write(fd, p, left);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      snprintf(err, err_len, "%s: write: %s", tmp, strerror(errno));
      close(fd);
      unlink(tmp);
      return -1;
    }
    p += w;
    left -= (size_t)w;
  }
  if (fchmod(fd, (mode_t)mode) != 0 || fsync(fd) != 0) {
    snprintf(err, err_len, "%s: fsync: %s", tmp, strerror(errno));
    close(fd);
    unlink(tmp);
    return -1;
  }
  close(fd);
  if (rename(tmp, path) != 0) {
    snprintf(err, err_len, "%s: rename: %s", path, strerror(errno));
    unlink(tmp);
    return -1;
  }
  if (fsync_dir_of(path) != 0) {
    snprintf(err, err_len, "%s: fsync of directory: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}

/* ---- HTTP (libcurl) ---- */

struct sink {
  struct mv_buf *b;
  bool too_big;
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx) {
  struct sink *s = ctx;
  if (mv_buf_append(s->b, p, size * n) != 0) {
    s->too_big = true;
    return 0; /* aborts the transfer */
  }
  return size * n;
}

int lcli_http(const char *method, const char *url, const char *token,
              const char *ctype, const char *body, size_t body_len,
              struct mv_buf *out, long *out_status, char *err, size_t err_len) {
  static bool inited;
  if (!inited) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
      snprintf(err, err_len, "libcurl initialisation failed");
      return -1;
    }
    inited = true;
  }
  CURL *c = curl_easy_init();
  struct curl_slist *hdr = NULL;
  char line[MV_LIMIT_LEDGER_TOKEN + 32];
  struct sink s = {out, false};
  int rc = -1;
  if (!c) {
    snprintf(err, err_len, "libcurl: cannot create a handle");
    return -1;
  }
  if (token) {
    snprintf(line, sizeof line, "Authorization: Bearer %s", token);
    hdr = curl_slist_append(hdr, line);
  }
  if (body) {
    snprintf(line, sizeof line, "Content-Type: %s", ctype);
    hdr = curl_slist_append(hdr, line);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
  }
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   (long)MV_LIMIT_LEDGER_HTTP_CONNECT_MS);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)MV_LIMIT_LEDGER_HTTP_TOTAL_MS);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  CURLcode cr = curl_easy_perform(c);
  if (s.too_big) {
    snprintf(err, err_len, "response larger than %u bytes",
             (unsigned)MV_LIMIT_LEDGER_HTTP_BODY);
    goto out;
  }
  if (cr != CURLE_OK) {
    snprintf(err, err_len, "%s", curl_easy_strerror(cr));
    goto out;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, out_status);
  rc = 0;
out:
  curl_slist_free_all(hdr);
  curl_easy_cleanup(c);
  return rc;
}
