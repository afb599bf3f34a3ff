/* SPDX-License-Identifier: Apache-2.0 */
/*
 * WFDB (PhysioNet) records and MIT-format annotation files, and the ANSI/AAMI
 * EC57 beat-by-beat comparison (the WFDB `bxb` protocol). Records are read
 * whole into memory as frame-interleaved samples in ADC units; physical value
 * = (sample - baseline) / gain. Formats 8, 16, 24, 32, 61, 80, 160, 212,
 * 310 and 311 are read; 16 and 212 are written (docs/ECG.md). Every input
 * is bounded (limits below); bad input yields MV_EPARSE/MV_ETOOBIG/
 * MV_EUNSUPPORTED/MV_ECORRUPT with a mv_diag naming the file and line, never
 * patient data. This module touches files only through the
 * read/write functions; the parse_* functions work on caller buffers.
 */
#ifndef MV_SIG_WFDB_H
#define MV_SIG_WFDB_H

#include "mv_common.h"
#include "mv_err.h"

/* ---- Limits (input caps) ---------------------------------------------- */
#define MV_SIG_WFDB_MAX_SIGNALS 64             /* signals in one record */
#define MV_SIG_WFDB_MAX_HEADER 65536u          /* bytes of a .hea file */
#define MV_SIG_WFDB_MAX_LINE 1024u             /* bytes of one header line */
#define MV_SIG_WFDB_MAX_SAMPLES 400000000ll    /* n_samples * n_sig, ~1.6 GB */
#define MV_SIG_WFDB_MAX_ANN_BYTES (256u << 20) /* bytes of an annotation file */
#define MV_SIG_WFDB_NAME_LEN 64                /* record name incl. NUL */
#define MV_SIG_WFDB_FILE_LEN 128               /* signal file name incl. NUL */
#define MV_SIG_WFDB_UNITS_LEN 24               /* units incl. NUL */
#define MV_SIG_WFDB_DESC_LEN 96       /* signal description incl. NUL */
#define MV_SIG_WFDB_COMMENTS_LEN 4096 /* all '#' comment lines, joined */

/* The invalid-sample sentinel in decoded samples. On read, each format's own
 * "no data" code (-32768 in 16, -2048 in 212/310/311, -128 in 80) becomes
 * this; on write it goes back to the target format's code. */
#define MV_SIG_WFDB_INVALID INT32_MIN

/* One signal of a record: the fields of a header signal line. Value type. */
struct mv_sig_wfdb_signal {
  char file[MV_SIG_WFDB_FILE_LEN]; /* signal file name, relative to .hea dir */
  int fmt;                         /* storage format: 8,16,61,80,212,310,311 */
  int spf;                         /* samples per frame; only 1 is supported */
  int skew;                        /* samples of skew ("fmt:skew"), >= 0 */
  long byte_offset; /* bytes to skip at the start of the file ("fmt+off") */
  double gain;      /* ADC units per physical unit; 200 when absent */
  bool gain_given;  /* false: header had no gain (defaults apply) */
  int baseline;     /* ADC value of physical zero; adc_zero when absent */
  char units[MV_SIG_WFDB_UNITS_LEN]; /* e.g. "mV" (default) */
  int adc_res;       /* bits; 12 for 212, 16 for 16, 8 for 80 when absent */
  int adc_zero;      /* ADC value at the middle of the range */
  int init_value;    /* value of the first sample (for difference formats) */
  int checksum;      /* 16-bit checksum of all samples (signed short) */
  bool has_checksum; /* false: header gave no checksum */
  int block_size;    /* 0 for ordinary files */
  char desc[MV_SIG_WFDB_DESC_LEN]; /* description, e.g. "MLII" */
  int line; /* header line of this signal (diagnostics), 0 if none */
};

/* A record: header fields plus (when read) all samples. Heap object from
 * mv_sig_wfdb_read / mv_sig_wfdb_record_new; free with mv_sig_wfdb_free. */
struct mv_sig_wfdb_record {
  char name[MV_SIG_WFDB_NAME_LEN];
  int n_sig;           /* 0..MV_SIG_WFDB_MAX_SIGNALS */
  double fs;           /* sampling frequency, Hz (250 when absent) */
  double counter_freq; /* counter frequency, Hz (0: same as fs) */
  double base_counter; /* counter value at sample 0 */
  int64_t n_samples;   /* samples per signal (-1: unknown in header) */
  char base_time[24];  /* "HH:MM:SS" or "" */
  char base_date[16];  /* "DD/MM/YYYY" or "" */
  char comments
      [MV_SIG_WFDB_COMMENTS_LEN]; /* '#' lines without '#', '\n'-joined */
  struct mv_sig_wfdb_signal *sig; /* n_sig entries, owned */
  int32_t *samples; /* n_samples * n_sig, frame-interleaved: sample i of
                       signal s is samples[i * n_sig + s]; owned; NULL after
                       a header-only parse */
  bool checksum_ok; /* after read: every signal that has a checksum matched */
};

/* Allocate a record with n_sig signals (defaults: fmt 16, gain 200, units
 * "mV", adc_res 16, adc_zero 0, baseline 0) and zeroed room for n_samples
 * samples per signal. Returned, caller frees with mv_sig_wfdb_free. */
