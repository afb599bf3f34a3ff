/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `medverse ledger witness` and `medverse ledger keygen`. A witness,
 * normally run by a partner hospital, polls a log's signed checkpoint,
 * checks the log signature and a consistency proof from the last checkpoint
 * it cosigned (RFC 9162 §2.1.4), cosigns (C2SP tlog-cosignature,
 * cosignature/v1), makes its new state durable and only then hands the
 * cosignature to the log (the ordering C2SP tlog-witness requires, so a
 * crash never lets it cosign two different trees of one size). It refuses
 * and reports a rollback, a fork, an inconsistent proof or a bad or forged
 * signature, and keeps the offending note as evidence. The decision itself
 * is mv_tlog_witness_check (pure); this file does the I/O.
 *
 * State directory: "state" (text, see docs/LEDGER.md: the pinned log key
 * and the last cosigned size, root and time), "checkpoint" (the last
 * cosigned note, for audit) and "refused-<time>.note" (evidence).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "ledger_cli.h"
#include "mv_json.h"
#include "mv_tlog.h"

#define STATE_MAGIC "medverse-witness-state v1"

struct wstate {
  bool pinned; /* log-key line present */
  char log_key[MV_TLOG_VKEY_TEXT_MAX];
  struct mv_tlog_witness_state w;
};

struct witness {
  const char *url; /* without a trailing slash */
  char *url_owned;
  const char *dir;
  char token[MV_LIMIT_LEDGER_TOKEN + 1];
  bool have_token;
  struct mv_tlog_signer key;
  struct mv_tlog_verifier log_key;
  struct wstate st;
};

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig) {
  (void)sig;
  stop_flag = 1;
}

