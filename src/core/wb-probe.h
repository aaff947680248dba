/* wb-probe.h: sentinel coverage maps and checkpoint probe maps.
 *
 * Coverage: before one launch of a solver's main kernel, an output field
 * is filled with a sentinel (by default a quiet NaN whose payload no
 * arithmetic produces, WB_SENTINEL_BITS, or any user value).  The cells
 * still holding exactly those bits afterwards are the cells the kernel
 * never wrote.  Only outputs written without being read qualify (bhte's T
 * is written from T_in into T_out); a read-modify-write output would carry
 * the sentinel into its result, and the solver refuses it.
 *
 * Probes: with the program built with -DWB_PROBES (wb-common.h), each
 * work-item records the highest checkpoint WB_PROBE(n) it reached in a
 * uchar per cell, cleared to 0 before each launch: 0 means the work-item
 * returned before checkpoint 1, or never ran.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "wb-field.h"
#include "wb-sim.h"

G_BEGIN_DECLS

/* A quiet NaN with the payload 0xdead: kernels produce the canonical NaN
 * (0x7fc00000) or propagate their inputs' payloads, never this one. */
#define WB_SENTINEL_BITS 0x7fc0deadu

float       wb_sentinel_default     (void);
/* Parses "nan" (the default sentinel) or a number. */
gboolean    wb_sentinel_parse       (const char   *spec,
                                     float        *value,
                                     GError      **error);

typedef struct
{
  char     *field;
  float     sentinel;
  guint64   step;            /* the step whose launch was measured (1-based) */
  guint64   n_cells;
  guint64   n_unwritten;
  gsize     bbox_min[3];     /* of the unwritten cells, when there are any */
  gsize     bbox_max[3];     /* inclusive */
  WbField  *map;             /* 1 written, 0 unwritten */
} WbCoverage;

void        wb_coverage_free        (WbCoverage   *coverage);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WbCoverage, wb_coverage_free)

/* Compares @field bitwise with @sentinel. */
WbCoverage *wb_coverage_from_field  (const WbField *field,
                                     float          sentinel);
/* Arms the sentinel on @field, runs one step, reads the field back and
 * disarms.  The step is a real step of the simulation. */
WbCoverage *wb_coverage_measure     (WbSim        *sim,
                                     const char   *field,
                                     float         sentinel,
                                     GError      **error);
char       *wb_coverage_format      (const WbCoverage *coverage);
void        wb_coverage_to_json     (const WbCoverage *coverage,
                                     JsonBuilder      *builder);

#define WB_PROBE_MAX 256

typedef struct
{
  char     *kernel;
  guint64   step;
  guint64   n_cells;
  guint     max_checkpoint;          /* highest reached by any work-item */
  guint64   counts[WB_PROBE_MAX];    /* cells whose highest checkpoint is n */
  WbField  *map;                     /* highest checkpoint per cell */
} WbProbeReport;

void           wb_probe_report_free      (WbProbeReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (WbProbeReport, wb_probe_report_free)

WbProbeReport *wb_probe_report_from_map  (const guint8  *map,
                                          guint          ndim,
                                          const gsize   *shape,
                                          const double  *spacing);
/* Turns probes on (rebuilding with -DWB_PROBES if needed), runs one step
 * and reads the probe map of the main kernel's launch. */
WbProbeReport *wb_probe_measure          (WbSim         *sim,
                                          GError       **error);
/* Rebuilds with probes if they are not on yet (some solvers rebuild only
 * before the first step: call this first). */
gboolean       wb_probe_enable           (WbSim         *sim,
                                          GError       **error);
/* Reads the probe map of the last launch (probes must be on). */
WbProbeReport *wb_probe_read             (WbSim         *sim,
                                          GError       **error);
/* Percent of the work-items whose highest checkpoint is @n. */
double         wb_probe_report_percent   (const WbProbeReport *report,
                                          guint          n);
char          *wb_probe_report_format    (const WbProbeReport *report);
void           wb_probe_report_to_json   (const WbProbeReport *report,
                                          JsonBuilder   *builder);

G_END_DECLS
