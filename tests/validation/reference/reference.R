# Reference values for epi.validation, computed with R.
#
#   .venv/bin/python tests/validation/reference/make_data.py   # writes the CSVs
#   Rscript tests/validation/reference/reference.R              # writes reference.json
#
# R 4.x with survival, riskRegression, prodlim, Hmisc, rms, jsonlite (Debian
# r-cran-* packages). timeROC and dcurves are not packaged for Debian and CRAN
# was unreachable, so:
#   * the time-dependent AUC comes from riskRegression::Score only;
#   * net benefit is computed here by hand from its published formula
#     (Vickers et al. 2008; the dcurves definition for survival outcomes):
#       NB(pt) = P(risk >= pt) * F_T(h) - P(risk >= pt) * (1 - F_T(h)) * pt / (1 - pt)
#     with F_T the Kaplan-Meier risk (Aalen-Johansen cumulative incidence with
#     competing risks) among those with risk >= pt, from survival::survfit.
# Calibration slope, calibration-in-the-large and the smoothed calibration
# curve (ICI, E50, E90, Emax; Austin, Harrell & van Klaveren 2020) use the
# smoother epi documents: a quasi-binomial GLM with complementary log-log link
# of the event-by-horizon indicator on x = cloglog(risk) (a restricted cubic
# spline of x with 3 knots at its 10th, 50th, 90th percentiles for the curve),
# weighted by inverse probability of censoring weights from
# prodlim's reverse Kaplan-Meier (the one riskRegression::Score uses).
suppressPackageStartupMessages({
  library(survival)
  library(riskRegression)
  library(prodlim)
  library(Hmisc)
  library(rms)
  library(jsonlite)
})

here <- local({
  a <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", a[grep("^--file=", a)])
  if (length(f)) dirname(normalizePath(f)) else "tests/validation/reference"
})

horizons <- list(
  rossi = c(26, 45), gbsg2 = c(1095, 1825), whas500 = c(365, 1825),
  veterans = c(90, 180), flchain_cr = c(1826, 3652)
)
thresholds <- c(0.05, 0.1, 0.2, 0.3, 0.5)
clip <- function(p) pmin(pmax(p, 1e-10), 1 - 1e-10)
cll <- function(p) log(-log(1 - clip(p)))

observed_risk <- function(time, status, h) {
  if (length(time) == 0) return(NA_real_)
  if (any(status == 2)) {
    fit <- survfit(Surv(time, factor(status, levels = 0:2)) ~ 1)
    s <- summary(fit, times = h, extend = TRUE)
    return(unname(s$pstate[1, which(fit$states == "1")]))
  }
  fit <- survfit(Surv(time, status == 1) ~ 1)
  1 - summary(fit, times = h, extend = TRUE)$surv
}

calibration <- function(d, r, h) {
  # The censoring distribution riskRegression::Score uses (cens.model = "km"):
  # prodlim's reverse Kaplan-Meier; G(T_i-) from its left-continuous version.
  # (riskRegression::ipcw returns subject weights in time order, not data order.)
  g <- prodlim(Hist(time, status) ~ 1, data = d, reverse = TRUE)
  g_h <- stepfun(g$time, c(1, g$surv))(h)
  g_sub <- stepfun(g$time, c(1, g$surv), right = TRUE)(d$time)
  y <- as.numeric(d$time <= h & d$status == 1)
  wt <- ifelse(d$time > h, 1 / g_h, ifelse(d$status != 0, 1 / g_sub, 0))
  x <- cll(r)
  qb <- quasibinomial(link = "cloglog")
  slope <- unname(coef(glm(y ~ x, family = qb, weights = wt,
                           control = glm.control(epsilon = 1e-12, maxit = 100)))[2])
  citl <- unname(coef(glm(y ~ 1, offset = x, family = qb, weights = wt,
                          control = glm.control(epsilon = 1e-12, maxit = 100)))[1])
  knots <- unname(quantile(x, c(0.1, 0.5, 0.9)))
  basis <- rcspline.eval(x, knots = knots, inclx = TRUE)
  fit <- glm(y ~ basis, family = qb, weights = wt,
             control = glm.control(epsilon = 1e-12, maxit = 100))
  diff <- abs(fitted(fit) - r)
  list(calibration_slope = slope, citl = citl, ici = mean(diff), e50 = median(diff),
       e90 = unname(quantile(diff, 0.9)), emax = max(diff))
}