static void wlog(const char *fmt, ...) MV_PRINTF(1, 2);
static void wlog(const char *fmt, ...) {
  char ts[32];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s medverse ledger witness: ", ts);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* ---- state file ---- */

static int state_load(const char *dir, struct wstate *st, char *err,
                      size_t err_len) {
  char path[MV_LIMIT_PATH_MAX];
  struct mv_buf b;
  memset(st, 0, sizeof *st);
  snprintf(path, sizeof path, "%s/state", dir);
  if (access(path, F_OK) != 0)
    return 0; /* first start */
  if (lcli_read_file(path, MV_LIMIT_LEDGER_KEYFILE, &b, err, err_len) != 0) {
    mv_buf_release(&b);
    return -1;
  }
  int rc = -1, line = 0;
  bool has_size = false, has_root = false;
  char *save = NULL;
  char *text = b.data ? b.data : (char *)"";
  for (char *l = strtok_r(text, "\n", &save); l;
       l = strtok_r(NULL, "\n", &save)) {
    line++;
    if (line == 1) {
      if (strcmp(l, STATE_MAGIC) != 0) {
        snprintf(err, err_len, "%s:1: not a witness state file", path);
        goto out;
      }
      continue;
    }
    if (strncmp(l, "log-key ", 8) == 0) {
      snprintf(st->log_key, sizeof st->log_key, "%s", l + 8);
      st->pinned = true;
    } else if (strncmp(l, "size ", 5) == 0) {
      char *end;
      errno = 0;
      unsigned long long v = strtoull(l + 5, &end, 10);
      if (errno || *end || end == l + 5) {
        snprintf(err, err_len, "%s:%d: bad size", path, line);
        goto out;
      }
      st->w.size = v;
      has_size = true;
    } else if (strncmp(l, "root ", 5) == 0) {
      if (mv_tlog_hash_from_b64(l + 5, strlen(l + 5), st->w.root) != MV_OK) {
        snprintf(err, err_len, "%s:%d: bad root", path, line);
        goto out;
      }
      has_root = true;
    } else if (strncmp(l, "time ", 5) == 0) {
      char *end;
      errno = 0;
      unsigned long long v = strtoull(l + 5, &end, 10);
      if (errno || *end || end == l + 5) {
        snprintf(err, err_len, "%s:%d: bad time", path, line);
        goto out;
      }
      st->w.last_t_s = v;
    } else {
      snprintf(err, err_len, "%s:%d: unknown line", path, line);
      goto out;
    }
  }
  if (line == 0) {
    snprintf(err, err_len, "%s:1: empty state file", path);
    goto out;
  }
  if (has_size != has_root) {
    snprintf(err, err_len, "%s: size and root must come together", path);
    goto out;
  }
  st->w.has = has_size;
  rc = 0;
out:
  mv_buf_release(&b);
  return rc;
}

static int state_save(const char *dir, const struct wstate *st, char *err,
                      size_t err_len) {
  char path[MV_LIMIT_PATH_MAX], text[1024], root[45];
  int n =
      snprintf(text, sizeof text, STATE_MAGIC "\nlog-key %s\n", st->log_key);
  if (st->w.has) {
    mv_tlog_hash_to_b64(st->w.root, root);
    n += snprintf(text + n, sizeof text - (size_t)n,
                  "size %llu\nroot %s\ntime %llu\n",
                  (unsigned long long)st->w.size, root,
                  (unsigned long long)st->w.last_t_s);
  }
  snprintf(path, sizeof path, "%s/state", dir);
  return lcli_write_file_durable(path, text, (size_t)n, 0600, err, err_len);
}

/* ---- one round ---- */

enum round_result { ROUND_COSIGNED, ROUND_REFUSED, ROUND_FAILED };

static void keep_evidence(struct witness *wt, const char *note, size_t len,
                          const char *why) {
  char path[MV_LIMIT_PATH_MAX], err[256];
  struct mv_buf b;
  mv_buf_init(&b, MV_LIMIT_TLOG_NOTE * 2);
  snprintf(path, sizeof path, "%s/refused-%lld.note", wt->dir,
           (long long)time(NULL));
  if (mv_buf_appendf(&b, "# refused: %s\n", why) == 0 &&
      mv_buf_append(&b, note, len) == 0 &&
      lcli_write_file_durable(path, b.data, b.len, 0644, err, sizeof err) == 0)
    wlog("evidence kept in %s", path);
  mv_buf_release(&b);
}

static int fetch(struct witness *wt, const char *path, struct mv_buf *out,
                 char *err, size_t err_len) {
  char url[MV_LIMIT_PATH_MAX];
  long status = 0;
  snprintf(url, sizeof url, "%s%s", wt->url, path);
  mv_buf_init(out, MV_LIMIT_LEDGER_HTTP_BODY);
  if (lcli_http("GET", url, wt->have_token ? wt->token : NULL, NULL, NULL, 0,
                out, &status, err, err_len) != 0)
    return -1;
  if (status != 200) {
    snprintf(err, err_len, "GET %s: HTTP %ld%s", path, status,
             status == 401 || status == 403
                 ? " (the log's readers need an auditor or admin token: "
                   "--token-file)"
                 : "");
    return -1;
  }
  return 0;
}

static int parse_proof(const struct mv_buf *b, uint64_t from, uint64_t to,
                       struct mv_tlog_proof *p, char *err, size_t err_len) {
  struct json_object *o = NULL, *arr = NULL;
  struct mv_diag d;
  int64_t f = -1, t = -1;
  int rc = -1;
  mv_diag_clear(&d);
  memset(p, 0, sizeof *p);
  if (mv_json_parse(b->data ? b->data : "", b->len, &o, &d) != MV_OK || !o ||
      !json_object_is_type(o, json_type_object) ||
      mv_json_get_int64(o, "proof", "from", true, &f, &d) != MV_OK ||
      mv_json_get_int64(o, "proof", "to", true, &t, &d) != MV_OK ||
      mv_json_get_array(o, "proof", "hashes", true, &arr, &d) != MV_OK) {
    snprintf(err, err_len, "malformed consistency proof: %s %s", d.path, d.msg);
    goto out;
  }
  if ((uint64_t)f != from || (uint64_t)t != to) {
    snprintf(err, err_len, "consistency proof for %lld..%lld, asked %llu..%llu",
             (long long)f, (long long)t, (unsigned long long)from,
             (unsigned long long)to);
    goto out;
  }
  size_t n = json_object_array_length(arr);
  for (size_t i = 0; i < n; i++) {
    struct json_object *h = json_object_array_get_idx(arr, i);
    if (!json_object_is_type(h, json_type_string) ||
        mv_tlog_proof_push_b64(p, json_object_get_string(h),
                               (size_t)json_object_get_string_len(h)) !=
            MV_OK) {
      snprintf(err, err_len, "malformed consistency proof: hash %zu", i);
      goto out;
    }
  }
  rc = 0;
out:
  if (o)
    json_object_put(o);
  return rc;
}

/* Accepted: make the new state durable, then (only then) let the
 * cosignature leave this machine: keep the cosigned note in DIR/checkpoint
 * and POST it to the log. */
static enum round_result
commit_and_submit(struct witness *wt, const struct mv_tlog_witness_result *res,
                  const char *note, size_t note_len) {
  struct mv_diag d;
  struct mv_buf resp;
  char err[512], path[MV_LIMIT_PATH_MAX + 16], url[MV_LIMIT_PATH_MAX];
  char *merged = NULL;
  size_t merged_len = 0;
  long status = 0;
  enum round_result r = ROUND_FAILED;
  bool same = wt->st.w.has && res->next.size == wt->st.w.size;
  struct wstate next = wt->st;
  mv_diag_clear(&d);
  mv_buf_init(&resp, MV_LIMIT_LEDGER_HTTP_BODY);
  next.w = res->next;
  if (state_save(wt->dir, &next, err, sizeof err) != 0) {
    wlog("cannot save state: %s", err);
    goto out;
  }
  wt->st = next;
  merged = malloc(MV_LIMIT_TLOG_NOTE + 1);
  if (!merged || mv_tlog_note_merge(
                     note, note_len, res->cosig_line, res->cosig_len, merged,
                     MV_LIMIT_TLOG_NOTE + 1, &merged_len, &d) != MV_OK) {
    wlog("cannot merge the cosignature: %s", d.msg);
    goto out;
  }
  snprintf(path, sizeof path, "%s/checkpoint", wt->dir);
  if (lcli_write_file_durable(path, merged, merged_len, 0644, err,
                              sizeof err) != 0)
    wlog("cannot keep the cosigned checkpoint: %s", err);
  snprintf(url, sizeof url, "%s/ledger/cosignature", wt->url);
  if (lcli_http("POST", url, wt->have_token ? wt->token : NULL, "text/plain",
                merged, merged_len, &resp, &status, err, sizeof err) != 0) {
    wlog("cosigned size %llu but could not submit it: %s",
         (unsigned long long)res->next.size, err);
    goto out;
  }
  if (status != 200) {
    wlog("cosigned size %llu but the log answered HTTP %ld: %.200s",
         (unsigned long long)res->next.size, status, mv_buf_cstr(&resp));
    goto out;
  }
  char root[45];
  mv_tlog_hash_to_b64(res->next.root, root);
  printf("cosigned %s size %llu root %s%s\n", res->cp.origin,
         (unsigned long long)res->next.size, root, same ? " (unchanged)" : "");
  fflush(stdout);
  r = ROUND_COSIGNED;
out:
  free(merged);
  mv_buf_release(&resp);
  return r;
}

/* One round: fetch, decide (mv_tlog_witness_check), then commit and submit
 * or refuse and keep the evidence. */
static enum round_result round_once(struct witness *wt) {
  struct mv_buf note, pb;
  struct mv_tlog_checkpoint cp;
  struct mv_tlog_proof proof;
  struct mv_tlog_witness_result *res = NULL;
  struct mv_diag d;
  char err[512], path[256];
  enum round_result r = ROUND_FAILED;
  mv_buf_init(&note, 0);
  mv_buf_init(&pb, 0);
  mv_diag_clear(&d);
  memset(&proof, 0, sizeof proof);
  if (fetch(wt, "/ledger/checkpoint?latest=1", &note, err, sizeof err) != 0) {
    wlog("cannot fetch the checkpoint: %s", err);
    goto out;
  }
  res = calloc(1, sizeof *res);
  if (!res)
    goto out;
  /* The new size decides which proof to ask for; a note that does not
   * open is refused by the decision below with the precise reason. */
  uint64_t old = wt->st.w.has ? wt->st.w.size : 0;
  if (mv_tlog_checkpoint_open(note.data ? note.data : "", note.len,
                              &wt->log_key, NULL, 0, &cp, NULL, NULL,
                              &d) == MV_OK &&
      wt->st.w.has && cp.size > wt->st.w.size && wt->st.w.size > 0) {
    snprintf(path, sizeof path, "/ledger/proof/consistency?from=%llu&to=%llu",
             (unsigned long long)wt->st.w.size, (unsigned long long)cp.size);
    if (fetch(wt, path, &pb, err, sizeof err) != 0) {
      wlog("cannot fetch the consistency proof: %s", err);
      goto out;
    }
    if (parse_proof(&pb, wt->st.w.size, cp.size, &proof, err, sizeof err) !=
        0) {
      /* A log that cannot give a proof for its own growth is refused. */
      char why[700];
      snprintf(why, sizeof why, "%s (log size %llu, last cosigned %llu)", err,
               (unsigned long long)cp.size, (unsigned long long)wt->st.w.size);
      wlog("REFUSED: %s", why);
      keep_evidence(wt, note.data, note.len, why);
      r = ROUND_REFUSED;
      goto out;
    }
  }
  mv_diag_clear(&d);
  uint64_t now = (uint64_t)time(NULL);
  int rc = mv_tlog_witness_check(&wt->st.w, old, note.data ? note.data : "",
                                 note.len, &wt->log_key, &proof, &wt->key, now,
                                 res, &d);
  if (rc != MV_OK) {
    if (res->reason == MV_TLOG_WITNESS_OK) {
      wlog("cannot cosign: %s", d.msg);
      goto out;
    }
    char why[400];
    bool opened = res->reason != MV_TLOG_WITNESS_MALFORMED &&
                  res->reason != MV_TLOG_WITNESS_UNKNOWN_KEY &&
                  res->reason != MV_TLOG_WITNESS_BAD_SIGNATURE &&
                  res->reason != MV_TLOG_WITNESS_ORIGIN;
    if (opened)
      snprintf(why, sizeof why, "%s (log size %llu, last cosigned %llu)",
               mv_tlog_witness_reason_str(res->reason),
               (unsigned long long)res->cp.size,
               (unsigned long long)wt->st.w.size);
    else
      snprintf(why, sizeof why, "%s (last cosigned %llu)",
               mv_tlog_witness_reason_str(res->reason),
               (unsigned long long)wt->st.w.size);
    wlog("REFUSED: %s", why);
    keep_evidence(wt, note.data ? note.data : "", note.len, why);
    r = ROUND_REFUSED;
    goto out;
  }
  r = commit_and_submit(wt, res, note.data, note.len);
out:
  free(res);
  mv_buf_release(&note);
  mv_buf_release(&pb);
  return r;
}

/* The log's key: --log-key, else the key pinned in the state, else fetched
 * from GET /ledger/key and pinned (trust on first use, reported). */
static int resolve_log_key(struct witness *wt, const char *log_key_file) {
  char err[512];
  struct mv_diag d;
  mv_diag_clear(&d);
  if (log_key_file) {
    struct mv_tlog_verifier k;
    char text[MV_TLOG_VKEY_TEXT_MAX];
    if (mv_tlog_verifier_load(log_key_file, &k, &d) != MV_OK ||
        k.type != MV_TLOG_KEY_ED25519) {
      fprintf(stderr, "medverse ledger witness: --log-key: %s: %s\n",
              log_key_file, d.msg[0] ? d.msg : "not a log (Ed25519) key");
      return EXIT_USAGE;
    }
    mv_tlog_verifier_format(&k, text);
    if (wt->st.pinned && strcmp(text, wt->st.log_key) != 0) {
      fprintf(stderr,
              "medverse ledger witness: REFUSED: --log-key differs from the "
              "log key pinned in %s/state (forged or replaced key); remove "
              "the state only after confirming the new key with the log "
              "operator\n",
              wt->dir);
      return 1;
    }
    wt->log_key = k;
    if (!wt->st.pinned) {
      snprintf(wt->st.log_key, sizeof wt->st.log_key, "%s", text);
      wt->st.pinned = true;
      if (state_save(wt->dir, &wt->st, err, sizeof err) != 0) {
        fprintf(stderr, "medverse ledger witness: %s\n", err);
        return 1;
      }
    }
    return 0;
  }
  if (wt->st.pinned) {
    if (mv_tlog_verifier_parse(wt->st.log_key, strlen(wt->st.log_key),
                               &wt->log_key, &d) != MV_OK) {
      fprintf(stderr, "%s/state: bad log-key line: %s\n", wt->dir, d.msg);
      return 1;
    }
    return 0;
  }
  struct mv_buf b;
  if (fetch(wt, "/ledger/key", &b, err, sizeof err) != 0) {
    fprintf(stderr, "medverse ledger witness: cannot fetch the log key: %s\n",
            err);
    mv_buf_release(&b);
    return 1;
  }
  int rc =
      mv_tlog_verifier_parse(b.data ? b.data : "", b.len, &wt->log_key, &d);
  mv_buf_release(&b);
  if (rc != MV_OK || wt->log_key.type != MV_TLOG_KEY_ED25519) {
    fprintf(stderr, "medverse ledger witness: the log's key is malformed: %s\n",
            d.msg);
    return 1;
  }
  mv_tlog_verifier_format(&wt->log_key, wt->st.log_key);
  wt->st.pinned = true;
  if (state_save(wt->dir, &wt->st, err, sizeof err) != 0) {
    fprintf(stderr, "medverse ledger witness: %s\n", err);
    return 1;
  }
  wlog("pinned the log key %s on first contact: confirm it with the log "
       "operator out of band",
       wt->st.log_key);
  return 0;
}

static int load_token(struct witness *wt, const char *file) {
  struct mv_buf b;
  char err[512];
  if (lcli_read_file(file, MV_LIMIT_LEDGER_TOKEN, &b, err, sizeof err) != 0) {
    fprintf(stderr, "medverse ledger witness: --token-file: %s\n", err);
    mv_buf_release(&b);
    return EXIT_USAGE;
  }
  size_t n = b.len;
  while (n > 0 && (b.data[n - 1] == '\n' || b.data[n - 1] == '\r' ||
                   b.data[n - 1] == ' '))
    n--;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)b.data[i] <= ' ' || (unsigned char)b.data[i] >= 0x7f) {
      fprintf(stderr, "%s:1: the token must be one line of printable ASCII\n",
              file);
      mv_buf_release(&b);
      return EXIT_USAGE;
    }
  if (n == 0) {
    fprintf(stderr, "%s:1: empty token\n", file);
    mv_buf_release(&b);
    return EXIT_USAGE;
  }
  memcpy(wt->token, b.data, n);
  wt->token[n] = '\0';
  wt->have_token = true;
  sodium_memzero(b.data, b.len);
  mv_buf_release(&b);
  return 0;
}