MV_API MV_NODISCARD int mv_sig_wfdb_record_new(int n_sig, int64_t n_samples,
                                               double fs,
                                               struct mv_sig_wfdb_record **out);

/* Parse a header (.hea) text of len bytes. diag_path names the file in
 * diagnostics ("100.hea:3: ..."). On success *out is a record with samples
 * NULL (returned, caller frees with mv_sig_wfdb_free); untouched on error. */
MV_API MV_NODISCARD int
mv_sig_wfdb_parse_header(const char *text, size_t len, const char *diag_path,
                         struct mv_sig_wfdb_record **out, struct mv_diag *diag);

/* Read the record at path `record` (path without extension: "dir/100" reads
 * "dir/100.hea" and the signal files it names, relative to "dir"). All
 * samples are decoded. A checksum mismatch is an error (MV_ECORRUPT) unless
 * flags has MV_SIG_WFDB_LAX_CHECKSUM, in which case checksum_ok is false.
 * Returned, caller frees with mv_sig_wfdb_free; *out untouched on error. */
#define MV_SIG_WFDB_LAX_CHECKSUM 1u
MV_API MV_NODISCARD int mv_sig_wfdb_read(const char *record, unsigned flags,
                                         struct mv_sig_wfdb_record **out,
                                         struct mv_diag *diag);

/* Free a record; accepts NULL. */
MV_API void mv_sig_wfdb_free(struct mv_sig_wfdb_record *r);

/* Write r as record `record` (path without extension): "record.hea" and
 * one signal file "<basename>.dat" holding all signals in format fmt (16 or
 * 212). The r->sig[] file, fmt, skew, byte_offset, init_value and
 * checksum fields are recomputed (adc_res is capped at the format's bits);
 * gain (0 when !gain_given), baseline, units, adc_zero, description and
 * comments are written as they are. r is borrowed. Samples outside the
 * format's range are an error (MV_ERANGE) and nothing is written. Each file
 * is replaced atomically (temp file + rename), .dat before .hea. */
MV_API MV_NODISCARD int mv_sig_wfdb_write(const char *record,
                                          const struct mv_sig_wfdb_record *r,
                                          int fmt, struct mv_diag *diag);

/* Physical value of a sample of signal s (NAN for MV_SIG_WFDB_INVALID). */
MV_API double mv_sig_wfdb_phys(const struct mv_sig_wfdb_record *r, int s,
                               int32_t sample);

/* ---- Annotations ------------------------------------------------------- */

/* MIT annotation codes (WFDB ecgcodes.h). */
enum mv_sig_ann_code {
  MV_SIG_ANN_NOTQRS = 0,
  MV_SIG_ANN_NORMAL = 1,    /* N */
  MV_SIG_ANN_LBBB = 2,      /* L */
  MV_SIG_ANN_RBBB = 3,      /* R */
  MV_SIG_ANN_ABERR = 4,     /* a */
  MV_SIG_ANN_PVC = 5,       /* V */
  MV_SIG_ANN_FUSION = 6,    /* F */
  MV_SIG_ANN_NPC = 7,       /* J */
  MV_SIG_ANN_APC = 8,       /* A */
  MV_SIG_ANN_SVPB = 9,      /* S */
  MV_SIG_ANN_VESC = 10,     /* E */
  MV_SIG_ANN_NESC = 11,     /* j */
  MV_SIG_ANN_PACE = 12,     /* / */
  MV_SIG_ANN_UNKNOWN = 13,  /* Q */
  MV_SIG_ANN_NOISE = 14,    /* ~ */
  MV_SIG_ANN_ARFCT = 16,    /* | */
  MV_SIG_ANN_STCH = 18,     /* s */
  MV_SIG_ANN_TCH = 19,      /* T */
  MV_SIG_ANN_SYSTOLE = 20,  /* * */
  MV_SIG_ANN_DIASTOLE = 21, /* D */
  MV_SIG_ANN_NOTE = 22,     /* " */
  MV_SIG_ANN_MEASURE = 23,  /* = */
  MV_SIG_ANN_PWAVE = 24,    /* p */
  MV_SIG_ANN_BBB = 25,      /* B */
  MV_SIG_ANN_PACESP = 26,   /* ^ */
  MV_SIG_ANN_TWAVE = 27,    /* t */
  MV_SIG_ANN_RHYTHM = 28,   /* + */
  MV_SIG_ANN_UWAVE = 29,    /* u */
  MV_SIG_ANN_LEARN = 30,    /* ? */
  MV_SIG_ANN_FLWAV = 31,    /* ! */
  MV_SIG_ANN_VFON = 32,     /* [ */
  MV_SIG_ANN_VFOFF = 33,    /* ] */
  MV_SIG_ANN_AESC = 34,     /* e */
  MV_SIG_ANN_SVESC = 35,    /* n */
  MV_SIG_ANN_LINK = 36,     /* @ */
  MV_SIG_ANN_NAPC = 37,     /* x */
  MV_SIG_ANN_PFUS = 38,     /* f */
  MV_SIG_ANN_WFON = 39,     /* ( */
  MV_SIG_ANN_WFOFF = 40,    /* ) */
  MV_SIG_ANN_RONT = 41,     /* r */
  MV_SIG_ANN_ACMAX = 49     /* largest valid code */
};

