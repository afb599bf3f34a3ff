/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Functions shared between the Rt, forecast and sharing files of src/epi
 * (rt.c, forecast.c, share.c). Private to src/epi; the numerical building
 * blocks are in num_int.h.
 */
#ifndef MV_EPI_INT_H
#define MV_EPI_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "mv_epi.h"

/* EpiEstim process_I: copies local/imported (imported may be NULL) into the
 * T-long outputs, NaN -> 0, day-1 cases moved to imported. MV_EINVAL (diag
 * line = 1-based row) on a negative or infinite count. */
int mv__epi_incidence(const double *local, const double *imported, size_t T,
                      double *out_local, double *out_imported,
                      struct mv_diag *diag);
/* Overall infectivity Lambda_t = sum_{s>=1} w_s (local+imported)_{t-s};
 * out_lambda[0] = NaN. w: wlen entries, w[0] ignored. */
void mv__epi_lambda(const double *local, const double *imported, size_t T,
                    const double *w, size_t wlen, double *out_lambda);
/* Gamma prior (a0 shape, b0 scale) from mean/sd; 0 means the default 5. */
int mv__epi_prior(double mean_prior, double std_prior, double *a0, double *b0,
                  struct mv_diag *diag);
/* Posterior row from window sums; na: EpiEstim's NA rule applies. */
void mv__epi_posterior_row(double a0, double b0, double sum_local,
                           double sum_lambda, bool na,
                           struct mv_epi_qcache *cache,
                           struct mv_epi_rt_row *row);
/* Standard-gamma quantiles at mv_epi_rt_quantiles, memoised in c (NULL
 * allowed). */
void mv__epi_gamma_quantiles(struct mv_epi_qcache *c, double shape,
                             double q[MV_EPI_RT_NQ]);

#endif
