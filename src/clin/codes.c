/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one table of vital signs and waveforms (mv_clin.h) and its lookups.
 * Codes are LOINC (https://loinc.org) and ISO/IEEE 11073-10101 (the MDC
 * nomenclature, also used by IHE PCD-01 and the HL7 Rosetta table); a
 * numeric MDC code is partition << 16 | term code (SCADA partition 2, so
 * MDC_ECG_HEART_RATE, term 16770, is 147842; dimensions partition 4).
 * Ranges: "possible" rejects values no living patient or sensor can give
 * (HR 5000, SpO2 140); "plausible" flags values that are possible but so
 * rare that an artefact is likelier. Lookups use sorted index arrays built
 * once (pthread_once), so every lookup is a binary search.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mv_clin.h"

#define BPM "/min", "MDC_DIM_BEAT_PER_MIN", 264864u
#define RPM "/min", "MDC_DIM_RESP_PER_MIN", 264928u
#define PCT "%", "MDC_DIM_PERCENT", 262688u
#define MMHG "mm[Hg]", "MDC_DIM_MMHG", 266016u
#define MV "mV", "MDC_DIM_MILLI_VOLT", 266418u
#define NOLEAD -1
#define HR_PLAUS                                                               \
  { 25, 250 }
#define HR_POSS                                                                \
  { 0, 350 }
#define RR_PLAUS                                                               \
  { 4, 60 }
#define RR_POSS                                                                \
  { 0, 150 }
#define SYS_PLAUS                                                              \
  { 40, 280 }
#define SYS_POSS                                                               \
  { 0, 400 }
#define DIA_PLAUS                                                              \
  { 20, 180 }
#define DIA_POSS                                                               \
  { 0, 300 }
#define MAP_PLAUS                                                              \
  { 30, 220 }
#define MAP_POSS                                                               \
  { 0, 350 }
#define ECG_PLAUS                                                              \
  { -5, 5 }
#define ECG_POSS                                                               \
  { -50, 50 }
#define ECG(ref, code, lead, name)                                             \
  {                                                                            \
    NULL, "ECG lead " name, MV, ref, code, ECG_PLAUS, ECG_POSS,                \
        MV_CLIN_WAVEFORM, lead, false, 0                                       \
  }

/* Order matters for one thing only: the first entry with a given LOINC code
 * is the one mv_clin_by_loinc returns. Field order: loinc, display, ucum,
 * mdc_unit_ref, mdc_unit_code, mdc_ref, mdc_code, plausible, possible, kind,
 * lead, vital_sign, molar_mass. */
