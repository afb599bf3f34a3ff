/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The combined triage assessment (mv_clf_triage.h): red flags override the
 * classifier (any red flag means "emergency", as in the Manchester Triage
 * System where a discriminator decides the category whatever else is
 * present); otherwise the urgency is the most urgent default among the
 * plausible labels of the differential (top label, plus any label with
 * probability >= 0.25), so a 30% chance of pneumonia is not hidden behind a
 * 60% common cold. Advice and summary come from advice.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "safety_int.h"
#include "triage_int.h"

enum { PLAUSIBLE_PCT = 25 };

static bool blank(const char *text, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (!(text[i] == ' ' || text[i] == '\t' || text[i] == '\n' ||
          text[i] == '\r' || text[i] == '\f' || text[i] == '\v'))
      return false;
  return true;
}

static void add_driver(struct mv_clf_triage_result *r, uint32_t s, uint32_t l) {
  if (l == 0 || r->n_drivers >= MV_CLF_TRIAGE_DRIVERS)
    return;
  for (size_t i = 0; i < r->n_drivers; i++) /* skip overlaps */
    if (s < r->drivers[i].start + r->drivers[i].len &&
        r->drivers[i].start < s + l)
      return;
  r->drivers[r->n_drivers++] = (struct mv_clf_triage_span){s, l};
}

int mv_clf_triage_from_probs(const struct mv_clf_model *model,
                             const double *probs, size_t n, const char *text,
                             size_t len, int lang,
                             struct mv_clf_triage_result *out) {
  if (!out || (!text && len > 0) || (n > 0 && (!model || !probs)) ||
      (model && n != 0 && n != mv_clf_n_labels(model)) ||
      (lang != MV_CLF_LANG_AUTO && lang != MV_CLF_LANG_EN &&
       lang != MV_CLF_LANG_ZH))
    return MV_EINVAL;
  memset(out, 0, sizeof *out);
  if (!text)
    text = "";
  size_t alen = len < MV_LIMIT_CLF_CX_TEXT ? len : MV_LIMIT_CLF_CX_TEXT;
  out->lang = lang != MV_CLF_LANG_AUTO ? lang : mv_clf_detect_lang(text, alen);
  if (out->lang != MV_CLF_LANG_ZH)
    out->lang = MV_CLF_LANG_EN;
  int rc = mv_clf_redflag_check(text, alen, &out->rf);
  if (rc != MV_OK)
    return rc;
  bool empty = blank(text, alen);

  /* Top-k differential by selection (k is small). */
  for (size_t k = 0; k < MV_LIMIT_CLF_TRIAGE_TOPK && k < n; k++) {
    size_t best = n;
    for (size_t i = 0; i < n; i++) {
      bool taken = false;
      for (size_t j = 0; j < k; j++)
        taken |= out->dx[j].label == mv_clf_label(model, i);
      if (!taken && isfinite(probs[i]) && (best == n || probs[i] > probs[best]))
        best = i;
    }
    if (best == n)
      break;
    const char *lab = mv_clf_label(model, best);
    int u = mv_clf_label_urgency(lab);
    out->dx[k] = (struct mv_clf_triage_dx){lab, probs[best],
                                           u < 0 ? MV_CLF_URG_SOON : u};
    out->n_dx = k + 1;
  }

  if (out->rf.red_flag) {
    out->urgency = MV_CLF_URG_EMERGENCY;
  } else if (out->n_dx == 0 || empty) {
    out->urgency = MV_CLF_URG_SOON; /* nothing to go on: be cautious */
  } else {
    out->urgency = out->dx[0].urgency;
    for (size_t i = 1; i < out->n_dx; i++)
      if (out->dx[i].p * 100.0 >= PLAUSIBLE_PCT &&
          out->dx[i].urgency > out->urgency)
        out->urgency = out->dx[i].urgency;
  }

  for (size_t i = 0; i < out->rf.n_hits; i++)
    add_driver(out, out->rf.hits[i].start, out->rf.hits[i].len);
  if (model && out->n_dx && !empty) {
    long top = mv_clf_label_find(model, out->dx[0].label);
    struct mv_clf_contrib c[MV_CLF_TRIAGE_DRIVERS];
    size_t nc = 0;
    if (top >= 0 && mv_clf_explain(model, text, alen, (size_t)top, c,
                                   MV_CLF_TRIAGE_DRIVERS, &nc) == MV_OK)
      for (size_t i = 0; i < nc; i++)
        add_driver(out, c[i].start, c[i].len);
  }
  mv__triage_advice(out, empty);
  mv__triage_summary(out, text, alen);
  return MV_OK;
}

int mv_clf_triage_assess(const struct mv_clf_model *model, const char *text,
                         size_t len, int lang,
                         struct mv_clf_triage_result *out) {
  if (!out || (!text && len > 0))
    return MV_EINVAL;
  size_t n = model ? mv_clf_n_labels(model) : 0;
  double *probs = NULL;
  int rc = MV_OK;
  if (n > 0) {
    probs = calloc(n, sizeof *probs);
    if (!probs)
      return MV_ENOMEM;
    size_t alen = len < MV_LIMIT_CLF_CX_TEXT ? len : MV_LIMIT_CLF_CX_TEXT;
    rc = mv_clf_predict(model, text ? text : "", alen, lang, probs, n);
    if (rc != MV_OK)
      goto out;
  }
  rc = mv_clf_triage_from_probs(model, probs, n, text, len, lang, out);
out:
  free(probs);
  return rc;
}
