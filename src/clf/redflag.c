/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Red-flag matching (mv_clf_redflag.h): run every row of the rule table
 * (redflag_table.c) over the normalised text; a cue counts when its first
 * byte is in current context (mv_clf_context.h), the row's required words
 * occur in the same sentence, and no mild look-alike word suppresses it
 * (unless a severity word overrides). Deterministic keyword rules rather
 * than a learned model, so every decision can be traced to a cited row, as
 * the triage systems they come from (Manchester Triage System
 * discriminators, NHS 111 pathways) are themselves rule-based.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "safety_int.h"

static const struct {
  const char *id, *en, *zh;
} cats[MV_CLF_RF_N_CAT] = {
    {"none", "no red flag", "无危急征象"},
    {"heart_attack", "possible heart attack", "疑似心脏病发作（心梗）"},
    {"stroke", "possible stroke", "疑似中风（脑卒中）"},
    {"breathing_difficulty", "severe breathing difficulty", "严重呼吸困难"},
    {"major_bleeding", "major bleeding", "大出血"},
    {"loss_of_consciousness", "loss of consciousness", "意识丧失"},
    {"seizure", "seizure (fit)", "抽搐（癫痫发作）"},
    {"anaphylaxis", "severe allergic reaction (anaphylaxis)",
     "严重过敏反应（过敏性休克）"},
    {"sepsis", "possible sepsis", "疑似脓毒症（败血症）"},
    {"acute_abdomen", "severe abdominal pain (acute abdomen)",
     "剧烈腹痛（急腹症）"},
    {"thunderclap_headache", "sudden severe (thunderclap) headache",
     "突发剧烈头痛（雷击样头痛）"},
    {"major_trauma", "serious injury (major trauma)", "严重创伤"},
    {"poisoning_overdose", "poisoning or overdose", "中毒或药物过量"},
    {"suicide_self_harm", "suicidal thoughts or self-harm", "自杀念头或自伤"},
    {"seriously_ill_child", "a seriously ill child", "儿童病情危重"},
    {"pregnancy_emergency", "pregnancy emergency", "孕期急症"},
};

const char *mv_clf_rf_id(int cat) {
  return cat >= 0 && cat < MV_CLF_RF_N_CAT ? cats[cat].id : NULL;
}

int mv_clf_rf_from_id(const char *id) {
  if (!id)
    return -1;
  for (int i = 0; i < MV_CLF_RF_N_CAT; i++)
    if (strcmp(cats[i].id, id) == 0)
      return i;
  return -1;
}

const char *mv_clf_rf_title(int cat, bool zh) {
  if (cat < 0 || cat >= MV_CLF_RF_N_CAT)
    return NULL;
  return zh ? cats[cat].zh : cats[cat].en;
}

size_t mv_clf_rf_rows(void) {
  return mv__rf_table_len;
}

int mv_clf_rf_row_cat(size_t i) {
  return i < mv__rf_table_len ? mv__rf_table[i].cat : -1;
}

const char *mv_clf_rf_row_source(size_t i) {
  return i < mv__rf_table_len ? mv__rf_table[i].source : NULL;
}

/* One index over the cues of every row: cue_pats[i] belongs to cue_row[i]. */
static const char **cue_pats;
static uint16_t *cue_row;
static struct mv__pset ps_cues;
/* Per row: require, suppress, severe lists as indexes. */
static struct mv__pset (*row_sets)[3];
static pthread_once_t cue_once = PTHREAD_ONCE_INIT;
static int cue_status = MV_OK;

static void cue_init(void) {
  size_t n = 0;
  for (size_t r = 0; r < mv__rf_table_len; r++)
    for (size_t k = 0; mv__rf_table[r].cues[k]; k++)
      n++;
  cue_pats = malloc((n ? n : 1) * sizeof *cue_pats);
  cue_row = malloc((n ? n : 1) * sizeof *cue_row);
  if (!cue_pats || !cue_row) {
    cue_status = MV_ENOMEM;
    return;
  }
  n = 0;
  for (size_t r = 0; r < mv__rf_table_len; r++)
    for (size_t k = 0; mv__rf_table[r].cues[k]; k++) {
      cue_pats[n] = mv__rf_table[r].cues[k];
      cue_row[n++] = (uint16_t)r;
    }
  ps_cues = (struct mv__pset){.pats = cue_pats, .n = n};
  cue_status = mv__pset_build(&ps_cues);
  row_sets = calloc(mv__rf_table_len, sizeof *row_sets);
  if (!row_sets) {
    cue_status = MV_ENOMEM;
    return;
  }
  for (size_t r = 0; r < mv__rf_table_len; r++) {
    const char *const *lists[3] = {mv__rf_table[r].require,
                                   mv__rf_table[r].suppress,
                                   mv__rf_table[r].severe};
    for (size_t j = 0; j < 3; j++) {
      size_t m = 0;
      while (lists[j] && lists[j][m])
        m++;
      row_sets[r][j] = (struct mv__pset){.pats = lists[j], .n = m};
      if (lists[j] && mv__pset_build(&row_sets[r][j]) != MV_OK)
        cue_status = MV_ENOMEM;
    }
  }
}

