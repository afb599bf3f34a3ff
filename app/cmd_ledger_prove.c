/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `medverse ledger prove` and `medverse ledger export`: evidence for third
 * parties, read-only beside a running server. prove prints one entry with
 * its RFC 9162 §2.1.3 inclusion proof against the newest signed checkpoint
 * the log files cover; export writes leaves, the hashes of the perfect
 * subtrees outside the requested range (RFC 9162 §2.1: any tree is the
 * fold of its left-aligned perfect subtrees) and the signed checkpoints, as
 * JSON lines a verifier can check without medverse
 * (docs/ledger-verify-export.mjs).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "ledger_cli.h"
#include "mv_store.h"
#include "mv_tlog.h"

/* The newest checkpoint not beyond `limit` entries, with its cosignature
 * lines merged in; plus, for export, every checkpoint in [lo, hi]. */
struct anchor {
  uint64_t limit, lo, hi;
  bool want_range;
  char *note; /* newest, with cosignatures; malloc'd */
  size_t note_len;
  uint64_t size;
  struct mv_buf range; /* JSON lines of checkpoints in [lo, hi] */
  int err;
};

static int merged_note(const char *note, const char *const *cosigs,
                       size_t n_cosigs, char **out, size_t *out_len) {
  size_t cap = MV_LIMIT_TLOG_NOTE + 1;
  char *a = malloc(cap), *b = malloc(cap);
  size_t len = strlen(note);
  if (!a || !b || len >= cap) {
    free(a);
    free(b);
    return MV_ENOMEM;
  }
  memcpy(a, note, len + 1);
  for (size_t i = 0; i < n_cosigs; i++) {
    size_t nl;
    char line[MV_TLOG_SIG_LINE_MAX + 2];
    snprintf(line, sizeof line, "%s%s", cosigs[i],
             cosigs[i][0] && cosigs[i][strlen(cosigs[i]) - 1] == '\n' ? ""
                                                                      : "\n");
    if (mv_tlog_note_merge(a, len, line, strlen(line), b, cap, &nl, NULL) !=
        MV_OK)
      continue; /* a malformed stored line is left out */
    char *t = a;
    a = b;
    b = t;
    len = nl;
  }
  free(b);
  *out = a;
  *out_len = len;
  return MV_OK;
}

static int on_cp(void *ctx, int64_t size, const char *note,
                 const char *const *cosigs, size_t n_cosigs) {
  struct anchor *a = ctx;
  if (size < 0 || (uint64_t)size > a->limit)
    return 0;
  char *m = NULL;
  size_t ml = 0;
  int rc = merged_note(note, cosigs, n_cosigs, &m, &ml);
  if (rc != MV_OK) {
    a->err = rc;
    return 1;
  }
  if (a->want_range && (uint64_t)size >= a->lo && (uint64_t)size <= a->hi) {
    if (mv_buf_appends(&a->range, "{\"checkpoint\":\"") != 0 ||
        mv_buf_append_json_str(&a->range, m, ml) != 0 ||
        mv_buf_appends(&a->range, "\"}\n") != 0) {
      free(m);
      a->err = MV_ETOOBIG;
      return 1;
    }
  }
  if (!a->note || (uint64_t)size >= a->size) {
    free(a->note);
    a->note = m;
    a->note_len = ml;
    a->size = (uint64_t)size;
  } else {
    free(m);
  }
  return 0;
}

/* Shared set-up: the log's verifier key, the read-only log files and the
 * newest checkpoint they cover (signature verified). */
struct evidence {
  struct mv_tlog_verifier key;
  char vkey[MV_TLOG_VKEY_TEXT_MAX];
  struct mv_tlog *log;
  struct anchor a;
  struct mv_tlog_checkpoint cp;
};

