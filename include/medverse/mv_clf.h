/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bilingual (English/Chinese) triage text classifier: a UTF-8 tokenizer
 * (lower-cased words and word bigrams for Latin script, character 1-3-grams
 * for CJK), sublinear TF-IDF features over a vocabulary of 64-bit feature
 * hashes, a multinomial logistic regression trained with L-BFGS and a
 * temperature for calibrated probabilities. The model file is versioned,
 * CRC-32 checksummed, read in one go, and carries named sections so other
 * parts of triage (the follow-up question table) travel with the model.
 * No I/O beyond reading/writing the model file; thread-safe for concurrent
 * predictions on one loaded model.
 */
#ifndef MV_CLF_H
#define MV_CLF_H

#include "mv_err.h"

/* Input language: AUTO guesses from the share of CJK characters. The
 * tokenizer treats both scripts the same way whatever the language; lang is
 * informative (returned by mv_clf_detect_lang, used by triage for advice). */
enum mv_clf_lang {
  MV_CLF_LANG_AUTO = 0,
  MV_CLF_LANG_EN = 1,
  MV_CLF_LANG_ZH = 2
};

/* Token kinds (the kind is mixed into the feature hash). */
enum mv_clf_tok_kind {
  MV_CLF_TOK_WORD = 1,   /* a lower-cased Latin/digit word */
  MV_CLF_TOK_BIGRAM = 2, /* two consecutive words */
  MV_CLF_TOK_CJK1 = 3,   /* one CJK character */
  MV_CLF_TOK_CJK2 = 4,   /* two consecutive CJK characters */
  MV_CLF_TOK_CJK3 = 5,   /* three consecutive CJK characters */
};

/* Context of a token's span (see mv_clf_context.h, H7): tokens in a negated,
 * historical or family-history span become distinct features, so "no fever"
 * does not count as the current symptom "fever". */
enum mv_clf_tok_ctx {
  MV_CLF_CTX_CURRENT = 0,
  MV_CLF_CTX_NEGATED = 1,
  MV_CLF_CTX_HISTORICAL = 2,
  MV_CLF_CTX_FAMILY = 3,
  MV_CLF_CTX_HYPOTHETICAL = 4, /* "if I get chest pain" */
};

/* One token: hash identifies the feature (kind, context and normalised text);
 * start/len are the byte span in the input text. */
struct mv_clf_token {
  uint64_t hash;  /* never 0 */
  uint32_t start; /* byte offset in the text */
  uint32_t len;   /* bytes */
  uint8_t kind;   /* enum mv_clf_tok_kind */
  uint8_t ctx;    /* enum mv_clf_tok_ctx */
};

/* Tokenize text (len bytes, borrowed, need not be NUL-terminated). Bytes
 * beyond MV_LIMIT_CLF_TEXT are ignored; invalid UTF-8 and emoji act as
 * separators; never fails on content. Writes at most cap tokens to out and
 * the count to *out_n (tokens past cap are dropped). Each token's context
 * comes from mv_clf_context_mark (mv_clf_context.h) and is mixed into its
 * hash. Returns MV_OK, MV_EINVAL (NULL arguments with len/cap > 0) or
 * MV_ENOMEM. */
MV_API int mv_clf_tokenize(const char *text, size_t len,
                           struct mv_clf_token *out, size_t cap, size_t *out_n);

/* MV_CLF_LANG_ZH when CJK characters, each weighed as three letters, are at
 * least 30% of the letters; else EN. */
MV_API int mv_clf_detect_lang(const char *text, size_t len);

/* ---- model ---------------------------------------------------------- */

struct mv_clf_model;

/* Load a model file (one read of the whole file, at most
 * MV_LIMIT_CLF_MODEL bytes). Errors: MV_EIO (cannot open/read),
 * MV_ETOOBIG, MV_ECORRUPT (bad magic, checksum, truncated, inconsistent
 * sections), MV_EUNSUPPORTED (wrong format version), MV_ENOMEM; diag says
 * which. *out returned, caller frees with mv_clf_model_free. */
MV_API MV_NODISCARD int mv_clf_model_load(const char *path,
                                          struct mv_clf_model **out,
                                          struct mv_diag *diag);
/* The same from len bytes in memory (copied). */
MV_API MV_NODISCARD int mv_clf_model_load_mem(const void *bytes, size_t len,
                                              struct mv_clf_model **out,
                                              struct mv_diag *diag);
/* Accepts NULL. */
MV_API void mv_clf_model_free(struct mv_clf_model *m);

MV_API size_t mv_clf_n_labels(const struct mv_clf_model *m);
/* Label i's name (NUL-terminated, borrowed for the model's life), or NULL
 * when i is out of range. */
MV_API const char *mv_clf_label(const struct mv_clf_model *m, size_t i);
/* Index of the label called name, or -1. */
MV_API long mv_clf_label_find(const struct mv_clf_model *m, const char *name);
/* The calibration temperature (probabilities = softmax(scores / T)). */
MV_API double mv_clf_temperature(const struct mv_clf_model *m);
/* Number of vocabulary features. */
MV_API size_t mv_clf_n_features(const struct mv_clf_model *m);

/* Calibrated class probabilities for text (borrowed, len bytes) into
 * out_probs[0..n-1]; n must equal mv_clf_n_labels. Empty or feature-less
 * text gives the calibrated prior. Errors: MV_EINVAL, MV_ENOMEM. */
MV_API MV_NODISCARD int mv_clf_predict(const struct mv_clf_model *m,
                                       const char *text, size_t len, int lang,
                                       double *out_probs, size_t n);

/* One feature's contribution to a label's score (for "the symptoms that
 * drove the prediction"): the first span in the text where it occurs. */
