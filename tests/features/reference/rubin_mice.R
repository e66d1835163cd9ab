# Reference values for tests/features/test_missing.py::test_rubins_rules_matches_mice.
# Run: Rscript rubin_mice.R  (needs r-cran-mice; printed values are pasted into the test)
library(mice)
Q <- c(1.0, 1.2, 1.4)
U <- c(0.04, 0.05, 0.06)
# Rubin (1987) df: large-sample (n = Inf)
r1 <- pool.scalar(Q, U, n = Inf)
cat(sprintf("qbar=%.12f t=%.12f df=%.12f\n", r1$qbar, r1$t, r1$df))
# Barnard-Rubin with complete-data df = n - k = 20
r2 <- pool.scalar(Q, U, n = 21, k = 1)
cat(sprintf("qbar=%.12f t=%.12f df=%.12f\n", r2$qbar, r2$t, r2$df))
cat(sprintf("mice %s\n", packageVersion("mice")))
