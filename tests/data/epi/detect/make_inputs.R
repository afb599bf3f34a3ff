# SPDX-License-Identifier: Apache-2.0
# Synthetic count series for medverse's detection tests (our own data, not
# the shared reference datasets): run `Rscript make_inputs.R` here. Seeds are
# fixed, so the files are reproducible.
set.seed(20240601)

# Weekly, undated, 6 years (312 weeks), two units with a population column:
# "north" seasonal Poisson with a trend and three outbreaks, "south" sparse
# (mostly zeros, which exercises C3's 0/0 and Farrington's limit54).
n <- 312
wk <- 1:n
season <- exp(0.6 * cos(2 * pi * wk / 52) + 0.2 * sin(2 * pi * wk / 52))
pop_n <- round(50000 * (1 + 0.002 * wk))
north <- rpois(n, 6 * season * pop_n / 50000)
north[c(150, 151, 230, 290, 291, 292)] <- north[c(150, 151, 230, 290, 291, 292)] + c(12, 18, 9, 15, 22, 11)
south <- rnbinom(n, size = 0.4, mu = 0.5 * season)
south[c(270, 271)] <- south[c(270, 271)] + c(7, 9)
pop_s <- rep(12000, n)
year <- 2010 + (wk - 1) %/% 52
epoch <- (wk - 1) %% 52 + 1
w <- rbind(data.frame(t = wk, year = year, epoch_in_year = epoch, unit = "north", observed = north, population = pop_n),
           data.frame(t = wk, year = year, epoch_in_year = epoch, unit = "south", observed = south, population = pop_s))
write.csv(w, "fx_weekly.csv", row.names = FALSE, quote = FALSE)

# Weekly, dated (Mondays), 2003-01-06 .. 2008-12-29 (313 weeks): crosses
# the leap years 2004 and 2008, so the calendar-year reference weeks snap.
dates <- seq(as.Date("2003-01-06"), as.Date("2008-12-29"), by = "1 week")
m <- length(dates)
s2 <- exp(0.8 * cos(2 * pi * (1:m) / 52.18))
y2 <- rnbinom(m, size = 3, mu = 9 * s2)
y2[c(200, 201, 280)] <- y2[c(200, 201, 280)] + c(20, 25, 14)
d <- data.frame(t = 1:m, date = format(dates), unit = "region-a", observed = y2)
write.csv(d, "fx_dated.csv", row.names = FALSE, quote = FALSE)

# Daily, 120 days, one unit with a constant stretch (EARS with minSigma 0).
y3 <- rpois(120, 4)
y3[30:40] <- 3
y3[100:104] <- y3[100:104] + c(6, 9, 12, 8, 5)
write.csv(data.frame(t = 1:120, date = format(as.Date("2021-03-01") + 0:119), unit = "clinic", observed = y3),
          "fx_daily.csv", row.names = FALSE, quote = FALSE)

# Weekly, undated, 312 weeks with missing counts (NA) sprinkled in: R's NA
# rules (mean/sd NA in EARS, na.rm in Bayes, dropped GLM rows, NA limit54
# sums in Farrington).
y4 <- rpois(312, 5 * exp(0.5 * cos(2 * pi * (1:312) / 52)))
y4[c(20, 57, 111, 200, 263, 280, 301)] <- NA
write.csv(data.frame(t = 1:312, unit = "na-series", observed = y4), "fx_na.csv",
          row.names = FALSE, quote = FALSE, na = "NA")
