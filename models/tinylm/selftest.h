/* SPDX-License-Identifier: MIT */
/* tinylm: --selftest, the kernels checked against naive references and the decoder
 * checked for determinism across thread counts. */
#ifndef NCTOP_TINYLM_SELFTEST_H
#define NCTOP_TINYLM_SELFTEST_H

/* Run every check, printing one "ok" or "FAIL" line per check on stdout. Returns the number
 * of failed checks. */
int selftest_run(void);

#endif /* NCTOP_TINYLM_SELFTEST_H */