/* Set up from the flags: the URL, the witness key (must be cosignature/v1),
 * the token, the state directory and the log's key. 0, EXIT_USAGE or 1. */
static int witness_open(struct witness *wt, const char *url, const char *keyf,
                        const char *tokf, const char *dir,
                        const char *log_keyf) {
  struct mv_diag d;
  char err[512];
  int rc;
  wt->url = url;
  wt->dir = dir;
  size_t ul = strlen(url);
  if (ul > 0 && url[ul - 1] == '/') { /* no double slash in paths */
    wt->url_owned = strdup(url);
    if (!wt->url_owned)
      return 1;
    wt->url_owned[ul - 1] = '\0';
    wt->url = wt->url_owned;
  }
  mv_diag_clear(&d);
  if (mv_tlog_signer_load(keyf, &wt->key, &d) != MV_OK) {
    fprintf(stderr, "medverse ledger witness: --key: %s: %s\n", keyf, d.msg);
    return EXIT_USAGE;
  }
  if (wt->key.type != MV_TLOG_KEY_COSIG_V1) {
    fprintf(stderr,
            "medverse ledger witness: --key: %s: not a witness "
            "(cosignature/v1) key; make one with 'medverse ledger "
            "keygen'\n",
            keyf);
    return EXIT_USAGE;
  }
  if (tokf && (rc = load_token(wt, tokf)) != 0)
    return rc;
  if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "medverse ledger witness: --state: %s: %s\n", dir,
            strerror(errno));
    return EXIT_USAGE;
  }
  if (state_load(dir, &wt->st, err, sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  return resolve_log_key(wt, log_keyf);
}

int cmd_ledger_witness(int argc, char **argv) {
  const char *url = NULL, *keyf = NULL, *dir = NULL, *once = NULL,
             *interval_s = NULL, *tokf = NULL, *log_keyf = NULL;
  const struct lcli_flag flags[] = {
      {"log", "URL",
       "the log's base URL, e.g. https://log.example.org "
       "(required)",
       &url},
      {"key", "KEYFILE",
       "this witness's private key (medverse ledger keygen; "
       "required)",
       &keyf},
      {"state", "DIR", "state directory (created; required)", &dir},
      {"log-key", "VKEYFILE",
       "the log's verifier key; default: pinned in DIR/state, fetched from "
       "URL/ledger/key on first contact",
       &log_keyf},
      {"token-file", "FILE", "bearer token of an auditor account on the log",
       &tokf},
      {"once", NULL, "one round; exit 0 cosigned, 1 refused or failed", &once},
      {"interval", "S", "seconds between rounds (default 60)", &interval_s},
  };
  const char *pos[1];
  size_t n_pos;
  bool help;
  uint64_t interval = 60;
  struct witness *wt = NULL;
  int rc = lcli_parse(
      "witness", argc, argv, flags, sizeof flags / sizeof flags[0],
      "--log URL --key KEYFILE --state DIR [--once] [--interval S] "
      "[--token-file F]",
      "Witness a remote log: verify each new checkpoint's signature and its "
      "consistency\nwith the last one cosigned, cosign it and submit the "
      "cosignature. Refuses (and\nkeeps the note in DIR) a rollback, a fork, "
      "an inconsistent proof or a bad\nsignature. Runbook: docs/LEDGER.md.",
      pos, 0, 0, &n_pos, &help);
  if (rc != 0 || help)
    return rc;
  const char *missing = !url ? "log" : !keyf ? "key" : !dir ? "state" : NULL;
  if (missing) {
    fprintf(stderr, "medverse ledger witness: --%s: required\n", missing);
    return EXIT_USAGE;
  }
  if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
    fprintf(stderr, "medverse ledger witness: --log: expected an http:// or "
                    "https:// URL\n");
    return EXIT_USAGE;
  }
  if (interval_s &&
      ((rc = lcli_u64("witness", "interval", interval_s,
                      MV_LIMIT_LEDGER_INTERVAL_S, &interval)) != 0 ||
       interval == 0)) {
    if (rc == 0)
      fprintf(stderr, "medverse ledger witness: --interval: must be >= 1\n");
    return EXIT_USAGE;
  }
  wt = calloc(1, sizeof *wt);
  if (!wt)
    return 1;
  if ((rc = witness_open(wt, url, keyf, tokf, dir, log_keyf)) != 0)
    goto out;
  if (once) {
    rc = round_once(wt) == ROUND_COSIGNED ? 0 : 1;
    goto out;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  wlog("watching %s every %llu s (state in %s)", wt->url,
       (unsigned long long)interval, dir);
  while (!stop_flag) {
    (void)round_once(wt);
    for (uint64_t s = 0; s < interval && !stop_flag; s++)
      sleep(1);
  }
  wlog("stopped");
  rc = 0;
out:
  if (wt) {
    mv_tlog_signer_wipe(&wt->key);
    sodium_memzero(wt->token, sizeof wt->token);
    free(wt->url_owned);
  }
  free(wt);
  return rc;
}

int cmd_ledger_keygen(int argc, char **argv) {
  const char *name = NULL, *out = NULL, *type_s = NULL;
  const struct lcli_flag flags[] = {
      {"name", "NAME",
       "the key's name, e.g. witness.hospital-b.example "
       "(required)",
       &name},
      {"out", "FILE",
       "write the private key here, mode 0600 (required; "
       "never overwritten)",
       &out},
      {"type", "witness|log",
       "witness: cosignature/v1 (default); log: an Ed25519 note signer",
       &type_s},
  };
  const char *pos[1];
  size_t n_pos;
  bool help;
  char skey[MV_TLOG_SKEY_TEXT_MAX], vkey[MV_TLOG_VKEY_TEXT_MAX], err[512];
  struct mv_diag d;
  uint8_t type = MV_TLOG_KEY_COSIG_V1;
  int rc = lcli_parse("keygen", argc, argv, flags,
                      sizeof flags / sizeof flags[0], "--name NAME --out FILE",
                      "Make an Ed25519 key for a witness. Writes the private "
                      "key to FILE (0600) and\nprints the verifier key: give "
                      "that line to the log operator (config key\n"
                      "ledger-witness).",
                      pos, 0, 0, &n_pos, &help);
  if (rc != 0 || help)
    return rc;
  if (!name || !out) {
    fprintf(stderr, "medverse ledger keygen: --%s: required\n",
            !name ? "name" : "out");
    return EXIT_USAGE;
  }
  if (type_s) {
    if (strcmp(type_s, "witness") == 0)
      type = MV_TLOG_KEY_COSIG_V1;
    else if (strcmp(type_s, "log") == 0)
      type = MV_TLOG_KEY_ED25519;
    else {
      fprintf(stderr,
              "medverse ledger keygen: --type: expected witness or log\n");
      return EXIT_USAGE;
    }
  }
  mv_diag_clear(&d);
  if (mv_tlog_key_generate(name, type, skey, vkey, &d) != MV_OK) {
    fprintf(stderr, "medverse ledger keygen: --name: %s\n", d.msg);
    return EXIT_USAGE;
  }
  if (access(out, F_OK) == 0) {
    fprintf(stderr,
            "medverse ledger keygen: --out: %s exists (not "
            "overwritten)\n",
            out);
    rc = EXIT_USAGE;
    goto done;
  }
  size_t n = strlen(skey);
  skey[n] = '\n';
  if (lcli_write_file_durable(out, skey, n + 1, 0600, err, sizeof err) != 0) {
    fprintf(stderr, "medverse ledger keygen: --out: %s\n", err);
    rc = 1;
    goto done;
  }
  printf("%s\n", vkey);
  rc = 0;
done:
  sodium_memzero(skey, sizeof skey);
  return rc;
}