/* One annotation. sample is the absolute sample number (>= 0). aux is NULL
 * or aux_len bytes (plus a NUL); in arrays from mv_sig_ann_read it points
 * into the same allocation, so one free() of the array releases it. */
struct mv_sig_ann {
  int64_t sample;
  uint8_t type; /* enum mv_sig_ann_code, 1..MV_SIG_ANN_ACMAX */
  int8_t sub;   /* subtype */
  uint8_t chan; /* signal number */
  int8_t num;   /* annotator-defined number */
  uint8_t aux_len;
  const char *aux;
};

/* Parse an MIT-format annotation file image (buf, len bytes). SKIP, NUM,
 * SUB, CHN and AUX pseudo-annotations are folded into the annotations they
 * precede (NUM and CHN persist, as in WFDB); the 0x0000 end marker (or the
 * end of the data) ends it. Returned array (*out, *n_out), caller frees
 * with mv_sig_ann_free; untouched on error. diag_path names the file. */
MV_API MV_NODISCARD int mv_sig_ann_parse(const uint8_t *buf, size_t len,
                                         const char *diag_path,
                                         struct mv_sig_ann **out, size_t *n_out,
                                         struct mv_diag *diag);
/* Read an annotation file (full path, e.g. "dir/100.atr"); as parse. */
MV_API MV_NODISCARD int mv_sig_ann_read(const char *path,
                                        struct mv_sig_ann **out, size_t *n_out,
                                        struct mv_diag *diag);
/* Write n annotations (sorted by sample, borrowed) in MIT format, with SKIP
 * for intervals > 1023 samples, NUM/CHN/SUB/AUX as needed, and the end
 * marker. Replaces the file atomically (temp file + rename). */
MV_API MV_NODISCARD int mv_sig_ann_write(const char *path,
                                         const struct mv_sig_ann *a, size_t n,
                                         struct mv_diag *diag);
/* Free an array from mv_sig_ann_parse/read; accepts NULL. */
MV_API void mv_sig_ann_free(struct mv_sig_ann *a);

/* True when the code labels a beat (as WFDB isqrs: N L R a V F J A S E j / Q
 * B ? e n f r). Non-conducted P waves (x), rhythm, noise and comment
 * annotations are not beats. */
MV_API bool mv_sig_ann_is_beat(uint8_t type);
/* Mnemonic of a code ("N", "V", "+"); "" for unused codes, never NULL. */
MV_API const char *mv_sig_ann_mnemonic(uint8_t type);
/* Code of a mnemonic, or -1 when unknown. */
MV_API int mv_sig_ann_code(const char *mnemonic);

/* ---- EC57 beat-by-beat comparison (bxb) --------------------------------- */

/* Options; zero-initialise then set fs, or use mv_sig_ec57_opts_default. */
struct mv_sig_ec57_opts {
  double fs;          /* sampling frequency of both annotation sets, Hz */
  double window_s;    /* match window, 0.150 s (EC57); rounded to samples */
  double start_s;     /* comparison starts here, 300 s (EC57) */
  int64_t end_sample; /* record length in samples (bxb's end time): the
                         comparison runs while a reference or test beat is
                         at or before it; < 0: to the last reference beat */
};

MV_API void mv_sig_ec57_opts_default(struct mv_sig_ec57_opts *o, double fs);

/* Counts and derived percentages (NAN when the denominator is 0). */
struct mv_sig_ec57_result {
  int64_t tp;     /* reference beats matched by a test beat */
  int64_t fn;     /* reference beats without a match */
  int64_t fp;     /* test beats without a match */
  double se_pct;  /* 100 * TP / (TP + FN) */
  double ppv_pct; /* +P: 100 * TP / (TP + FP) */
  double der_pct; /* 100 * (FN + FP) / (TP + FN) */
};

/* Compare test against reference (both sorted by sample, borrowed): beats
 * only (mv_sig_ann_is_beat on both sides; labels need not agree, a test "V"
 * on a reference "N" is a TP), each beat paired at most once with the
 * nearest unpaired beat of the other set within the window, following WFDB
 * bxb: reference beats from start on are scored, a test beat just before
 * start may match the first of them, and beats inside a VFON..VFOFF episode
 * of the reference are not scored (nor inside the test's own episodes).
 * MV_EINVAL for bad options. */
MV_API MV_NODISCARD int mv_sig_ec57_compare(const struct mv_sig_ann *ref,
                                            size_t n_ref,
                                            const struct mv_sig_ann *test,
                                            size_t n_test,
                                            const struct mv_sig_ec57_opts *o,
                                            struct mv_sig_ec57_result *out);
/* Add the counts of r into gross (pooled over records) and recompute the
 * percentages of gross. */
MV_API void mv_sig_ec57_add(struct mv_sig_ec57_result *gross,
                            const struct mv_sig_ec57_result *r);

#endif
