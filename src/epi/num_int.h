/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Numerical building blocks of the epi module (src/epi/num.c): the
 * distribution functions R's stats package provides, to R's accuracy, with
 * R's conventions (lower_tail, discrete quantiles with R's 64*DBL_EPSILON
 * left-continuity fuzz). Pure functions; NaN for invalid parameters, as R.
 * Private to src/epi.
 */
#ifndef MV_EPI_NUM_INT_H
#define MV_EPI_NUM_INT_H

#include <stdbool.h>

/* Gamma(shape, scale): P(X <= x) (lower) or P(X > x); quantile. */
double mv__epi_pgamma(double x, double shape, double scale, bool lower);
double mv__epi_qgamma(double p, double shape, double scale, bool lower);
/* Normal(mean, sd). */
double mv__epi_pnorm(double x, double mean, double sd, bool lower);
double mv__epi_qnorm(double p, double mean, double sd, bool lower);
/* Student t with df degrees of freedom (df may be non-integer). */
double mv__epi_pt(double x, double df, bool lower);
double mv__epi_qt(double p, double df, bool lower);
/* Poisson(lambda): P(X <= x); smallest x with P(X <= x) >= p (R's qpois). */
double mv__epi_ppois(double x, double lambda, bool lower);
double mv__epi_qpois(double p, double lambda, bool lower);
/* Negative binomial (size, prob) as R's dnbinom: mean size*(1-prob)/prob. */
double mv__epi_pnbinom(double x, double size, double prob, bool lower);
double mv__epi_qnbinom(double p, double size, double prob, bool lower);
/* Binomial(n, prob) CDF (for completeness of R's qnbinom search). */
double mv__epi_pbinom(double x, double n, double prob, bool lower);
/* log Gamma(x) for x > 0, as R's lgammafn. */
double mv__epi_lgamma(double x);

#endif