static int evidence_open(const char *cmd, const char *dir, const char *keyf,
                         struct evidence *ev) {
  char path[MV_LIMIT_PATH_MAX], ldir[MV_LIMIT_PATH_MAX];
  struct mv_diag d;
  struct mv_tlog_open_opts o = {.read_only = true, .create = false};
  int rc;
  mv_diag_clear(&d);
  if ((rc = lcli_data_dir(cmd, dir, ldir, sizeof ldir)) != 0)
    return rc;
  if (lcli_vkey_path(ldir, keyf, path, sizeof path) != 0) {
    fprintf(stderr, "medverse ledger %s: --log-key: path too long\n", cmd);
    return EXIT_USAGE;
  }
  if (mv_tlog_verifier_load(path, &ev->key, &d) != MV_OK ||
      ev->key.type != MV_TLOG_KEY_ED25519) {
    fprintf(stderr, "%s: %s\n", path,
            d.msg[0] ? d.msg : "not an Ed25519 note verifier key");
    return keyf ? EXIT_USAGE : 1;
  }
  mv_tlog_verifier_format(&ev->key, ev->vkey);
  rc = mv_tlog_open(ldir, &o, &ev->log, &d);
  if (rc != MV_OK) {
    fprintf(stderr, "medverse ledger %s: %s: %s (%s)\n", cmd, ldir,
            mv_strerror(rc), d.msg);
    return 1;
  }
  ev->a.limit = mv_tlog_size(ev->log);
  rc = mv_store_ledger_scan_checkpoints(dir, on_cp, &ev->a, &d);
  if (rc == MV_OK && ev->a.err)
    rc = ev->a.err;
  if (rc != MV_OK && rc != 1) {
    fprintf(stderr, "medverse ledger %s: %s: %s (%s)\n", cmd, dir,
            mv_strerror(rc), d.msg);
    return 1;
  }
  if (!ev->a.note) {
    fprintf(stderr,
            "medverse ledger %s: %s: no signed checkpoint covered by the log "
            "files yet\n",
            cmd, dir);
    return 1;
  }
  rc = mv_tlog_checkpoint_open(ev->a.note, ev->a.note_len, &ev->key, NULL, 0,
                               &ev->cp, NULL, NULL, &d);
  if (rc != MV_OK || ev->cp.size != ev->a.size) {
    fprintf(stderr,
            "medverse ledger %s: the checkpoint at size %llu does not verify "
            "under the log key (%s); run 'medverse ledger verify'\n",
            cmd, (unsigned long long)ev->a.size, d.msg);
    return 1;
  }
  return 0;
}

static void evidence_close(struct evidence *ev) {
  mv_tlog_close(ev->log);
  free(ev->a.note);
  mv_buf_release(&ev->a.range);
}

static int append_b64(struct mv_buf *b, const uint8_t *p, size_t n) {
  char tmp[((MV_LIMIT_TLOG_LEAF + 2) / 3) * 4 + 1];
  if (n > MV_LIMIT_TLOG_LEAF)
    return MV_ETOOBIG;
  lcli_b64(p, n, tmp, sizeof tmp);
  return mv_buf_appends(b, tmp);
}

/* "entry":{...}, the decoded leaf, when it decodes (nothing otherwise:
 * the leaf and its proof are the evidence, the decoding a convenience). */
static int append_entry_json(struct mv_buf *out, const uint8_t *leaf,
                             size_t len) {
  struct mv_tlog_entry e;
  char b64[45];
  if (mv_tlog_entry_decode(leaf, len, &e, NULL) != MV_OK)
    return 0;
  mv_tlog_hash_to_b64(e.commitment, b64);
  int w =
      mv_buf_appendf(out,
                     "\"entry\":{\"seq\":%llu,\"t_us\":%lld,\"action\":\"%s\","
                     "\"actor\":\"",
                     (unsigned long long)e.seq, (long long)e.t_us,
                     mv_tlog_action_name(e.action));
  w |= mv_buf_append_json_str(out, e.actor, strlen(e.actor));
  w |= mv_buf_appends(out, "\",\"type\":\"");
  w |= mv_buf_append_json_str(out, e.type, strlen(e.type));
  w |= mv_buf_appends(out, "\",\"id\":\"");
  w |= mv_buf_append_json_str(out, e.id, strlen(e.id));
  w |= mv_buf_appendf(out, "\",\"version\":%llu,\"commitment\":\"%s\"},",
                      (unsigned long long)e.version, b64);
  return w;
}

