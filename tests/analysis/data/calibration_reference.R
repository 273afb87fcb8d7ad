# Reference values for tests/analysis/test_calibration.py, computed with base R only
# (stats::glm, stats::lowess, stats::approx, stats::quantile, base::cut, stats::xtabs).
# Run from the repository root:  Rscript tests/analysis/data/calibration_reference.R
# Writes tests/analysis/data/hoslem_example.csv, calibration_shifted.csv and
# calibration_R_computed.txt.
#
# Conventions reproduced (from the packages' documentation):
# - rms::val.prob: "Intercept" and "Slope" are the coefficients of the logistic recalibration
#   logit P(y = 1) = a + b * logit(p) (both estimated); the smooth curve is lowess(p, y, iter = 0)
#   read at each p by approx(..., ties = mean); Eavg / Emax / E90 = mean / max / 0.9 quantile of
#   |p - smooth(p)|.
# - calibration-in-the-large: glm(y ~ offset(logit(p)), binomial) intercept (slope fixed at 1).
# - ResourceSelection::hoslem.test(x, y, g = 10): groups by cut(p, unique(quantile(p, 0:g / g)),
#   include.lowest = TRUE); statistic = sum((observed - expected)^2 / expected) over the g x 2
#   table of (y = 0, y = 1) counts; df = number of groups - 2.
d <- "tests/analysis/data"
out <- file.path(d, "calibration_R_computed.txt")
lines <- c(paste("# R", paste(R.version$major, R.version$minor, sep = ".")))
put <- function(key, value) {
  lines <<- c(lines, paste(key, paste(sprintf("%.17g", value), collapse = " ")))
}

# hoslem.test's documented example (ResourceSelection man page), data saved for Python
set.seed(123)
n <- 500
x <- rnorm(n)
y <- rbinom(n, 1, plogis(0.1 + 0.5 * x))
m <- glm(y ~ x, family = binomial)
ex <- data.frame(y = m$y, p = sprintf("%.17g", fitted(m)))
write.csv(ex, file.path(d, "hoslem_example.csv"), row.names = FALSE, quote = FALSE)
ex <- read.csv(file.path(d, "hoslem_example.csv"))

db <- read.csv(file.path(d, "dcurves_df_binary.csv"))
# a miscalibrated version of the same risks (too extreme, shifted), rounded to 2 decimals so that
# quantiles repeat and lowess has ties; saved for Python
shifted <- data.frame(
  y = as.integer(as.logical(db$cancer)),
  p = round(plogis(0.3 + 1.6 * qlogis(db$cancerpredmarker)), 2)
)
write.csv(shifted, file.path(d, "calibration_shifted.csv"), row.names = FALSE, quote = FALSE)
shifted <- read.csv(file.path(d, "calibration_shifted.csv"))
sets <- list(
  hoslem_example = list(y = ex$y, p = ex$p),
  cancerpredmarker = list(y = as.integer(as.logical(db$cancer)), p = db$cancerpredmarker),
  shifted = list(y = shifted$y, p = shifted$p),
  # a 0/1 "risk": over 2/3 of the observations tie (a lowess window of zero width), every logit
  # is infinite (no logistic fit) and the quantiles give a single group
  famhistory = list(y = as.integer(as.logical(db$cancer)), p = db$famhistory)
)
for (name in names(sets)) {
  y <- sets[[name]]$y
  p <- sets[[name]]$p
  lp <- qlogis(p)
  ok <- is.finite(lp)
  put(paste0(name, ".n"), length(y))
  put(paste0(name, ".brier"), mean((p - y)^2))
  if (sum(ok) > 2) {
    fit <- glm(y[ok] ~ lp[ok], family = binomial, control = glm.control(epsilon = 1e-14))
    put(paste0(name, ".intercept"), coef(fit)[1])
    put(paste0(name, ".slope"), coef(fit)[2])
    citl <- glm(y[ok] ~ 1 + offset(lp[ok]), family = binomial,
                control = glm.control(epsilon = 1e-14))
    put(paste0(name, ".citl"), coef(citl)[1])
  } else {
    put(paste0(name, ".intercept"), NaN)
    put(paste0(name, ".slope"), NaN)
    put(paste0(name, ".citl"), NaN)
  }
  put(paste0(name, ".n_excluded"), sum(!ok))
  sm <- lowess(p, y, iter = 0)
  cal <- approx(sm, xout = p, ties = mean)$y
  er <- abs(p - cal)
  put(paste0(name, ".eavg"), mean(er))
  put(paste0(name, ".emax"), max(er))
  put(paste0(name, ".e90"), quantile(er, 0.9))
  grid <- c(0.05, 0.1, 0.2, 0.3, 0.5)
  grid <- grid[grid >= min(p) & grid <= max(p)]
  put(paste0(name, ".smooth_at"), grid)
  put(paste0(name, ".smooth_value"), approx(sm, xout = grid, ties = mean)$y)
  for (g in c(10, 5)) {
    qq <- unique(quantile(p, probs = seq(0, 1, 1 / g)))
    cutp <- cut(p, breaks = qq, include.lowest = TRUE)
    obs <- xtabs(cbind(1 - y, y) ~ cutp)
    expd <- xtabs(cbind(1 - p, p) ~ cutp)
    chisq <- sum((obs - expd)^2 / expd)
    k <- nrow(obs)
    key <- paste0(name, ".hl", g)
    put(paste0(key, ".statistic"), chisq)
    put(paste0(key, ".df"), k - 2)
    put(paste0(key, ".p"), if (k > 2) pchisq(chisq, k - 2, lower.tail = FALSE) else NaN)
    put(paste0(key, ".n"), as.vector(table(cutp)))
    put(paste0(key, ".observed"), as.vector(obs[, 2]))
    put(paste0(key, ".expected"), as.vector(expd[, 2]))
    put(paste0(key, ".mean_predicted"), as.vector(tapply(p, cutp, mean)))
  }
  # equal-width bins on [0, 1] (right-closed, the first one closed)
  cutu <- cut(p, breaks = seq(0, 1, 0.1), include.lowest = TRUE)
  keep <- table(cutu) > 0
  put(paste0(name, ".uniform.n"), as.vector(table(cutu))[keep])
  put(paste0(name, ".uniform.observed"), as.vector(tapply(y, cutu, mean))[keep])
  put(paste0(name, ".uniform.mean_predicted"), as.vector(tapply(p, cutu, mean))[keep])
}
writeLines(lines, out)
