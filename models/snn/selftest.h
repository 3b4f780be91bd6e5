/* SPDX-License-Identifier: MIT */
/* snn: --selftest, the dynamics checked against closed forms (a LIF neuron's rate under
 * constant current, silence below threshold, refractory spacing), delays delivered exactly,
 * STDP's signs, the Brunel network irregular, and determinism for a seed. */
#ifndef NCTOP_SNN_SELFTEST_H
#define NCTOP_SNN_SELFTEST_H

/* Run every check, printing one "ok" or "FAIL" line per check on stdout. Returns the number
 * of failed checks. */
int selftest_run(void);

#endif /* NCTOP_SNN_SELFTEST_H */