static const struct mv_clin_code table[] = {
    {"8867-4", "Heart rate", BPM, "MDC_ECG_HEART_RATE", 147842u, HR_PLAUS,
     HR_POSS, MV_CLIN_QUANTITY, NOLEAD, true, 0},
    {"8867-4", "Heart rate (NIBP pulse)", BPM, "MDC_PULS_RATE_NON_INV", 149546u,
     HR_PLAUS, HR_POSS, MV_CLIN_QUANTITY, NOLEAD, true, 0},
    {"8889-8", "Heart rate by Pulse oximetry", BPM, "MDC_PULS_OXIM_PULS_RATE",
     149530u, HR_PLAUS, HR_POSS, MV_CLIN_QUANTITY, NOLEAD, false, 0},
    {"59408-5",
     "Oxygen saturation in Arterial blood by Pulse oximetry",
     PCT,
     "MDC_PULS_OXIM_SAT_O2",
     150456u,
     {50, 100},
     {0, 100},
     MV_CLIN_QUANTITY,
     NOLEAD,
     true,
     0},
    {"2708-6",
     "Oxygen saturation in Arterial blood",
     PCT,
     NULL,
     0u,
     {50, 100},
     {0, 100},
     MV_CLIN_QUANTITY,
     NOLEAD,
     true,
     0},
    {"9279-1", "Respiratory rate", RPM, "MDC_RESP_RATE", 151562u, RR_PLAUS,
     RR_POSS, MV_CLIN_QUANTITY, NOLEAD, true, 0},
    {"9279-1", "Respiratory rate (transthoracic impedance)", RPM,
     "MDC_TTHOR_RESP_RATE", 151578u, RR_PLAUS, RR_POSS, MV_CLIN_QUANTITY,
     NOLEAD, true, 0},
    {"9279-1", "Respiratory rate (CO2)", RPM, "MDC_CO2_RESP_RATE", 151594u,
     RR_PLAUS, RR_POSS, MV_CLIN_QUANTITY, NOLEAD, true, 0},
    {"85354-9", "Blood pressure panel", MMHG, "MDC_PRESS_BLD_NONINV", 150020u,
     SYS_PLAUS, SYS_POSS, MV_CLIN_BP_PANEL, NOLEAD, true, 0},
    {"8480-6", "Systolic blood pressure", MMHG, "MDC_PRESS_BLD_NONINV_SYS",
     150021u, SYS_PLAUS, SYS_POSS, MV_CLIN_QUANTITY, NOLEAD, true, 0},
    {"8462-4", "Diastolic blood pressure", MMHG, "MDC_PRESS_BLD_NONINV_DIA",
     150022u, DIA_PLAUS, DIA_POSS, MV_CLIN_QUANTITY, NOLEAD, true, 0},
    {"8478-0", "Mean blood pressure", MMHG, "MDC_PRESS_BLD_NONINV_MEAN",
     150023u, MAP_PLAUS, MAP_POSS, MV_CLIN_QUANTITY, NOLEAD, false, 0},
    {"8480-6", "Systolic blood pressure (arterial line)", MMHG,
     "MDC_PRESS_BLD_ART_ABP_SYS", 150037u, SYS_PLAUS, SYS_POSS,
     MV_CLIN_QUANTITY, NOLEAD, true, 0},
    {"8462-4", "Diastolic blood pressure (arterial line)", MMHG,
     "MDC_PRESS_BLD_ART_ABP_DIA", 150038u, DIA_PLAUS, DIA_POSS,
     MV_CLIN_QUANTITY, NOLEAD, true, 0},
    {"8478-0", "Mean blood pressure (arterial line)", MMHG,
     "MDC_PRESS_BLD_ART_ABP_MEAN", 150039u, MAP_PLAUS, MAP_POSS,
     MV_CLIN_QUANTITY, NOLEAD, false, 0},
    {"8480-6", "Systolic blood pressure (cuff)", MMHG, "MDC_PRESS_CUFF_SYS",
     150301u, SYS_PLAUS, SYS_POSS, MV_CLIN_QUANTITY, NOLEAD, true, 0},
    {"8462-4", "Diastolic blood pressure (cuff)", MMHG, "MDC_PRESS_CUFF_DIA",
     150302u, DIA_PLAUS, DIA_POSS, MV_CLIN_QUANTITY, NOLEAD, true, 0},
    {"8478-0", "Mean blood pressure (cuff)", MMHG, "MDC_PRESS_CUFF_MEAN",
     150303u, MAP_PLAUS, MAP_POSS, MV_CLIN_QUANTITY, NOLEAD, false, 0},
    {"8310-5",
     "Body temperature",
     "Cel",
     "MDC_DIM_DEGC",
     268192u,
     "MDC_TEMP_BODY",
     150364u,
     {30, 43},
     {5, 47},
     MV_CLIN_QUANTITY,
     NOLEAD,
     true,
     0},
    {"29463-7",
     "Body weight",
     "kg",
     "MDC_DIM_KILO_G",
     263875u,
     "MDC_MASS_BODY_ACTUAL",
     188736u,
     {0.3, 350},
     {0.1, 700},
     MV_CLIN_QUANTITY,
     NOLEAD,
     true,
     0},
    {"8302-2",
     "Body height",
     "cm",
     "MDC_DIM_CENTI_M",
     263441u,
     "MDC_LEN_BODY_ACTUAL",
     188740u,
     {20, 250},
     {10, 300},
     MV_CLIN_QUANTITY,
     NOLEAD,
     true,
     0},
    /* Glucose, molar mass of C6H12O6 180.156 g/mol: 1 mmol/L = 18.0156
     * mg/dL. */
    {"2339-0",
     "Glucose [Mass/volume] in Blood",
     "mg/dL",
     "MDC_DIM_MILLI_G_PER_DL",
     264274u,
     "MDC_CONC_GLU_GEN",
     160020u,
     {20, 600},
     {0, 3000},
     MV_CLIN_QUANTITY,
     NOLEAD,
     false,
     180.156},
    {"41653-7",
     "Glucose [Mass/volume] in Capillary blood by Glucometer",
     "mg/dL",
     "MDC_DIM_MILLI_G_PER_DL",
     264274u,
     "MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD",
     160184u,
     {20, 600},
     {0, 3000},
     MV_CLIN_QUANTITY,
     NOLEAD,
     false,
     180.156},
    /* Waveforms: MDC_ECG_ELEC_POTL_<lead> = 131328 + lead index of the MDC
     * ECG lead table (I 1, II 2, V1..V6 3..8, III 61, aVR 62, aVL 63,
     * aVF 64). */
    ECG("MDC_ECG_ELEC_POTL_II", 131330u, 0, "II"),
    ECG("MDC_ECG_ELEC_POTL_I", 131329u, 1, "I"),
    ECG("MDC_ECG_ELEC_POTL_III", 131389u, 2, "III"),
    ECG("MDC_ECG_ELEC_POTL_AVR", 131390u, 3, "aVR"),
    ECG("MDC_ECG_ELEC_POTL_AVL", 131391u, 4, "aVL"),
    ECG("MDC_ECG_ELEC_POTL_AVF", 131392u, 5, "aVF"),
    ECG("MDC_ECG_ELEC_POTL_V1", 131331u, 6, "V1"),
    ECG("MDC_ECG_ELEC_POTL_V2", 131332u, 7, "V2"),
    ECG("MDC_ECG_ELEC_POTL_V3", 131333u, 8, "V3"),
    ECG("MDC_ECG_ELEC_POTL_V4", 131334u, 9, "V4"),
    ECG("MDC_ECG_ELEC_POTL_V5", 131335u, 10, "V5"),
    ECG("MDC_ECG_ELEC_POTL_V6", 131336u, 11, "V6"),
    {NULL,
     "Plethysmogram (pulse oximetry)",
     "1",
     "MDC_DIM_DIMLESS",
     262656u,
     "MDC_PULS_OXIM_PLETH",
     150452u,
     {-1e6, 1e6},
     {-1e9, 1e9},
     MV_CLIN_WAVEFORM,
     100,
     false,
     0},
    {NULL,
     "Respiration (transthoracic impedance)",
     "Ohm",
     "MDC_DIM_OHM",
     266432u,
     "MDC_IMPED_TTHOR",
     151780u,
     {-1e4, 1e4},
     {-1e6, 1e6},
     MV_CLIN_WAVEFORM,
     101,
     false,
     0},
};

