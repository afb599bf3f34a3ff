# SPDX-License-Identifier: Apache-2.0
# Reference outputs for medverse's detection tests, computed with R's
# surveillance package (run: TZ=UTC Rscript gen_detect.R INPUT.csv NAME
# FUNCTION 'CONTROL' [OUTDIR]). INPUT is a long-format count CSV (t, [date],
# unit, observed, [population], [year, epoch_in_year]); FUNCTION is earsC,
# cusum, bayes, rki or farringtonFlexible; CONTROL an R list expression,
# e.g. 'list(method = "C1")'. Writes OUTDIR/NAME.csv (t, unit, observed,
# upperbound, alarm and the diagnostic columns) and OUTDIR/NAME.json (the
# call and the resolved control, the format tests/unit/epi/detect_golden.h
# reads). Numbers are printed with 17 significant digits.
suppressPackageStartupMessages(library(surveillance))
suppressPackageStartupMessages(library(jsonlite))

args <- commandArgs(trailingOnly = TRUE)
input <- args[1]; name <- args[2]; fun <- args[3]; ctl_text <- args[4]
outdir <- if (length(args) >= 5) args[5] else "."
ctl <- eval(parse(text = ctl_text))

d <- read.csv(input, check.names = FALSE, stringsAsFactors = FALSE)
if (!("unit" %in% names(d))) d$unit <- "observed1"
units <- unique(d$unit)
n <- max(d$t)
col <- function(field) {
  m <- sapply(units, function(u) { x <- d[d$unit == u, ]; x[[field]][order(x$t)] })
  matrix(m, nrow = n, dimnames = list(NULL, units))
}
obs <- col("observed")
pop <- if ("population" %in% names(d)) col("population") else NULL
dated <- "date" %in% names(d)
if (dated) {
  dates <- as.Date(d$date[d$unit == units[1]][order(d$t[d$unit == units[1]])])
  dd <- as.numeric(diff(dates))[1]
  freq <- if (dd == 1) 365 else if (dd == 7) 52 else 12
  s <- if (is.null(pop)) sts(observed = obs, epoch = as.numeric(dates), epochAsDate = TRUE, frequency = freq)
       else sts(observed = obs, epoch = as.numeric(dates), epochAsDate = TRUE, frequency = freq, population = pop)
} else {
  freq <- 52
  start <- if ("year" %in% names(d)) c(d$year[1], d$epoch_in_year[1]) else c(2000, 1)
  s <- if (is.null(pop)) sts(observed = obs, start = start, frequency = freq)
       else sts(observed = obs, start = start, frequency = freq, population = pop)
}

num <- function(x) ifelse(is.na(x), ifelse(is.nan(x), "NaN", "NA"), sprintf("%.17g", x))
alarmstr <- function(x) ifelse(is.na(x), "NA", ifelse(x, "1", "0"))
rows <- list()
if (fun == "cusum") {
  # algo.cusum per unit, to get the CUSUM statistic and m
  for (j in seq_along(units)) {
    dp <- sts2disProg(s[, j])
    r <- algo.cusum(dp, control = ctl)
    m <- r$control$m
    if (length(m) == 1) m <- rep(m, length(ctl$range))
    rows[[j]] <- data.frame(t = ctl$range, unit = units[j], observed = obs[ctl$range, j],
                            upperbound = num(r$upperbound), alarm = alarmstr(as.logical(r$alarm)),
                            cusum = num(r$cusum), m = num(m), stringsAsFactors = FALSE)
  }
} else {
  res <- switch(fun, earsC = earsC(s, control = ctl), bayes = bayes(s, control = ctl),
                rki = rki(s, control = ctl), farringtonFlexible = farringtonFlexible(s, control = ctl))
  rg <- if (is.null(ctl$range)) {
    nr <- nrow(res@observed); (n - nr + 1):n
  } else sort(ctl$range)
  for (j in seq_along(units)) {
    df <- data.frame(t = rg, unit = units[j], observed = res@observed[, j],
                     upperbound = num(res@upperbound[, j]), alarm = alarmstr(res@alarm[, j]),
                     stringsAsFactors = FALSE)
    if (fun == "farringtonFlexible") {
      cc <- res@control
      df$expected <- num(cc$expected[, j]); df$score <- num(cc$score[, j])
      df$pvalue <- num(cc$pvalue[, j]); df$mu0 <- num(cc$mu0Vector[, j])
      df$phi <- num(cc$phiVector[, j]); df$trend_coef <- num(cc$trendVector[, j])
    }
    rows[[j]] <- df
  }
}
out <- do.call(rbind, rows)
write.csv(out, file.path(outdir, paste0(name, ".csv")), row.names = FALSE, quote = which(names(out) == "unit"))

kind <- paste0("surveillance_", fun)
cr <- ctl
cr$range <- NULL
if (length(out$t)) { cr$range_first <- min(out$t); cr$range_last <- max(out$t) }
if (fun == "farringtonFlexible") { cr$freq <- freq; cr$epochAsDate <- dated }
if (fun == "cusum" && is.null(ctl$m)) cr$m <- "NULL"
writeLines(toJSON(list(kind = kind, input = basename(input), r_call = paste0(fun, "(sts, control = ", ctl_text, ")"),
                       control_resolved = cr, versions = list(surveillance = as.character(packageVersion("surveillance")))),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(outdir, paste0(name, ".json")))
