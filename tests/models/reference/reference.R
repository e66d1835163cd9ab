# Reference values for tests/models (run from the repository root):
#
#   .venv/bin/python tests/models/reference/make_data.py   # writes rossi.csv
#   Rscript tests/models/reference/reference.R             # writes pbc.csv, reference.json
#
# R 4.x with survival, Hmisc, rms, riskRegression, jsonlite (Debian packages
# r-cran-survival r-cran-hmisc r-cran-rms r-cran-riskregression).
# CI has no R: the tests read the committed reference.json.
suppressPackageStartupMessages({
  library(survival); library(Hmisc); library(rms); library(riskRegression)
  library(jsonlite)
})
here <- "tests/models/reference"
rossi <- read.csv(file.path(here, "rossi.csv"))
out <- list(
  versions = list(R = R.version.string,
                  survival = as.character(packageVersion("survival")),
                  Hmisc = as.character(packageVersion("Hmisc")),
                  rms = as.character(packageVersion("rms")),
                  riskRegression = as.character(packageVersion("riskRegression")))
)
mat <- function(m) unname(lapply(seq_len(nrow(m)), function(i) unname(m[i, ])))

# ---- restricted cubic spline basis (Hmisc::rcspline.eval, norm = 2) --------
sp <- list()
add_basis <- function(name, x, nk) {
  b <- rcspline.eval(x, nk = nk, inclx = TRUE, norm = 2)
  sp[[name]] <<- list(x = x, nk = nk, knots = attr(b, "knots"), basis = mat(b))
}
add_basis("age_4", rossi$age, 4)
add_basis("age_3", rossi$age, 3)
add_basis("prio_5", rossi$prio, 5)          # many zeros: exercises 'fractied'
add_basis("age_5_n60", rossi$age[1:60], 5)   # n < 100: outer knots at 5th values
add_basis("week_7", rossi$week, 7)
out$rcs <- sp

# ---- Cox, Efron ties, Rossi ------------------------------------------------
h <- c(26, 52)
covs <- c("fin", "age", "race", "wexp", "mar", "paro", "prio")
cox_ref <- function(fit, newdata) {
  sf <- survfit(fit, newdata = newdata)          # ctype 2 (Efron) for efron ties
  s <- summary(sf, times = h, extend = TRUE)$surv  # rows = times
  list(coef = unname(coef(fit)), names = names(coef(fit)),
       se = unname(sqrt(diag(vcov(fit)))),
       loglik = fit$loglik, means = unname(fit$means),
       risk_26 = 1 - unname(s[1, ]), risk_52 = 1 - unname(s[2, ]))
}
fit1 <- coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio,
              data = rossi, ties = "efron")
c1 <- cox_ref(fit1, rossi)
# the Breslow (no tie correction) baseline, survfit ctype = 1
sf1 <- survfit(fit1, newdata = rossi, ctype = 1)
c1$risk_52_breslow <- 1 - unname(summary(sf1, times = 52)$surv[1, ])
# proportional hazards: cox.zph (survival >= 3: score test, full information)
for (tr in c("rank", "km", "identity")) {
  z <- cox.zph(fit1, transform = tr, terms = FALSE)
  c1[[paste0("zph_", tr)]] <- list(names = rownames(z$table),
                                  chisq = unname(z$table[, "chisq"]),
                                  p = unname(z$table[, "p"]))
}
out$cox_rossi <- c1

# rcs(age, 4) + other covariates, as rms::rcs builds it
fit2 <- coxph(Surv(week, arrest) ~ rcs(age, 4) + fin + race + wexp + mar + paro + prio,
              data = rossi, ties = "efron")
out$cox_rcs_rossi <- cox_ref(fit2, rossi)
out$cox_rcs_rossi$knots <- unname(attr(rcs(rossi$age, 4), "parms"))

# strata: baseline per stratum
fit3 <- coxph(Surv(week, arrest) ~ rcs(age, 4) + fin + prio + strata(wexp),
              data = rossi, ties = "efron")
sf3 <- survfit(fit3, newdata = rossi)   # one curve per row, each its own stratum
r3 <- sapply(seq_len(nrow(rossi)), function(i)
  1 - summary(sf3[i], times = 52, extend = TRUE)$surv)
out$cox_strata_rossi <- list(coef = unname(coef(fit3)), names = names(coef(fit3)),
                             se = unname(sqrt(diag(vcov(fit3)))),
                             loglik = fit3$loglik, risk_52 = unname(r3))

z3 <- cox.zph(fit3, transform = "km", terms = FALSE)
out$cox_strata_rossi$zph_km <- list(names = rownames(z3$table),
                                    chisq = unname(z3$table[, "chisq"]),
                                    p = unname(z3$table[, "p"]))

# ---- ridge: lifelines' penalty written as survival::ridge ---------------------
# lifelines maximises loglik(b) - n * pen / 2 * sum(b_std^2), with b_std the
# coefficients of covariates standardised by mean and sd (n - 1 divisor);
# that is ridge(theta = n * pen, scale = FALSE) on scale()d covariates.
pen <- 0.1
Xs <- scale(as.matrix(rossi[, covs]))
fr <- coxph(Surv(rossi$week, rossi$arrest) ~ ridge(Xs, theta = nrow(rossi) * pen, scale = FALSE),
            ties = "efron")
out$cox_ridge_rossi <- list(penalizer = pen,
                            coef = unname(coef(fr) / attr(Xs, "scaled:scale")))

# ---- Weibull AFT (survreg) -------------------------------------------------
fw <- survreg(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio,
              data = rossi, dist = "weibull")