struct mv_clf_contrib {
  uint32_t start, len; /* byte span in the text */
  double weight;       /* contribution to the label's (uncalibrated) score */
};
/* The features of text that push label up most, strongest first: at most
 * cap entries into out, count in *out_n (only positive contributions, and
 * only tokens in current context: negated, historical, family and
 * hypothetical mentions are never given as reasons). */
MV_API MV_NODISCARD int mv_clf_explain(const struct mv_clf_model *m,
                                       const char *text, size_t len,
                                       size_t label, struct mv_clf_contrib *out,
                                       size_t cap, size_t *out_n);

/* A named section embedded in the model file (e.g. "inquiry"): *out_ptr
 * borrowed for the model's life (8-byte aligned), *out_len bytes.
 * MV_ENOTFOUND when absent. */
MV_API MV_NODISCARD int mv_clf_model_section(const struct mv_clf_model *m,
                                             const char *name,
                                             const void **out_ptr,
                                             size_t *out_len);
/* Add or replace a named section (name at most 15 bytes, data copied;
 * names starting with "clf." are reserved). Errors: MV_EINVAL, MV_ETOOBIG,
 * MV_ENOMEM. Takes effect in the next save. */
MV_API MV_NODISCARD int mv_clf_model_set_section(struct mv_clf_model *m,
                                                 const char *name,
                                                 const void *data, size_t len);

/* Serialize to a fresh buffer (*out returned, caller frees with free()). */
MV_API MV_NODISCARD int mv_clf_model_serialize(const struct mv_clf_model *m,
                                               uint8_t **out, size_t *out_len);
/* Write the model file (to path.tmp, then renamed). MV_EIO on failure. */
MV_API MV_NODISCARD int mv_clf_model_save(const struct mv_clf_model *m,
                                          const char *path,
                                          struct mv_diag *diag);

/* ---- training ------------------------------------------------------- */

/* Progress callback: stage is a static string ("features", "select l2",
 * "fit", "calibrate"), frac in [0,1]. */
typedef void (*mv_clf_progress_fn)(void *ctx, const char *stage, double frac);

/* The defaults of `medverse triage train`: word bigrams off (plain word
 * unigrams did better on the English corpus), class weighting chosen by
 * cross-validation. */
#define MV_CLF_EXCLUDE_DEFAULT (1u << MV_CLF_TOK_BIGRAM)
#define MV_CLF_CW_DEFAULT 2

/* "Chosen by cross-validation" below means stratified 5-fold CV on the
 * training rows (one 20% split from 2,000 rows up); the caller's dev data
 * is never involved. */
struct mv_clf_train_opts {
  double l2;            /* L2 strength (mean loss); 0 = chosen by CV */
  double temperature;   /* 0 = fitted on the out-of-fold logits */
  int class_weight;     /* 0 none, 1 inverse sqrt frequency, 2 balanced,
                          -1 = chosen by CV */
  unsigned min_df;      /* drop CJK n-grams seen in fewer documents (0 = 2);
                          words are kept from one document up */
  unsigned tok_exclude; /* token kinds not used as features: bit (1 << kind)
                           of enum mv_clf_tok_kind (0 = use all) */
  unsigned max_iter;    /* L-BFGS iterations per fit (0 = 300) */
  mv_clf_progress_fn progress; /* may be NULL */
  void *progress_ctx;
};

/* Train on n documents texts[i] (NUL-terminated, borrowed) with labels[i]
 * in [0, n_labels) named label_names[] (copied). Deterministic: the same
 * input gives the same model bytes. Errors: MV_EINVAL (bad label, n <
 * 2, fewer than 2 labels), MV_ETOOBIG (limits), MV_ENOMEM. */
MV_API MV_NODISCARD int
mv_clf_train(const char *const *texts, const uint32_t *labels, size_t n,
             const char *const *label_names, size_t n_labels,
             const struct mv_clf_train_opts *opts, struct mv_clf_model **out,
             struct mv_diag *diag);

/* ---- evaluation ----------------------------------------------------- */

struct mv_clf_metrics {
  size_t n;
  double accuracy;
  double macro_f1; /* over the model's labels that occur in the data or
                      are predicted */
  double top3;
  double ece; /* expected calibration error, 15 equal-width bins
                      of top-1 confidence (Guo et al. 2017) */
  double nll; /* mean negative log-likelihood */
};

/* A labelled corpus (CSV with a header naming `label` and `text` columns,
 * e.g. id,label,text). texts and labels are owned by the corpus; release
 * with mv_clf_corpus_release. */
struct mv_clf_corpus {
  char **text;
  char **label;
  size_t n, cap;
};
/* Read path ("-" = stdin) into *out (zeroed first). Errors, with diag
 * naming the file (diag->path) and the line (diag->line, 0 when none):
 * MV_EIO (unreadable), MV_EPARSE (bad CSV, no header with label and text,
 * a short row, an empty or over-long label, no data rows), MV_ETOOBIG (more
 * than MV_LIMIT_CLF_ROWS rows), MV_ENOMEM. On error *out is released. */
MV_API MV_NODISCARD int mv_clf_corpus_read(const char *path,
                                           struct mv_clf_corpus *out,
                                           struct mv_diag *diag);
/* Frees what the corpus owns and zeroes it; accepts zeroed corpora. */
MV_API void mv_clf_corpus_release(struct mv_clf_corpus *c);

/* Evaluate on n documents; labels[i] is the model's label index or -1 for
 * a label the model does not know (always wrong). */
MV_API MV_NODISCARD int mv_clf_evaluate(const struct mv_clf_model *m,
                                        const char *const *texts,
                                        const long *labels, size_t n,
                                        struct mv_clf_metrics *out);

#endif
