/* loadgen_report.h - process samples and the final report of the load generator. */
#ifndef SR_LOADGEN_REPORT_H
#define SR_LOADGEN_REPORT_H

#include "loadgen.h"

#include <stdio.h>

/* Reads RSS and CPU time of the web node, figma node and redis (out[0..2]). */
void sr_loadgen_sample_procs(const sr_loadgen *lg, lg_proc_sample out[3]);
/* Prints the human-readable report, then one JSON line. Returns the exit
 * status: 0, or 1 when delivery was not exact or a pair failed. */
int sr_loadgen_report(const sr_loadgen *lg, FILE *f);

#endif