lp <- predict(fw, type = "lp")
out$weibull_rossi <- list(coef = unname(coef(fw)), names = names(coef(fw)),
                          log_scale = log(fw$scale), loglik = fw$loglik,
                          se = unname(sqrt(diag(vcov(fw)))),
                          risk_52 = unname(1 - exp(-(52 / exp(lp))^(1 / fw$scale))))

# ---- Royston-Parmar PH model, df = 3, by direct maximum likelihood ------------
# log H(t|x) = g0 + g1 u + sum_j g_{j+1} v_j(u) + x b, u = log t, boundary knots at
# min/max log event time, interior knots at the 1/3 and 2/3 quantiles (type 7);
# v_j(u) = (u-k_j)+^3 - l_j (u-k_min)+^3 - (1-l_j) (u-k_max)+^3, l_j = (k_max-k_j)/(k_max-k_min);
# covariates centred at their means. An independent implementation (optim) of the
# model epi fits with lifelines.
rp_fit <- function(time, status, X, df) {
  u <- log(time); ue <- u[status == 1]
  k <- quantile(ue, seq(0, 1, length.out = df + 1), names = FALSE)
  kmin <- k[1]; kmax <- k[df + 1]; inner <- k[-c(1, df + 1)]
  pos <- function(z) pmax(z, 0)
  B <- cbind(1, u); dB <- cbind(0, rep(1, length(u)))
  for (kj in inner) {
    l <- (kmax - kj) / (kmax - kmin)
    B <- cbind(B, pos(u - kj)^3 - l * pos(u - kmin)^3 - (1 - l) * pos(u - kmax)^3)
    dB <- cbind(dB, 3 * pos(u - kj)^2 - 3 * l * pos(u - kmin)^2 - 3 * (1 - l) * pos(u - kmax)^2)
  }
  Xc <- scale(as.matrix(X), scale = FALSE)
  ng <- ncol(B)
  nll <- function(p) {
    g <- p[1:ng]; b <- p[-(1:ng)]
    eta <- drop(B %*% g + Xc %*% b); ds <- drop(dB %*% g)
    if (any(ds[status == 1] <= 0)) return(1e10)
    -sum(status * (log(ds) - u + eta) - exp(eta))
  }
  grad <- function(p) {
    g <- p[1:ng]; b <- p[-(1:ng)]
    eta <- drop(B %*% g + Xc %*% b); ds <- drop(dB %*% g)
    r <- status - exp(eta)
    -c(colSums(status * dB / ds) + colSums(r * B), colSums(r * Xc))
  }
  p0 <- c(log(sum(status) / sum(time)), 1, rep(0, ng - 2), rep(0, ncol(Xc)))
  o <- optim(p0, nll, grad, method = "BFGS", control = list(reltol = 1e-16, maxit = 10000))
  # Newton polish with a numerical Hessian of the analytic gradient
  p <- o$par
  for (it in 1:20) {
    H <- optimHess(p, nll, grad)
    p <- p - solve(H, grad(p))
  }
  o$par <- p; o$value <- nll(p); o$gradient_max <- max(abs(grad(p)))
  u52 <- log(52); b52 <- c(1, u52)
  for (kj in inner) {
    l <- (kmax - kj) / (kmax - kmin)
    b52 <- c(b52, pos(u52 - kj)^3 - l * pos(u52 - kmin)^3 - (1 - l) * pos(u52 - kmax)^3)
  }
  risk52 <- 1 - exp(-exp(sum(b52 * p[1:ng]) + drop(Xc %*% p[-(1:ng)])))
  list(gamma = o$par[1:ng], coef = o$par[-(1:ng)], loglik = -o$value, knots = k,
       risk_52 = risk52,
       convergence = o$convergence, gradient_max = o$gradient_max)
}
rp <- rp_fit(rossi$week, rossi$arrest, rossi[, covs], 3)
out$rp_rossi_df3 <- rp

# ---- cause-specific Cox, pbc (survival) ------------------------------------
# event 1 = death (pbc status 2), event 2 = transplant (pbc status 1, competing)
data(pbc, package = "survival")
d <- pbc[!is.na(pbc$protime), ]
d <- data.frame(time = as.numeric(d$time),
                event = ifelse(d$status == 2, 1L, ifelse(d$status == 1, 2L, 0L)),
                age = d$age, log_bili = log(d$bili), albumin = d$albumin,
                edema = d$edema, log_protime = log(d$protime))
write.csv(d, file.path(here, "pbc.csv"), row.names = FALSE)
csc <- CSC(Hist(time, event) ~ age + log_bili + albumin + edema + log_protime,
           data = d)
ht <- c(1826, 3652)
pr_h <- predictRisk(csc, newdata = d, times = ht, cause = 1, product.limit = FALSE)
pr_pl <- predictRisk(csc, newdata = d, times = ht, cause = 1, product.limit = TRUE)
out$csc_pbc <- list(
  coef_cause1 = unname(coef(csc$models[[1]])), coef_cause2 = unname(coef(csc$models[[2]])),
  names = names(coef(csc$models[[1]])),
  ties = csc$models[[1]]$method,
  risk_1826 = unname(pr_h[, 1]), risk_3652 = unname(pr_h[, 2]),
  risk_1826_product_limit = unname(pr_pl[, 1]), risk_3652_product_limit = unname(pr_pl[, 2]))

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = FALSE),
           file.path(here, "reference.json"))
cat("wrote", file.path(here, "reference.json"), "\n")