int cmd_ledger_prove(int argc, char **argv) {
  const char *index_s = NULL, *keyf = NULL;
  const struct lcli_flag flags[] = {
      {"index", "N", "the entry (0-based; required)", &index_s},
      {"log-key", "VKEYFILE",
       "the log's verifier key (default: DATA_DIR/ledger/ledger.vkey)", &keyf},
  };
  const char *pos[1];
  size_t n_pos;
  bool help;
  struct evidence ev;
  struct mv_buf out;
  struct mv_tlog_proof proof;
  struct mv_diag d;
  uint8_t leaf[MV_LIMIT_TLOG_LEAF], lh[32];
  size_t leaf_len = 0;
  uint64_t index = 0;
  char b64[45];
  int rc = lcli_parse(
      "prove", argc, argv, flags, sizeof flags / sizeof flags[0],
      "--index N DATA_DIR",
      "Print entry N with its leaf hash and inclusion proof against the "
      "newest signed\ncheckpoint (JSON; the signed note and the log's "
      "verifier key included), so a\nthird party can verify it (see "
      "docs/LEDGER.md).",
      pos, 1, 1, &n_pos, &help);
  if (rc != 0 || help)
    return rc;
  if (!index_s) {
    fprintf(stderr, "medverse ledger prove: --index: required\n");
    return EXIT_USAGE;
  }
  if ((rc = lcli_u64("prove", "index", index_s, INT64_MAX, &index)) != 0)
    return rc;
  memset(&ev, 0, sizeof ev);
  mv_buf_init(&ev.a.range, 0);
  mv_buf_init(&out, 64u * 1024u);
  mv_diag_clear(&d);
  if ((rc = evidence_open("prove", pos[0], keyf, &ev)) != 0)
    goto out;
  if (index >= ev.cp.size) {
    fprintf(stderr,
            "medverse ledger prove: --index: %llu is not covered by the "
            "newest checkpoint (%llu entries)\n",
            (unsigned long long)index, (unsigned long long)ev.cp.size);
    rc = EXIT_USAGE;
    goto out;
  }
  rc = 1;
  if (mv_tlog_read_leaf(ev.log, index, leaf, sizeof leaf, &leaf_len, &d) !=
          MV_OK ||
      mv_tlog_inclusion_proof(ev.log, index, ev.cp.size, &proof, &d) != MV_OK) {
    fprintf(stderr, "medverse ledger prove: entry %llu: %s\n",
            (unsigned long long)index, d.msg);
    goto out;
  }
  mv_tlog_hash_leaf(leaf, leaf_len, lh);
  if (mv_tlog_verify_inclusion(index, ev.cp.size, lh, 32, &proof, ev.cp.root,
                               32, &d) != MV_OK) {
    fprintf(stderr,
            "medverse ledger prove: entry %llu does not verify against the "
            "checkpoint at size %llu (%s); run 'medverse ledger verify'\n",
            (unsigned long long)index, (unsigned long long)ev.cp.size, d.msg);
    goto out;
  }
  int w =
      mv_buf_appendf(&out, "{\"index\":%llu,\"size\":%llu,",
                     (unsigned long long)index, (unsigned long long)ev.cp.size);
  w |= append_entry_json(&out, leaf, leaf_len);
  w |= mv_buf_appends(&out, "\"leaf\":\"");
  w |= append_b64(&out, leaf, leaf_len);
  mv_tlog_hash_to_b64(lh, b64);
  w |= mv_buf_appendf(&out, "\",\"leaf_hash\":\"%s\",", b64);
  mv_tlog_hash_to_b64(ev.cp.root, b64);
  w |= mv_buf_appendf(&out, "\"root\":\"%s\",\"hashes\":[", b64);
  for (size_t i = 0; i < proof.n; i++) {
    mv_tlog_hash_to_b64(proof.hash[i], b64);
    w |= mv_buf_appendf(&out, "%s\"%s\"", i ? "," : "", b64);
  }
  w |= mv_buf_appends(&out, "],\"checkpoint\":\"");
  w |= mv_buf_append_json_str(&out, ev.a.note, ev.a.note_len);
  w |= mv_buf_appends(&out, "\",\"log_key\":\"");
  w |= mv_buf_append_json_str(&out, ev.vkey, strlen(ev.vkey));
  w |= mv_buf_appends(&out, "\"}\n");
  if (w != 0) {
    fprintf(stderr, "medverse ledger prove: output too large\n");
    goto out;
  }
  fwrite(out.data, 1, out.len, stdout);
  rc = fflush(stdout) == 0 ? 0 : 1;
out:
  evidence_close(&ev);
  mv_buf_release(&out);
  return rc;
}