# Austin, Harrell & van Klaveren (2020) smooth with a Cox model on rcs(cloglog(risk), 3)
# instead; computed here only to document how far that smoother is from epi's.
austin_cox_ici <- function(d, r, h) {
  dd <- data.frame(time = d$time, status = as.numeric(d$status == 1), x = cll(r))
  fit <- cph(Surv(time, status) ~ rcs(x, 3), data = dd, x = TRUE, y = TRUE, surv = TRUE)
  obs <- 1 - survest(fit, newdata = dd, times = h, se.fit = FALSE)$surv
  mean(abs(obs - r))
}

net_benefit <- function(d, r, h, pt) {
  treated <- r >= pt
  p <- mean(treated)
  if (p == 0) return(0)
  f <- observed_risk(d$time[treated], d$status[treated], h)
  p * f - p * (1 - f) * pt / (1 - pt)
}

out <- list()
for (name in names(horizons)) {
  d <- read.csv(file.path(here, paste0(name, ".csv")))
  cr <- any(d$status == 2)
  for (h in horizons[[name]]) {
    key <- paste0(name, "@", h)
    res <- list(dataset = name, horizon = h, n = nrow(d),
                observed_risk = observed_risk(d$time, d$status, h), models = list())
    for (m in c("risk_cox", "risk_alt")) {
      r <- d[[m]]
      sc <- Score(setNames(list(matrix(r, ncol = 1)), m),
                  formula = Hist(time, status) ~ 1, data = d, times = h,
                  cause = 1, metrics = c("auc", "brier"), summary = "ipa",
                  null.model = TRUE, conf.int = FALSE, cens.model = "km")
      auc <- sc$AUC$score[model == m]$AUC
      br <- sc$Brier$score[model == m]
      ev1 <- as.numeric(d$status == 1)
      harrell <- concordance(Surv(d$time, ev1) ~ r, reverse = TRUE, ymax = h)$concordance
      uno <- concordance(Surv(d$time, ev1) ~ r, reverse = TRUE, ymax = h,
                         timewt = "n/G2")$concordance
      mm <- c(list(harrell_c = unname(harrell), uno_c = unname(uno), auc = auc,
                   brier = br$Brier, ipa = br$IPA,
                   brier_null = sc$Brier$score[model == "Null model"]$Brier,
                   oe_ratio = res$observed_risk / mean(r)),
              calibration(d, r, h))
      mm$net_benefit <- sapply(thresholds, function(pt) net_benefit(d, r, h, pt))
      if (!cr) mm$ici_austin_cox <- austin_cox_ici(d, r, h)
      res$models[[m]] <- mm
    }
    res$thresholds <- thresholds
    res$treat_all <- sapply(thresholds, function(pt) {
      f <- res$observed_risk
      f - (1 - f) * pt / (1 - pt)
    })
    out[[key]] <- res
  }
}

# rms::validate of a Cox model on Rossi: apparent and optimism-corrected
# Somers' Dxy (C = 0.5 + |Dxy| / 2) over the whole follow-up.
d <- read.csv(file.path(here, "rossi.csv"))
f <- cph(Surv(time, status) ~ fin + age + race + wexp + mar + paro + prio, data = d,
         x = TRUE, y = TRUE, surv = TRUE)
set.seed(20240501)
v <- rms::validate(f, B = 200)
out[["rossi_validate"]] <- list(
  B = 200,
  dxy_orig = unname(v["Dxy", "index.orig"]),
  dxy_optimism = unname(v["Dxy", "optimism"]),
  dxy_corrected = unname(v["Dxy", "index.corrected"]),
  n_resamples = unname(v["Dxy", "n"])
)
out[["_meta"]] <- list(
  R = R.version.string,
  survival = as.character(packageVersion("survival")),
  riskRegression = as.character(packageVersion("riskRegression")),
  prodlim = as.character(packageVersion("prodlim")),
  rms = as.character(packageVersion("rms")),
  Hmisc = as.character(packageVersion("Hmisc"))
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(here, "reference.json"))