static bool contains_current(const struct mv__pset *ps,
                             const struct mv__cx_doc *d, size_t from,
                             size_t to) {
  for (size_t i = from; i < to && i < d->nlen; i++)
    if (d->cx[i] == MV_CLF_CX_CURRENT &&
        ((unsigned char)d->norm[i] & 0xc0) != 0x80 &&
        mv__pset_match(ps, d, i, NULL))
      return true;
  return false;
}

/* A hypothetical suicide cue counts only when the sentence speaks of the
 * patient ("if I killed myself"), not a general question ("如何预防自杀"). */
static bool first_person(const struct mv__cx_doc *d, size_t i) {
  static const char *const me[] = {"i", "im", "me", "my", "myself", "我", NULL};
  static const char *const info[] = {
      "prevent*", "预防", "防止", "signs of", "risk", "statistics", NULL};
  size_t a, b;
  mv__cx_sentence(d, i, &a, &b);
  return mv__cx_contains(d, a, b, me) && !mv__cx_contains(d, a, b, info);
}

/* Does a cue of row r matched at i (in current context) count? */
static bool row_accepts(const struct mv__cx_doc *d, size_t r, size_t i) {
  const struct mv__rf_row *row = &mv__rf_table[r];
  const struct mv__pset *ps = row_sets[r];
  size_t a, b;
  mv__cx_sentence(d, i, &a, &b);
  /* Required and severity words count only in current context ("not
   * pregnant", "不严重"); suppressors count anywhere. */
  if (row->require && !contains_current(&ps[0], d, a, b))
    return false;
  if (row->suppress && mv__pset_contains(&ps[1], d, a, b) &&
      !(row->severe && contains_current(&ps[2], d, a, b)))
    return false;
  return true;
}

/* Primary-category order: the populations that change the advice first. */
static int prio(int cat) {
  static const int order[] = {
      MV_CLF_RF_SUICIDE,     MV_CLF_RF_PREGNANCY,    MV_CLF_RF_CHILD,
      MV_CLF_RF_ANAPHYLAXIS, MV_CLF_RF_SEPSIS,       MV_CLF_RF_POISONING,
      MV_CLF_RF_TRAUMA,      MV_CLF_RF_HEART_ATTACK, MV_CLF_RF_STROKE,
      MV_CLF_RF_THUNDERCLAP, MV_CLF_RF_SEIZURE,      MV_CLF_RF_BLEEDING,
      MV_CLF_RF_ABDOMEN,     MV_CLF_RF_BREATHING,    MV_CLF_RF_UNCONSCIOUS};
  for (int i = 0; i < (int)MV_ARRAY_LEN(order); i++)
    if (order[i] == cat)
      return i;
  return 99;
}

int mv_clf_redflag_check(const char *text, size_t len,
                         struct mv_clf_rf_result *out) {
  if (!out || (!text && len > 0))
    return MV_EINVAL;
  memset(out, 0, sizeof *out);
  if (pthread_once(&cue_once, cue_init) != 0 || cue_status != MV_OK)
    return MV_ENOMEM;
  struct mv__cx_doc d;
  int rc = mv__cx_doc_init(&d, text, len);
  if (rc != MV_OK)
    return rc;
  bool seen[MV_CLF_RF_N_CAT] = {false};
  for (size_t i = 0; i < d.nlen; i++) {
    /* Suicidal thoughts count even when phrased as a condition ("if I
     * killed myself no one would care"): ideation is the red flag. */
    bool hyp = d.cx[i] == MV_CLF_CX_HYPOTHETICAL;
    if (((unsigned char)d.norm[i] & 0xc0) == 0x80 ||
        (d.cx[i] != MV_CLF_CX_CURRENT && !hyp))
      continue;
    size_t lo, hi;
    mv__pset_at(&ps_cues, &d, i, &lo, &hi);
    for (size_t k = lo; k < hi; k++) {
      if (!mv__pkey_may(&ps_cues.keys[k], &d, i))
        continue;
      uint32_t c = ps_cues.keys[k].pat;
      const struct mv__rf_row *row = &mv__rf_table[cue_row[c]];
      if (seen[row->cat] || out->n_hits >= MV_LIMIT_CLF_RF_HITS ||
          (hyp && row->cat != MV_CLF_RF_SUICIDE))
        continue;
      size_t l = mv__cx_match(&d, i, cue_pats[c]);
      if (l == 0 || !row_accepts(&d, cue_row[c], i) ||
          (hyp && !first_person(&d, i)))
        continue;
      seen[row->cat] = true;
      size_t os = d.n2o[i];
      size_t oe = i + l < d.nlen ? d.n2o[i + l] : d.olen;
      out->hits[out->n_hits++] = (struct mv_clf_rf_hit){
          row->cat, (uint32_t)os, (uint32_t)(oe > os ? oe - os : 0),
          (unsigned)cue_row[c], row->source};
    }
  }
  out->red_flag = out->n_hits > 0;
  out->category = MV_CLF_RF_NONE;
  for (size_t i = 0; i < out->n_hits; i++)
    if (out->category == MV_CLF_RF_NONE ||
        prio(out->hits[i].cat) < prio(out->category))
      out->category = out->hits[i].cat;
  mv__cx_doc_release(&d);
  return MV_OK;
}