/* ---- export ---- */

/* Hash of the perfect subtree [lo, lo + n) (n a power of two), from the
 * stored leaf hashes. */
static int subtree_hash(struct mv_tlog *log, uint64_t lo, uint64_t n,
                        uint8_t out[32]) {
  uint8_t st[64][32];
  uint8_t ht[64];
  size_t k = 0;
  for (uint64_t i = lo; i < lo + n; i++) {
    if (mv_tlog_leaf_hash(log, i, st[k], NULL) != MV_OK)
      return MV_EIO;
    ht[k++] = 0;
    while (k >= 2 && ht[k - 1] == ht[k - 2]) {
      mv_tlog_hash_node(st[k - 2], st[k - 1], st[k - 2]);
      ht[k - 2]++;
      k--;
    }
  }
  memcpy(out, st[0], 32);
  return MV_OK;
}

static int emit_subtree(FILE *f, struct mv_tlog *log, uint64_t lo, uint64_t n) {
  uint8_t h[32];
  char b64[45];
  if (subtree_hash(log, lo, n, h) != MV_OK)
    return -1;
  mv_tlog_hash_to_b64(h, b64);
  return fprintf(f, "{\"subtree\":[%llu,%llu],\"hash\":\"%s\"}\n",
                 (unsigned long long)lo, (unsigned long long)(lo + n), b64) < 0
             ? -1
             : 0;
}

/* The perfect subtrees covering [lo, hi): aligned, as large as possible. */
static int emit_cover(FILE *f, struct mv_tlog *log, uint64_t lo, uint64_t hi) {
  while (lo < hi) {
    uint64_t n = 1;
    while ((lo % (n * 2)) == 0 && lo + n * 2 <= hi)
      n *= 2;
    if (emit_subtree(f, log, lo, n) != 0)
      return -1;
    lo += n;
  }
  return 0;
}

/* The export body (format in docs/LEDGER.md): 0, -1 on a write error, 1
 * after printing a read error. */
static int write_export(FILE *f, struct evidence *ev, uint64_t a, uint64_t b,
                        uint64_t s) {
  struct mv_diag d;
  mv_diag_clear(&d);
  struct mv_buf hdr;
  mv_buf_init(&hdr, 4096);
  int w = mv_buf_appends(&hdr, "{\"format\":\"medverse-ledger-export/1\","
                               "\"origin\":\"");
  w |= mv_buf_append_json_str(&hdr, ev->cp.origin, strlen(ev->cp.origin));
  w |= mv_buf_appends(&hdr, "\",\"log_key\":\"");
  w |= mv_buf_append_json_str(&hdr, ev->vkey, strlen(ev->vkey));
  w |= mv_buf_appendf(&hdr, "\",\"size\":%llu,\"start\":%llu,\"end\":%llu}\n",
                      (unsigned long long)s, (unsigned long long)a,
                      (unsigned long long)b);
  if (w == 0)
    fwrite(hdr.data, 1, hdr.len, f);
  mv_buf_release(&hdr);
  struct lcli_progress prog;
  lcli_progress_init(&prog, "export", s);
  if (w != 0 || emit_cover(f, ev->log, 0, a) != 0)
    return -1;
  for (uint64_t i = a; i < b; i++) {
    uint8_t leaf[MV_LIMIT_TLOG_LEAF];
    char b64[((MV_LIMIT_TLOG_LEAF + 2) / 3) * 4 + 1];
    size_t len;
    if (mv_tlog_read_leaf(ev->log, i, leaf, sizeof leaf, &len, &d) != MV_OK) {
      fprintf(stderr, "medverse ledger export: entry %llu: %s\n",
              (unsigned long long)i, d.msg);
      return 1;
    }
    lcli_b64(leaf, len, b64, sizeof b64);
    if (fprintf(f, "{\"index\":%llu,\"leaf\":\"%s\"}\n", (unsigned long long)i,
                b64) < 0)
      return -1;
    lcli_progress_step(&prog, i + 1);
  }
  if (emit_cover(f, ev->log, b, s) != 0)
    return -1;
  lcli_progress_done(&prog);
  if (ev->a.range.len)
    fwrite(ev->a.range.data, 1, ev->a.range.len, f);
  /* The anchor, unless the range already holds it. */
  if (b < s && fprintf(f, "{\"checkpoint\":\"") >= 0) {
    struct mv_buf cpb;
    mv_buf_init(&cpb, MV_LIMIT_TLOG_NOTE * 2);
    if (mv_buf_append_json_str(&cpb, ev->a.note, ev->a.note_len) == 0)
      fwrite(cpb.data, 1, cpb.len, f);
    mv_buf_release(&cpb);
    fprintf(f, "\"}\n");
  }
  return 0;
}