#define N_CODES MV_ARRAY_LEN(table)

/* Each index holds table positions sorted by its key. */
static uint16_t by_loinc[N_CODES], by_ref[N_CODES], by_num[N_CODES];
static size_t n_loinc, n_ref, n_num;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static int cmp_loinc(const void *a, const void *b) {
  const struct mv_clin_code *x = &table[*(const uint16_t *)a];
  const struct mv_clin_code *y = &table[*(const uint16_t *)b];
  int c = strcmp(x->loinc, y->loinc);
  /* Stable by table position: the first entry of a LOINC code wins. */
  return c ? c : (x < y ? -1 : 1);
}

static int cmp_ref(const void *a, const void *b) {
  return strcmp(table[*(const uint16_t *)a].mdc_ref,
                table[*(const uint16_t *)b].mdc_ref);
}

static int cmp_num(const void *a, const void *b) {
  uint32_t x = table[*(const uint16_t *)a].mdc_code;
  uint32_t y = table[*(const uint16_t *)b].mdc_code;
  return x < y ? -1 : x > y;
}

static void build_index(void) {
  for (uint16_t i = 0; i < N_CODES; i++) {
    if (table[i].loinc)
      by_loinc[n_loinc++] = i;
    if (table[i].mdc_ref)
      by_ref[n_ref++] = i;
    if (table[i].mdc_code)
      by_num[n_num++] = i;
  }
  qsort(by_loinc, n_loinc, sizeof(uint16_t), cmp_loinc);
  qsort(by_ref, n_ref, sizeof(uint16_t), cmp_ref);
  qsort(by_num, n_num, sizeof(uint16_t), cmp_num);
}

