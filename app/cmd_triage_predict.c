/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `medverse triage predict [--model MODEL] [--lang auto|en|zh]`: reads one
 * text per line from stdin and prints one JSON line per input line with the
 * exact keys differential, urgency, red_flag, red_flag_category, advice
 * (mv_clf_triage_assess). Red flags work without a model. An empty or
 * over-long line yields {"error":..., "line":N} in its place so output lines
 * stay paired with input lines; invalid UTF-8 is assessed with the bad bytes
 * acting as separators. Exit 0 when stdin was read to the end, 2 for usage
 * or an unusable model file, 1 for runtime failures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mv_buf.h"
#include "mv_clf_triage.h"
#include "mv_limits.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: medverse triage predict [--model MODEL] [--lang auto|en|zh]\n"
          "Reads one symptom description per line from stdin and prints one "
          "JSON line each:\n"
          "  {\"differential\":[{\"label\":...,\"p\":...},...],"
          "\"urgency\":\"emergency|urgent|soon|self-care\",\n"
          "   \"red_flag\":true|false,\"red_flag_category\":...|null,"
          "\"advice\":...}\n"
          "Without --model only red flags and urgency are assessed "
          "(differential []).\n"
          "Lines longer than %u bytes or empty lines give "
          "{\"error\":...,\"line\":N}.\n"
          "This is not a diagnosis.\n",
          MV_LIMIT_CLF_TRIAGE_LINE);
}

/* One JSON line for a result into b (reset first). */
static int result_json(struct mv_buf *b, const struct mv_clf_triage_result *r) {
  int rc = mv_buf_appends(b, "{\"differential\":[");
  for (size_t i = 0; rc == MV_OK && i < r->n_dx; i++) {
    rc = mv_buf_appends(b, i ? ",{\"label\":\"" : "{\"label\":\"");
    if (rc == MV_OK)
      rc = mv_buf_append_json_str(b, r->dx[i].label, strlen(r->dx[i].label));
    if (rc == MV_OK)
      rc = mv_buf_appendf(b, "\",\"p\":%.4f}", r->dx[i].p);
  }
  if (rc == MV_OK)
    rc = mv_buf_appendf(b,
                        "],\"urgency\":\"%s\",\"red_flag\":%s,"
                        "\"red_flag_category\":",
                        mv_clf_urgency_id(r->urgency),
                        r->rf.red_flag ? "true" : "false");
  if (rc == MV_OK)
    rc = r->rf.red_flag
             ? mv_buf_appendf(b, "\"%s\"", mv_clf_rf_id(r->rf.category))
             : mv_buf_appends(b, "null");
  if (rc == MV_OK)
    rc = mv_buf_appends(b, ",\"advice\":\"");
  if (rc == MV_OK)
    rc = mv_buf_append_json_str(b, r->advice, strlen(r->advice));
  if (rc == MV_OK)
    rc = mv_buf_appends(b, "\"}\n");
  return rc;
}

static void error_line(const char *msg, size_t line) {
  printf("{\"error\":\"%s\",\"line\":%zu}\n", msg, line);
}

/* Read one line (without its LF/CRLF) into buf (cap bytes). Returns 1 for a
 * line, 0 at EOF with nothing read; *too_long set when the line was longer
 * than cap (the rest is skipped). */
static int read_line(FILE *in, char *buf, size_t cap, size_t *out_len,
                     bool *too_long) {
  size_t n = 0;
  int c, any = 0;
  *too_long = false;
  while ((c = getc(in)) != EOF) {
    any = 1;
    if (c == '\n')
      break;
    if (n < cap)
      buf[n++] = (char)c;
    else
      *too_long = true;
  }
  if (!any)
    return 0;
  if (!*too_long && n > 0 && buf[n - 1] == '\r')
    n--;
  *out_len = n;
  return 1;
}

int cmd_triage_predict(int argc, char **argv) {
  const char *model_path = NULL, *lang_s = "auto";
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) {
      model_path = argv[++i];
    } else if (strcmp(argv[i], "--lang") == 0 && i + 1 < argc) {
      lang_s = argv[++i];
    } else {
      fprintf(stderr,
              "medverse triage predict: %s: unknown or incomplete "
              "option (see --help)\n",
              argv[i]);
      return EXIT_USAGE;
    }
  }
  int lang;
  if (strcmp(lang_s, "auto") == 0)
    lang = MV_CLF_LANG_AUTO;
  else if (strcmp(lang_s, "en") == 0)
    lang = MV_CLF_LANG_EN;
  else if (strcmp(lang_s, "zh") == 0)
    lang = MV_CLF_LANG_ZH;
  else {
    fprintf(stderr, "medverse triage predict: --lang: expected auto, en or "
                    "zh\n");
    return EXIT_USAGE;
  }

  struct mv_clf_model *model = NULL;
  struct mv_clf_triage_result *res = NULL;
  char *line = NULL;
  struct mv_buf out;
  mv_buf_init(&out, 64u * 1024u);
  int ret = 1;
  if (model_path) {
    struct mv_diag dg = {0};
    int rc = mv_clf_model_load(model_path, &model, &dg);
    if (rc != MV_OK) {
      fprintf(stderr, "medverse triage predict: --model: %s: %s\n", model_path,
              dg.msg[0] ? dg.msg : mv_strerror(rc));
      ret = rc == MV_ENOMEM ? 1 : EXIT_USAGE;
      goto out;
    }
  }
  res = malloc(sizeof *res);
  line = malloc(MV_LIMIT_CLF_TRIAGE_LINE);
  if (!res || !line) {
    fprintf(stderr, "medverse triage predict: out of memory\n");
    goto out;
  }
  size_t len, lineno = 0;
  bool too_long;
  while (read_line(stdin, line, MV_LIMIT_CLF_TRIAGE_LINE, &len, &too_long)) {
    lineno++;
    if (too_long) {
      error_line("line too long", lineno);
      fflush(stdout);
      continue;
    }
    bool blank = true;
    for (size_t i = 0; i < len && blank; i++)
      blank = line[i] == ' ' || line[i] == '\t' || line[i] == '\r';
    if (blank) {
      error_line("empty text", lineno);
      fflush(stdout);
      continue;
    }
    int rc = mv_clf_triage_assess(model, line, len, lang, res);
    mv_buf_reset(&out);
    if (rc == MV_OK)
      rc = result_json(&out, res);
    if (rc != MV_OK) {
      fprintf(stderr, "medverse triage predict: line %zu: %s\n", lineno,
              mv_strerror(rc));
      goto out;
    }
    fputs(mv_buf_cstr(&out), stdout);
    fflush(stdout);
  }
  ret = ferror(stdin) ? 1 : 0;
  if (ret)
    fprintf(stderr, "medverse triage predict: error reading stdin\n");
out:
  mv_buf_release(&out);
  free(line);
  free(res);
  mv_clf_model_free(model);
  return ret;
}