int cmd_ledger_export(int argc, char **argv) {
  const char *out_s = NULL, *start_s = NULL, *end_s = NULL, *keyf = NULL;
  const struct lcli_flag flags[] = {
      {"out", "FILE", "write to FILE (default: standard output)", &out_s},
      {"start", "A", "first entry (default 0)", &start_s},
      {"end", "B",
       "end of the range, exclusive (default: the newest "
       "checkpoint's size)",
       &end_s},
      {"log-key", "VKEYFILE",
       "the log's verifier key (default: DATA_DIR/ledger/ledger.vkey)", &keyf},
  };
  const char *pos[1];
  size_t n_pos;
  bool help;
  struct evidence ev;
  struct mv_diag d;
  FILE *f = NULL;
  uint64_t a = 0, b = 0;
  int rc = lcli_parse(
      "export", argc, argv, flags, sizeof flags / sizeof flags[0],
      "DATA_DIR [--out FILE] [--start A --end B]",
      "Write entries [A, B) and the signed checkpoints in the portable "
      "format\nmedverse-ledger-export/1 (JSON lines; docs/LEDGER.md). "
      "Verify it without\nmedverse: node docs/ledger-verify-export.mjs "
      "FILE.",
      pos, 1, 1, &n_pos, &help);
  if (rc != 0 || help)
    return rc;
  if (start_s && (rc = lcli_u64("export", "start", start_s, INT64_MAX, &a)))
    return rc;
  if (end_s && (rc = lcli_u64("export", "end", end_s, INT64_MAX, &b)))
    return rc;
  memset(&ev, 0, sizeof ev);
  mv_buf_init(&ev.a.range, 256u * 1024u * 1024u);
  mv_diag_clear(&d);
  ev.a.want_range = true;
  ev.a.lo = a;
  ev.a.hi = end_s ? b : UINT64_MAX;
  if ((rc = evidence_open("export", pos[0], keyf, &ev)) != 0)
    goto out;
  uint64_t s = ev.cp.size;
  if (!end_s)
    b = s;
  if (b > s) {
    fprintf(stderr,
            "medverse ledger export: --end: %llu is beyond the newest "
            "checkpoint (%llu entries)\n",
            (unsigned long long)b, (unsigned long long)s);
    rc = EXIT_USAGE;
    goto out;
  }
  if (a > b) {
    fprintf(stderr,
            "medverse ledger export: --start: %llu is after --end "
            "%llu\n",
            (unsigned long long)a, (unsigned long long)b);
    rc = EXIT_USAGE;
    goto out;
  }
  rc = 1;
  f = out_s ? fopen(out_s, "w") : stdout;
  if (!f) {
    fprintf(stderr, "medverse ledger export: --out: %s: %s\n", out_s,
            strerror(errno));
    goto out;
  }
  int wr = write_export(f, &ev, a, b, s);
  if (wr > 0)
    goto out;
  if (wr < 0)
    goto io;
  if (fflush(f) != 0 || ferror(f))
    goto io;
  rc = 0;
  goto out;
io:
  fprintf(stderr, "medverse ledger export: write error\n");
  rc = 1;
out:
  if (f && f != stdout && fclose(f) != 0 && rc == 0) {
    fprintf(stderr, "medverse ledger export: --out: write error\n");
    rc = 1;
  }
  evidence_close(&ev);
  return rc;
}
