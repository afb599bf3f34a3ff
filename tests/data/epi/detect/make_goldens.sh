#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Expected outputs for the fixtures of this folder, computed with R 4.2.2 and
# surveillance 1.20.3 (Debian r-cran-surveillance) by gen_detect.R. Run from
# this folder: sh make_goldens.sh
set -e
g() { TZ=UTC Rscript gen_detect.R "$@" . 2>/dev/null; }
g fx_daily.csv fx_daily__earsC_C1__default earsC 'list(method = "C1")'
g fx_daily.csv fx_daily__earsC_C2__default earsC 'list(method = "C2")'
g fx_daily.csv fx_daily__earsC_C3__default earsC 'list(method = "C3")'
g fx_weekly.csv fx_weekly__earsC_C1__b5_ms1_a0.05 earsC 'list(method = "C1", baseline = 5, minSigma = 1, alpha = 0.05, range = 20:312)'
g fx_weekly.csv fx_weekly__earsC_C3__b12 earsC 'list(method = "C3", baseline = 12, alpha = 0.01)'
g fx_weekly.csv fx_weekly__cusum__standard cusum 'list(range = 157:312)'
g fx_weekly.csv fx_weekly__cusum__anscombe_glm cusum 'list(range = 105:312, m = "glm", trans = "anscombe", k = 0.5, h = 4)'
g fx_weekly.csv fx_weekly__cusum__m3 cusum 'list(range = 2:312, m = 3)'
g fx_weekly.csv fx_weekly__bayes__default bayes 'list(range = 7:312)'
g fx_weekly.csv fx_weekly__bayes__b2_w3 bayes 'list(range = 108:312, b = 2, w = 3, actY = TRUE, alpha = 0.01)'
g fx_weekly.csv fx_weekly__rki__default rki 'list(range = 109:312)'
g fx_weekly.csv fx_weekly__rki__b1_actY rki 'list(range = 60:312, b = 1, w = 2, actY = TRUE)'
g fx_weekly.csv fx_weekly__farringtonFlexible__default farringtonFlexible 'list(range = 270:312)'
g fx_weekly.csv fx_weekly__farringtonFlexible__pop_half farringtonFlexible 'list(range = 270:312, populationOffset = TRUE, powertrans = "1/2", b = 4)'
g fx_weekly.csv fx_weekly__farringtonFlexible__noufaily farringtonFlexible 'list(range = 270:312, noPeriods = 10, pastWeeksNotIncluded = 26, pThresholdTrend = 1, thresholdMethod = "nbPlugin")'
g fx_weekly.csv fx_weekly__farringtonFlexible__muan farringtonFlexible 'list(range = 270:312, noPeriods = 10, pastWeeksNotIncluded = 26, pThresholdTrend = 1, thresholdMethod = "muan")'
g fx_weekly.csv fx_weekly__farringtonFlexible__none_norew farringtonFlexible 'list(range = 270:312, powertrans = "none", reweight = FALSE, trend = FALSE, alpha = 0.1)'
g fx_dated.csv fx_dated__farringtonFlexible__default farringtonFlexible 'list(range = 270:313)'
g fx_dated.csv fx_dated__farringtonFlexible__noufaily farringtonFlexible 'list(range = 270:313, noPeriods = 10, pastWeeksNotIncluded = 26, pThresholdTrend = 1, thresholdMethod = "nbPlugin")'
g fx_na.csv fx_na__earsC_C1__default earsC 'list(method = "C1")'
g fx_na.csv fx_na__earsC_C3__default earsC 'list(method = "C3")'
g fx_na.csv fx_na__bayes__b1 bayes 'list(range = 60:312, b = 1, w = 2, actY = TRUE)'
g fx_na.csv fx_na__cusum__standard cusum 'list(range = 157:312)'
g fx_na.csv fx_na__farringtonFlexible__default farringtonFlexible 'list(range = 264:312)'
g fx_na.csv fx_na__farringtonFlexible__noufaily farringtonFlexible 'list(range = 264:312, noPeriods = 10, pastWeeksNotIncluded = 26, pThresholdTrend = 1, thresholdMethod = "nbPlugin")'
g fx_weekly.csv fx_weekly__cusum__rossi cusum 'list(range = 157:312, trans = "rossi")'
g fx_weekly.csv fx_weekly__cusum__anscombe2nd cusum 'list(range = 157:312, trans = "anscombe2nd", m = "glm")'
g fx_weekly.csv fx_weekly__cusum__pearsonNegBin cusum 'list(range = 157:312, trans = "pearsonNegBin", alpha = 0.3, k = 0.7, h = 3)'
g fx_weekly.csv fx_weekly__cusum__none cusum 'list(range = 200:312, trans = "none", m = 4, k = 5, h = 10)'
