/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `medverse ecg detect RECORD [--signal N] [--annotator NAME] [--out-dir DIR]
 * [--csv]`: QRS detection (src/sig/qrs.c, offline mode) on a WFDB record:
 * by default on its first two ECG leads (mv_sig_qrs_detect_leads) when it
 * has two or more, else on its first signal; --signal N uses that signal
 * alone. Writes the annotation file RECORD.NAME (default NAME "qrs")
 * next to the header, or in DIR, with one normal-beat annotation (N) per
 * detected R peak, so PhysioNet tools (bxb, rdann) read it; with --csv it
 * prints `sample,time_s` to stdout instead. Bad input: `FILE:LINE: message`
 * (or `medverse ecg detect: ...` for flags) on stderr, exit 2; runtime
 * failure exit 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mv_err.h"
#include "mv_sig_qrs.h"
#include "mv_sig_wfdb.h"

#define PROG "medverse ecg detect"
#define PATH_CAP 4096

static void usage(FILE *f) {
  fprintf(
      f,
      "usage: medverse ecg detect RECORD [--signal N] [--annotator NAME]\n"
      "                           [--out-dir DIR] [--csv]\n"
      "\n"
      "Detects QRS complexes (heart beats) in the WFDB record RECORD (path\n"
      "without extension: dir/100 reads dir/100.hea): on its first two ECG\n"
      "leads together when it has two or more, else on signal 0, and writes\n"
      "the annotation file RECORD.NAME (NAME from --annotator, default qrs)\n"
      "in the record's folder or in DIR, one normal-beat annotation (N) at\n"
      "each R peak. The algorithm is described in docs/QRS.md.\n"
      "\n"
      "  --signal N       use this signal alone, 0-based (default: two ECG\n"
      "                   leads when the record has them, else signal 0)\n"
      "  --annotator NAME annotation file extension (default qrs)\n"
      "  --out-dir DIR    write the annotation file in DIR\n"
      "  --csv            print sample,time_s per beat instead of writing\n"
      "\n"
      "Exit status: 0 success, 2 bad flags or input (FILE:LINE: message),\n"
      "1 runtime failure.\n");
}

static int annotator_ok(const char *a) {
  size_t n = strlen(a);
  if (n == 0 || n > 32)
    return 0;
  for (size_t i = 0; i < n; i++) {
    char c = a[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '_'))
      return 0;
  }
  return 1;
}

static int parse_signal(const char *s, int *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || !end || *end || end == s || v < 0 ||
      v >= MV_SIG_WFDB_MAX_SIGNALS)
    return -1;
  *out = (int)v;
  return 0;
}

static void print_diag(const char *fallback, int rc, const struct mv_diag *dg) {
  if (dg->path[0] && dg->line > 0)
    fprintf(stderr, "%s:%d: %s\n", dg->path, dg->line,
            dg->msg[0] ? dg->msg : mv_strerror(rc));
  else if (dg->path[0])
    fprintf(stderr, "%s: %s\n", dg->path,
            dg->msg[0] ? dg->msg : mv_strerror(rc));
  else
    fprintf(stderr, "%s: %s\n", fallback,
            dg->msg[0] ? dg->msg : mv_strerror(rc));
}

