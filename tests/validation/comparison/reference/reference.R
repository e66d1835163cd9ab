# Reference values for epi.comparison (tests/comparison/test_reference_r.py).
#
# Run from the repository root:  Rscript tests/comparison/reference/reference.R
# Writes tests/comparison/reference/reference.json. R 4.2 with survival, prodlim
# and jsonlite (Debian packages). nricens, survIDINRI and PredictABEL are neither
# packaged for Debian bookworm nor reachable from CRAN here, so NRI and IDI are
# computed by hand from their published definitions with survival::survfit and
# prodlim (independently of epi's code):
#
# * survival NRI at t0 (Pencina, Steyerberg & D'Agostino 2011, Stat Med 30:11,
#   formulas in section 3; the "KM" point estimate of nricens::nricens): with
#   F = P(event by t0) from survfit (Kaplan-Meier, or Aalen-Johansen when
#   competing events are present) in all, among those moved up and among
#   those moved down,
#     NRI_event    = [F_up p_up - F_down p_down] / F
#     NRI_nonevent = [(1 - F_down) p_down - (1 - F_up) p_up] / (1 - F)
#   categorical: categories [0, 0.1), [0.1, 0.2), [0.2, 1] (cut(right = FALSE));
#   continuous: up when the new risk is higher, down when lower.
# * IDI at t0: IPCW-weighted mean risk among events by t0 minus among the rest,
#   new minus reference; weights 1/G(T_i-) for any event by t0, 1/G(t0-) for
#   those event-free through t0 (followed beyond it, or censored exactly at it:
#   epi's convention since cohorts end follow-up at the horizon; without a
#   censoring at t0 this is riskRegression::Score's 1/G(t0)), G prodlim's
#   reverse Kaplan-Meier.
# * LR test of nested Cox models on Rossi (coxph, Efron ties): anova() chi2, df,
#   p; null log partial likelihood loglik[1]; Harrell's adequacy index
#   LR(reference) / LR(full).
#
# Each data set is scored for two pairs (reference risk_cox): new = risk_alt
# (higher for everyone, so the continuous NRI is degenerate) and new = wiggle =
# plogis(qlogis(risk_cox) + 0.7 sin(i)), i = 1..n, which moves persons both ways.
#
# Data: rossi (lifelines), gbsg2 (scikit-survival) and a competing-risks
# subsample of flchain, exported with two columns of predicted risk by
# tests/validation/reference/make_data.py (copied here unchanged).

suppressPackageStartupMessages({
  library(survival)
  library(prodlim)
  library(jsonlite)
})

here <- local({
  a <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", a[grep("^--file=", a)])
  if (length(f)) dirname(normalizePath(f)) else "tests/comparison/reference"
})

risk_by <- function(time, status, h) {
  if (length(time) == 0) return(0)
  if (any(status == 2)) {
    fit <- survfit(Surv(time, factor(status, levels = 0:2)) ~ 1)
    s <- summary(fit, times = h, extend = TRUE)
    return(unname(s$pstate[1, which(fit$states == "1")]))
  }
  if (!any(status == 1 & time <= h)) return(0)
  fit <- survfit(Surv(time, status == 1) ~ 1)
  1 - summary(fit, times = h, extend = TRUE)$surv
}

nri <- function(d, r0, r1, h, cuts = NULL) {
  if (is.null(cuts)) {
    up <- r1 > r0
    down <- r1 < r0
  } else {
    brk <- c(-Inf, cuts, Inf)
    c0 <- as.integer(cut(r0, brk, right = FALSE))
    c1 <- as.integer(cut(r1, brk, right = FALSE))
    up <- c1 > c0
    down <- c1 < c0
  }
  n <- nrow(d)
  f <- risk_by(d$time, d$status, h)
  f_up <- risk_by(d$time[up], d$status[up], h)
  f_dn <- risk_by(d$time[down], d$status[down], h)
  p_up <- sum(up) / n
  p_dn <- sum(down) / n
  ev <- (f_up * p_up - f_dn * p_dn) / f
  ne <- ((1 - f_dn) * p_dn - (1 - f_up) * p_up) / (1 - f)
  list(event = ev, nonevent = ne, nri = ev + ne, n_up = sum(up), n_down = sum(down))
}

idi <- function(d, r0, r1, h) {
  g <- prodlim(Hist(time, status) ~ 1, data = d, reverse = TRUE)
  g_left <- stepfun(g$time, c(1, g$surv), right = TRUE)  # G(t-)
  g_h <- g_left(h)
  g_sub <- g_left(d$time)
  # event-free through h: followed beyond h, or censored exactly at h (events
  # precede censorings at a tied time), weight 1 / G(h-)
  free <- d$time > h | (d$time == h & d$status == 0)
  wt <- ifelse(free, 1 / g_h, ifelse(d$time <= h & d$status != 0, 1 / g_sub, 0))
  ev <- d$time <= h & d$status == 1
  ne <- free | (d$time <= h & d$status == 2)
  m <- function(r, s) sum(wt[s] * r[s]) / sum(wt[s])
  e <- m(r1, ev) - m(r0, ev)
  n <- m(r0, ne) - m(r1, ne)
  list(event = e, nonevent = n, idi = e + n)
}

horizons <- list(rossi = c(26, 45), gbsg2 = c(1095, 1825), flchain_cr = c(1826, 3652))
out <- list()
for (name in names(horizons)) {
  d <- read.csv(file.path(here, paste0(name, ".csv")))
  for (h in horizons[[name]]) {
    key <- paste0(name, "@", h)
    wiggle <- plogis(qlogis(d$risk_cox) + 0.7 * sin(seq_len(nrow(d))))
    for (pair in c("alt", "wiggle")) {
      r1 <- if (pair == "alt") d$risk_alt else wiggle
      out[[paste0(key, ":", pair)]] <- list(
        dataset = name, horizon = h, new = pair,
        nri_categorical = nri(d, d$risk_cox, r1, h, cuts = c(0.1, 0.2)),
        nri_continuous = nri(d, d$risk_cox, r1, h),
        idi = idi(d, d$risk_cox, r1, h)
      )
    }
  }
}

rossi <- read.csv(file.path(here, "rossi.csv"))
ref <- coxph(Surv(time, status) ~ fin + age + prio, data = rossi, ties = "efron")
full <- coxph(Surv(time, status) ~ fin + age + prio + race + wexp + mar + paro,
              data = rossi, ties = "efron")
a <- anova(ref, full)
ll0 <- full$loglik[1]
out[["lr_rossi"]] <- list(
  reference = c("fin", "age", "prio"),
  extended = c("fin", "age", "prio", "race", "wexp", "mar", "paro"),
  chi2 = a$Chisq[2], df = a$Df[2], p = a$`Pr(>|Chi|)`[2],
  loglik_null = ll0, loglik_reference = ref$loglik[2], loglik_extended = full$loglik[2],
  adequacy = (2 * (ref$loglik[2] - ll0)) / (2 * (full$loglik[2] - ll0))
)
out[["r_version"]] <- R.version.string
out[["packages"]] <- list(survival = as.character(packageVersion("survival")),
                          prodlim = as.character(packageVersion("prodlim")))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(here, "reference.json"))
