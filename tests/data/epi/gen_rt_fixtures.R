# Generates the Rt/forecast fixtures of tests/unit/epi and the CLI tests:
# a synthetic incidence of our own (deterministic, no shared data) and the
# outputs EpiEstim 2.2-4 gives for it. Run once from the repository root:
#   TZ=UTC Rscript tests/data/epi/gen_rt_fixtures.R
suppressMessages(library(EpiEstim))
d <- "tests/data/epi"
T <- 60
t <- 1:T
# a wave: 3 * exp(0.12 t) rising then falling, rounded; deterministic
lam <- 3 + 40 * exp(-((t - 35) / 11)^2)
loc <- round(lam + 2 * sin(t))
imp <- c(4, rep(0, 9), 1, rep(0, 19), 2, rep(0, 29))
loc[1] <- 0
incid <- data.frame(local = loc, imported = imp)
write.csv(data.frame(t = t, local = loc, imported = imp),
          file.path(d, "synth_incidence_li.csv"), row.names = FALSE, quote = FALSE)
write.csv(data.frame(t = t, I = loc + imp),
          file.path(d, "synth_incidence_I.csv"), row.names = FALSE, quote = FALSE)
cols <- c("t_start", "t_end", "Mean(R)", "Std(R)", "Quantile.0.025(R)",
          "Quantile.0.05(R)", "Quantile.0.25(R)", "Median(R)",
          "Quantile.0.75(R)", "Quantile.0.95(R)", "Quantile.0.975(R)")
out <- function(res, name) {
  r <- res$R[, cols]
  names(r) <- c("t_start", "t_end", "Mean_R", "Std_R", "Quantile_0.025_R",
                "Quantile_0.05_R", "Quantile_0.25_R", "Median_R",
                "Quantile_0.75_R", "Quantile_0.95_R", "Quantile_0.975_R")
  # posterior shape/scale from mean and sd
  r$shape_post <- (r$Mean_R / r$Std_R)^2
  r$scale_post <- r$Std_R^2 / r$Mean_R
  r[] <- lapply(r, function(v) ifelse(is.na(v), "NA", sprintf("%.17g", v)))
  write.csv(r, file.path(d, name), row.names = FALSE, quote = FALSE)
}
# 1) parametric SI, local/imported, default weekly windows
res1 <- suppressWarnings(estimate_R(incid, method = "parametric_si",
  config = make_config(list(mean_si = 4.8, std_si = 2.3))))
out(res1, "synth_rt_parametric_li.csv")
# 2) non-parametric SI, single I column, explicit 10-day windows, prior 2/3
si <- c(0, 0.1, 0.3, 0.25, 0.15, 0.1, 0.05, 0.05)
write.csv(data.frame(k = 0:7, p = si), file.path(d, "synth_si.csv"),
          row.names = FALSE, quote = FALSE)
# the first window ends before the SI mean (3.2): EpiEstim gives NA
ts <- c(2, seq(2, 51, by = 7)); te <- c(3, seq(2, 51, by = 7) + 9)
res2 <- suppressWarnings(estimate_R(loc + imp, method = "non_parametric_si",
  config = make_config(list(si_distr = si, t_start = ts, t_end = te,
                            mean_prior = 2, std_prior = 3))))
out(res2, "synth_rt_nonparam_I.csv")
# 3) renewal forecast (closed form, spec 4.6) for the local/imported series:
# posterior of the last weekly window, w = discr_si(0:(T+H)), mean path.
H <- 10
post_a <- res1$R[nrow(res1$R), "Mean(R)"]^2 / res1$R[nrow(res1$R), "Std(R)"]^2
post_b <- res1$R[nrow(res1$R), "Std(R)"]^2 / res1$R[nrow(res1$R), "Mean(R)"]
w <- discr_si(0:(T + H), 4.8, 2.3)
I <- c(loc + imp, rep(NA, H))
fc <- data.frame(h = 1:H, t = T + 1:H, Lambda = NA, mean = NA,
                 q0.025 = NA, q0.5 = NA, q0.975 = NA)
for (h in 1:H) {
  tt <- T + h
  L <- sum(w[2:tt] * I[(tt - 1):1])
  I[tt] <- post_a * post_b * L
  fc$Lambda[h] <- L; fc$mean[h] <- I[tt]
  if (h == 1) {
    pr <- 1 / (1 + post_b * L)
    fc$q0.025[h] <- qnbinom(0.025, post_a, pr)
    fc$q0.5[h] <- qnbinom(0.5, post_a, pr)
    fc$q0.975[h] <- qnbinom(0.975, post_a, pr)
  }
}
fc[] <- lapply(fc, function(v) ifelse(is.na(v), "NA", sprintf("%.17g", v)))
write.csv(fc, file.path(d, "synth_forecast_H10.csv"), row.names = FALSE, quote = FALSE)
