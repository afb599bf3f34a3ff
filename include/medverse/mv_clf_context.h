/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Context of symptom mentions in free triage text, English and Chinese: each
 * byte of the text is marked current, negated ("no fever", "否认胸痛"),
 * historical ("ten years ago", "十年前中风过"), family ("my father had a
 * stroke", "家族史") or hypothetical ("if I get chest pain", "万一"). Rules
 * are trigger phrases with a direction and a scope that ends at a clause
 * boundary (punctuation, "but", "但是", ...); docs/TRIAGE.md lists them.
 * Pure computation: no I/O, no global state, thread-safe.
 */
#ifndef MV_CLF_CONTEXT_H
#define MV_CLF_CONTEXT_H

#include "mv_err.h"
#include "mv_limits.h"

/* Context values. The first four equal enum mv_clf_tok_ctx in mv_clf.h
 * (CURRENT 0, NEGATED 1, HISTORICAL 2, FAMILY 3), so a value can be stored
 * in mv_clf_token.ctx directly; HYPOTHETICAL (4) is new here. When two rules
 * cover one byte the precedence is NEGATED > HYPOTHETICAL > FAMILY >
 * HISTORICAL > CURRENT ("my father never had a stroke" is negated). */
enum mv_clf_cx {
  MV_CLF_CX_CURRENT = 0,
  MV_CLF_CX_NEGATED = 1,
  MV_CLF_CX_HISTORICAL = 2,
  MV_CLF_CX_FAMILY = 3,
  MV_CLF_CX_HYPOTHETICAL = 4,
};

/* A maximal run of bytes with one context; start/len index the caller's
 * original text. */
struct mv_clf_cx_span {
  uint32_t start; /* byte offset in the text */
  uint32_t len;   /* bytes, > 0 */
  uint8_t cx;     /* enum mv_clf_cx */
};

/* Static lower-case name: "current", "negated", "historical", "family",
 * "hypothetical"; "?" for other values. */
MV_API const char *mv_clf_cx_name(int cx);

/*
 * Mark the context of every byte of text (len bytes, borrowed, need not be
 * NUL-terminated): out_cx[i] (caller-owned, at least min(len, cap) bytes)
 * receives an enum mv_clf_cx for text[i], for i < min(len, cap). Only the
 * first MV_LIMIT_CLF_CX_TEXT bytes are analysed; bytes past that are marked
 * CURRENT (no rule sees them). Invalid UTF-8 is never rejected: each invalid
 * byte acts as a word separator (as if it were U+FFFD) and takes the context
 * of its clause. Matching is case-insensitive for ASCII, ignores apostrophes
 * ("don't" = "dont") and maps full-width ASCII forms (U+FF01-U+FF5E) to ASCII.
 * Errors: MV_EINVAL (NULL text or out_cx with len and cap > 0), MV_ENOMEM.
 */
MV_API MV_NODISCARD int mv_clf_context_mark(const char *text, size_t len,
                                            uint8_t *out_cx, size_t cap);

/*
 * The same analysis as runs: at most cap spans into out (caller-owned), the
 * number in *out_n (spans past cap are dropped; *out_n is then cap). Runs
 * cover the analysed text contiguously, whitespace included. Errors as for
 * mv_clf_context_mark.
 */
MV_API MV_NODISCARD int mv_clf_context_spans(const char *text, size_t len,
                                             struct mv_clf_cx_span *out,
                                             size_t cap, size_t *out_n);

/*
 * Byte offsets of clause boundaries, for callers that want clause-local
 * features: writes the start offset of each clause (the first is 0) to
 * out[0..], at most cap, count in *out_n. A clause ends at . ! ? ; , : and
 * newlines (ASCII, full-width and CJK 。！？；，、：), dashes, and before the
 * conjunctions "but", "however", "although", "though", "except", "and now",
 * "但是", "但", "可是", "不过", "然而", "现在". Errors as above.
 */
MV_API MV_NODISCARD int mv_clf_context_clauses(const char *text, size_t len,
                                               uint32_t *out, size_t cap,
                                               size_t *out_n);

#endif