int cmd_ecg_detect(int argc, char **argv) {
  const char *record = NULL, *annotator = "qrs", *out_dir = NULL;
  int sig = 0, csv = 0, sig_given = 0;
  if (argc >= 1 && strcmp(argv[0], "detect") == 0) {
    argc--;
    argv++;
  }
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(a, "--csv") == 0) {
      csv = 1;
    } else if (strcmp(a, "--signal") == 0 || strcmp(a, "--annotator") == 0 ||
               strcmp(a, "--out-dir") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, PROG ": %s needs a value\n", a);
        return EXIT_USAGE;
      }
      const char *v = argv[++i];
      if (strcmp(a, "--signal") == 0) {
        sig_given = 1;
        if (parse_signal(v, &sig)) {
          fprintf(stderr, PROG ": --signal: expected a signal number 0..%d\n",
                  MV_SIG_WFDB_MAX_SIGNALS - 1);
          return EXIT_USAGE;
        }
      } else if (strcmp(a, "--annotator") == 0) {
        if (!annotator_ok(v)) {
          fprintf(stderr, PROG ": --annotator: 1-32 letters, digits or _\n");
          return EXIT_USAGE;
        }
        annotator = v;
      } else {
        out_dir = v;
      }
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, PROG ": unknown flag %s (see --help)\n", a);
      return EXIT_USAGE;
    } else if (!record) {
      record = a;
    } else {
      fprintf(stderr, PROG ": more than one RECORD given\n");
      return EXIT_USAGE;
    }
  }
  if (!record || !record[0]) {
    fprintf(stderr, PROG ": RECORD is required (see --help)\n");
    return EXIT_USAGE;
  }
  if (strlen(record) >= PATH_CAP - 40 ||
      (out_dir && strlen(out_dir) >= PATH_CAP - 100)) {
    fprintf(stderr, PROG ": path too long\n");
    return EXIT_USAGE;
  }

  int ret = 1, rc;
  struct mv_diag dg;
  struct mv_sig_wfdb_record *r = NULL;
  int64_t *beats = NULL;
  size_t nb = 0;
  struct mv_sig_ann *ann = NULL;
  char path[PATH_CAP];

  mv_diag_clear(&dg);
  rc = mv_sig_wfdb_read(record, MV_SIG_WFDB_LAX_CHECKSUM, &r, &dg);
  if (rc) {
    print_diag(record, rc, &dg);
    ret = (rc == MV_ENOMEM || rc == MV_EIO) ? 1 : EXIT_USAGE;
    goto out;
  }
  snprintf(path, sizeof(path), "%s.hea", record);
  if (sig >= r->n_sig) {
    fprintf(stderr, "%s:1: record has %d signal%s, --signal %d asked\n", path,
            r->n_sig, r->n_sig == 1 ? "" : "s", sig);
    ret = EXIT_USAGE;
    goto out;
  }
  if (!(r->fs >= MV_SIG_QRS_FS_MIN && r->fs <= MV_SIG_QRS_FS_MAX)) {
    fprintf(stderr,
            "%s:1: sampling frequency must be %g..%g Hz for QRS detection\n",
            path, MV_SIG_QRS_FS_MIN, MV_SIG_QRS_FS_MAX);
    ret = EXIT_USAGE;
    goto out;
  }
  if (r->n_samples <= 0 || !r->samples) {
    fprintf(stderr, "%s:1: record has no samples\n", path);
    ret = EXIT_USAGE;
    goto out;
  }
  /* Default: the first two ECG leads together (docs/QRS.md). */
  struct mv_sig_qrs_lead leads[MV_SIG_QRS_LEADS_MAX];
  size_t nl = 0;
  if (!sig_given)
    for (int s = 0; s < r->n_sig && nl < MV_SIG_QRS_LEADS_MAX; s++)
      if (mv_sig_qrs_is_ecg_lead(r->sig[s].desc, r->sig[s].units)) {
        leads[nl].offset = (size_t)s;
        leads[nl].gain_adu_per_mv = r->sig[s].gain;
        leads[nl].baseline_adu = r->sig[s].baseline;
        nl++;
      }
  if (nl < 2) { /* one lead: --signal N, or signal 0 */
    leads[0].offset = (size_t)sig;
    leads[0].gain_adu_per_mv = r->sig[sig].gain;
    leads[0].baseline_adu = r->sig[sig].baseline;
    nl = 1;
  }
  sig = (int)leads[0].offset;
  rc = mv_sig_qrs_detect_leads(r->samples, (size_t)r->n_samples,
                               (size_t)r->n_sig, r->fs, leads, nl, &beats, &nb);
  if (rc) {
    fprintf(stderr, PROG ": %s\n", mv_strerror(rc));
    ret = rc == MV_ENOMEM ? 1 : EXIT_USAGE;
    goto out;
  }

  if (csv) {
    printf("sample,time_s\n");
    for (size_t i = 0; i < nb; i++)
      printf("%lld,%.6f\n", (long long)beats[i], (double)beats[i] / r->fs);
    ret = fflush(stdout) == 0 ? 0 : 1;
    goto out;
  }

  if (nb) {
    ann = calloc(nb, sizeof(*ann));
    if (!ann) {
      fprintf(stderr, PROG ": %s\n", mv_strerror(MV_ENOMEM));
      goto out;
    }
  }
  for (size_t i = 0; i < nb; i++) {
    ann[i].sample = beats[i];
    ann[i].type = MV_SIG_ANN_NORMAL;
    ann[i].chan = (uint8_t)sig;
  }
  if (out_dir) {
    const char *base = strrchr(record, '/');
    base = base ? base + 1 : record;
    snprintf(path, sizeof(path), "%s/%s.%s", out_dir, base, annotator);
  } else {
    snprintf(path, sizeof(path), "%s.%s", record, annotator);
  }
  mv_diag_clear(&dg);
  rc = mv_sig_ann_write(path, ann, nb, &dg);
  if (rc) {
    print_diag(path, rc, &dg);
    goto out;
  }
  fprintf(stderr, "%s: %zu beats\n", path, nb);
  ret = 0;
out:
  free(ann);
  free(beats);
  mv_sig_wfdb_free(r);
  return ret;
}
