# R side of bench/epi.sh: EARS C1-C3 (surveillance::earsC, defaults) and Rt
# (EpiEstim::estimate_R, parametric SI mean 4.8 sd 2.3, default weekly
# windows) for every region of the long-format CSV written by bench_epi.
# Times only the per-region computation (not reading the CSV) and prints
# checksums comparable with bench_epi's C_SUBSET_CHECK_*.
args <- commandArgs(trailingOnly = TRUE)
suppressMessages({ library(surveillance); library(EpiEstim) })
d <- read.csv(args[1])
regions <- unique(d$region)
series <- lapply(regions, function(r) d$observed[d$region == r])
chk_ears <- 0; chk_rt <- 0
t0 <- proc.time()
for (y in series) {
  s <- sts(observed = matrix(y, ncol = 1), frequency = 365)
  for (m in c("C1", "C2", "C3")) {
    res <- earsC(s, control = list(method = m))
    u <- upperbound(res)
    chk_ears <- chk_ears + sum(u[is.finite(u)])
  }
  rt <- suppressWarnings(estimate_R(y, method = "parametric_si",
          config = make_config(list(mean_si = 4.8, std_si = 2.3))))
  chk_rt <- chk_rt + sum(rt$R[["Mean(R)"]], na.rm = TRUE)
}
el <- proc.time() - t0
cat(sprintf("R_SECONDS=%.3f\nR_CPU_SECONDS=%.3f\nR_REGIONS=%d\nR_CHECK_EARS=%.12g\nR_CHECK_RT=%.12g\n",
            el[["elapsed"]], el[["user.self"]] + el[["sys.self"]], length(series), chk_ears, chk_rt))