/* Lower-bound binary search over idx with a three-way key comparison. */
static const struct mv_clin_code *
search(const uint16_t *idx, size_t n, const void *key,
       int (*cmp)(const void *key, const struct mv_clin_code *c)) {
  pthread_once(&index_once, build_index);
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (cmp(key, &table[idx[mid]]) > 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < n && cmp(key, &table[idx[lo]]) == 0)
    return &table[idx[lo]];
  return NULL;
}

static int key_loinc(const void *k, const struct mv_clin_code *c) {
  return strcmp((const char *)k, c->loinc);
}

static int key_ref(const void *k, const struct mv_clin_code *c) {
  return strcmp((const char *)k, c->mdc_ref);
}

static int key_num(const void *k, const struct mv_clin_code *c) {
  uint32_t v = *(const uint32_t *)k;
  return v < c->mdc_code ? -1 : v > c->mdc_code;
}

const struct mv_clin_code *mv_clin_by_loinc(const char *loinc) {
  if (!loinc)
    return NULL;
  pthread_once(&index_once, build_index);
  return search(by_loinc, n_loinc, loinc, key_loinc);
}

const struct mv_clin_code *mv_clin_by_mdc_ref(const char *ref) {
  if (!ref)
    return NULL;
  pthread_once(&index_once, build_index);
  return search(by_ref, n_ref, ref, key_ref);
}

const struct mv_clin_code *mv_clin_by_mdc_code(uint32_t code) {
  if (code == 0)
    return NULL;
  pthread_once(&index_once, build_index);
  return search(by_num, n_num, &code, key_num);
}

const struct mv_clin_code *mv_clin_by_lead(unsigned lead) {
  /* Leads 0..11 are table-contiguous after the first ECG entry; 100 and
   * 101 follow. Direct index: O(1). */
  static const size_t first_ecg = N_CODES - 14;
  if (lead <= 11)
    return &table[first_ecg + lead];
  if (lead == 100 || lead == 101)
    return &table[first_ecg + 12 + (lead - 100)];
  return NULL;
}

/* A decimal MDC numeric code: 1..10 digits, no sign, no blanks. */
static bool parse_mdc_number(const char *s, uint32_t *out) {
  uint64_t v = 0;
  size_t i = 0;
  for (; s[i]; i++) {
    if (s[i] < '0' || s[i] > '9' || i >= 10)
      return false;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  if (i == 0 || v > UINT32_MAX)
    return false;
  *out = (uint32_t)v;
  return true;
}

const struct mv_clin_code *mv_clin_lookup(const char *code) {
  uint32_t num;
  if (!code || !*code)
    return NULL;
  if (strncmp(code, "MDC_", 4) == 0)
    return mv_clin_by_mdc_ref(code);
  if (parse_mdc_number(code, &num))
    return mv_clin_by_mdc_code(num);
  return mv_clin_by_loinc(code);
}

const struct mv_clin_code *mv_clin_codes(size_t *out_n) {
  if (out_n)
    *out_n = N_CODES;
  return table;
}

enum mv_clin_verdict mv_clin_range_check(const struct mv_clin_code *c,
                                         double v) {
  if (!c || !isfinite(v) || v < c->possible.lo || v > c->possible.hi)
    return MV_CLIN_IMPOSSIBLE;
  if (v < c->plausible.lo || v > c->plausible.hi)
    return MV_CLIN_IMPLAUSIBLE;
  return MV_CLIN_OK;
}
